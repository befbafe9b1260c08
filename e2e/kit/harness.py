"""Runs the shim binary and plays the browser, for the demo and the tests."""
from __future__ import annotations

import base64
import email.utils
import hashlib
import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import httpx
import yaml

from .idp import IdP, IdPSession

REPO = Path(__file__).resolve().parent.parent.parent  # e2e/kit/harness.py -> the repository
SHIM_BIN = os.environ.get("DCR_SHIM_BIN", str(REPO / ".build" / "debug" / "dcr-shim"))


class FlowError(AssertionError):
    """A hop of the browser flow did not go as expected."""


@dataclass
class Shim:
    """One dcr-shim process with its config, data directory and log."""

    workdir: Path
    port: int
    idp: IdP
    resource: str
    consent_mode: str = "always"
    refresh_grace: str = "45s"
    extra: dict = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    unclean_stops: int = 0
    #: Replicas behind one address share an issuer: the first replica's port.
    issuer_port: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.issuer_port or self.port}"

    @property
    def callback_url(self) -> str:
        return self.issuer + "/callback"

    @property
    def config_path(self) -> Path:
        return self.workdir / "dcr-shim.yaml"

    @property
    def log_path(self) -> Path:
        return self.workdir / "shim.log"

    def config(self) -> dict:
        config = {
            "issuer": self.issuer,
            "listen": {"host": "127.0.0.1", "port": self.port},
            "data_dir": str(self.workdir / "shim-data"),
            "upstream": self.idp.upstream_config(),
            "resources": [{"resource": self.resource, "scopes": list(self.idp.resource_scopes)}],
            "redirects": {"clients": ["loopback"]},
            "consent": {"mode": self.consent_mode},
            "tokens": {"access": "upstream", "refresh_ttl": "30d", "refresh_grace": self.refresh_grace,
                       # The preset tests run github and google in upstream mode on purpose; check-config
                       # refuses that without the acknowledgement (their tokens are not bound to the MCP server).
                       **({"insecure_upstream_audience_ack": True}
                          if self.idp.upstream.get("preset") in ("github", "google") else {})},
            "storage": {"url": f"sqlite://{self.workdir / 'shim.db'}"},
            # Tests register many clients and start many sign-ins from 127.0.0.1.
            "registration": {"rate_limit": 0},
            "authorization": {"rate_limit": 0},
        }
        for key, value in self.extra.items():
            config[key] = value
        return config

    def start(self, timeout: float = 30.0) -> "Shim":
        """Writes the config, starts `dcr-shim serve` and waits until /readyz answers 200."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config()))
        with open(self.log_path, "a") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen([SHIM_BIN, "serve", "--config", str(self.config_path)],
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise FlowError(f"dcr-shim exited with {self.proc.returncode} before it was ready; "
                                f"log tail:\n{self.log_text()[-3000:]}")
            try:
                ready = httpx.get(self.base_url + "/readyz", timeout=2)
                if ready.status_code == 200:
                    return self
                last = f"/readyz answered {ready.status_code}: {ready.text[:200]}"
            except httpx.HTTPError as e:
                last = f"/readyz: {e!r}"
            time.sleep(0.1)
        self.kill()
        raise FlowError(f"dcr-shim not ready within {timeout}s ({last}); log tail:\n{self.log_text()[-3000:]}")

    def stop(self, timeout: float = 10.0) -> bool:
        """SIGTERM, then wait; SIGKILL if it has not exited within `timeout`.
        Returns whether it exited on its own (recorded in `unclean_stops`)."""
        if self.proc is None or self.proc.poll() is not None:
            return True
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            self.unclean_stops += 1
            self.kill()
            return False

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def restart(self) -> "Shim":
        self.stop()
        return self.start()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def _is_loopback(host: str | None) -> bool:
    return bool(host) and (host in LOOPBACK_HOSTS or host.startswith("127."))


def _path_matches(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 §5.1.4 path-match."""
    if request_path == cookie_path:
        return True
    if request_path.startswith(cookie_path):
        return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    return False


