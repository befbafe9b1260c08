"""The authorization-code flow with PKCE as RFC 6749, RFC 7636 and OIDC Core
describe it, with hooks where providers differ. Each preset's fake
subclasses it and adds the rules its provider documents."""
from __future__ import annotations

import secrets
import time

from .base import Answer, FakeProvider, Refusal, Request, append_query


class StandardProvider(FakeProvider):
    #: The one confidential client's registered token-endpoint auth method(s).
    auth_methods = ("client_secret_basic", "client_secret_post")
    #: A new refresh token on every refresh ...
    rotates = True
    #: ... and the old one still valid afterwards (Entra; Keycloak unless "Revoke Refresh Token").
    keeps_old_valid = False
    #: Refresh tokens are issued only when `offline_access` was asked for.
    offline_scope_needed = False
    #: Scopes the provider knows (None: any); unknown ones are refused at /authorize.
    known_scopes: set[str] | None = None
    #: Only S256 accepted as code_challenge_method.
    s256_only = True
    issues_id_token = True

    @property
    def issuer(self) -> str:
        return self.base

    # --- hooks (providers override) -------------------------------------------------

    def rule_authorize(self, q: dict) -> None:
        """Provider-specific refusals at /authorize (raise Refusal)."""

    def code_extra(self, q: dict) -> dict:
        """What the provider remembers with the code besides the standard fields."""
        return {}

    def rule_token(self, request: Request, record: dict) -> None:
        """Provider-specific refusals of a code exchange."""

    def rule_refresh(self, request: Request, record: dict) -> None:
        """Provider-specific refusals of a refresh."""

    def unknown_client_page(self) -> Answer:
        return Answer.page(400, "invalid_client", "Unknown client")

    def bad_redirect_page(self, redirect_uri: str) -> Answer:
        return Answer.page(400, "invalid_request", "redirect_uri is not registered")

    def token_error(self, status: int, error: str, description: str) -> Refusal:
        return Refusal(Answer.json({"error": error, "error_description": description}, status))

    def bad_client_error(self) -> Refusal:
        return self.token_error(401, "invalid_client", "Client authentication failed")

    def id_claims(self, record: dict) -> dict:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": self.user_sub, "aud": self.client_id, "iat": now, "exp": now + 3600}
        if record.get("nonce"):
            claims["nonce"] = record["nonce"]
        return claims

    def access_claims(self, scope: str) -> dict:
        return {}

    # --- the flow ---------------------------------------------------------------

    def redirect_error(self, q: dict, error: str, description: str, **extra) -> Refusal:
        """RFC 6749 4.1.2.1: an error on the (validated) redirect URI."""
        params = {"error": error, "error_description": description, **extra}
        if q.get("state"):
            params["state"] = q["state"]
        return Refusal(Answer.redirect(append_query(q["redirect_uri"], params)))

    def authorize(self, request: Request) -> Answer:
        q = request.params
        # RFC 6749 4.1.2.1: without a valid client and redirect URI, "the
        # authorization server ... MUST NOT automatically redirect".
        if q.get("client_id") != self.client_id:
            raise Refusal(self.unknown_client_page())
        if q.get("redirect_uri") != self.callback_url:
            raise Refusal(self.bad_redirect_page(q.get("redirect_uri", "")))
        if q.get("response_type") != "code":
            raise self.redirect_error(q, "unsupported_response_type", "response_type must be code")
        if self.s256_only and q.get("code_challenge_method") != "S256":
            raise self.redirect_error(q, "invalid_request", "code_challenge_method must be S256")
        if not q.get("code_challenge"):
            raise self.redirect_error(q, "invalid_request", "code_challenge is required")
        scopes = q.get("scope", "").split()
        if self.known_scopes is not None:
            unknown = [s for s in scopes if s not in self.known_scopes]
            if unknown:
                raise self.redirect_error(q, "invalid_scope", f"unknown scopes {unknown}")
        self.rule_authorize(q)
        code = self.new_code(q, **self.code_extra(q))
        return Answer.redirect(append_query(self.callback_url, self.code_params(q, code)))

    def code_params(self, q: dict, code: str) -> dict:
        params = {"code": code}
        if q.get("state"):
            params["state"] = q["state"]
        return params

    def token(self, request: Request) -> Answer:
        client_id, secret, method = self.client_credentials(request)
        if client_id != self.client_id or method not in self.auth_methods or not secret \
                or not secrets.compare_digest(secret, self.client_secret):
            raise self.bad_client_error()
        grant = request.params.get("grant_type")
        if grant == "authorization_code":
            return self.code_grant(request)
        if grant == "refresh_token":
            return self.refresh_grant(request)
        raise self.token_error(400, "unsupported_grant_type", f"grant_type {grant} is not supported")

    def code_grant(self, request: Request) -> Answer:
        p = request.params
        record = self.take_code(p.get("code"))
        if record is None:
            raise self.token_error(400, "invalid_grant", "The authorization code is invalid or has expired")
        if record["redirect_uri"] != p.get("redirect_uri"):
            raise self.token_error(400, "invalid_grant", "redirect_uri does not match the authorization request")
        if not self.pkce_ok(record, p.get("code_verifier")):
            raise self.token_error(400, "invalid_grant", "PKCE verification failed")
        self.rule_token(request, record)
        return self.token_answer(record["scope"], record, first=True)

    def refresh_grant(self, request: Request) -> Answer:
        token = request.params.get("refresh_token", "")
        with self.lock:
            record = self.refresh_tokens.get(token)
        if record is None or not record["valid"]:
            raise self.token_error(400, "invalid_grant", "The refresh token is invalid or expired")
        self.rule_refresh(request, record)
        if self.rotates and not self.keeps_old_valid:
            with self.lock:
                record["valid"] = False
        return self.token_answer(record["scope"], record, first=False)

    def token_answer(self, scope: str, record: dict, *, first: bool) -> Answer:
        body = {"access_token": self.new_access_token(scope, **self.access_claims(scope)), "token_type": "Bearer",
                "expires_in": self.access_token_seconds, "scope": scope}
        wants_refresh = not self.offline_scope_needed or "offline_access" in scope.split()
        if wants_refresh and (first or self.rotates):
            body["refresh_token"] = self.new_refresh_token(scope)
        if first and self.issues_id_token and "openid" in scope.split():
            body["id_token"] = self.id_token(self.id_claims(record))
        return Answer.json(body)

    def userinfo(self, request: Request) -> Answer:
        record = self.bearer(request)
        if record is None:
            return Answer.json({"error": "invalid_token"}, 401, **{"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return Answer.json({"sub": record["sub"], "name": "Fake User"})

    def discovery_document(self, authorize: str, token: str, userinfo: str, jwks: str, **extra) -> dict:
        return {"issuer": self.issuer, "authorization_endpoint": authorize, "token_endpoint": token,
                "userinfo_endpoint": userinfo, "jwks_uri": jwks, "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"] if self.s256_only else ["plain", "S256"],
                "token_endpoint_auth_methods_supported": list(self.auth_methods),
                "id_token_signing_alg_values_supported": ["RS256"], "subject_types_supported": ["public"], **extra}
