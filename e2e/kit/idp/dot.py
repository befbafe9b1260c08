"""django-oauth-toolkit 3.4.1 as a strict upstream: the cleanest of
the real IdPs the shim is tested against.

``start_dot`` writes a minimal Django project into ``workdir`` and runs it
with ``runserver`` (single process, ``--noreload``) on 127.0.0.1:

- OIDC on, ID tokens signed RS256 with a key generated per instance;
- PKCE required, and ``plain`` refused: ``COMPLIANT_BCP_RFC9700_PKCE_METHOD``
  (new in 3.4) rejects it when the code would be issued (the error goes back
  to the redirect URI, ``invalid_request``) and drops it from discovery;
- refresh tokens issued for the code grant and rotated on use;
  access tokens live ``access_token_seconds``;
- no registration of any kind: neither DCR nor DOT's application-management
  pages are mounted, so the one confidential client created here (its only
  redirect URI is the shim's callback; ``skip_authorization`` so there is no
  consent page at the IdP) stays the only client;
- redirect URIs compared character for character (a small validator class):
  DOT itself lets any port through for a loopback URI (RFC 8252 section 7.3),
  and the shim's callback is on 127.0.0.1 here;
- one user, who signs in through Django's standard LoginView.

The issuer is ``http://127.0.0.1:PORT/o``; discovery answers at
``<issuer>/.well-known/openid-configuration``, ``<issuer>/.well-known/oauth-authorization-server``
and the RFC 8414 path-inserted ``/.well-known/oauth-authorization-server/o``.
Django's request log (``"POST /o/token/ HTTP/1.1" 200``) goes to ``log_path``.
"""
from __future__ import annotations

import html
import json
import os
import re
import secrets
import subprocess
import textwrap
from urllib.parse import urljoin, urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import HTTP_TIMEOUT, IdP, IdPError, excerpt, log_tail, start_server, venv_python, wait_http

SETTINGS = """
import os
BASE = os.path.dirname(os.path.abspath(__file__))
SECRET_KEY = {secret_key!r}
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "oauth2_provider",
]
MIDDLEWARE = [
    "idp_extras.TraceContextLog",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "idp_urls"
TEMPLATES = [{{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [os.path.join(BASE, "templates")],
    "APP_DIRS": True,
    "OPTIONS": {{"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]}},
}}]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(BASE, "idp.sqlite3"),
                         "OPTIONS": {{"timeout": 20}}}}}}
USE_TZ = True
LOGIN_URL = "/accounts/login/"
PASSWORD_HASHERS = ["idp_extras.FastPBKDF2PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# Cookies are per host, not per port: the shim on another 127.0.0.1 port must
# not see ours under a name it uses, so they get names of their own.
SESSION_COOKIE_NAME = "dot_idp_session"
CSRF_COOKIE_NAME = "dot_idp_csrftoken"
LOGGING = {{"version": 1, "disable_existing_loggers": False,
           "handlers": {{"console": {{"class": "logging.StreamHandler"}}}},
           "loggers": {{"oauth2_provider": {{"handlers": ["console"], "level": "INFO"}}}}}}
OAUTH2_PROVIDER = {{
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": {private_key!r},
    "OIDC_ISS_ENDPOINT": {issuer!r},
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "ROTATE_REFRESH_TOKEN": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": {access_token_seconds},
    "SCOPES": {{"openid": "OpenID Connect", "profile": "Profile", "mcp": "Use the MCP server"}},
    "DEFAULT_SCOPES": ["openid"],
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
    "OAUTH2_VALIDATOR_CLASS": "idp_extras.ExactRedirectValidator",
}}
"""

