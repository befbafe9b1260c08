"""How soon a revocation reaches a gateway: the stated bounds
(docs/tokens-and-gateway.md, "How soon a revocation is seen") and the two
measurements of it the e2e tests and bench/gateway_bench.py share: the first
refused request, and the end of an event stream held open through the
gateway."""
from __future__ import annotations

import threading
import time

import httpx

# A revocation made by ANOTHER process (the admin commands, another replica);
# the server's own revocations act at once.
# SQLite: `PRAGMA data_version` is probed at most every 100 ms.
SQLITE_REVOCATION_BOUND = 0.1
# PostgreSQL replicas: NOTIFY, normally milliseconds; memory is trusted no
# longer than 1.5 s past the listener's last heartbeat on its connection.
POSTGRES_REVOCATION_BOUND = 1.5
# What measuring by polling adds on top: an HTTP round trip of the poll on a
# loaded two-core machine.
POLL_SLACK = 0.25

PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
# One pooled client: a fresh httpx.post costs ~70 ms of client set-up, more
# than the SQLite bound being measured.
_HTTP = httpx.Client(timeout=10)


def gateway_post(url: str, token: str) -> httpx.Response:
    """One MCP request to the gateway at `url` (only the gateway's own answer matters)."""
    return _HTTP.post(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
                                    "Content-Type": "application/json"}, json=PING)


def seconds_until_refused(url: str, token: str, since: float, limit: float) -> float | None:
    """Polls the gateway at `url` with `token` until it answers 401: the
    seconds from `since` (a time.monotonic() taken when the revocation
    returned) to that answer, or None if none came within `limit`."""
    while True:
        if gateway_post(url, token).status_code == 401:
            return time.monotonic() - since
        if time.monotonic() - since > limit:
            return None
        time.sleep(0.01)


class StreamWatch:
    """A GET event stream held open through the gateway, read in a thread:
    its status, and when it ended (time.monotonic())."""

    def __init__(self, url: str, token: str, session: str | None = None):
        self.status: int | None = None
        self.ended_at: float | None = None
        self.error = ""
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if session:
            headers.update({"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-06-18"})
        self.thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self.thread.start()

    def _read(self, url: str, headers: dict) -> None:
        try:
            with httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(10, read=120)) as response:
                self.status = response.status_code
                for _ in response.iter_bytes():
                    pass
        except httpx.HTTPError as error:
            self.error = repr(error)
        self.ended_at = time.monotonic()

    def wait_open(self, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while self.status is None and self.ended_at is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.status == 200 and self.ended_at is None

    def seconds_until_end(self, since: float, limit: float) -> float | None:
        """Seconds from `since` until the stream ended, or None if still open `limit` seconds after `since`."""
        self.thread.join(timeout=max(0.0, since + limit - time.monotonic()))
        return None if self.ended_at is None else self.ended_at - since
