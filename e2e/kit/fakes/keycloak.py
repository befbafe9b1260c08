"""Keycloak, a realm with a confidential client, from Keycloak's documentation:

- https://www.keycloak.org/securing-apps/oidc-layers (endpoints)
- https://www.keycloak.org/docs/latest/server_admin/#_oidc_clients (client settings:
  Valid redirect URIs, PKCE method, Client scopes)

Issuer ``/realms/<realm>``; ``/protocol/openid-connect/{auth,token,userinfo,certs,revoke}``
below it; discovery at ``<issuer>/.well-known/openid-configuration``.
"""
from __future__ import annotations

from .base import Answer, Request
from .standard import StandardProvider


class KeycloakFake(StandardProvider):
    name = "keycloak (fake)"
    preset = "keycloak"
    rotates = True          # a new refresh token on every refresh ...
    keeps_old_valid = True  # ... and the old one stays valid unless "Revoke Refresh Token" is on
    user_sub = "f1b5c2d4-7a3e-4c1b-9e8f-2a6d5c4b3a21"
    realm = "acme"
    # Default and optional client scopes of the client (Clients → Client scopes).
    known_scopes = {"openid", "profile", "email", "roles", "web-origins", "offline_access", "mcp"}
    resource_scopes = ["mcp"]

    def make_client_id(self) -> str:
        return "dcr-shim"

    @property
    def issuer(self) -> str:
        return f"{self.base}/realms/{self.realm}"

    def path(self, name: str) -> str:
        return f"/realms/{self.realm}/protocol/openid-connect/{name}"

    def routes(self):
        return {("GET", self.path("auth")): "authorize", ("POST", self.path("token")): "token",
                ("GET", self.path("userinfo")): "userinfo", ("GET", self.path("certs")): "jwks",
                ("POST", self.path("revoke")): "revoke",
                ("GET", f"/realms/{self.realm}/.well-known/openid-configuration"): "discovery"}

    def upstream_config(self) -> dict:
        return {"preset": "keycloak", "issuer": self.issuer, "client_id": self.client_id, "client_secret": self.client_secret}

    def userinfo_url(self) -> str:
        return self.base + self.path("userinfo")

    def discovery(self, request: Request) -> Answer:
        b = self.base
        return Answer.json(self.discovery_document(b + self.path("auth"), b + self.path("token"), self.userinfo_url(),
                                                   b + self.path("certs"), revocation_endpoint=b + self.path("revoke")))

    def unknown_client_page(self) -> Answer:
        return Answer.page(400, "We are sorry...", "Client not found.")

    def bad_redirect_page(self, redirect_uri: str) -> Answer:
        return Answer.page(400, "We are sorry...", "Invalid parameter: redirect_uri")

    def redirect_error(self, q, error, description, **extra):
        if error == "invalid_scope":   # Keycloak's wording: "Invalid scopes: <scope list>"
            description = "Invalid scopes: " + q.get("scope", "")
        return super().redirect_error(q, error, description, **extra)

    def token_error(self, status, error, description):
        if error == "invalid_grant" and "refresh" in description:
            description = "Token is not active"
        return super().token_error(status, error, description)

    def bad_client_error(self):
        return self.token_error(401, "unauthorized_client", "Invalid client or Invalid client credentials")

    def revoke(self, request: Request) -> Answer:
        with self.lock:
            if request.params.get("token") in self.refresh_tokens:
                self.refresh_tokens[request.params["token"]]["valid"] = False
        return Answer(200)
