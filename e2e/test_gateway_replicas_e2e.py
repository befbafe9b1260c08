"""Gateway mode on two replicas sharing PostgreSQL and their keys through
configuration: a token issued by one replica opens the gateway of
the other, introspects there, refreshes there; a session opened through one
replica's gateway is its user's at the other; a revocation at one replica
ends the token at the other's gateway, and the other's open streams, within
the stated bound (NOTIFY between the replicas; docs/tokens-and-gateway.md)."""
from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import time

import httpx
import pytest

from .kit.flow import SDKFlow, step
from .kit.gateway import NoAuthMCP, call_with_progress, introspect, issued_extra, jwt_parts, pem_key
from .kit.harness import SHIM_BIN, Browser, Shim
from .kit.idp import free_port
from .kit.postgres import PostgresServer
from .kit.revocation import POLL_SLACK, POSTGRES_REVOCATION_BOUND, StreamWatch, seconds_until_refused
from .kit.shimclient import RawClient
from .test_gateway_e2e import expect_challenge, mcp_post, mcp_raw, open_session


@pytest.fixture(scope="module")
def pg_and_noauth(tmp_path_factory):
    server = PostgresServer()
    try:
        noauth = NoAuthMCP(tmp_path_factory.mktemp("noauth-replicas"))
    except BaseException:
        server.stop()
        raise
    yield server, noauth
    noauth.stop()
    server.stop()


def test_gateway_across_two_replicas_on_postgres(dot_stack, pg_and_noauth, tmp_path):
    postgres, noauth = pg_and_noauth
    for shim in dot_stack.shims:
        shim.stop()
    port_a = dot_stack.shim_port
    resource = f"http://127.0.0.1:{port_a}/mcp"
    keys = {"encryption_key": base64.b64encode(os.urandom(32)).decode(), "cookie_key": base64.b64encode(os.urandom(32)).decode(),
            "signing_key": pem_key()}
    extra = issued_extra(dot_stack.idp, resource, upstream=noauth.url, keys=keys, storage={"url": postgres.url})
    a = Shim(tmp_path / "a", port_a, dot_stack.idp, resource, extra=extra).start()
    b = Shim(tmp_path / "b", free_port(), dot_stack.idp, resource, extra=extra, issuer_port=port_a).start()
    try:
        # Both replicas publish the same key (configured, not generated per machine).
        assert httpx.get(a.base_url + "/jwks.json").json() == httpx.get(b.base_url + "/jwks.json").json()

        flow = SDKFlow(a, dot_stack.idp, resource)
        who = json.loads(asyncio.run(flow.call_tool("whoami", {})))
        token = flow.result.access_tokens[-1]
        assert who["user"] == jwt_parts(token)[1]["sub"]

        step("the same client, through replica B's gateway")
        via_b = SDKFlow(b, dot_stack.idp, b.base_url + "/mcp")
        via_b.storage.tokens, via_b.storage.client_info = flow.storage.tokens, flow.storage.client_info
        text, progress = asyncio.run(call_with_progress(via_b, "stream_steps", {"steps": 3}))
        assert text == "done 3" and len(progress) == 3
        assert via_b.storage.tokens.access_token == token and not via_b.result.upstream_urls and not via_b.result.codes, \
            "B accepted A's token without a new sign-in"
        assert introspect(b, token).json()["active"] is True

        step("refresh at B, revoke at B: A's gateway refuses within the bound")
        info = flow.storage.client_info   # the SDK registered a confidential client (client_secret_basic)
        basic = (info.client_id, info.client_secret)
        refreshed = httpx.post(b.base_url + "/token", data={"grant_type": "refresh_token", "refresh_token": flow.storage.tokens.refresh_token},
                               auth=basic, timeout=30).json()
        assert "access_token" in refreshed, refreshed
        fresh = refreshed["access_token"]
        assert mcp_post(a, fresh).status_code != 401 and mcp_post(a, token).status_code != 401
        step("a session opened through A's gateway is its user's through B's too (recorded in the shared store)")
        session = open_session(a, fresh)
        assert mcp_raw(b, "POST", fresh, session, {"jsonrpc": "2.0", "id": 9, "method": "ping"}).status_code == 200
        revoke = httpx.post(b.base_url + "/revoke", data={"token": refreshed["refresh_token"]}, auth=basic, timeout=10)
        assert revoke.status_code == 200
        took = seconds_until_refused(a.base_url + "/mcp", fresh, time.monotonic(), POSTGRES_REVOCATION_BOUND + POLL_SLACK)
        assert took is not None, f"A still accepted the token {POSTGRES_REVOCATION_BOUND + POLL_SLACK} s after B's revocation"
        expect_challenge(mcp_post(a, fresh), a, "invalid_token")
        expect_challenge(mcp_post(a, token), a, "invalid_token")
        assert introspect(a, fresh).json() == {"active": False}
    finally:
        a.stop()
        b.stop()


