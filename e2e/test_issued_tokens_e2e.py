"""Issued tokens without the gateway: `tokens.access: issued`, and
the MCP server of the other tests validating the shim's JWTs itself against
/jwks.json (PyJWT). django-oauth-toolkit issues access tokens that live an
hour here, as real IdPs do. The signing key is rotated mid-run the way
docs/tokens-and-gateway.md says (publish the new key first, then sign with
it): tokens signed with the previous key keep working until they expire, and
the MCP server picks the new key up from /jwks.json on its own."""
from __future__ import annotations

import asyncio

import httpx
import pytest

import time

from .kit.flow import MCPServerProcess, SDKFlow, step
from .kit.gateway import introspect, issued_extra, jwt_parts, pem_key
from .kit.harness import Shim
from .kit.idp import free_port
from .kit.idp.dot import start_dot


@pytest.fixture(scope="module")
def hour_stack(tmp_path_factory):
    """django-oauth-toolkit with one-hour access tokens, and the MCP server in JWKS mode."""
    workdir = tmp_path_factory.mktemp("issued")
    shim_port = free_port()
    issuer = f"http://127.0.0.1:{shim_port}"
    idp = start_dot(str(workdir / "idp"), free_port(), issuer + "/callback", access_token_seconds=3600)
    try:
        # The MCP server keeps the key set 2 s here (PyJWT's default is 300 s).
        mcp = MCPServerProcess(free_port(), issuer, "", idp.resource_scopes, workdir / "mcp.log", jwks=issuer + "/jwks.json",
                               jwks_cache=2)
    except BaseException:
        idp.stop()
        raise
    yield workdir, shim_port, idp, mcp
    mcp.stop()
    idp.stop()


def test_mcp_server_validates_issued_tokens_against_jwks_across_a_key_rotation(hour_stack):
    workdir, port, idp, mcp = hour_stack
    first_key, second_key = pem_key(), pem_key()
    extra = issued_extra(idp, mcp.url, keys={"signing_key": first_key})
    shim = Shim(workdir / "shim", port, idp, mcp.url, extra=extra).start()
    try:
        flow = SDKFlow(shim, idp, mcp.url)
        who = asyncio.run(flow.call_tool("whoami", {}))
        first = flow.result.access_tokens[-1]
        header, claims = jwt_parts(first)
        assert header["typ"] == "at+jwt" and claims["aud"] == mcp.url and who == f"subject={claims['sub']}"
        old_kid = header["kid"]
        assert [k["kid"] for k in httpx.get(shim.base_url + "/jwks.json", timeout=10).json()["keys"]] == [old_kid]

        step("rotation, step 1: publish the new key (listed under previous_signing_keys) while the old one still signs")
        shim.stop()
        shim.extra = issued_extra(idp, mcp.url, keys={"signing_key": first_key, "previous_signing_keys": [second_key]})
        shim.start()
        kids = [k["kid"] for k in httpx.get(shim.base_url + "/jwks.json", timeout=10).json()["keys"]]
        assert len(kids) == 2 and kids[0] == old_kid
        time.sleep(2.5)   # the MCP server's key-set cache expires
        assert asyncio.run(flow.call_tool("add", {"a": 0, "b": 1})) == "1"

        step("rotation, step 2: sign with the new key, the old one listed as previous")
        shim.stop()
        shim.extra = issued_extra(idp, mcp.url, keys={"signing_key": second_key, "previous_signing_keys": [first_key]})
        shim.start()
        kids = [k["kid"] for k in httpx.get(shim.base_url + "/jwks.json", timeout=10).json()["keys"]]
        assert len(kids) == 2 and kids[1] == old_kid
        # The token signed before the rotation still works, at the MCP server and at /introspect.
        assert asyncio.run(flow.call_tool("add", {"a": 1, "b": 2})) == "3"
        assert flow.result.access_tokens[-1] == first
        assert introspect(shim, first).json()["active"] is True

        step("refresh after the rotation: a token signed with the new key; the MCP server fetches the new key set")
        flow.expire_access_token()
        assert asyncio.run(flow.call_tool("add", {"a": 2, "b": 3})) == "5"
        second = flow.result.access_tokens[-1]
        assert second != first and jwt_parts(second)[0]["kid"] == kids[0] != old_kid
        log = mcp.log_path.read_text()
        assert f"token accepted: kid {old_kid}" in log and f"token accepted: kid {kids[0]}" in log
        # The upstream refresh rule holds in issued mode too: one upstream refresh per
        # rotation (an IdP-side revocation ends the grant at the next refresh),
        # even with one-hour IdP tokens; the client never sees the IdP's tokens.
        assert shim.log_text().count("upstream refreshed") == 1

        step("the old key dropped from configuration: the shim no longer accepts the old token")
        shim.stop()
        shim.extra = issued_extra(idp, mcp.url, keys={"signing_key": second_key})
        shim.start()
        assert introspect(shim, first).json() == {"active": False}
        assert introspect(shim, second).json()["active"] is True
    finally:
        shim.stop()
