"""The machinery every recorded-behaviour fake IdP shares.

A fake is written from one provider's documentation: its paths, what it
refuses (each rule cites the page that says so), the shape of its answers
and errors, how it refreshes and where the subject comes from. It is used
for the per-preset end-to-end flows with the real `mcp` SDK client, for the
error-mapping tests and for `dcr-shim doctor`'s tests — never instead of the
real IdPs (django-oauth-toolkit, glewlwyd, LemonLDAP::NG).

Each fake runs in the test process on 127.0.0.1 (a ThreadingHTTPServer),
signs ID tokens RS256 with a key made per instance, records every request
(``requests``: method, path, query or form, headers; never used to log), and
can be told to answer the next request of a kind with an error
(``fail_next``), so the tests drive each provider's error through the shim.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..idp import IdP


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def s256(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode()).digest())


@dataclass
class Answer:
    """One HTTP response."""
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)

    @classmethod
    def json(cls, obj, status: int = 200, **headers) -> "Answer":
        return cls(status, json.dumps(obj).encode(), "application/json", headers)

    @classmethod
    def page(cls, status: int, title: str, text: str) -> "Answer":
        """An error page shown to the user: the provider does not redirect."""
        body = f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
        return cls(status, body.encode(), "text/html; charset=utf-8")

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> "Answer":
        return cls(status, b"", "text/plain", {"Location": location})


@dataclass
class Request:
    method: str
    path: str
    params: dict          # query (GET) or form (POST), single values
    headers: dict         # lower-case names


class Refusal(Exception):
    """A rule of the provider refused the request: the answer to give."""

    def __init__(self, answer: Answer):
        super().__init__(answer.status)
        self.answer = answer


def append_query(url: str, params: dict) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


class FakeProvider:
    """Base of the fakes. Subclasses set the class attributes and override
    the ``rule_*`` hooks and the answer shapes."""

    name = "fake"
    preset = "oidc"
    #: (method, path) -> method name; subclasses fill it in ``routes()``.
    user_sub = "fake-user-1"

    def __init__(self, callback_url: str, *, access_token_seconds: int = 3600) -> None:
        self.callback_url = callback_url
        self.access_token_seconds = access_token_seconds
        self.client_id = self.make_client_id()
        self.client_secret = secrets.token_urlsafe(24)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}
        self.refresh_tokens: dict[str, dict] = {}
        self.requests: list[Request] = []
        #: kind ("authorize", "token", "refresh", "userinfo") -> Answer for the next such request
        self.failures: dict[str, Answer] = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self, method: str) -> None:
                url = urlsplit(self.path)
                if method == "POST":
                    raw = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0)).decode()
                    params = {k: v[0] for k, v in parse_qs(raw).items()}
                    repeated = [k for k, v in parse_qs(raw).items() if len(v) > 1]
                else:
                    params = {k: v[0] for k, v in parse_qs(url.query).items()}
                    repeated = [k for k, v in parse_qs(url.query).items() if len(v) > 1]
                request = Request(method, url.path, params, {k.lower(): v for k, v in self.headers.items()})
                with outer.lock:
                    outer.requests.append(request)
                try:
                    if repeated:  # RFC 6749 3.1: "parameters MUST NOT be included more than once"
                        raise Refusal(Answer.json({"error": "invalid_request", "error_description": f"repeated {repeated}"}, 400))
                    answer = outer.dispatch(request)
                except Refusal as refusal:
                    answer = refusal.answer
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.send_header("Cache-Control", "no-store")
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer.body)

            def do_GET(self):  # noqa: N802
                self._serve("GET")

            def do_POST(self):  # noqa: N802
                self._serve("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    # --- what subclasses define -------------------------------------------------

    def make_client_id(self) -> str:
        return "static-" + secrets.token_hex(4)

    def routes(self) -> dict[tuple[str, str], str]:
        raise NotImplementedError

    def upstream_config(self) -> dict:
        """The shim's `upstream:` block for this fake."""
        raise NotImplementedError

    resource_scopes: list[str] = ["mcp"]

    # --- dispatch -------------------------------------------------------------

    def dispatch(self, request: Request) -> Answer:
        handler = self.routes().get((request.method, request.path))
        if handler is None:
            return Answer.json({"error": "not_found"}, 404)
        kind = {"authorize": "authorize", "userinfo": "userinfo"}.get(handler)
        if handler == "token":
            kind = "refresh" if request.params.get("grant_type") == "refresh_token" else "token"
        with self.lock:
            injected = self.failures.pop(kind, None) if kind else None
        if injected is not None:
            if kind == "authorize" and injected.status == 302:
                # An error the provider puts on its redirect to the registered callback.
                location = append_query(self.callback_url, {**json.loads(injected.body), "state": request.params.get("state", "")})
                return Answer.redirect(location)
            return injected
        return getattr(self, handler)(request)

    def fail_next(self, kind: str, answer: Answer) -> None:
        """The next request of `kind` gets `answer` (an `Answer.redirect`-shaped
        error for "authorize": give `Answer(302, json-of-params)`)."""
        with self.lock:
            self.failures[kind] = answer

    def last(self, path_suffix: str) -> Request:
        with self.lock:
            return next(r for r in reversed(self.requests) if r.path.endswith(path_suffix))

    # --- tokens -----------------------------------------------------------------

    def id_token(self, claims: dict) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)

    def jwks(self, request: Request) -> Answer:
        numbers = self.key.public_key().public_numbers()
        to_b64 = lambda n: b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))  # noqa: E731
        return Answer.json({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                                      "n": to_b64(numbers.n), "e": to_b64(numbers.e)}]})

    def new_code(self, params: dict, **extra) -> str:
        code = secrets.token_urlsafe(32)
        with self.lock:
            self.codes[code] = {"client_id": params.get("client_id"), "redirect_uri": params.get("redirect_uri"),
                                "scope": params.get("scope", ""), "nonce": params.get("nonce"),
                                "challenge": params.get("code_challenge"), "method": params.get("code_challenge_method"),
                                "expires": time.time() + 600, **extra}
        return code

    def take_code(self, code: str | None) -> dict | None:
        """Single use: the code is gone after this, whatever happens next."""
        with self.lock:
            record = self.codes.pop(code or "", None)
        return record if record and record["expires"] > time.time() else None

    def new_access_token(self, scope: str, **extra) -> str:
        token = self.access_token_prefix() + secrets.token_urlsafe(24)
        with self.lock:
            self.access_tokens[token] = {"sub": self.user_sub, "scope": scope,
                                         "expires": time.time() + self.access_token_seconds, **extra}
        return token

    def access_token_prefix(self) -> str:
        return ""

    def new_refresh_token(self, scope: str, **extra) -> str:
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.refresh_tokens[token] = {"scope": scope, "valid": True, **extra}
        return token

    def bearer(self, request: Request) -> dict | None:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return None
        with self.lock:
            record = self.access_tokens.get(token)
        return record if record and record["expires"] > time.time() else None

    def client_credentials(self, request: Request) -> tuple[str | None, str | None, str]:
        """(client_id, secret, method) from HTTP Basic or the body (RFC 6749 2.3.1)."""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                raw = base64.b64decode(auth[6:]).decode()
            except ValueError:
                return None, None, "client_secret_basic"
            from urllib.parse import unquote_plus
            user, _, password = raw.partition(":")
            return unquote_plus(user), unquote_plus(password), "client_secret_basic"
        return request.params.get("client_id"), request.params.get("client_secret"), "client_secret_post"

    def pkce_ok(self, record: dict, verifier: str | None) -> bool:
        if not record.get("challenge"):
            return verifier is None
        if verifier is None:
            return False
        if record.get("method", "plain") == "S256":
            return secrets.compare_digest(s256(verifier), record["challenge"])
        return secrets.compare_digest(verifier, record["challenge"])

    # --- the harness's view ---------------------------------------------------

    def as_idp(self, name: str | None = None) -> IdP:
        from .session import FakeSession, InProcess
        return IdP(name=name or self.name, issuer=self.upstream_config().get("issuer", self.base), client_id=self.client_id,
                   client_secret=self.client_secret, username="fake-user", password="", resource_scopes=list(self.resource_scopes),
                   userinfo_endpoint=self.userinfo_url(), log_path="", callback_url=self.callback_url,
                   upstream=self.upstream_config(), proc=InProcess(self), session_factory=FakeSession, base_url=self.base,
                   access_token_seconds=self.access_token_seconds)

    def userinfo_url(self) -> str:
        raise NotImplementedError

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
