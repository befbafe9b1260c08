"""Real upstream identity providers for the end-to-end tests.

Each IdP is a strict upstream with DCR off and ONE pre-registered confidential
client whose only redirect URI is the shim's callback; PKCE S256 is required
and refresh tokens are issued. ``IdPSession.authorize`` plays the user at the
IdP: it logs in (once per session), and returns the IdP's redirect to the
shim's callback without following it.
"""
from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from typing import Protocol

import httpx


class IdPError(AssertionError):
    """The IdP did something the test did not expect."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None, log_path: str | None = None) -> None:
    """Waits until ``url`` answers (any status below 500)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            r = httpx.get(url, timeout=2)
            if r.status_code < 500:
                return
            last = f"status {r.status_code}"
        except httpx.HTTPError as e:  # not up yet
            last = str(e)
        time.sleep(0.1)
    tail = ""
    if log_path:
        try:
            tail = open(log_path, encoding="utf-8", errors="replace").read()[-3000:]
        except OSError:
            pass
    raise IdPError(f"{url} did not come up within {timeout}s ({last})\n{tail}")


def stop_process(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class IdPSession(Protocol):
    def authorize(self, authorize_url: str) -> str: ...


@dataclass
class IdP:
    """What a test needs to know about a running upstream."""

    name: str
    issuer: str
    client_id: str
    client_secret: str
    username: str
    password: str
    resource_scopes: list[str]
    userinfo_endpoint: str
    log_path: str
    callback_url: str
    upstream: dict = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    session_factory: object = None
    db_path: str = ""

    def upstream_config(self) -> dict:
        """The shim config's `upstream:` block (keys starting with _ are the harness's own)."""
        return {k: v for k, v in self.upstream.items() if not k.startswith("_")}

    def new_session(self) -> IdPSession:
        return self.session_factory(self)  # type: ignore[operator]

    def stop(self) -> None:
        stop_process(self.proc)
