"""Okta, a custom authorization server, from Okta's documentation:

- https://developer.okta.com/docs/guides/implement-grant-type/authcodepkce/main/
- authorization servers: https://developer.okta.com/docs/concepts/auth-servers/
- endpoints: https://developer.okta.com/docs/api/openapi/okta-oauth/oauth/
- refresh tokens: https://developer.okta.com/docs/guides/refresh-tokens/main/
- error codes: https://developer.okta.com/docs/reference/error-codes/

Issuer ``/oauth2/default``; ``/v1/authorize``, ``/v1/token``,
``/v1/userinfo``, ``/v1/keys``, ``/v1/revoke`` below it; discovery at
``<issuer>/.well-known/openid-configuration`` (and oauth-authorization-server).
"""
from __future__ import annotations

from .base import Answer, Request
from .standard import StandardProvider


class OktaFake(StandardProvider):
    name = "okta (fake)"
    preset = "okta"
    auth_methods = ("client_secret_basic",)   # the app's "Client authentication" setting; the other method is refused
    offline_scope_needed = True               # "include the offline_access scope" (refresh-tokens guide)
    rotates = True                            # "Rotate token after every use" (on for new apps)
    user_sub = "00uid4BxXw6I6TV4m0g3"
    # Scopes defined on the authorization server (Security → API → Authorization Servers → Scopes).
    known_scopes = {"openid", "profile", "email", "offline_access", "mcp.tools"}
    resource_scopes = ["mcp.tools"]

    def __init__(self, callback_url: str, **kwargs) -> None:
        #: The user is assigned to the app (Applications → Assignments).
        self.assigned = True
        super().__init__(callback_url, **kwargs)

    def make_client_id(self) -> str:
        return "0oa1b2c3d4e5f6g7h8i9"

    @property
    def issuer(self) -> str:
        return self.base + "/oauth2/default"

    def routes(self):
        i = "/oauth2/default"
        return {("GET", i + "/v1/authorize"): "authorize", ("POST", i + "/v1/token"): "token",
                ("GET", i + "/v1/userinfo"): "userinfo", ("GET", i + "/v1/keys"): "jwks",
                ("GET", i + "/.well-known/openid-configuration"): "discovery",
                ("GET", i + "/.well-known/oauth-authorization-server"): "discovery", ("POST", i + "/v1/revoke"): "revoke"}

    def upstream_config(self) -> dict:
        return {"preset": "okta", "issuer": self.issuer, "client_id": self.client_id, "client_secret": self.client_secret}

    def userinfo_url(self) -> str:
        return self.issuer + "/v1/userinfo"

    def discovery(self, request: Request) -> Answer:
        i = self.issuer
        return Answer.json(self.discovery_document(i + "/v1/authorize", i + "/v1/token", self.userinfo_url(), i + "/v1/keys",
                                                   revocation_endpoint=i + "/v1/revoke"))

    def unknown_client_page(self) -> Answer:
        return Answer.page(400, "400 Bad Request", "Invalid value for 'client_id' parameter.")

    def bad_redirect_page(self, redirect_uri: str) -> Answer:
        return Answer.page(400, "400 Bad Request", "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings")

    def rule_authorize(self, q: dict) -> None:
        if not self.assigned:
            raise self.redirect_error(q, "access_denied", "User is not assigned to the client application.")

    def bad_client_error(self):
        return self.token_error(401, "invalid_client", "Client authentication failed. Either the client or the client credentials are invalid.")

    def revoke(self, request: Request) -> Answer:
        with self.lock:
            if request.params.get("token") in self.refresh_tokens:
                self.refresh_tokens[request.params["token"]]["valid"] = False
        return Answer(200)
