"""Fixtures: real IdPs, the MCP server and the shim, each in its own temp dir,
each cleaned up. An IdP is started per test module (they are slow to
provision); a shim per test."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from .kit.chromium import headless_chromium
from .kit.cimd import DocumentServer, TestCA
from .kit.flow import MCPServerProcess
from .kit.harness import SHIM_BIN, Shim
from .kit.idp import free_port
from .kit.idp.dot import start_dot
from .kit.idp.glewlwyd import start_glewlwyd
from .kit.idp.lemonldap import start_lemonldap
from .kit.fakes import FAKES, start_fake

STARTERS = {"django-oauth-toolkit": start_dot, "glewlwyd": start_glewlwyd, "lemonldap-ng": start_lemonldap}


def _fake_starter(preset: str):
    """A recorded-behaviour fake as a starter: its IdP's `proc.fake` is the fake."""
    def start(workdir: str, port: int, callback_url: str, **kwargs):
        return start_fake(preset, callback_url, **kwargs).as_idp()
    return start


STARTERS.update({f"fake-{preset}": _fake_starter(preset) for preset in FAKES})


def pytest_configure(config):
    if not os.path.exists(SHIM_BIN):
        raise pytest.UsageError(f"{SHIM_BIN} is missing: run `swift build` first (scripts/test.sh does)")


class Stack:
    """An IdP whose only redirect URI is a fixed shim port, plus an MCP server."""

    def __init__(self, name: str, workdir: Path, **idp_options):
        """``idp_options`` go to the IdP's starter (e.g. glewlwyd's ``client_public_key``)."""
        self.workdir = workdir
        self.shim_port = free_port()
        self.shims: list[Shim] = []
        self.idp = STARTERS[name](str(workdir / "idp"), free_port(), f"http://127.0.0.1:{self.shim_port}/callback",
                                  **idp_options)
        try:
            self.mcp = MCPServerProcess(free_port(), f"http://127.0.0.1:{self.shim_port}", self.idp.userinfo_endpoint,
                                        self.idp.resource_scopes, workdir / "mcp.log")
        except BaseException:
            self.idp.stop()  # the fixture's finalizer never runs when setup fails
            raise

    def shim(self, name: str = "shim", **kwargs) -> Shim:
        """A fresh shim (own database) on the port the IdP knows; the previous one is stopped."""
        for old in self.shims:
            old.stop()
        shim = Shim(self.workdir / f"{name}-{len(self.shims)}", self.shim_port, self.idp, self.mcp.url, **kwargs).start()
        self.shims.append(shim)
        return shim

    def current(self) -> Shim:
        """The running shim with default settings, started when there is none."""
        last = self.shims[-1] if self.shims else None
        if last and last.proc and last.proc.poll() is None and last.refresh_grace == "45s" and last.consent_mode == "always":
            return last
        return self.shim("default")

    def close(self) -> None:
        for shim in self.shims:
            shim.stop()
        self.mcp.stop()
        self.idp.stop()


@pytest.fixture(scope="module", params=["django-oauth-toolkit", "glewlwyd", "lemonldap-ng"])
def stack(request, tmp_path_factory):
    s = Stack(request.param, tmp_path_factory.mktemp(request.param))
    yield s
    s.close()


@pytest.fixture(scope="module")
def dot_stack(tmp_path_factory):
    s = Stack("django-oauth-toolkit", tmp_path_factory.mktemp("dot"))
    yield s
    s.close()


@pytest.fixture(scope="module")
def cimd_documents(tmp_path_factory):
    """An HTTPS server for Client ID Metadata Documents, with its test CA."""
    server = DocumentServer(TestCA(tmp_path_factory.mktemp("cimd-ca")))
    yield server
    server.close()


@pytest.fixture(scope="module", params=sorted(FAKES))
def preset_stack(request, tmp_path_factory):
    """A preset's recorded-behaviour fake IdP (`stack.idp.proc.fake`), the MCP
    server validating its tokens, and shims on the port the fake knows."""
    s = Stack("fake-" + request.param, tmp_path_factory.mktemp("fake-" + request.param))
    yield s
    s.close()


@pytest.fixture
def chromium():
    """Headless Chromium for the browser tests (consent page, CORS)."""
    driver = headless_chromium(script_timeout=30)
    yield driver
    driver.quit()
