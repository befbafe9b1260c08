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


def test_doctor_tells_a_bad_secret_and_says_what_it_can_of_the_redirect(stack, tmp_path):
    """Issue 10: `dcr-shim doctor` against the real IdPs with a good and a bad
    client secret, and with a callback the IdP does not know. glewlwyd
    refuses an unregistered redirect before sign-in, so doctor can tell;
    django-oauth-toolkit and LemonLDAP::NG ask the user to sign in first, and
    doctor says that it cannot tell rather than guessing."""
    from .doctor import line, run_doctor
    from .idp import free_port

    rc, out = run_doctor(tmp_path / "good", stack.shim_port, stack.idp)
    assert rc == 0, out
    assert line(out, "discovery").startswith("[ ok ]") and line(out, "signing keys").startswith("[ ok ]")
    assert line(out, "client credentials").startswith("[ ok ]"), out
    assert f"http://127.0.0.1:{stack.shim_port}/callback" in line(out, "callback")

    rc, out = run_doctor(tmp_path / "bad", stack.shim_port, stack.idp, upstream={"client_secret": "not-the-secret"})
    assert rc == 1, out
    credentials = line(out, "client credentials")
    assert credentials.startswith("[FAIL]") and "refused the client credentials" in credentials
    assert "upstream.client_secret" in credentials and "not-the-secret" not in out

    rc, out = run_doctor(tmp_path / "unregistered", stack.shim_port, stack.idp, issuer_port=free_port())
    redirect = line(out, "redirect URI")
    if stack.idp.name == "glewlwyd":
        assert rc == 1 and redirect.startswith("[FAIL]") and "register http://127.0.0.1:" in redirect, out
    else:
        assert rc == 0 and redirect.startswith("[warn]") and "cannot tell" in redirect, out
        assert line(out, "client credentials").startswith("[ ok ]")
