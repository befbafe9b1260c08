"""glewlwyd 2.7 (Debian package) as a second, quirkier strict upstream.

The packaged service cannot start in a container, so ``start_glewlwyd`` runs
a private instance on 127.0.0.1: a SQLite database built from the package's
own schema, the package's configuration with this instance's port, address,
URL, console logging and database. It is then provisioned through glewlwyd's
admin REST API (admin / the package's initial password; the instance is
private and on loopback):

- the ``oidc`` plugin: registration off, PKCE required with S256 only, the
  code and refresh grants (no implicit, password, client-credentials or
  device grant), RS256 tokens with a key generated per instance, access
  tokens living ``access_token_seconds``;
- a scope ``mcp`` (password required) besides the packaged ``openid``;
- one confidential client, client_secret_basic only, whose only redirect
  URI is the shim's callback; or, given ``client_public_key``, one with no
  secret at all that authenticates with ``private_key_jwt`` (RFC 7523 §2.2):
  the plugin takes client assertions (``request-parameter-allow``) and reads
  a client's key from its ``pubkey`` property (``client-pubkey-parameter``),
  where the certificate's public key is registered, PEM; assertions must be
  signed with ``client_assertion_alg`` (the client's ``token_endpoint_signing_alg``);
- one user with the scopes ``openid`` and ``mcp``.

Quirks a real deployment meets too (e2e/test_idp_smoke.py pins most of them): a
``nonce`` is required when the scope has ``openid`` (``invalid_request`` on
the redirect otherwise); discovery lives only at
``<issuer>/.well-known/openid-configuration`` (no RFC 8414 document); a
redirect URI that is not registered gets 403 with an empty body; a wrong
client secret gets 403 ``unauthorized_client`` and a wrong verifier 403
``invalid_code`` (not 401 ``invalid_client`` / 400 ``invalid_grant``); a
replayed code revokes the tokens it gave; refresh answers with no new
refresh token (the old one stays valid); discovery advertises ``implicit``
and not ``refresh_token`` although it is the other way round. Sending
``client_id`` in the token request body besides HTTP Basic is accepted but,
on 2.7.5, not required. A client assertion glewlwyd refuses (a key that is
not the registered one, a bad signature, a wrong ``aud``, a ``jti`` seen
before) gets 403 with an empty body: no error code. Glewlwyd looks a key up
in a client's JWKS by ``kid`` only, and the shim's assertion names its
certificate by thumbprint (``x5t#S256``), so the key is registered as the
client's ``pubkey`` instead.
"""
from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import HTTP_TIMEOUT, IdP, IdPError, excerpt, start_server, wait_http

SCHEMA = "/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3"
PACKAGE_CONFIG = "/etc/glewlwyd/glewlwyd.conf"
ADMIN_USER, ADMIN_PASSWORD = "admin", "password"  # what the package's schema creates
PLUGIN = "oidc"                                     # plugin instance name: endpoints at /api/oidc/


def _config(port: int, db: str) -> str:
    """The package's configuration with this instance's port, bind address,
    external URL, console logging and SQLite database (the package's
    ``@include`` of its dbconfig-generated database file is replaced)."""
    with open(PACKAGE_CONFIG) as f:
        text = f.read()
    replace = {
        "port": f"port={port}",
        "bind_address": 'bind_address="127.0.0.1"',
        "external_url": f'external_url="http://127.0.0.1:{port}"',
        "log_mode": 'log_mode="console"',
        "log_level": 'log_level="INFO"',
    }
    lines = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in replace:
            line = replace.pop(key)
        elif line.lstrip().startswith("@include"):
            line = 'database =\n{\n  type = "sqlite3"\n  path = "%s"\n};' % db
        lines.append(line)
    lines.extend(replace.values())  # settings the packaged file did not have (bind_address)
    return "\n".join(lines) + "\n"