def _default_path(request_path: str) -> str:
    """RFC 6265 §5.1.4 default-path: the request path up to its last '/'."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[:request_path.rindex("/")]


@dataclass
class StoredCookie:
    value: str
    path: str
    secure: bool
    http_only: bool
    same_site: str
    expires: float | None  # epoch seconds; None for a session cookie


class Browser:
    """A scripted user agent: no automatic redirects, and its own cookie jar
    that sends Secure cookies to https and to http loopback (a secure context,
    as in Chromium; httpx's jar never sends them over http), honours Path,
    Max-Age and Expires, and keeps cookies host-only (the shim sets no Domain).
    Every response is recorded for the secret scans."""

    def __init__(self) -> None:
        self.client = httpx.Client(follow_redirects=False, timeout=20)
        self.cookies: dict[tuple[str, str], StoredCookie] = {}  # (host, name) -> cookie
        self.responses: list[httpx.Response] = []
        self.rejected_cookies: list[str] = []  # names of cookies a browser would refuse

    def _cookie_header(self, url: str) -> str | None:
        parts = urlparse(url)
        secure_context = parts.scheme == "https" or _is_loopback(parts.hostname)
        now = time.time()
        pairs = []
        for (host, name), c in list(self.cookies.items()):
            if c.expires is not None and c.expires <= now:
                del self.cookies[(host, name)]
                continue
            if host == parts.hostname and _path_matches(parts.path or "/", c.path) and (secure_context or not c.secure):
                pairs.append((len(c.path), f"{name}={c.value}"))
        pairs.sort(key=lambda p: -p[0])  # longer paths first (RFC 6265 §5.4)
        return "; ".join(p for _, p in pairs) or None

    def _remember(self, url: str, response: httpx.Response) -> None:
        parts = urlparse(url)
        for header in response.headers.get_list("set-cookie"):
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if name.startswith("__Host-") and not (morsel["secure"] and morsel["path"] == "/" and not morsel["domain"]):
                    self.rejected_cookies.append(name)  # as a browser would (RFC 6265bis §4.1.3.2)
                    continue
                expires = None
                if morsel["max-age"] != "":
                    expires = time.time() + int(morsel["max-age"])
                elif morsel["expires"]:
                    expires = email.utils.parsedate_to_datetime(morsel["expires"]).timestamp()
                key = (parts.hostname, name)
                if expires is not None and expires <= time.time():
                    self.cookies.pop(key, None)
                    continue
                self.cookies[key] = StoredCookie(
                    value=morsel.value, path=morsel["path"] or _default_path(parts.path or "/"),
                    secure=bool(morsel["secure"]), http_only=bool(morsel["httponly"]),
                    same_site=str(morsel["samesite"] or ""), expires=expires)

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        cookie = self._cookie_header(url)
        if cookie:
            headers["Cookie"] = cookie
        response = self.client.request(method, url, headers=headers, **kwargs)
        self._remember(url, response)
        self.responses.append(response)
        return response

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def cookie(self, host: str, name: str) -> str | None:
        entry = self.cookies.get((host, name))
        return entry.value if entry else None

    def close(self) -> None:
        self.client.close()


class _HiddenInputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.in_consent_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.in_consent_form = (a.get("action") or "").endswith("/consent")
        elif tag == "input" and self.in_consent_form and a.get("type") == "hidden" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_consent_form = False


def parse_consent_form(page: str) -> dict[str, str]:
    """The hidden fields of the consent page's `<form action="/consent">`."""
    parser = _HiddenInputs()
    parser.feed(page)
    return parser.fields


def authorize_through_shim(browser: Browser, idp_session: IdPSession, authorize_url: str, *,
                           client_redirect_prefix: str, decision: str = "allow",
                           upstream_hops: list[str] | None = None, trace=None) -> str:
    """Follows the browser chain hop by hop and returns the first Location
    that starts with the client's redirect_uri: shim /authorize → (303
    /consent → form → POST decision) → upstream authorize (the IdP session
    logs in and returns the shim callback URL, not followed) → shim /callback
    → the client's redirect_uri. Raises FlowError naming the hop that failed.
    `trace(text)`, when given, is told each hop (paths only, never a query)."""
    trace = trace or (lambda text: None)
    shim = urlparse(authorize_url)
    shim_origin = f"{shim.scheme}://{shim.netloc}"
    url = authorize_url
    for _ in range(12):
        if url.startswith(client_redirect_prefix):
            return url
        if not url.startswith(shim_origin + "/"):
            # At the IdP: the user signs in; the IdP sends the browser back to the shim.
            if upstream_hops is not None:
                upstream_hops.append(url)
            try:
                back = idp_session.authorize(url)
            except AssertionError as e:
                raise FlowError(f"hop 'IdP login and grant' at {url.split('?')[0]} failed: {e}") from e
            if not back.startswith(shim_origin + "/callback?"):
                raise FlowError(f"hop 'IdP login and grant': the IdP redirected to {back.split('?')[0]}, "
                                f"not the shim's {shim_origin}/callback")
            trace(f"IdP: signed in and granted at {url.split('?')[0]} -> back to the shim's /callback")
            url = back
            continue
        path = urlparse(url).path
        hop = {"/authorize": "GET /authorize", "/consent": "GET /consent", "/callback": "GET /callback"}.get(path, "GET " + path)
        r = browser.get(url)
        if r.status_code in (302, 303):
            if "location" not in r.headers:
                raise FlowError(f"hop '{hop}' answered {r.status_code} without a Location")
            url = urljoin(url, r.headers["location"])
            trace(f"{hop} -> {r.status_code} {_where(url, shim_origin, client_redirect_prefix)}")
            continue
        if r.status_code == 200 and path == "/consent":
            trace("GET /consent -> 200 consent page")
            form = parse_consent_form(r.text)
            if "csrf_token" not in form or "request_id" not in form:
                raise FlowError(f"hop 'GET /consent': the page has no consent form: {r.text[:300]}")
            post = browser.post(urljoin(url, "/consent"), data={**form, "decision": decision},
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
            if post.status_code != 303 or "location" not in post.headers:
                raise FlowError(f"hop 'POST /consent ({decision})' answered {post.status_code} "
                                f"(expected 303 with a Location): {post.text[:300]}")
            url = urljoin(url, post.headers["location"])
            trace(f"POST /consent ({decision}) -> 303 {_where(url, shim_origin, client_redirect_prefix)}")
            continue
        note = f" (this browser refused the cookies {browser.rejected_cookies})" if browser.rejected_cookies else ""
        raise FlowError(f"hop '{hop}' answered {r.status_code}{note}: {r.text[:400]}")
    raise FlowError(f"more than 12 hops without reaching {client_redirect_prefix}")


def _where(url: str, shim_origin: str, client_redirect_prefix: str) -> str:
    if url.startswith(client_redirect_prefix):
        return "to the client's redirect_uri"
    if url.startswith(shim_origin + "/"):
        return "to the shim's " + urlparse(url).path
    return "to the IdP's " + url.split("?")[0]


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
