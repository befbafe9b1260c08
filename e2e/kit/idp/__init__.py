"""Real upstream identity providers for the end-to-end tests.

The shim fronts an IdP that has no Dynamic Client Registration, so each IdP
here is started as exactly that: a STRICT upstream with DCR off and ONE
pre-registered confidential client whose only redirect URI is the shim's
callback (``<shim issuer>/callback``); PKCE with S256 is required, refresh
tokens are issued for the authorization-code grant, and access tokens are
short-lived on purpose (``access_token_seconds``) so the shim has to refresh
upstream behind its own refresh tokens.

Interface (other e2e modules code against exactly this)::

    idp = start_dot(workdir, port, callback_url, access_token_seconds=60)
    idp = start_glewlwyd(workdir, port, callback_url, access_token_seconds=60)
    idp = start_glewlwyd(..., client_public_key=pem)  # private_key_jwt, no secret
    idp = start_lemonldap(workdir, port, callback_url, access_token_seconds=3600)
    idp.name, idp.issuer, idp.client_id, idp.client_secret, idp.username,
    idp.password, idp.resource_scopes, idp.userinfo_endpoint, idp.log_path
    idp.upstream_config()   # the shim config's `upstream:` block
    idp.new_session().authorize(upstream_authorize_url) -> Location at callback_url
    idp.stop()

``IdPSession.authorize`` plays the user at the IdP: it signs in (once per
session: each session is one browser with its own cookie jar), grants, and
returns the IdP's redirect to the shim's callback without following it.
"""
from __future__ import annotations

import atexit
import os
import random
import re
import socket
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import httpx

# Every HTTP call a session or a starter makes is bounded: a hung IdP must fail
# the test with a message, never hang it.
HTTP_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class IdPError(AssertionError):
    """The IdP did something the test did not expect (an AssertionError, so
    pytest reports it as a test failure with its message)."""


_HANDED_OUT: set[int] = set()


def _outgoing_port_range() -> tuple[int, int]:
    """The range the kernel takes source ports of outgoing connections from."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(part) for part in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now and that this process
    has never handed out before.

    A port is often chosen long before anything listens on it (a stack's shim
    port is written into the IdP's redirect URI, and tests stop and restart the
    shim on it), so two guards: a port is handed out once per process, and it
    is taken from below the kernel's outgoing-connection range, so no client
    socket's source port can occupy it while nothing listens there. (Both
    happened: another server of the same test run was given a stack's shim
    port while that shim was stopped, and the next shim could not bind.)"""
    low, _ = _outgoing_port_range()
    floor = 10000
    while True:
        if low - floor >= 4096:
            port = random.randrange(floor, low)
        else:  # an unusual kernel range: let the OS choose, still never twice
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port


def log_tail(log_path: str | None, limit: int = 3000) -> str:
    """The end of a server log, for error messages ('' when unreadable)."""
    if not log_path:
        return ""
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            return f.read()[-limit:]
    except OSError:
        return ""


def excerpt(response: httpx.Response, limit: int = 300) -> str:
    """'<status> <first bytes of the body>' for error messages."""
    body = response.text
    if "html" in response.headers.get("content-type", ""):
        body = re.sub(r"(?s)<(script|style|head)\b.*?</\1>|<[^>]+>", " ", body)  # the page's text
    body = " ".join(body.split())
    return f"{response.status_code} {body[:limit] or '(empty body)'}"


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None,
              log_path: str | None = None) -> None:
    """Waits until ``url`` answers with a status below 500. Fails early, with
    the server's log, when ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            last = f"the process exited with status {proc.returncode}"
            break
        try:
            r = httpx.get(url, timeout=2)
            if r.status_code < 500:
                return
            last = f"status {r.status_code}"
        except httpx.HTTPError as e:  # not listening yet
            last = f"{type(e).__name__}: {e}"
        time.sleep(0.1)
    raise IdPError(f"{url} did not come up within {timeout:.0f}s ({last})\n{log_tail(log_path)}")


def stop_process(proc: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL after 10 s; always reaps the child."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def start_server(argv: list[str], *, cwd: str, log_path: str, env: dict | None = None) -> subprocess.Popen:
    """Starts a server with stdout and stderr in ``log_path`` (in the test's
    process group, so a Ctrl-C reaches it too) and makes sure it is stopped
    when the interpreter exits even if a test forgets ``stop()``."""
    with open(log_path, "ab") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    atexit.register(stop_process, proc)
    return proc


class IdPSession(Protocol):
    def authorize(self, authorize_url: str) -> str:
        """Given the upstream authorize URL the shim redirected the browser to,
        act as the user: sign in (only if this session has not yet), grant,
        and return the Location URL the IdP redirects to (it starts with the
        callback URL). That Location is not followed. Raises IdPError with
        the status and a body excerpt on anything unexpected."""
        ...


@dataclass
class IdP:
    """A running upstream and what a test needs to know about it.

    A plain dataclass rather than a Protocol so that tests can build one for
    a fake IdP (``IdP(name=..., session_factory=...)``) or copy one with a
    changed field (``IdP(**{**idp.__dict__, ...})``).
    """

    name: str                      # "django-oauth-toolkit" | "glewlwyd"
    issuer: str                    # discovery base, the shim's upstream.issuer
    client_id: str
    client_secret: str             # the plain value (the IdP stores a hash)
    username: str
    password: str
    resource_scopes: list[str]     # upstream scopes an MCP resource maps to
    userinfo_endpoint: str         # OIDC userinfo: how the MCP server validates tokens
    log_path: str                  # the IdP server's log
    callback_url: str              # the client's only redirect URI
    upstream: dict = field(default_factory=dict)   # the `upstream:` block (keys "_*" are private)
    proc: subprocess.Popen | None = None
    session_factory: Callable[["IdP"], IdPSession] | Any = None
    db_path: str = ""              # the IdP's SQLite database (tests read issued tokens from it)
    base_url: str = ""             # http://127.0.0.1:PORT of the IdP server
    access_token_seconds: int = 60

    def upstream_config(self) -> dict:
        """The shim config's ``upstream:`` block (keys starting with _ are the harness's own)."""
        return {k: v for k, v in self.upstream.items() if not k.startswith("_")}

    def new_session(self) -> IdPSession:
        """A fresh user agent at the IdP: own cookie jar, not signed in."""
        return self.session_factory(self)  # type: ignore[operator]

    def stop(self) -> None:
        """Stops the server and waits for it (idempotent)."""
        stop_process(self.proc)


def venv_python() -> str:
    """The interpreter that runs Python-based IdPs: the repo's .venv when it
    exists (scripts/install-deps.sh makes it), else the current one."""
    import sys
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))  # from e2e/kit/idp/
    candidate = os.path.join(repo, ".venv", "bin", "python")
    return candidate if os.path.exists(candidate) else sys.executable


from .dot import start_dot  # noqa: E402  (the starters need the helpers above)
from .glewlwyd import start_glewlwyd  # noqa: E402
from .lemonldap import start_lemonldap  # noqa: E402

__all__ = ["IdP", "IdPError", "IdPSession", "free_port", "start_dot", "start_glewlwyd", "start_lemonldap",
           "stop_process", "wait_http"]
