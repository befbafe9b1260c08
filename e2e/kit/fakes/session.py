"""How the harness drives an in-process fake: stopping it like a process,
and the user's browser at it."""
from __future__ import annotations

import httpx

from ..idp import IdP, IdPError, excerpt


class InProcess:
    """Lets `stop_process` (which expects a Popen) stop an in-process fake."""

    def __init__(self, fake):  # a FakeProvider
        self.fake = fake
        self.returncode: int | None = None

    def poll(self):
        return self.returncode

    def terminate(self) -> None:
        if self.returncode is None:
            self.fake.stop()
            self.returncode = 0

    kill = terminate

    def wait(self, timeout=None) -> int:
        return self.returncode or 0


class FakeSession:
    """The user at a fake: already signed in, approves at once. The fake's
    authorize answer is its redirect to the callback, or an error page that
    this session reports (as a person would see it)."""

    def __init__(self, idp: IdP):
        self.idp = idp
        self.http = httpx.Client(follow_redirects=False, timeout=10)

    def authorize(self, url: str) -> str:
        r = self.http.get(url)
        if r.status_code not in (302, 303) or "location" not in r.headers:
            raise IdPError(f"{self.idp.name} answered {excerpt(r)}")
        return r.headers["location"]
