"""Helpers for the Enterprise-Managed Authorization (ID-JAG) end-to-end tests:
the MCP client's own sign-in at django-oauth-toolkit (a second application
there, as an enterprise registers each app for SSO), leg 1 (token exchange at
a shim acting as ID-JAG issuer) and leg 2 (the real mcp SDK's
IdentityAssertionOAuthProvider)."""
from __future__ import annotations

import json
import os
import subprocess
from urllib.parse import urlencode

import httpx
import httpx2
from mcp.client.auth.extensions.identity_assertion import IdentityAssertionOAuthProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from .flow import MemoryStorage, step
from .harness import pkce_pair, query
from .idp import IdP, free_port, venv_python

ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"

ADD_APPLICATION = """
import json, sys
import django
django.setup()
from oauth2_provider.models import Application
a = json.load(sys.stdin)
Application.objects.create(
    name=a["client_id"], client_id=a["client_id"], client_secret=a["client_secret"],
    client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
    redirect_uris=a["redirect_uri"], skip_authorization=True, algorithm=Application.RS256_ALGORITHM)
"""


class SSOApplication:
    """The MCP client's own registration at django-oauth-toolkit, for its
    users' single sign-on: the ID tokens it receives name it in `aud`."""

    def __init__(self, idp: IdP, client_id: str):
        self.idp = idp
        self.client_id = client_id
        self.secret = "sso-secret-" + os.urandom(8).hex()
        self.redirect_uri = f"http://127.0.0.1:{free_port()}/sso/callback"
        workdir = os.path.dirname(idp.db_path)
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="idp_settings", PYTHONPATH=workdir)
        run = subprocess.run([venv_python(), "-c", ADD_APPLICATION], cwd=workdir, env=env, timeout=60, capture_output=True, text=True,
                             input=json.dumps({"client_id": client_id, "client_secret": self.secret, "redirect_uri": self.redirect_uri}))
        assert run.returncode == 0, run.stdout + run.stderr

    def sign_in(self) -> str:
        """The user signs in to the MCP client (OpenID Connect, code flow with
        PKCE at the real IdP); returns the ID token the client keeps."""
        verifier, challenge = pkce_pair()
        url = self.idp.issuer + "/authorize/?" + urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri, "scope": "openid",
            "code_challenge": challenge, "code_challenge_method": "S256", "state": "sso", "nonce": os.urandom(8).hex()})
        session = IdP(**{**self.idp.__dict__, "callback_url": self.redirect_uri}).new_session()
        code = query(session.authorize(url))["code"]
        tokens = httpx.post(self.idp.issuer + "/token/", data={"grant_type": "authorization_code", "code": code,
                                                               "redirect_uri": self.redirect_uri, "code_verifier": verifier},
                            auth=(self.client_id, self.secret), timeout=20).json()
        assert "id_token" in tokens, tokens
        step(f"SSO: the user signed in to the MCP client at {self.idp.name}; it holds an ID token for {self.client_id}")
        return tokens["id_token"]


def exchange(shim_base: str, app: tuple[str, str], id_token: str, audience: str, resource: str, scope: str | None = "mcp") -> httpx.Response:
    """Leg 1: RFC 8693 token exchange at the shim acting as ID-JAG issuer."""
    data = {"grant_type": TOKEN_EXCHANGE, "requested_token_type": ID_JAG, "subject_token": id_token,
            "subject_token_type": ID_TOKEN, "audience": audience, "resource": resource}
    if scope:
        data["scope"] = scope
    return httpx.post(shim_base + "/token", data=data, auth=app, timeout=20)


async def sdk_tool_call(mcp_url: str, issuer: str, client: tuple[str, str], assertion_provider, tool: str, args: dict) -> tuple[str, MemoryStorage]:
    """Leg 2 with the real SDK: IdentityAssertionOAuthProvider presents the
    ID-JAG its callback returns as a jwt-bearer grant at `issuer`, then the
    tool is called with the access token."""
    storage = MemoryStorage()
    provider = IdentityAssertionOAuthProvider(server_url=mcp_url, storage=storage, client_id=client[0], client_secret=client[1],
                                              issuer=issuer, assertion_provider=assertion_provider)
    async with httpx2.AsyncClient(auth=provider, timeout=30) as http:
        async with streamable_http_client(mcp_url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool(tool, args)
    return " ".join(getattr(c, "text", "") for c in result.content), storage