def test_revocation_reaches_the_other_replica_within_the_bound(dot_stack, pg_and_noauth, tmp_path):
    """Revoke on replica A (RFC 7009, then the admin command against the
    shared store): replica B, which has the grant's status in memory, refuses
    a new request within the stated bound, and its open event stream ends
    within gateway.stream_recheck_interval plus that bound."""
    postgres, noauth = pg_and_noauth
    for shim in dot_stack.shims:
        shim.stop()
    port_a = dot_stack.shim_port
    resource = f"http://127.0.0.1:{port_a}/mcp"
    keys = {"encryption_key": base64.b64encode(os.urandom(32)).decode(), "cookie_key": base64.b64encode(os.urandom(32)).decode(),
            "signing_key": pem_key()}
    recheck = 1.0
    extra = issued_extra(dot_stack.idp, resource, upstream=noauth.url, keys=keys, storage={"url": postgres.url},
                         gateway={"stream_recheck_interval": "1s"})
    a = Shim(tmp_path / "a", port_a, dot_stack.idp, resource, extra=extra).start()
    b = Shim(tmp_path / "b", free_port(), dot_stack.idp, resource, extra=extra, issuer_port=port_a).start()
    try:
        client = RawClient.register(a)
        tokens = client.exchange(client.sign_in(Browser(), dot_stack.idp.new_session())["code"]).json()
        token = tokens["access_token"]
        # B reads the grant once and keeps it in memory; the stream is B's.
        assert mcp_post(b, token).status_code != 401 and mcp_post(b, token).status_code != 401
        session = open_session(b, token)
        stream = StreamWatch(b.base_url + "/mcp", token, session)
        assert stream.wait_open(), (stream.status, stream.error)
        time.sleep(recheck + 0.5)
        assert stream.ended_at is None, "the stream ended before the revocation"

        revoke = httpx.post(a.base_url + "/revoke", data={"token": tokens["refresh_token"], "client_id": client.client_id}, timeout=10)
        assert revoke.status_code == 200
        revoked = time.monotonic()
        refused = seconds_until_refused(b.base_url + "/mcp", token, revoked, POSTGRES_REVOCATION_BOUND + POLL_SLACK)
        assert refused is not None, f"B still accepted the token {POSTGRES_REVOCATION_BOUND + POLL_SLACK} s after A's revocation"
        ended = stream.seconds_until_end(revoked, recheck + POSTGRES_REVOCATION_BOUND + POLL_SLACK)
        assert ended is not None, "B's stream was still open past gateway.stream_recheck_interval plus the bound"
        expect_challenge(mcp_post(b, token), b, "invalid_token")
        assert introspect(b, token).json() == {"active": False}
        step(f"revoked at A: B refused after {refused * 1000:.0f} ms, B's stream ended after {ended * 1000:.0f} ms")

        # The admin command is a third process on the shared store: the same bound.
        second = RawClient.register(a)
        other = second.exchange(second.sign_in(Browser(), dot_stack.idp.new_session())["code"]).json()["access_token"]
        assert mcp_post(b, other).status_code != 401
        run = subprocess.run([SHIM_BIN, "grants", "revoke", "--client", second.client_id, "--config", str(a.config_path)],
                             capture_output=True, text=True, timeout=30)
        assert run.returncode == 0, run.stdout + run.stderr
        took = seconds_until_refused(b.base_url + "/mcp", other, time.monotonic(), POSTGRES_REVOCATION_BOUND + POLL_SLACK)
        assert took is not None, "B still accepted the token after grants revoke"
        took_a = seconds_until_refused(a.base_url + "/mcp", other, time.monotonic(), POSTGRES_REVOCATION_BOUND + POLL_SLACK)
        assert took_a is not None, "A still accepted the token after grants revoke"
        step(f"grants revoke: B refused after {took * 1000:.0f} ms")
    finally:
        a.stop()
        b.stop()
