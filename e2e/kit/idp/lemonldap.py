"""LemonLDAP::NG 2.16 (Debian 12 package ``lemonldap-ng``) as a third real
upstream: its OpenID Connect provider, run as a private PSGI application.

``start_lemonldap`` writes a private configuration into ``workdir`` (an
``lemonldap-ng.ini`` that points at a File configuration backend in the
workdir, and ``lmConf-1.json``) and runs the portal's own
``/usr/share/lemonldap-ng/portal/htdocs/index.psgi`` with ``plackup`` on
127.0.0.1 (``LLNG_DEFAULTCONFFILE`` selects the ini; no nginx, no FastCGI,
nothing under /etc or /var/lib is touched):

- authentication ``Demo`` (LemonLDAP::NG's built-in demonstration users:
  ``dwho`` / ``dwho``), the portal's ordinary login form;
- the OIDC issuer on, ID tokens signed RS256 with a key generated per
  instance (published at ``/oauth2/jwks``), DCR off;
- ONE relying party: confidential (``client_secret_basic`` or ``_post``),
  its only redirect URI the shim's callback (compared exactly), PKCE
  required, consent bypassed, refresh tokens on (offline sessions allowed),
  access tokens living ``access_token_seconds``; ``mcp`` is a scope of this
  RP (LemonLDAP::NG drops scopes it does not know);
- the refresh token is kept on refresh (not rotated).

Quirks seen here (2.16.1): a redirect URI other than the registered one gets
the portal's error page (200, "Go to portal") after sign-in, never a
redirect; before sign-in every authorize request gets the login form, so
`dcr-shim doctor` cannot tell a registered redirect URI from another; a
missing code challenge is refused (``invalid_request`` on the redirect) but a
``plain`` one is accepted; unknown scopes are dropped, not refused; the
implicit flow gets the error page; a wrong client secret is 401
``invalid_client`` and a made-up code 400 ``invalid_grant``.

Debian's package alone does not start: the portal always loads its captcha
module, which needs ``libgd-securityimage-perl`` with ImageMagick's Perl
binding (``libimage-magick-perl``, the back end it asks for), and the OIDC
issuer needs ``libstring-random-perl``; ``plackup`` comes from
``libplack-perl``. scripts/install-deps.sh installs them.

Discovery: ``<issuer>/.well-known/openid-configuration`` (issuer
``http://127.0.0.1:PORT``); it advertises ``plain`` PKCE besides S256.
"""
from __future__ import annotations

import html
import json
import os
import re
import secrets
import shutil

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import HTTP_TIMEOUT, IdP, IdPError, excerpt, log_tail, start_server, wait_http

PSGI = "/usr/share/lemonldap-ng/portal/htdocs/index.psgi"

INI = """[all]
logLevel = notice
logger = Lemonldap::NG::Common::Logger::Std
checkTime = 1
[configuration]
type = File
dirName = {conf_dir}
[portal]
staticPrefix = /static
templateDir = /usr/share/lemonldap-ng/portal/templates
languages = en
"""


def available() -> bool:
    """Whether LemonLDAP::NG and plackup are installed here."""
    return os.path.exists(PSGI) and shutil.which("plackup") is not None


class LemonLDAPSession:
    """One browser at the portal. LemonLDAP::NG answers the authorize request
    with its login form (200) until the browser has an SSO cookie; the form
    posts back to the same URL with the user, the password and its hidden
    fields (a one-time ``token`` among them), and the answer is the 302 to
    the callback."""

    def __init__(self, idp: IdP):
        self.idp = idp
        self.client = httpx.Client(follow_redirects=False, timeout=HTTP_TIMEOUT)

    def authorize(self, authorize_url: str) -> str:
        r = self.client.get(authorize_url)
        if r.status_code == 200 and 'name="password"' in r.text:
            fields = {name: html.unescape(value) for name, value in
                      re.findall(r'<input[^>]*type="hidden" name="([^"]+)"(?: value="([^"]*)")?', r.text)}
            fields.update({"user": self.idp.username, "password": self.idp.password})
            r = self.client.post(authorize_url, data=fields)
        if r.status_code not in (302, 303) or "location" not in r.headers:
            raise IdPError(f"LemonLDAP::NG answered {excerpt(r)} at {authorize_url.split('?')[0]}")
        location = r.headers["location"]
        if not location.startswith(self.idp.callback_url):
            raise IdPError(f"LemonLDAP::NG redirected to {location.split('?')[0]}, not the callback")
        return location


