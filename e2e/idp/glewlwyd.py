"""glewlwyd 2.7 (Debian package) as a second, quirkier strict upstream.

The packaged service cannot start in a container, so a private instance runs
from a SQLite database built from the package's own schema, and is
provisioned through its admin REST API: the `oidc` plugin (registration off,
PKCE S256 only, code and refresh grants), a scope `mcp`, one confidential
client (client_secret_basic) whose only redirect URI is the shim's callback,
and one user.

Quirks a real deployment meets too: a `nonce` is required with `openid`; the
token endpoint wants `client_id` in the body even with HTTP Basic; discovery
lives only under /api/oidc; refresh answers with no new refresh token.
"""
from __future__ import annotations

import atexit
import os
import secrets
import shutil
import sqlite3
import subprocess
from urllib.parse import urljoin, urlparse

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import IdP, IdPError, stop_process, wait_http

SCHEMA = "/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3"
ADMIN_PASSWORD = "password"  # the package's initial admin password; this instance is private and on loopback

def _config(port: int, db: str) -> str:
    """The package's own configuration with this instance's port, address,
    URL, console logging and database."""
    text = open("/etc/glewlwyd/glewlwyd.conf").read()
    replace = {
        "port": f"port={port}",
        "external_url": f'external_url="http://127.0.0.1:{port}"',
        "log_mode": 'log_mode="console"',
    }
    lines = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in replace:
            line = replace.pop(key)
        elif line.startswith("@include"):
            line = 'database =\n{\n  type = "sqlite3"\n  path = "%s"\n};' % db
        lines.append(line)
    lines.insert(0, 'bind_address="127.0.0.1"')
    return "\n".join(lines) + "\n"


def _plugin_parameters(iss: str, private_pem: str, public_pem: str, access_token_seconds: int) -> dict:
    return {
        "iss": iss,
        "jwt-type": "rsa", "jwt-key-size": "256", "key": private_pem, "cert": public_pem,
        "access-token-duration": access_token_seconds, "refresh-token-duration": 1209600, "code-duration": 600,
        "refresh-token-rolling": True, "allow-non-oidc": False,
        "auth-type-code-enabled": True, "auth-type-code-revoke-replayed": True,
        "auth-type-token-enabled": False, "auth-type-id-token-enabled": True, "auth-type-none-enabled": False,
        "auth-type-password-enabled": False, "auth-type-client-enabled": False, "auth-type-device-enabled": False,
        "auth-type-refresh-enabled": True,
        "scope": [], "additional-parameters": [], "claims": [],
        "service-documentation": "", "op-policy-uri": "", "op-tos-uri": "", "jwks-show": True, "jwks-x5c": [],
        "request-parameter-allow": False, "secret-type": "pairwise",
        "address-claim": {"type": "no", "formatted": "", "street_address": "", "locality": "", "region": "",
                          "postal_code": "", "country": "", "mandatory": False},
        "name-claim": "no", "name-claim-scope": [], "email-claim": "no", "email-claim-scope": [],
        "scope-claim": "no", "scope-claim-scope": [], "allowed-scope": ["openid", "mcp"],
        "pkce-allowed": True, "pkce-method-plain-allowed": False, "pkce-required": True,
        "pkce-required-public-client": True, "pkce-scopes": [],
        "introspection-revocation-allowed": False, "register-client-allowed": False,
        "session-management-allowed": False,
    }


