"""A controllable fake upstream that imitates no provider (never instead of
the real IdPs): its authorize endpoint answers at once, and its token endpoint
can be told to be down, slow, 5xx, invalid JSON or missing fields. For the
upstream-fault tests, for tests where the IdP is not what is tested (key
files, replicas, the image, deployment hardening) and for the benchmarks.

Not the recorded-behaviour fakes in fakes/: those are one per preset, each
written from a hosted provider's documentation and refusing what it refuses."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from .idp import IdP


class FakeSession:
    """The user at the fake IdP: its authorize endpoint answers at once."""

    def __init__(self, idp: IdP):
        self.idp = idp
        self.http = httpx.Client(follow_redirects=False, timeout=10)

    def authorize(self, url: str) -> str:
        return self.http.get(url).headers["location"]


class FakeIdP:
    def __init__(self) -> None:
        self.mode = "normal"          # normal | 500 | invalid_json | no_access_token | slow | callback_error
        self.counter = 0
        #: Seconds every refresh_token grant takes (a slow IdP under load).
        self.refresh_delay = 0.0
        self.expires_in = 30          # lifetime of the access tokens it issues
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path != "/authorize":
                    return self._send(404, b"{}")
                params = {"state": q["state"]}
                if outer.mode == "callback_error":
                    params["error"] = "access_denied"
                else:
                    params["code"] = f"upstream-code-{time.time_ns()}"
                self.send_response(302)
                self.send_header("Location", q["redirect_uri"] + "?" + urlencode(params))
                self.end_headers()

            def do_POST(self):  # noqa: N802
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
                outer.counter += 1
                if form.get("grant_type") == ["refresh_token"] and outer.refresh_delay:
                    time.sleep(outer.refresh_delay)
                mode = outer.mode
                if mode == "500":
                    return self._send(500, b'{"error":"server_error"}')
                if mode == "invalid_json":
                    return self._send(200, b"<html>not json</html>")
                if mode == "no_access_token":
                    return self._send(200, b'{"token_type":"Bearer","expires_in":60}')
                if mode == "slow":
                    time.sleep(4)
                body = {"access_token": f"fake-at-{outer.counter}", "token_type": "Bearer", "expires_in": outer.expires_in,
                        "refresh_token": f"fake-rt-{outer.counter}"}
                self._send(200, json.dumps(body).encode())

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def as_idp(self, callback_url: str, **upstream: str) -> IdP:
        """This fake as the shim's upstream, with explicit endpoints."""
        return IdP(name="fake", issuer=self.base, client_id="static", client_secret="fake-secret", username="", password="",
                   resource_scopes=["mcp"], userinfo_endpoint="", log_path="", callback_url=callback_url,
                   upstream={"preset": "oidc", "client_id": "static", "client_secret": "fake-secret",
                             "authorization_endpoint": self.base + "/authorize", "token_endpoint": self.base + "/token",
                             "scopes": ["openid"], **upstream},
                   session_factory=FakeSession)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
