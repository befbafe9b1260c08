"""Two shim replicas on one PostgreSQL database (issue "Scale and
operations"): a flow that starts on one replica and ends on the other
(authorize on A, callback on B, token on A, refresh on B), and the
single-use rules holding across replicas: a code replayed at the other
replica and a refresh token reused at the other replica are refused."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import pytest

from .kit.fake_idp import FakeIdP
from .kit.harness import SHIM_BIN, Browser, Shim, parse_consent_form, query
from .kit.idp import free_port
from .kit.postgres import PostgresServer
from .kit.shimclient import RawClient


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def replicas(dot_stack, postgres, tmp_path):
    keys = {"encryption_key": base64.b64encode(os.urandom(32)).decode(), "cookie_key": base64.b64encode(os.urandom(32)).decode()}
    extra = {"storage": {"url": postgres.url}, "keys": keys, "registration": {"rate_limit": 0}}
    for shim in dot_stack.shims:
        shim.stop()
    port_a = dot_stack.shim_port  # the IdP knows this issuer's callback
    a = Shim(tmp_path / "a", port_a, dot_stack.idp, dot_stack.mcp.url, extra=extra, refresh_grace="0s").start()
    b = Shim(tmp_path / "b", free_port(), dot_stack.idp, dot_stack.mcp.url, extra=extra, refresh_grace="0s", issuer_port=port_a).start()
    yield a, b
    a.stop()
    b.stop()


def on(shim: Shim, url: str) -> str:
    """The same URL, routed to another replica (what a load balancer does)."""
    parts = urlparse(url)
    return parts._replace(netloc=f"127.0.0.1:{shim.port}").geturl()


def test_flow_across_replicas_and_single_use_across_replicas(dot_stack, replicas):
    a, b = replicas
    client = RawClient.register(b)  # registered through B, used through A
    browser = Browser()
    first = browser.get(on(a, client.authorize_url()))
    assert first.status_code == 303
    page = browser.get(on(b, first.headers["location"]))  # consent page rendered by B
    form = parse_consent_form(page.text)
    allow = browser.post(on(a, a.issuer + "/consent"), data={**form, "decision": "allow"})  # decided on A
    assert allow.status_code == 303, allow.text
    callback = dot_stack.idp.new_session().authorize(allow.headers["location"])
    landed = browser.get(on(b, callback))  # callback on B
    assert landed.status_code == 302, landed.text
    params = query(landed.headers["location"])
    assert params["iss"] == a.issuer

    client.shim = a
    tokens = client.exchange(params["code"])  # token on A
    assert tokens.status_code == 200, tokens.text
    client.shim = b
    replay = client.exchange(params["code"])  # replayed on B
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"

    # The replay revoked that grant everywhere; a second sign-in gives a fresh one.
    assert client.refresh(tokens.json()["refresh_token"]).json()["error"] == "invalid_grant"
    client.shim = a
    second = client.sign_in(Browser(), dot_stack.idp.new_session())
    fresh = client.exchange(second["code"]).json()
    client.shim = b
    rotated = client.refresh(fresh["refresh_token"])  # refresh on B
    assert rotated.status_code == 200, rotated.text
    client.shim = a
    reuse = client.refresh(fresh["refresh_token"])  # reuse on A
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    client.shim = b
    assert client.refresh(rotated.json()["refresh_token"]).json()["error"] == "invalid_grant"  # family revoked

    # Admin commands work against PostgreSQL too.
    run = subprocess.run([SHIM_BIN, "audit", "--json", "--config", str(a.config_path)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    kinds = {e["event"] for e in json.loads(run.stdout)}
    assert {"registration", "consent_given", "grant_issued", "code_replayed", "refresh", "reuse_detected"} <= kinds
    run = subprocess.run([SHIM_BIN, "clients", "list", "--json", "--config", str(b.config_path)], capture_output=True, text=True, timeout=30)
    assert client.client_id in {c["client_id"] for c in json.loads(run.stdout)}


def test_admin_commands_against_postgres(dot_stack, replicas):
    a, b = replicas
    client = RawClient.register(a, name="PG Admin")
    tokens = client.exchange(client.sign_in(Browser(), dot_stack.idp.new_session())["code"]).json()

    def admin(*args: str) -> str:
        run = subprocess.run([SHIM_BIN, *args, "--config", str(b.config_path)], capture_output=True, text=True, timeout=30)
        assert run.returncode == 0, run.stdout + run.stderr
        return run.stdout

    grants = json.loads(admin("grants", "list", "--json", "--client", client.client_id))
    assert len(grants) == 1 and grants[0]["revoked_at"] is None and grants[0]["resource"] == a.resource
    shown = json.loads(admin("clients", "show", client.client_id, "--json"))[0]
    assert shown["client_name"] == "PG Admin"
    assert "1 grant(s)" in admin("grants", "revoke", "--client", client.client_id)
    client.shim = b
    assert client.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert "deleted" in admin("clients", "revoke", client.client_id)
    assert client.refresh(tokens["refresh_token"]).status_code == 401  # the client must register again


def test_refresh_burst_of_distinct_grants_on_two_replicas_with_a_slow_upstream(postgres, tmp_path):
    """Threat T23 (rule 10): 30 refreshes of distinct grants sent at once to two
    replicas (more than the 10 connections of each replica's pool) with an IdP
    that takes a second per refresh. Before the fix each refresh held a pooled
    connection for its lock while needing another: no answer within 20 s, and
    the replicas stayed stuck. Every refresh must answer 200, and the replicas
    must keep serving afterwards."""
    fake = FakeIdP()
    a = b = None
    try:
        port_a = free_port()
        idp = fake.as_idp(f"http://127.0.0.1:{port_a}/callback", timeout="10s")
        keys = {"encryption_key": base64.b64encode(os.urandom(32)).decode(),
                "cookie_key": base64.b64encode(os.urandom(32)).decode()}
        extra = {"storage": {"url": postgres.url}, "keys": keys, "registration": {"rate_limit": 0}}
        a = Shim(tmp_path / "a", port_a, idp, "http://127.0.0.1:9/mcp", extra=extra).start()
        b = Shim(tmp_path / "b", free_port(), idp, "http://127.0.0.1:9/mcp", extra=extra, issuer_port=port_a).start()
        grants = []
        for _ in range(30):
            client = RawClient.register(a)
            tokens = client.exchange(client.sign_in(Browser(), idp.new_session())["code"])
            assert tokens.status_code == 200, tokens.text
            grants.append((client, tokens.json()["refresh_token"]))

        fake.refresh_delay = 1.0  # the fake's tokens live 30 s, inside the shim's margin: every refresh goes upstream

        def refresh(i: int):
            client, token = grants[i]
            client.shim = a if i % 2 == 0 else b
            return client.refresh(token)  # httpx timeout 30 s: a stuck replica fails the test

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=30) as pool:
            answers = list(pool.map(refresh, range(30)))
        took = time.monotonic() - started
        print(f"30 concurrent refreshes on two replicas, 1 s upstream: {took:.1f} s")
        assert [r.status_code for r in answers] == [200] * 30, [r.text[:120] for r in answers if r.status_code != 200]
        assert len({r.json()["refresh_token"] for r in answers}) == 30
        assert took < 20, f"the burst took {took:.1f} s"
        for shim in (a, b):  # both replicas still serve
            RawClient.register(shim)
    finally:
        for shim in (a, b):
            if shim:
                shim.stop()
        fake.stop()


def test_registration_limit_is_shared_by_replicas(postgres, tmp_path):
    """Shared rate limits: on PostgreSQL the per-address limit holds across
    replicas (a shared fixed window), and behind trusted proxies it counts
    the forwarded address: 3 per minute in all, whichever replica answers."""
    import httpx
    fake = FakeIdP()
    shims = []
    try:
        for name in ("a", "b"):
            port = free_port()
            extra = {"storage": {"url": postgres.url}, "registration": {"rate_limit": 3},
                     "listen": {"host": "127.0.0.1", "port": port, "trusted_proxies": ["127.0.0.1/32"]}}
            shims.append(Shim(tmp_path / name, port, fake.as_idp(f"http://127.0.0.1:{port}/callback"), "http://127.0.0.1:9/mcp",
                              extra=extra).start())
        body = {"redirect_uris": ["http://127.0.0.1:5/cb"], "token_endpoint_auth_method": "none"}
        client = "198.51.100.77"
        if 60 - time.time() % 60 < 3:  # windows are aligned minutes: do not straddle one
            time.sleep(3.5)
        statuses = [httpx.post(shims[i % 2].base_url + "/register", json=body, headers={"X-Forwarded-For": client}).status_code
                    for i in range(5)]
        assert statuses == [201, 201, 201, 429, 429]
        other = httpx.post(shims[1].base_url + "/register", json=body, headers={"X-Forwarded-For": "198.51.100.78"})
        assert other.status_code == 201
    finally:
        for shim in shims:
            shim.stop()
        fake.stop()