class GlewlwydSession:
    """The user at glewlwyd: signs in through its login API, grants the
    client, then follows the authorize redirect to the shim's callback."""

    def __init__(self, idp: IdP):
        self.idp = idp
        self.base = idp.upstream["_base"]
        self.client = httpx.Client(follow_redirects=False, timeout=15)
        self.logged_in = False

    def _login(self, scope: str) -> None:
        r = self.client.post(self.base + "/api/auth/", json={"username": self.idp.username, "password": self.idp.password})
        if r.status_code != 200:
            raise IdPError(f"glewlwyd login failed ({r.status_code}): {r.text[:200]}")
        r = self.client.put(self.base + f"/api/auth/grant/{self.idp.client_id}", json={"scope": scope})
        if r.status_code != 200:
            raise IdPError(f"glewlwyd grant failed ({r.status_code}): {r.text[:200]}")
        self.logged_in = True

    def authorize(self, authorize_url: str) -> str:
        scope = dict(p.split("=", 1) for p in urlparse(authorize_url).query.split("&") if "=" in p).get("scope", "openid")
        if not self.logged_in:
            self._login(httpx.QueryParams("scope=" + scope)["scope"])
        url = authorize_url
        for _ in range(6):
            r = self.client.get(url)
            if r.status_code not in (301, 302, 303):
                raise IdPError(f"glewlwyd answered {r.status_code} at {url.split('?')[0]}: {r.text[:300]}")
            location = urljoin(url, r.headers["location"])
            if location.startswith(self.idp.callback_url):
                return location
            if "login.html" in location:
                callback = httpx.URL(location).params.get("callback_url")
                if not callback:
                    raise IdPError(f"glewlwyd sent the browser to its login page: {location[:200]}")
                url = urljoin(self.base + "/", callback) + "&g_continue"
                continue
            url = location
        raise IdPError("too many redirects at glewlwyd")


def start_glewlwyd(workdir: str, port: int, callback_url: str, *, access_token_seconds: int = 60) -> IdP:
    if not shutil.which("glewlwyd"):
        raise IdPError("glewlwyd is not installed (scripts/install-deps.sh installs it)")
    os.makedirs(workdir, exist_ok=True)
    db = os.path.join(workdir, "glewlwyd.db")
    with sqlite3.connect(db) as conn, open(SCHEMA) as schema:
        conn.executescript(schema.read())
    config = os.path.join(workdir, "glewlwyd.conf")
    with open(config, "w") as f:
        f.write(_config(port, db))
    log_path = os.path.join(workdir, "glewlwyd.log")
    log = open(log_path, "w")
    proc = subprocess.Popen(["glewlwyd", f"--config-file={config}"], cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    atexit.register(stop_process, proc)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/api/", proc=proc, log_path=log_path)

    admin = httpx.Client(base_url=base, timeout=15)
    def check(r: httpx.Response, what: str) -> None:
        if r.status_code not in (200, 201):
            raise IdPError(f"glewlwyd {what}: {r.status_code} {r.text[:300]}")
    check(admin.post("/api/auth/", json={"username": "admin", "password": ADMIN_PASSWORD}), "admin login")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    check(admin.post("/api/mod/plugin/", json={
        "module": "oidc", "name": "oidc", "display_name": "OpenID Connect", "enabled": True,
        "parameters": _plugin_parameters(base + "/api/oidc", private_pem, public_pem, access_token_seconds)}), "oidc plugin")
    check(admin.post("/api/scope/", json={"name": "mcp", "display_name": "MCP", "description": "Use the MCP server",
                                          "password_required": False, "scheme": {}}), "scope mcp")
    client_id, client_secret = "dcr-shim-static", secrets.token_urlsafe(32)
    check(admin.post("/api/client/", json={
        "client_id": client_id, "name": "dcr-shim", "description": "the shim's static client", "enabled": True,
        "confidential": True, "password": client_secret, "redirect_uri": [callback_url],
        "authorization_type": ["code", "refresh_token"], "token_endpoint_auth_method": ["client_secret_basic"],
        "scope": []}), "client")
    username, password = "alice", secrets.token_urlsafe(12)
    check(admin.post("/api/user/", json={"username": username, "name": "Alice", "password": password,
                                         "scope": ["openid", "mcp", "g_profile"], "enabled": True}), "user")
    oidc = base + "/api/oidc"
    wait_http(oidc + "/.well-known/openid-configuration", proc=proc, log_path=log_path)
    return IdP(
        name="glewlwyd", issuer=oidc, client_id=client_id, client_secret=client_secret,
        username=username, password=password, resource_scopes=["mcp"],
        userinfo_endpoint=oidc + "/userinfo", log_path=log_path, callback_url=callback_url,
        upstream={"preset": "oidc", "issuer": oidc, "client_id": client_id, "client_secret": client_secret,
                  "token_endpoint_auth_method": "client_secret_basic", "scopes": ["openid"],
                  "authorization_endpoint": oidc + "/auth", "token_endpoint": oidc + "/token", "_base": base},
        proc=proc, session_factory=GlewlwydSession, db_path=db,
    )