def start_lemonldap(workdir: str, port: int, callback_url: str, *, access_token_seconds: int = 3600) -> IdP:
    """Writes the private configuration and starts the portal (about 3 s:
    Perl compiles the portal on the first request); returns once discovery
    answers."""
    if not available():
        raise IdPError("LemonLDAP::NG is not installed (scripts/install-deps.sh installs lemonldap-ng)")
    conf_dir = os.path.join(workdir, "conf")
    for sub in ("conf", "sessions/lock", "psessions/lock", "cache"):
        os.makedirs(os.path.join(workdir, sub), exist_ok=True)
    base = f"http://127.0.0.1:{port}"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    client_id, client_secret = "dcr-shim-static", secrets.token_urlsafe(32)
    rp = {
        "oidcRPMetaDataOptionsClientID": client_id,
        "oidcRPMetaDataOptionsClientSecret": client_secret,
        "oidcRPMetaDataOptionsPublic": 0,
        "oidcRPMetaDataOptionsRedirectUris": callback_url,
        "oidcRPMetaDataOptionsRequirePKCE": 1,
        "oidcRPMetaDataOptionsAllowOffline": 1,
        "oidcRPMetaDataOptionsRefreshToken": 1,
        "oidcRPMetaDataOptionsBypassConsent": 1,
        "oidcRPMetaDataOptionsAccessTokenExpiration": int(access_token_seconds),
        "oidcRPMetaDataOptionsIDTokenSignAlg": "RS256",
    }
    storage = lambda d: {"Directory": os.path.join(workdir, d), "LockDirectory": os.path.join(workdir, d, "lock")}  # noqa: E731
    conf = {
        "cfgNum": 1, "cfgVersion": "2.16.1", "cfgAuthor": "dcr-shim e2e", "cfgDate": "1700000000",
        "authentication": "Demo", "userDB": "Same", "passwordDB": "Demo", "registerDB": "Null",
        "demoExportedVars": {"cn": "cn", "mail": "mail", "uid": "uid"},
        "portal": base + "/", "domain": "127.0.0.1", "securedCookie": 0, "cookieName": "llng_idp",
        "globalStorage": "Apache::Session::File",
        "globalStorageOptions": {**storage("sessions"),
                                 "generateModule": "Lemonldap::NG::Common::Apache::Session::Generate::SHA256"},
        "persistentStorage": "Apache::Session::File", "persistentStorageOptions": storage("psessions"),
        "localSessionStorage": "Cache::FileCache",
        "localSessionStorageOptions": {"cache_root": os.path.join(workdir, "cache"), "namespace": "llng-sessions",
                                       "default_expires_in": 600, "cache_depth": 3, "directory_umask": "007"},
        "issuerDBOpenIDConnectActivation": 1, "issuerDBOpenIDConnectPath": "^/oauth2/",
        "oidcServiceMetaDataIssuer": base,
        "oidcServiceAllowDynamicRegistration": 0,
        "oidcServicePrivateKeySig": private_pem, "oidcServicePublicKeySig": public_pem, "oidcServiceKeyIdSig": "e2e",
        "oidcRPMetaDataOptions": {"dcr-shim": rp},
        "oidcRPMetaDataExportedVars": {"dcr-shim": {"email": "mail", "name": "cn"}},
        "oidcRPMetaDataScopeRules": {"dcr-shim": {"mcp": "1"}},
        "locationRules": {"127.0.0.1": {"default": "accept"}}, "exportedHeaders": {}, "groups": {}, "macros": {},
    }
    with open(os.path.join(conf_dir, "lmConf-1.json"), "w") as f:
        json.dump(conf, f)
    ini = os.path.join(workdir, "lemonldap-ng.ini")
    with open(ini, "w") as f:
        f.write(INI.format(conf_dir=conf_dir))
    log_path = os.path.join(workdir, "idp.log")
    env = dict(os.environ, LLNG_DEFAULTCONFFILE=ini)
    proc = start_server(["plackup", "-p", str(port), "--host", "127.0.0.1", PSGI], cwd=workdir, env=env,
                        log_path=log_path)
    idp = IdP(
        name="lemonldap-ng", issuer=base, client_id=client_id, client_secret=client_secret,
        username="dwho", password="dwho", resource_scopes=["mcp"],
        userinfo_endpoint=base + "/oauth2/userinfo", log_path=log_path, callback_url=callback_url,
        upstream={"preset": "oidc", "issuer": base, "client_id": client_id, "client_secret": client_secret,
                  "token_endpoint_auth_method": "client_secret_basic", "scopes": ["openid", "offline_access"]},
        proc=proc, session_factory=LemonLDAPSession, base_url=base, access_token_seconds=int(access_token_seconds),
    )
    try:
        wait_http(base + "/.well-known/openid-configuration", timeout=60, proc=proc, log_path=log_path)
        probe = httpx.get(base + "/.well-known/openid-configuration", timeout=HTTP_TIMEOUT)
        if probe.status_code != 200 or probe.json().get("issuer") != base:
            raise IdPError(f"LemonLDAP::NG discovery not as expected: {excerpt(probe)}\n{log_tail(log_path)}")
    except BaseException:
        idp.stop()
        raise
    return idp
