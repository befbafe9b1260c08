"""The core flow with the official Python mcp SDK client, against both real
upstreams (no DCR, one confidential client): registration, consent, login,
tokens, tool call, refresh, tool call — and a restart between token and
refresh, where SQLite must keep the grant."""
from __future__ import annotations

import asyncio

from .flow import run_full_flow


def test_full_flow_tool_call_and_refresh(stack):
    shim = stack.shim()
    result = asyncio.run(run_full_flow(shim, stack.idp, stack.mcp.url))
    assert result.tool_results[0].startswith("subject=") and result.tool_results[0] != "subject=unknown"
    assert result.tool_results[1] == "5"
    # The client got the IdP's access tokens (the MCP server accepted them) and
    # two distinct shim refresh tokens (rotation).
    assert len(result.access_tokens) == 2 and result.access_tokens[0] != result.access_tokens[1]
    assert len(result.refresh_tokens) == 2 and result.refresh_tokens[0] != result.refresh_tokens[1]
    # Every upstream authorize URL named the static client and the shim's own
    # callback, never the MCP client's id or redirect_uri.
    assert result.upstream_urls and all(
        f"client_id={stack.idp.client_id}" in u and "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in u
        and result.registered_client_id not in u and "resource=" not in u for u in result.upstream_urls)
    assert "upstream refreshed" in shim.log_text()


def test_restart_between_token_and_refresh_keeps_the_grant(stack):
    shim = stack.shim()
    result = asyncio.run(run_full_flow(shim, stack.idp, stack.mcp.url, restart_before_refresh=True))
    assert result.tool_results[1] == "5"
    assert len(result.refresh_tokens) == 2
