"""django-oauth-toolkit 3.4.1 as a strict upstream (PEERS.md).

A minimal Django project is written into ``workdir``: OIDC on, PKCE required,
refresh-token rotation, short access tokens, one confidential client whose
only redirect URI is the shim's callback, and one user.
"""
from __future__ import annotations

import atexit
import html
import os
import re
import secrets
import subprocess
import sys
import textwrap
from urllib.parse import urljoin

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import IdP, IdPError, stop_process, wait_http

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
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(BASE, "idp.sqlite3")}}}}
USE_TZ = True
LOGIN_URL = "/accounts/login/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGGING = {{"version": 1, "disable_existing_loggers": False,
           "handlers": {{"console": {{"class": "logging.StreamHandler"}}}},
           "loggers": {{"oauth2_provider": {{"handlers": ["console"], "level": "INFO"}}}}}}
OAUTH2_PROVIDER = {{
    "PKCE_REQUIRED": True,
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": {private_key!r},
    "ROTATE_REFRESH_TOKEN": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": {access_token_seconds},
    "SCOPES": {{"openid": "OpenID Connect", "profile": "Profile", "mcp": "Use the MCP server"}},
    "DEFAULT_SCOPES": ["openid"],
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
}}
"""

URLS = """
from django.contrib.auth import views as auth_views
from django.urls import include, path
urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
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

PROVISION = """
import django, os, sys
django.setup()
from django.core.management import call_command
from django.contrib.auth import get_user_model
from oauth2_provider.models import Application
call_command("migrate", verbosity=0)
username, password, client_id, client_secret, callback = sys.argv[1:6]
User = get_user_model()
if not User.objects.filter(username=username).exists():
    User.objects.create_user(username=username, password=password, email=username + "@example.com")
Application.objects.filter(client_id=client_id).delete()
Application.objects.create(
    name="dcr-shim", client_id=client_id, client_secret=client_secret,
    client_type=Application.CLIENT_CONFIDENTIAL,
    authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
    redirect_uris=callback, skip_authorization=True, algorithm=Application.RS256_ALGORITHM,
)
"""


def _python() -> str:
    return sys.executable


class DOTSession:
    """A user agent at the IdP with its own cookie jar (Django's session)."""

    def __init__(self, idp: IdP):
        self.idp = idp
        self.client = httpx.Client(follow_redirects=False, timeout=15)

    def authorize(self, authorize_url: str) -> str:
        url = authorize_url
        for _ in range(10):
            r = self.client.get(url)
            if r.status_code in (301, 302, 303):
                location = urljoin(url, r.headers["location"])
                if location.startswith(self.idp.callback_url):
                    return location
                if "/accounts/login/" in location:
                    location = self._login(location)
                url = location
                continue
            raise IdPError(f"django-oauth-toolkit answered {r.status_code} at {url.split('?')[0]}: {r.text[:300]}")
        raise IdPError("too many redirects at django-oauth-toolkit")

    def _login(self, login_url: str) -> str:
        page = self.client.get(login_url)
        m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if page.status_code != 200 or not m:
            raise IdPError(f"login page not as expected ({page.status_code})")
        nxt = re.search(r'name="next" value="([^"]*)"', page.text)
        r = self.client.post(login_url, data={
            "csrfmiddlewaretoken": m.group(1), "username": self.idp.username,
            "password": self.idp.password, "next": html.unescape(nxt.group(1)) if nxt else "",
        }, headers={"Referer": login_url})
        if r.status_code not in (302, 303):
            raise IdPError(f"login failed ({r.status_code})")
        return urljoin(login_url, r.headers["location"])


def start_dot(workdir: str, port: int, callback_url: str, *, access_token_seconds: int = 60) -> IdP:
    os.makedirs(os.path.join(workdir, "templates", "registration"), exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    with open(os.path.join(workdir, "idp_settings.py"), "w") as f:
        f.write(SETTINGS.format(secret_key=secrets.token_urlsafe(32), private_key=key,
                                access_token_seconds=access_token_seconds))
    with open(os.path.join(workdir, "idp_urls.py"), "w") as f:
        f.write(textwrap.dedent(URLS))
    with open(os.path.join(workdir, "templates", "registration", "login.html"), "w") as f:
        f.write(LOGIN_TEMPLATE)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="idp_settings", PYTHONPATH=workdir)
    username, password = "alice", secrets.token_urlsafe(12)
    client_id, client_secret = "dcr-shim-static", secrets.token_urlsafe(32)
    subprocess.run([_python(), "-c", PROVISION, username, password, client_id, client_secret, callback_url],
                   cwd=workdir, env=env, check=True, timeout=120)
    log_path = os.path.join(workdir, "idp.log")
    log = open(log_path, "w")
    proc = subprocess.Popen([_python(), "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
                            cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    atexit.register(stop_process, proc)
    issuer = f"http://127.0.0.1:{port}/o"
    wait_http(issuer + "/.well-known/openid-configuration", proc=proc, log_path=log_path)
    return IdP(
        name="django-oauth-toolkit", issuer=issuer, client_id=client_id, client_secret=client_secret,
        username=username, password=password, resource_scopes=["mcp"],
        userinfo_endpoint=issuer + "/userinfo/", log_path=log_path, callback_url=callback_url,
        upstream={"preset": "oidc", "issuer": issuer, "client_id": client_id, "client_secret": client_secret,
                  "token_endpoint_auth_method": "client_secret_basic", "scopes": ["openid"]},
        proc=proc, session_factory=DOTSession, db_path=os.path.join(workdir, "idp.sqlite3"),
    )