EXTRAS = '''
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from oauth2_provider.oauth2_validators import OAuth2Validator


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """The user's password and the client secret stay hashed, with fewer
    rounds: Django's default (about half a second here) would be paid by every
    sign-in and every token call the shim makes, on a 2-core test machine."""

    iterations = 1000


class ExactRedirectValidator(OAuth2Validator):
    """The redirect URI must be one of the registered ones, character for
    character. DOT follows RFC 8252 section 7.3 and lets any port through for
    a loopback URI; the shim's callback is on 127.0.0.1 in the tests, so that
    would make every local port a redirect target of the static client."""

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        return (redirect_uri in request.client.redirect_uris.split()
                and super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs))


class TraceContextLog:
    """Appends each request's method, path and W3C `traceparent` (or -) to
    trace-context.log beside the project: what the IdP's side of a trace
    sees (e2e/test_traces_e2e.py). Nothing else of the request is written."""

    def __init__(self, get_response):
        import os
        self.get_response = get_response
        self.path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "trace-context.log")

    def __call__(self, request):
        with open(self.path, "a") as log:
            log.write(f"{request.method} {request.path} {request.headers.get('traceparent', '-')}\\n")
        return self.get_response(request)
'''

# Only the protocol endpoints are mounted: DOT's default urlconf also has the
# (disabled) DCR view and application-management pages, where any signed-in
# user could create clients; a strict upstream has exactly one client.
URLS = """
from django.contrib.auth import views as auth_views
from django.urls import include, path
from oauth2_provider import urls as dot_urls, views as dot_views

oauth_patterns = dot_urls.metadata_urlpatterns + dot_urls.base_urlpatterns + dot_urls.oidc_urlpatterns
urlpatterns = [
    path("o/", include((oauth_patterns, "oauth2_provider"), namespace="oauth2_provider")),
    # RFC 8414 section 3: metadata for issuer http://host/o, path-inserted.
    path(".well-known/oauth-authorization-server/o", dot_views.OAuthServerMetadataView.as_view()),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
]
"""

LOGIN_TEMPLATE = """<!doctype html><html><head><title>IdP sign-in</title></head><body>
<h1>Demo IdP (django-oauth-toolkit)</h1>
<form method="post" action="">{% csrf_token %}
{{ form.username.label_tag }} {{ form.username }}
{{ form.password.label_tag }} {{ form.password }}
<input type="hidden" name="next" value="{{ next }}">
<button type="submit" id="login">Sign in</button>
</form></body></html>
"""

# Runs once in the venv's interpreter (Django is not imported by the test
# process). Secrets come on stdin, not argv, so `ps` does not show them.
PROVISION = """
import json, sys
import django
django.setup()
from django.core.management import call_command
from django.contrib.auth import get_user_model
from oauth2_provider.models import Application
call_command("migrate", verbosity=0)
a = json.load(sys.stdin)
get_user_model().objects.create_user(username=a["username"], password=a["password"],
                                     email=a["username"] + "@example.com", first_name="Alice")
# client_secret is hashed on save (hash_client_secret=True); the caller keeps the plain value.
# RS256: HS256 would need the plain secret as the HMAC key, which a hashed secret cannot be.
Application.objects.create(
    name="dcr-shim", client_id=a["client_id"], client_secret=a["client_secret"],
    client_type=Application.CLIENT_CONFIDENTIAL,
    authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
    redirect_uris=a["callback_url"], skip_authorization=True,
    algorithm=Application.RS256_ALGORITHM,
)
"""


