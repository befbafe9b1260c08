"""Auth0, from Auth0's documentation:

- https://auth0.com/docs/get-started/authentication-and-authorization-flow/authorization-code-flow-with-pkce
- audience: https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens
- refresh token rotation: https://auth0.com/docs/secure/tokens/refresh-tokens/refresh-token-rotation
- errors: https://auth0.com/docs/api/authentication#standard-error-responses

Issuer ``https://<tenant>.auth0.com/`` (trailing slash); ``/authorize``,
``/oauth/token``, ``/userinfo``, ``/.well-known/jwks.json``, ``/oauth/revoke``.
"""
from __future__ import annotations

import json

from .base import Answer, Refusal, Request
from .standard import StandardProvider


class Auth0Fake(StandardProvider):
    name = "auth0 (fake)"
    preset = "auth0"
    auth_methods = ("client_secret_post",)   # the application's default "Token Endpoint Authentication Method: Post"
    offline_scope_needed = True              # offline_access, and "Allow Offline Access" on the API
    rotates = True
    s256_only = False
    user_sub = "auth0|64b0f0c2a1b2c3d4e5f6a7b8"
    api_identifier = "https://mcp.example.com/api"
    resource_scopes = ["read:tools"]

    def make_client_id(self) -> str:
        return "kbyuFDidLLm280LIwVFiazOqjO3ty8KH"

    @property
    def issuer(self) -> str:
        return self.base + "/"

    def routes(self):
        return {("GET", "/authorize"): "authorize", ("POST", "/oauth/token"): "token", ("GET", "/userinfo"): "userinfo",
                ("GET", "/.well-known/jwks.json"): "jwks", ("GET", "/.well-known/openid-configuration"): "discovery",
                ("POST", "/oauth/revoke"): "revoke"}

    def upstream_config(self) -> dict:
        return {"preset": "auth0", "issuer": self.issuer, "audience": self.api_identifier,
                "client_id": self.client_id, "client_secret": self.client_secret}

    def userinfo_url(self) -> str:
        return self.base + "/userinfo"

    def discovery(self, request: Request) -> Answer:
        return Answer.json(self.discovery_document(self.base + "/authorize", self.base + "/oauth/token", self.userinfo_url(),
                                                   self.base + "/.well-known/jwks.json", revocation_endpoint=self.base + "/oauth/revoke"))

    def bad_redirect_page(self, redirect_uri: str) -> Answer:
        return Answer.page(403, "Callback URL mismatch",
                           f"The provided redirect_uri is not in the list of allowed callback URLs. Callback URL mismatch. {redirect_uri}")

    def rule_authorize(self, q: dict) -> None:
        # Without `audience` Auth0 issues an opaque token for /userinfo only, never one for the API;
        # an unknown audience is "Service not found".
        audience = q.get("audience")
        if audience and audience != self.api_identifier:
            raise self.redirect_error(q, "access_denied", f"Service not found: {audience}")

    def code_extra(self, q: dict) -> dict:
        return {"audience": q.get("audience", "")}

    def token_answer(self, scope: str, record: dict, *, first: bool) -> Answer:
        body = json.loads(super().token_answer(scope, record, first=first).body)
        with self.lock:
            self.access_tokens[body["access_token"]]["aud"] = record.get("audience", "")
            if "refresh_token" in body:
                self.refresh_tokens[body["refresh_token"]]["audience"] = record.get("audience", "")
        return Answer.json(body)

    def refresh_grant(self, request: Request) -> Answer:
        # Rotation with reuse detection: a rotated refresh token used again revokes the whole family.
        token = request.params.get("refresh_token", "")
        with self.lock:
            record = self.refresh_tokens.get(token)
            if record is not None and not record["valid"]:
                for other in self.refresh_tokens.values():
                    other["valid"] = False
        return super().refresh_grant(request)

    def bad_client_error(self) -> Refusal:
        # Auth0 answers a wrong client secret with 401 access_denied "Unauthorized".
        return self.token_error(401, "access_denied", "Unauthorized")

    def userinfo(self, request: Request) -> Answer:
        record = self.bearer(request)
        if record is None or record.get("aud") != self.api_identifier:
            # The MCP server accepts only tokens issued for its API (the audience).
            return Answer(401, b"Unauthorized", "text/plain")
        return Answer.json({"sub": record["sub"], "name": "Fake User"})

    def revoke(self, request: Request) -> Answer:
        with self.lock:
            if request.params.get("token") in self.refresh_tokens:
                self.refresh_tokens[request.params["token"]]["valid"] = False
        return Answer(200)
