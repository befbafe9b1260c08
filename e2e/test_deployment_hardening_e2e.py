"""Hardening for real deployments, through the real binary: client addresses
behind a trusted proxy and the rate limits keyed on them, the /authorize rate
limit, log escaping, the database password never printed, TLS by default
toward PostgreSQL, the HTTP idle timeout. One fake
IdP and one shim per module (these checks need no real IdP: the flows
against django-oauth-toolkit and glewlwyd are in the other files)."""
from __future__ import annotations

import socket
import subprocess
import time

import pytest

from .kit.fake_idp import FakeIdP
from .kit.harness import SHIM_BIN, Shim
from .kit.idp import free_port


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    idp = FakeIdP()
    yield idp
    idp.stop()


def start_shim(fake, workdir, listen: dict | None = None, **extra) -> Shim:
    """A shim on the fake IdP; `listen` keys are added to host and port."""
    port = free_port()
    extra["listen"] = {"host": "127.0.0.1", "port": port, **(listen or {})}
    shim = Shim(workdir, port, fake.as_idp(f"http://127.0.0.1:{port}/callback"), "http://127.0.0.1:9/mcp", extra=extra)
    return shim.start()


@pytest.fixture(scope="module")
def shim(fake, tmp_path_factory):
    s = start_shim(fake, tmp_path_factory.mktemp("deployment"), listen={"idle_timeout": "1s"})
    yield s
    s.stop()


def check_config(path, env=None):
    return subprocess.run([SHIM_BIN, "check-config", "--config", str(path)], capture_output=True, text=True, timeout=30,
                          env=env or {})


CONFIG = """
issuer: https://auth.example.com
upstream: {{issuer: https://idp.example.com, client_id: c, client_secret: upstream-s3cret}}
resources: [{{resource: https://mcp.example.com/mcp, scopes: [mcp]}}]
redirects: {{clients: [claude]}}
storage: {{url: "{url}"}}
"""


def test_check_config_never_prints_the_database_password(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(CONFIG.format(url="postgres://shim:Hunter2-db-pass@db.example.com:5432/shim"))
    run = check_config(good)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "postgres://shim:***@db.example.com:5432/shim" in run.stdout
    assert "(sslmode require)" in run.stdout  # TLS unless asked otherwise: the host is not loopback
    bad = tmp_path / "bad.yaml"
    bad.write_text(CONFIG.format(url="postgres://shim:Hunter2-db-pass@db.example.com/shim?sslmode=allow") + "bogus: 1\n")
    run = check_config(bad)
    assert run.returncode == 1
    assert "storage.url: sslmode must be disable, prefer or require" in run.stdout
    for out in (check_config(good), run):
        assert "Hunter2-db-pass" not in out.stdout + out.stderr
        assert "upstream-s3cret" not in out.stdout + out.stderr


def test_loopback_database_defaults_to_prefer(tmp_path):
    path = tmp_path / "local.yaml"
    path.write_text(CONFIG.format(url="postgres://shim:pw@127.0.0.1:5432/shim"))
    assert "(sslmode prefer)" in check_config(path).stdout


def test_serve_help_names_every_storage_kind():
    out = subprocess.run([SHIM_BIN, "serve", "--help"], capture_output=True, text=True, timeout=30).stdout
    assert "--storage-url" in out and "postgres://" in out and "sqlite://" in out and "memory:" in out


def test_idle_connection_is_closed(shim):
    """listen.idle_timeout (1 s here): a connection that sends nothing is closed."""
    with socket.create_connection(("127.0.0.1", shim.port), timeout=10) as conn:
        started = time.monotonic()
        assert conn.recv(1) == b""  # closed by the server, not by our 10 s timeout
        assert time.monotonic() - started < 5


def test_text_log_escapes_control_characters(shim):
    import httpx
    r = httpx.get(shim.base_url + "/authorize?a%0D%0Ab=1&a%0D%0Ab=2&x%0A2026-01-01T00:00:00Z+info+forged=1",
                  headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    time.sleep(0.2)
    log = shim.log_text()
    # The error description already carries the name escaped (a\r\nb); the log
    # handler escapes that text again, backslashes doubled, on one line.
    assert r"parameter a\\r\\nb is repeated" in log
    assert not any(line.startswith("b is repeated") or line.startswith("2026-01-01T00:00:00Z info forged") for line in log.splitlines())


REGISTRATION = {"redirect_uris": ["http://127.0.0.1:5/cb"], "token_endpoint_auth_method": "none"}


def register_from(shim: Shim, header: str | None = None, value: str | None = None) -> int:
    import httpx
    headers = {header: value} if header else {}
    return httpx.post(shim.base_url + "/register", json=REGISTRATION, headers=headers, timeout=10).status_code


def test_client_address_from_a_trusted_proxy(fake, tmp_path):
    """Behind a trusted proxy (here: 127.0.0.1) the limit counts the address
    the proxy forwarded, so one abuser does not lock out everyone behind it."""
    shim = start_shim(fake, tmp_path / "trusted", listen={"trusted_proxies": ["127.0.0.1/32", "::1"]},
                      registration={"rate_limit": 2})
    try:
        xff = "X-Forwarded-For"
        assert [register_from(shim, xff, "198.51.100.1") for _ in range(3)] == [201, 201, 429]
        assert register_from(shim, xff, "198.51.100.2") == 201  # another client behind the same proxy
        # A client's own entries are left of the one the proxy appended: not believed.
        assert register_from(shim, xff, "203.0.113.77, 198.51.100.1") == 429
        # IPv6 clients count by /64.
        assert [register_from(shim, xff, f"2001:db8:1:2::{i}") for i in (1, 2, 3)] == [201, 201, 429]
    finally:
        shim.stop()


def test_forwarded_header_is_ignored_unless_trusted(fake, tmp_path):
    """Without listen.trusted_proxies (or from another peer) the header is the
    client's own: every request counts against the TCP peer."""
    shim = start_shim(fake, tmp_path / "untrusted", registration={"rate_limit": 2})
    try:
        statuses = [register_from(shim, "X-Forwarded-For", f"198.51.100.{i}") for i in range(3)]
        assert statuses == [201, 201, 429]
    finally:
        shim.stop()


def test_rfc7239_forwarded_when_configured(fake, tmp_path):
    shim = start_shim(fake, tmp_path / "forwarded", listen={"trusted_proxies": ["127.0.0.0/8"], "client_address_header": "forwarded"},
                      registration={"rate_limit": 1})
    try:
        assert register_from(shim, "Forwarded", 'for="[2001:db8:cafe::17]:4711";proto=https') == 201
        assert register_from(shim, "Forwarded", "for=192.0.2.60;proto=https") == 201
        assert register_from(shim, "Forwarded", "for=192.0.2.60") == 429
        # With `forwarded` configured, X-Forwarded-For is the client's own header.
        assert register_from(shim, "X-Forwarded-For", "192.0.2.61") == 201  # counted as 127.0.0.1
        assert register_from(shim, "X-Forwarded-For", "192.0.2.62") == 429
    finally:
        shim.stop()


def test_authorize_rate_limit_is_a_page(fake, tmp_path):
    import httpx
    shim = start_shim(fake, tmp_path / "authz", authorization={"rate_limit": 2})
    try:
        url = shim.base_url + "/authorize?client_id=nobody&redirect_uri=http://127.0.0.1:5/cb"
        statuses = [httpx.get(url, timeout=10) for _ in range(3)]
        assert [r.status_code for r in statuses] == [400, 400, 429]
        assert "location" not in statuses[2].headers and int(statuses[2].headers["retry-after"]) > 0
    finally:
        shim.stop()