class DOTSession:
    """One browser at django-oauth-toolkit: Django's session cookie in its
    own jar, signed in on the first authorize that needs it."""

    def __init__(self, idp: IdP):
        self.idp = idp
        self.client = httpx.Client(follow_redirects=False, timeout=HTTP_TIMEOUT)

    def authorize(self, authorize_url: str) -> str:
        url = authorize_url
        for _ in range(10):
            r = self.client.get(url)
            if r.status_code not in (301, 302, 303):
                raise IdPError(f"django-oauth-toolkit answered {excerpt(r)} at {_path(url)}")
            location = urljoin(url, r.headers["location"])
            if location.startswith(self.idp.callback_url):
                return location
            if urlsplit(location).path == "/accounts/login/":
                location = self._login(location)
            elif not location.startswith(self.idp.base_url + "/"):
                raise IdPError(f"django-oauth-toolkit redirected outside itself and the callback: {_path(location)}")
            url = location
        raise IdPError("too many redirects at django-oauth-toolkit")

    def _login(self, login_url: str) -> str:
        """Django's LoginView: the form's CSRF token, username and password,
        and the `next` it was given; answers the URL to go on with."""
        page = self.client.get(login_url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if page.status_code != 200 or not token:
            raise IdPError(f"django-oauth-toolkit login page not as expected: {excerpt(page)}")
        nxt = re.search(r'name="next" value="([^"]*)"', page.text)
        r = self.client.post(login_url, data={
            "csrfmiddlewaretoken": token.group(1), "username": self.idp.username,
            "password": self.idp.password, "next": html.unescape(nxt.group(1)) if nxt else "",
        }, headers={"Referer": login_url})
        if r.status_code not in (302, 303):
            raise IdPError(f"django-oauth-toolkit login failed: {excerpt(r)}")
        return urljoin(login_url, r.headers["location"])


def _path(url: str) -> str:
    """A URL without its query (codes and states stay out of messages)."""
    return url.split("?", 1)[0]


def start_dot(workdir: str, port: int, callback_url: str, *, access_token_seconds: int = 60) -> IdP:
    """Creates and starts the Django project in ``workdir`` (about 5 s, most
    of it `migrate`); returns once discovery answers."""
    os.makedirs(os.path.join(workdir, "templates", "registration"), exist_ok=True)
    db_path = os.path.join(workdir, "idp.sqlite3")
    for stale in (db_path, db_path + "-journal", db_path + "-wal", db_path + "-shm"):
        if os.path.exists(stale):  # a fresh IdP each time, even in a reused workdir
            os.remove(stale)
    base = f"http://127.0.0.1:{port}"
    issuer = base + "/o"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    with open(os.path.join(workdir, "idp_settings.py"), "w") as f:
        f.write(SETTINGS.format(secret_key=secrets.token_urlsafe(32), private_key=key, issuer=issuer,
                                access_token_seconds=int(access_token_seconds)))
    with open(os.path.join(workdir, "idp_urls.py"), "w") as f:
        f.write(textwrap.dedent(URLS))
    with open(os.path.join(workdir, "idp_extras.py"), "w") as f:
        f.write(EXTRAS)
    with open(os.path.join(workdir, "templates", "registration", "login.html"), "w") as f:
        f.write(LOGIN_TEMPLATE)

    env = dict(os.environ, DJANGO_SETTINGS_MODULE="idp_settings", PYTHONPATH=workdir)
    username, password = "alice", secrets.token_urlsafe(16)
    client_id, client_secret = "dcr-shim-static", secrets.token_urlsafe(32)
    log_path = os.path.join(workdir, "idp.log")
    provision = subprocess.run(
        [venv_python(), "-c", PROVISION], cwd=workdir, env=env, timeout=120, capture_output=True, text=True,
        input=json.dumps({"username": username, "password": password, "client_id": client_id,
                          "client_secret": client_secret, "callback_url": callback_url}))
    with open(log_path, "w") as log:
        log.write(provision.stdout + provision.stderr)
    if provision.returncode != 0:
        raise IdPError(f"django-oauth-toolkit provisioning failed ({provision.returncode}):\n{log_tail(log_path)}")

    proc = start_server([venv_python(), "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
                        cwd=workdir, env=env, log_path=log_path)
    idp = IdP(
        name="django-oauth-toolkit", issuer=issuer, client_id=client_id, client_secret=client_secret,
        username=username, password=password, resource_scopes=["mcp"],
        userinfo_endpoint=issuer + "/userinfo/", log_path=log_path, callback_url=callback_url,
        upstream={"preset": "oidc", "issuer": issuer, "client_id": client_id, "client_secret": client_secret,
                  "token_endpoint_auth_method": "client_secret_basic", "scopes": ["openid"]},
        proc=proc, session_factory=DOTSession, db_path=db_path,
        base_url=base, access_token_seconds=int(access_token_seconds),
    )
    try:
        wait_http(issuer + "/.well-known/openid-configuration", proc=proc, log_path=log_path)
    except BaseException:
        idp.stop()
        raise
    return idp
