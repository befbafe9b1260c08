"""Google's OAuth 2.0 for web server applications, from Google's documentation:

- https://developers.google.com/identity/protocols/oauth2/web-server
- https://developers.google.com/identity/openid-connect/openid-connect
- error pages: https://developers.google.com/identity/protocols/oauth2/web-server#authorization-errors

Paths as on accounts.google.com / oauth2.googleapis.com: ``/o/oauth2/v2/auth``,
``/token``, ``/v1/userinfo``, ``/oauth2/v3/certs``, discovery at
``/.well-known/openid-configuration`` (issuer = the base URL, as
``https://accounts.google.com``).
"""
from __future__ import annotations

import json

from .base import Answer, Refusal, Request
from .standard import StandardProvider


class GoogleFake(StandardProvider):
    name = "google (fake)"
    preset = "google"
    rotates = False               # "the refresh token ... remains valid" (#offline): refresh answers carry none
    s256_only = False             # plain and S256 (#creatingclient, code_challenge_method)
    user_sub = "110169484474386276334"
    # Google refuses scopes it does not know (Error 400: invalid_scope); offline_access is not one.
    known_scopes = {"openid", "profile", "email", "https://www.googleapis.com/auth/userinfo.email",
                    "https://www.googleapis.com/auth/userinfo.profile", "https://www.googleapis.com/auth/drive.readonly"}
    resource_scopes = ["https://www.googleapis.com/auth/drive.readonly"]

    def __init__(self, callback_url: str, **kwargs) -> None:
        #: Users who consented before: Google then issues no refresh token
        #: unless asked again with prompt=consent (#offline).
        self.consented: set[str] = set()
        super().__init__(callback_url, **kwargs)

    def make_client_id(self) -> str:
        return "1234567890-fake.apps.googleusercontent.com"

    def routes(self):
        return {("GET", "/o/oauth2/v2/auth"): "authorize", ("POST", "/token"): "token",
                ("GET", "/.well-known/openid-configuration"): "discovery", ("GET", "/oauth2/v3/certs"): "jwks",
                ("GET", "/v1/userinfo"): "userinfo", ("POST", "/revoke"): "revoke"}

    def upstream_config(self) -> dict:
        # https://accounts.google.com is the preset's discovery base; a test IdP on loopback names its own.
        return {"preset": "google", "issuer": self.base, "client_id": self.client_id, "client_secret": self.client_secret}

    def userinfo_url(self) -> str:
        return self.base + "/v1/userinfo"

    def discovery(self, request: Request) -> Answer:
        return Answer.json(self.discovery_document(self.base + "/o/oauth2/v2/auth", self.base + "/token", self.userinfo_url(),
                                                   self.base + "/oauth2/v3/certs", revocation_endpoint=self.base + "/revoke"))

    def unknown_client_page(self) -> Answer:
        return Answer.page(401, "Error 401: invalid_client", "The OAuth client was not found.")

    def bad_redirect_page(self, redirect_uri: str) -> Answer:
        return Answer.page(400, "Error 400: redirect_uri_mismatch",
                           f"You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. redirect_uri={redirect_uri}")

    def bad_client_error(self) -> Refusal:
        return self.token_error(401, "invalid_client", "Unauthorized")

    def authorize(self, request: Request) -> Answer:
        q = request.params
        if q.get("client_id") == self.client_id and q.get("redirect_uri") == self.callback_url and self.known_scopes is not None:
            unknown = [s for s in q.get("scope", "").split() if s not in self.known_scopes]
            if unknown:
                # An invalid scope is shown to the user on Google's page, not redirected.
                raise Refusal(Answer.page(400, "Error 400: invalid_scope", f"Some requested scopes were invalid. {{invalid={unknown}}}"))
        return super().authorize(request)

    def code_extra(self, q: dict) -> dict:
        # #offline: a refresh token only with access_type=offline; only at the first consent unless prompt=consent.
        offline = q.get("access_type") == "offline" and (self.user_sub not in self.consented or "consent" in q.get("prompt", "").split())
        self.consented.add(self.user_sub)
        return {"offline": offline}

    def token_answer(self, scope: str, record: dict, *, first: bool) -> Answer:
        body = json.loads(super().token_answer(scope, record, first=first).body)
        if first and not record.get("offline"):
            body.pop("refresh_token", None)
        return Answer.json(body)

    def revoke(self, request: Request) -> Answer:
        with self.lock:
            if request.params.get("token") in self.refresh_tokens:
                self.refresh_tokens[request.params["token"]]["valid"] = False
        return Answer.json({})