def _plugin_parameters(iss: str, private_pem: str, public_pem: str, access_token_seconds: int,
                       client_assertions: bool = False) -> dict:
    """The oidc plugin's parameters (names as the admin UI's defaults in
    /usr/share/glewlwyd/webapp/admin.js), set for a strict upstream; with
    ``client_assertions``, private_key_jwt against a client's ``pubkey``
    (glewlwyd accepts client assertions only where it accepts request objects,
    and then lists private_key_jwt in its discovery document)."""
    assertions = {"request-parameter-allow": True, "request-parameter-allow-encrypted": False,
                  "request-uri-allow-https-non-secure": False, "request-maximum-exp": 600,
                  "client-pubkey-parameter": "pubkey"} if client_assertions else {"request-parameter-allow": False}
    return {**assertions,
        "iss": iss,
        "jwt-type": "rsa", "jwt-key-size": "256", "key": private_pem, "cert": public_pem,
        "access-token-duration": access_token_seconds, "refresh-token-duration": 1209600, "code-duration": 600,
        "refresh-token-rolling": True, "refresh-token-one-use": "never", "allow-non-oidc": False,
        "auth-type-code-enabled": True, "auth-type-code-revoke-replayed": True,
        "auth-type-token-enabled": False, "auth-type-id-token-enabled": False, "auth-type-none-enabled": False,
        "auth-type-password-enabled": False, "auth-type-client-enabled": False, "auth-type-device-enabled": False,
        "auth-type-refresh-enabled": True,
        "scope": [], "additional-parameters": [], "claims": [],
        "service-documentation": "", "op-policy-uri": "", "op-tos-uri": "", "jwks-show": True, "jwks-x5c": [],
        "secret-type": "pairwise",
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
    """One browser at glewlwyd. glewlwyd's login page is a JavaScript app
    over its login API, so this does what that page does: ``POST /api/auth/``
    as the user (scheme: password), ``PUT /api/auth/grant/<client>`` with the
    scopes, then GET the ``callback_url`` the authorize endpoint gave
    login.html, plus ``g_continue``, which answers the redirect with the code."""

    def __init__(self, idp: IdP):
        self.idp = idp
        self.base = idp.base_url
        self.client = httpx.Client(follow_redirects=False, timeout=HTTP_TIMEOUT)
        self.logged_in = False
        self.granted: set[str] = set()

    def _login(self) -> None:
        r = self.client.post(self.base + "/api/auth/", json={"username": self.idp.username,
                                                              "password": self.idp.password})
        if r.status_code != 200:
            raise IdPError(f"glewlwyd login failed: {excerpt(r)}")
        self.logged_in = True

    def _grant(self, scopes: set[str]) -> None:
        """The user's consent to the client for these scopes (what login.html's
        'grant' button does); glewlwyd sends the browser to login.html until
        the client has it."""
        want = self.granted | scopes
        r = self.client.put(self.base + f"/api/auth/grant/{self.idp.client_id}", json={"scope": " ".join(sorted(want))})
        if r.status_code != 200:
            raise IdPError(f"glewlwyd grant failed: {excerpt(r)}")
        self.granted = want

    def authorize(self, authorize_url: str) -> str:
        scopes = set(" ".join(parse_qs(urlsplit(authorize_url).query).get("scope", [])).split())
        if not self.logged_in:
            self._login()
        if not scopes <= self.granted:
            self._grant(scopes)
        url = authorize_url
        for _ in range(6):
            r = self.client.get(url)
            if r.status_code not in (301, 302, 303):
                raise IdPError(f"glewlwyd answered {excerpt(r)} at {url.split('?', 1)[0]}")
            location = urljoin(url, r.headers["location"])
            if location.startswith(self.idp.callback_url):
                return location
            target = urlsplit(location)
            if target.path.endswith("/login.html"):
                callback = parse_qs(target.query).get("callback_url", [""])[0]
                if not callback:
                    raise IdPError(f"glewlwyd sent the browser to login.html without a callback_url: {target.query[:200]}")
                url = urljoin(self.base + "/", callback) + "&g_continue"
                continue
            if not location.startswith(self.base + "/"):
                raise IdPError(f"glewlwyd redirected outside itself and the callback: {location.split('?', 1)[0]}")
            url = location
        raise IdPError("too many redirects at glewlwyd")


def start_glewlwyd(workdir: str, port: int, callback_url: str, *, access_token_seconds: int = 60,
                   client_public_key: str | None = None, client_assertion_alg: str = "PS256") -> IdP:
    """Builds, starts and provisions a private glewlwyd in ``workdir`` (about
    a second); returns once its OIDC discovery answers. With
    ``client_public_key`` (a PEM SubjectPublicKeyInfo: the public key of the
    certificate the shim signs with) the client has no secret and takes
    private_key_jwt only; the IdP's ``upstream`` block then has neither
    ``client_secret`` nor ``token_endpoint_auth_method``, and the test adds
    ``client_auth``."""
    if not shutil.which("glewlwyd") or not os.path.exists(SCHEMA):
        raise IdPError("glewlwyd is not installed (scripts/install-deps.sh installs it)")
    os.makedirs(workdir, exist_ok=True)
    db = os.path.join(workdir, "glewlwyd.db")
    if os.path.exists(db):
        os.remove(db)
    with open(SCHEMA) as schema:
        conn = sqlite3.connect(db)
        try:
            # One transaction: statement by statement, SQLite syncs 126 times (2 s).
            conn.executescript("BEGIN;\n" + schema.read() + "\nCOMMIT;")
        finally:
            conn.close()
    config = os.path.join(workdir, "glewlwyd.conf")
    with open(config, "w") as f:
        f.write(_config(port, db))
    log_path = os.path.join(workdir, "glewlwyd.log")
    base = f"http://127.0.0.1:{port}"
    issuer = f"{base}/api/{PLUGIN}"
    client_id = "dcr-shim-static"
    client_secret = "" if client_public_key else secrets.token_urlsafe(32)
    username, password = "alice", secrets.token_urlsafe(16)

    open(log_path, "w").close()  # this instance's log only
    proc = start_server(["glewlwyd", f"--config-file={config}"], cwd=workdir, log_path=log_path)
    idp = IdP(
        name="glewlwyd", issuer=issuer, client_id=client_id, client_secret=client_secret,
        username=username, password=password, resource_scopes=["mcp"],
        userinfo_endpoint=issuer + "/userinfo", log_path=log_path, callback_url=callback_url,
        # Discovery is at <issuer>/.well-known/openid-configuration, but not at
        # the RFC 8414 locations; the endpoints are given too, so the shim
        # needs no discovery at all, and so is its key set (jwks_uri), so ID
        # tokens are verified (rule 12).
        upstream={"preset": "oidc", "issuer": issuer, "client_id": client_id,
                  **({} if client_public_key else {"client_secret": client_secret,
                                                   "token_endpoint_auth_method": "client_secret_basic"}),
                  "scopes": ["openid"],
                  "authorization_endpoint": issuer + "/auth", "token_endpoint": issuer + "/token",
                  "jwks_uri": issuer + "/jwks"},
        proc=proc, session_factory=GlewlwydSession, db_path=db, base_url=base,
        access_token_seconds=int(access_token_seconds),
    )
    try:
        wait_http(base + "/api/", proc=proc, log_path=log_path)
        _provision(idp, access_token_seconds, client_public_key, client_assertion_alg)
        wait_http(issuer + "/.well-known/openid-configuration", proc=proc, log_path=log_path)
    except BaseException:
        idp.stop()
        raise
    return idp


def _provision(idp: IdP, access_token_seconds: int, client_public_key: str | None = None,
               client_assertion_alg: str = "PS256") -> None:
    """The plugin, the scope, the client and the user, through the admin API."""
    with httpx.Client(base_url=idp.base_url, timeout=HTTP_TIMEOUT) as admin:
        def call(method: str, path: str, body: dict, what: str) -> None:
            r = admin.request(method, path, json=body)
            if r.status_code not in (200, 201):
                raise IdPError(f"glewlwyd {what}: {excerpt(r)}")

        call("POST", "/api/auth/", {"username": ADMIN_USER, "password": ADMIN_PASSWORD}, "admin login")
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
        public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        call("POST", "/api/mod/plugin/", {
            "module": "oidc", "name": PLUGIN, "display_name": "OpenID Connect", "enabled": True,
            "parameters": _plugin_parameters(idp.issuer, private_pem, public_pem, int(access_token_seconds),
                                             client_assertions=client_public_key is not None)},
            "oidc plugin")
        call("POST", "/api/scope/", {"name": "mcp", "display_name": "MCP", "description": "Use the MCP server",
                                     "password_required": True, "password_max_age": 0, "scheme": {}}, "scope mcp")
        if client_public_key:
            # No password, no client_secret: the registered public key is the only credential.
            credentials = {"token_endpoint_auth_method": ["private_key_jwt"], "pubkey": client_public_key,
                           "token_endpoint_signing_alg": client_assertion_alg}
        else:
            credentials = {"password": idp.client_secret, "token_endpoint_auth_method": ["client_secret_basic"]}
        call("POST", "/api/client/", {
            "client_id": idp.client_id, "name": "dcr-shim", "description": "the shim's static client",
            "enabled": True, "confidential": True, **credentials,
            "redirect_uri": [idp.callback_url], "authorization_type": ["code", "refresh_token"],
            "scope": []}, "client")
        call("POST", "/api/user/", {"username": idp.username, "name": "Alice", "email": "alice@example.com",
                                    "password": idp.password, "scope": ["openid", "mcp"], "enabled": True},
             "user")
