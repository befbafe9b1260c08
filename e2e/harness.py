"""Runs the shim binary and plays the browser, for the demo and the tests."""
from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import httpx
import yaml

from .idp import IdP, IdPSession, stop_process, wait_http

REPO = Path(__file__).resolve().parent.parent
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
            "tokens": {"access": "upstream", "refresh_ttl": "30d", "refresh_grace": self.refresh_grace},
            "storage": {"url": f"sqlite://{self.workdir / 'shim.db'}"},
            # Tests register many clients from 127.0.0.1.
            "registration": {"rate_limit": 0},
        }
        for key, value in self.extra.items():
            config[key] = value
        return config

    def start(self) -> "Shim":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config()))
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([SHIM_BIN, "serve", "--config", str(self.config_path)],
                                     stdout=log, stderr=subprocess.STDOUT)
        wait_http(self.base_url + "/healthz", timeout=30, proc=self.proc, log_path=str(self.log_path))
        ready = httpx.get(self.base_url + "/readyz", timeout=15)
        if ready.status_code != 200:
            raise FlowError(f"shim not ready: {ready.text}\n{self.log_text()[-2000:]}")
        return self

    def stop(self) -> None:
        stop_process(self.proc)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def restart(self) -> "Shim":
        self.stop()
        return self.start()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Browser:
    """A scripted user agent: no automatic redirects, and a cookie jar that
    sends Secure cookies to http loopback, as Chromium does (httpx's jar does
    not). Every response is recorded for the secret scans."""

    def __init__(self) -> None:
        self.client = httpx.Client(follow_redirects=False, timeout=20)
        self.cookies: dict[tuple[str, str], tuple[str, str]] = {}  # (host, name) -> (value, path)
        self.responses: list[httpx.Response] = []

    def _cookie_header(self, url: str) -> str | None:
        parts = urlparse(url)
        pairs = [f"{name}={value}" for (host, name), (value, path) in self.cookies.items()
                 if host == parts.hostname and (parts.path or "/").startswith(path)]
        return "; ".join(pairs) or None

    def _remember(self, url: str, response: httpx.Response) -> None:
        host = urlparse(url).hostname
        for header in response.headers.get_list("set-cookie"):
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0":
                    self.cookies.pop((host, name), None)
                else:
                    self.cookies[(host, name)] = (morsel.value, morsel["path"] or "/")

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
        return entry[0] if entry else None


def parse_consent_form(page: str) -> dict[str, str]:
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return {k: html.unescape(v) for k, v in fields.items()}


def authorize_through_shim(browser: Browser, idp_session: IdPSession, authorize_url: str, *,
                           client_redirect_prefix: str, decision: str = "allow",
                           upstream_hops: list[str] | None = None) -> str:
    """Follows the browser chain hop by hop and returns the first Location
    that starts with the client's redirect_uri."""
    url = authorize_url
    for _ in range(12):
        if url.startswith(client_redirect_prefix):
            return url
        shim_origin = f"{urlparse(authorize_url).scheme}://{urlparse(authorize_url).netloc}"
        if not url.startswith(shim_origin):
            # At the IdP: the user signs in; the IdP sends the browser back to the shim.
            if upstream_hops is not None:
                upstream_hops.append(url)
            url = idp_session.authorize(url)
            continue
        r = browser.get(url)
        path = urlparse(url).path
        if r.status_code in (302, 303):
            url = urljoin(url, r.headers["location"])
            continue
        if r.status_code == 200 and path.endswith("/consent"):
            form = parse_consent_form(r.text)
            if "csrf_token" not in form or "request_id" not in form:
                raise FlowError(f"consent page has no form: {r.text[:300]}")
            post = browser.post(urljoin(url, "/consent"), data={**form, "decision": decision},
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
            if post.status_code != 303:
                raise FlowError(f"consent POST answered {post.status_code}: {post.text[:300]}")
            url = urljoin(url, post.headers["location"])
            continue
        raise FlowError(f"{path} answered {r.status_code}: {r.text[:400]}")
    raise FlowError("too many hops")


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
