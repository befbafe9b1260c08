"""The core flow with the official Python mcp SDK client, against both real
upstreams (no DCR, one confidential client): registration, consent, login,
tokens, tool call, refresh, tool call — and a restart between token and
refresh, where SQLite must keep the grant."""
from __future__ import annotations

import asyncio
import json
import subprocess

from .kit.cimd import document
from .kit.flow import run_full_flow
from .kit.harness import SHIM_BIN


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
    # Rule 12: the ID token was verified against the keys the IdP
    # publishes (signature, iss, aud, exp, nonce), not only read.
    log = shim.log_text()
    assert "upstream signing keys fetched" in log and "upstream id_token verified" in log and "id_token refused" not in log


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


def admin_json(shim, *args):
    out = subprocess.run([SHIM_BIN, *args, "--json", "--config", str(shim.config_path)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_cimd_client_flow_tool_call_and_refresh_then_dcr_on_the_same_shim(stack, cimd_documents):
    """SEP-991 with the real SDK: `client_metadata_url` instead of registration,
    the document served over real HTTPS (a test CA the shim trusts through its
    explicit test relaxation); then, on the same shim, the same SDK without a
    metadata URL registers with DCR as before."""
    shim = stack.shim("cimd", extra=cimd_documents.shim_extra())
    name = f"sdk-{stack.idp.name}"
    url = cimd_documents.publish(name, document(cimd_documents.url(name), name="SDK via CIMD"),
                                 cache_control="max-age=300")
    before = len(cimd_documents.requests)
    result = asyncio.run(run_full_flow(shim, stack.idp, stack.mcp.url, client_metadata_url=url))
    assert result.registered_client_id == url
    assert result.tool_results[0].startswith("subject=") and result.tool_results[1] == "5"
    assert len(result.refresh_tokens) == 2 and result.refresh_tokens[0] != result.refresh_tokens[1]
    paths = [r.request.url.path for r in result.sdk_responses]
    assert not any(p.endswith("/register") for p in paths), f"the SDK registered although CIMD is advertised: {paths}"
    metadata = next(r.json() for r in result.sdk_responses if "/.well-known/oauth-authorization-server" in r.request.url.path)
    assert metadata["client_id_metadata_document_supported"] is True
    # The shim fetched the document once (cached for max-age=300 across authorize and both token calls).
    assert cimd_documents.requests[before:] == [f"/{name}.json"]
    # The admin CLI and the audit trail name the client by its document.
    listed = [c for c in admin_json(shim, "clients", "list") if c["client_id"] == url]
    assert listed and listed[0]["kind"] == "cimd" and listed[0]["host"] == "localhost" and listed[0]["last_fetched"]
    events = admin_json(shim, "audit")
    assert any(e["event"] == "client_document" and e["client_id"] == url and "first fetch" in e["detail"] for e in events)
    assert any(e["event"] == "grant_issued" and e["client_id"] == url and e["client_name"] == "SDK via CIMD" for e in events)
    shown = admin_json(shim, "clients", "show", url)[0]
    assert shown["kind"] == "cimd" and shown["redirect_uris"] == ["http://127.0.0.1/callback", "http://localhost/callback"]
    assert len(shown["grants"]) == 1 and shown["grants"][0]["revoked_at"] is None
    revoke = subprocess.run([SHIM_BIN, "clients", "revoke", url, "--config", str(shim.config_path)],
                            capture_output=True, text=True, timeout=30)
    assert revoke.returncode == 0 and "1 grant(s) revoked" in revoke.stdout, revoke.stderr
    assert all(g["revoked_at"] for g in admin_json(shim, "grants", "list", "--client", url))
    assert not [c for c in admin_json(shim, "clients", "list") if c["client_id"] == url]

    dcr = asyncio.run(run_full_flow(shim, stack.idp, stack.mcp.url))
    assert dcr.registered_client_id and not dcr.registered_client_id.startswith("https://")
    assert dcr.tool_results[1] == "5" and len(dcr.refresh_tokens) == 2
    assert any(r.request.url.path.endswith("/register") and r.status_code == 201 for r in dcr.sdk_responses)


def test_doctor_tells_a_bad_secret_and_says_what_it_can_of_the_redirect(stack, tmp_path):
    """`dcr-shim doctor` against the real IdPs with a good and a bad
    client secret, and with a callback the IdP does not know. glewlwyd
    refuses an unregistered redirect before sign-in, so doctor can tell;
    django-oauth-toolkit and LemonLDAP::NG ask the user to sign in first, and
    doctor says that it cannot tell rather than guessing."""
    from .kit.doctor import line, run_doctor
    from .kit.idp import free_port

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
