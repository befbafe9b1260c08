"""A GitHub OAuth app, from GitHub's documentation:

- https://docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
- errors at authorize: https://docs.github.com/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-authorization-request-errors
- errors at the token endpoint: https://docs.github.com/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors
- expiring tokens and refresh: https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
- the user: https://docs.github.com/rest/users/users#get-the-authenticated-user

No OpenID Connect: no discovery, no ID token, the subject is ``GET /user``'s
``id``. Paths as on github.com and api.github.com: ``/login/oauth/authorize``,
``/login/oauth/access_token``, ``/user``.
"""
from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit

from .base import Answer, Refusal, Request, append_query
from .standard import StandardProvider


class GitHubFake(StandardProvider):
    name = "github (fake)"
    preset = "github"
    auth_methods = ("client_secret_post",)   # client_id and client_secret are body parameters
    issues_id_token = False
    user_id = 583231
    resource_scopes = ["read:user"]

    def __init__(self, callback_url: str, *, expiring_tokens: bool = True, **kwargs) -> None:
        #: "Expire user authorization tokens" (Optional features): expires_in 28800 and a refresh token.
        self.expiring_tokens = expiring_tokens
        super().__init__(callback_url, access_token_seconds=kwargs.pop("access_token_seconds", 28800), **kwargs)

    def make_client_id(self) -> str:
        return "Iv1.8a61f9b3a7aba766"

    def routes(self):
        return {("GET", "/login/oauth/authorize"): "authorize", ("POST", "/login/oauth/access_token"): "token",
                ("GET", "/user"): "userinfo"}

    def upstream_config(self) -> dict:
        # github.com and api.github.com are fixed in the preset; a test IdP on loopback overrides them.
        return {"preset": "github", "client_id": self.client_id, "client_secret": self.client_secret,
                "authorization_endpoint": self.base + "/login/oauth/authorize",
                "token_endpoint": self.base + "/login/oauth/access_token", "userinfo_endpoint": self.base + "/user"}

    def userinfo_url(self) -> str:
        return self.base + "/user"

    def access_token_prefix(self) -> str:
        return "ghu_" if self.expiring_tokens else "gho_"

    # --- authorize ------------------------------------------------------------

    def unknown_client_page(self) -> Answer:
        return Answer.page(404, "Page not found", "Not Found")

    def authorize(self, request: Request) -> Answer:
        q = request.params
        if q.get("client_id") != self.client_id:
            raise Refusal(self.unknown_client_page())
        # "the redirect_uri's host (excluding sub-domains) and port must exactly match the callback
        # URL; the path must reference a subdirectory of it" — otherwise GitHub sends the user to the
        # REGISTERED callback with error=redirect_uri_mismatch.
        asked, registered = urlsplit(q.get("redirect_uri") or self.callback_url), urlsplit(self.callback_url)
        below = asked.path == registered.path or asked.path.startswith(registered.path.rstrip("/") + "/")
        if (asked.scheme, asked.netloc) != (registered.scheme, registered.netloc) or not below:
            params = {"error": "redirect_uri_mismatch", "error_description": "The redirect_uri MUST match the registered callback URL for this application.",
                      "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch"}
            if q.get("state"):
                params["state"] = q["state"]
            raise Refusal(Answer.redirect(append_query(self.callback_url, params)))
        # PKCE: "code_challenge_method ... Must be S256"; GitHub knows no response_type, nonce or OIDC scopes
        # (unknown scopes are ignored: the token's `scope` lists what was granted).
        if q.get("code_challenge") and q.get("code_challenge_method") != "S256":
            raise Refusal(Answer.redirect(append_query(self.callback_url, {"error": "invalid_request", "state": q.get("state", "")})))
        granted = " ".join(s for s in q.get("scope", "").split() if ":" in s or s in ("repo", "gist", "user"))
        code = self.new_code({**q, "scope": granted})
        return Answer.redirect(append_query(q.get("redirect_uri") or self.callback_url, {"code": code, "state": q.get("state", "")}))

    # --- token ----------------------------------------------------------------

    def token_error(self, status: int, error: str, description: str) -> Refusal:
        # GitHub answers errors with 200 and an `error` member (troubleshooting-oauth-app-access-token-request-errors).
        mapped = {"invalid_grant": "bad_verification_code", "invalid_client": "incorrect_client_credentials"}.get(error, error)
        return Refusal(self.shaped({"error": mapped, "error_description": description,
                                    "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"},
                                   self.current_accept))

    current_accept = ""

    def shaped(self, body: dict, accept: str) -> Answer:
        """JSON only when asked (`Accept: application/json`); form-encoded by default."""
        if "application/json" in accept:
            return Answer.json(body)
        return Answer(200, urlencode(body).encode(), "application/x-www-form-urlencoded; charset=utf-8")

    def token(self, request: Request) -> Answer:
        self.current_accept = request.headers.get("accept", "")
        if request.headers.get("authorization", "").lower().startswith("basic ") and "client_secret" not in request.params:
            raise self.token_error(200, "invalid_client", "The client_id and/or client_secret passed are incorrect.")
        return super().token(request)

    def bad_client_error(self) -> Refusal:
        return self.token_error(200, "invalid_client", "The client_id and/or client_secret passed are incorrect.")

    def code_grant(self, request: Request) -> Answer:
        record = self.take_code(request.params.get("code"))
        if record is None or not self.pkce_ok(record, request.params.get("code_verifier")):
            raise self.token_error(200, "invalid_grant", "The code passed is incorrect or expired.")
        if request.params.get("redirect_uri") and not request.params["redirect_uri"].startswith(self.callback_url):
            raise self.token_error(200, "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.")
        return self.token_answer(record["scope"], record, first=True)

    def refresh_grant(self, request: Request) -> Answer:
        token = request.params.get("refresh_token", "")
        with self.lock:
            record = self.refresh_tokens.get(token)
            if record is None or not record["valid"]:
                raise self.token_error(200, "bad_refresh_token", "The refresh token passed is incorrect or expired.")
            record["valid"] = False   # a refresh token is single use
        return self.token_answer(record["scope"], record, first=False)

    def token_answer(self, scope: str, record: dict, *, first: bool) -> Answer:
        # The token's `scope` is comma-separated in GitHub's answer.
        body = {"access_token": self.new_access_token(scope), "token_type": "bearer", "scope": scope.replace(" ", ",")}
        if self.expiring_tokens:
            body.update({"expires_in": self.access_token_seconds, "refresh_token": self.new_refresh_token(scope),
                         "refresh_token_expires_in": 15897600})
        return self.shaped(body, self.current_accept)

    # --- the user ---------------------------------------------------------------

    def userinfo(self, request: Request) -> Answer:
        # "All API requests MUST include a valid User-Agent header" (rest/using-the-rest-api).
        if not request.headers.get("user-agent"):
            return Answer.page(403, "Forbidden", "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.")
        if self.bearer(request) is None:
            return Answer.json({"message": "Bad credentials", "status": "401"}, 401)
        return Answer(200, json.dumps({"login": "octocat", "id": self.user_id, "type": "User", "name": "The Octocat"}).encode(),
                      "application/json; charset=utf-8")
