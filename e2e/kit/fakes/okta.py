"""Okta, a custom authorization server, from Okta's documentation:

- https://developer.okta.com/docs/guides/implement-grant-type/authcodepkce/main/
- authorization servers: https://developer.okta.com/docs/concepts/auth-servers/
- endpoints: https://developer.okta.com/docs/api/openapi/okta-oauth/oauth/
- refresh tokens: https://developer.okta.com/docs/guides/refresh-tokens/main/
- error codes: https://developer.okta.com/docs/reference/error-codes/
- token exchange (RFC 8693): https://developer.okta.com/docs/guides/set-up-token-exchange/main/

Issuer ``/oauth2/default``; ``/v1/authorize``, ``/v1/token``,
``/v1/userinfo``, ``/v1/keys``, ``/v1/revoke`` below it; discovery at
``<issuer>/.well-known/openid-configuration`` (and oauth-authorization-server).
"""
from __future__ import annotations

import secrets
import time

from .base import Answer, Request
from .standard import StandardProvider

#: RFC 8693 2.1 and 3.
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


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
        #: Token exchange: the audience of the authorization server the app may exchange for, its scopes,
        #: every exchange request seen.
        self.exchange_audience = "api://reports"
        self.exchange_scopes = {"reports.read"}
        self.exchange_requests: list[dict] = []
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

    def token(self, request: Request) -> Answer:
        if request.params.get("grant_type") == TOKEN_EXCHANGE:
            return self.token_exchange(request)
        return super().token(request)

    def token_exchange(self, request: Request) -> Answer:
        """The app's Basic client authentication (the Token Exchange grant enabled on
        it), `subject_token` an access token this server issued, its type
        `access_token`, `scope`, `audience` the authorization server's. Answers
        `issued_token_type` with the token; no refresh token for a service app."""
        client_id, secret, method = self.client_credentials(request)
        if client_id != self.client_id or method not in self.auth_methods or not secret \
                or not secrets.compare_digest(secret, self.client_secret):
            raise self.bad_client_error()
        p = request.params
        with self.lock:
            record = self.access_tokens.get(p.get("subject_token", ""))
        self.exchange_requests.append({k: p.get(k) for k in ("subject_token_type", "scope", "audience")})
        if p.get("subject_token_type") != ACCESS_TOKEN_TYPE:
            raise self.token_error(400, "invalid_request", "The 'subject_token_type' parameter is invalid.")
        if record is None or record["expires"] <= time.time():
            raise self.token_error(400, "invalid_grant", "The 'subject_token' is invalid or expired.")
        if p.get("audience") != self.exchange_audience:
            raise self.token_error(400, "invalid_target", "The 'audience' parameter is invalid.")
        scopes = p.get("scope", "").split()
        if not scopes or any(s not in self.exchange_scopes for s in scopes):
            raise self.token_error(400, "invalid_scope", "One or more scopes are not configured for the authorization server resource.")
        token = self.new_access_token(" ".join(scopes), aud=self.exchange_audience, sub=record["sub"], exchanged=True)
        return Answer.json({"token_type": "Bearer", "expires_in": self.access_token_seconds, "access_token": token,
                            "scope": " ".join(scopes), "issued_token_type": ACCESS_TOKEN_TYPE})

    def revoke(self, request: Request) -> Answer:
        with self.lock:
            if request.params.get("token") in self.refresh_tokens:
                self.refresh_tokens[request.params["token"]]["valid"] = False
        return Answer(200)
