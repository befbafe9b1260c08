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


def test_sigterm_stops_the_shim_gracefully(stack):
    """The contract's stop signal: SIGTERM ends `dcr-shim serve` promptly
    with exit status 0 (in-flight requests finish, the store is closed), also
    with an idle keep-alive connection open. The harness would otherwise
    SIGKILL it after 10 s, so this is checked on its own."""
    import signal
    import subprocess
    import time

    import httpx

    shim = stack.shim("sigterm")
    with httpx.Client() as keep_alive:
        assert keep_alive.get(shim.base_url + "/readyz").status_code == 200
        started = time.monotonic()
        shim.proc.send_signal(signal.SIGTERM)
        try:
            rc = shim.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            shim.kill()
            raise AssertionError("dcr-shim was still running 10 s after SIGTERM; log tail:\n" + shim.log_text()[-1500:])
    assert rc == 0, f"dcr-shim exited with {rc} after SIGTERM"
    assert time.monotonic() - started < 10
