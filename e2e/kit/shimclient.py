"""A hand-driven OAuth client for the negative end-to-end tests: it does
exactly what a test says, including what a well-behaved SDK never would."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx

from .harness import Browser, Shim, authorize_through_shim, pkce_pair, query
from .idp import free_port


@dataclass
class RawClient:
    shim: Shim
    client_id: str
    client_secret: str | None
    redirect_uri: str
    verifier: str = ""
    challenge: str = ""
    responses: list[httpx.Response] = field(default_factory=list)

    @classmethod
    def register(cls, shim: Shim, *, redirect_uri: str | None = None, auth_method: str = "none",
                 name: str = "e2e raw client") -> "RawClient":
        redirect_uri = redirect_uri or f"http://127.0.0.1:{free_port()}/callback"
        r = httpx.post(shim.base_url + "/register", json={
            "redirect_uris": [redirect_uri], "client_name": name, "token_endpoint_auth_method": auth_method,
            "grant_types": ["authorization_code", "refresh_token"]}, timeout=10)
        assert r.status_code == 201, r.text
        body = r.json()
        client = cls(shim, body["client_id"], body.get("client_secret"), redirect_uri)
        client.responses.append(r)
        client.verifier, client.challenge = pkce_pair()
        return client

    def authorize_url(self, **overrides) -> str:
        params = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                  "code_challenge": self.challenge, "code_challenge_method": "S256", "state": "st-" + self.client_id[:6],
                  "resource": self.shim.resource, "scope": "mcp"}
        params.update(overrides)
        return self.shim.base_url + "/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})

    def sign_in(self, browser: Browser, idp_session, **overrides) -> dict[str, str]:
        final = authorize_through_shim(browser, idp_session, self.authorize_url(**overrides),
                                       client_redirect_prefix=self.redirect_uri)
        return query(final)

    def token(self, **form) -> httpx.Response:
        data = {"client_id": self.client_id, **form}
        r = httpx.post(self.shim.base_url + "/token", data=data, timeout=30)
        self.responses.append(r)
        return r

    def exchange(self, code: str, **overrides) -> httpx.Response:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "code_verifier": self.verifier, "resource": self.shim.resource}
        form.update(overrides)
        return self.token(**{k: v for k, v in form.items() if v is not None})

    def refresh(self, refresh_token: str, **overrides) -> httpx.Response:
        return self.token(grant_type="refresh_token", refresh_token=refresh_token, **overrides)
