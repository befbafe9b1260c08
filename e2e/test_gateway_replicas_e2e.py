"""Gateway mode on two replicas sharing PostgreSQL and their keys through
configuration: a token issued by one replica opens the gateway of
the other, introspects there, refreshes there; a session opened through one
replica's gateway is its user's at the other; a revocation at one replica
ends the token at the other's gateway at once."""
from __future__ import annotations

import asyncio
import base64
import json
import os

import httpx
import pytest

from .kit.flow import SDKFlow, step
from .kit.gateway import NoAuthMCP, call_with_progress, introspect, issued_extra, jwt_parts, pem_key
from .kit.harness import Shim
from .kit.idp import free_port
from .kit.postgres import PostgresServer
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

        step("refresh at B, revoke at B: A's gateway refuses at once")
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
        expect_challenge(mcp_post(a, fresh), a, "invalid_token")
        expect_challenge(mcp_post(a, token), a, "invalid_token")
        assert introspect(a, fresh).json() == {"active": False}
    finally:
        a.stop()
        b.stop()
