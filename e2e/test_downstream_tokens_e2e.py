"""Tokens for the APIs behind an MCP server: the gateway obtains, as the
signed-in user, a Microsoft Graph token by Entra's on-behalf-of flow (the
Entra fake checks it as Microsoft documents it: the assertion is an access
token whose aud is the shim's app, the app's own client authentication,
`requested_token_use=on_behalf_of`) and sends it to the MCP server in
`X-Graph-Token`. The real `mcp` SDK client signs in and calls a tool through
the gateway; a client's own `X-Graph-Token` never reaches the MCP server;
a missing consent (AADSTS65001) is a 403 naming the API and a log line
telling the operator what to grant; a revoked grant gets nothing. Against
the Okta fake the same happens by RFC 8693 token exchange."""
from __future__ import annotations

import asyncio
import json
import subprocess

import httpx
import pytest

from .kit.fakes.entra import GRAPH, EntraFake
from .kit.fakes.okta import ACCESS_TOKEN_TYPE, OktaFake
from .kit.flow import SDKFlow
from .kit.gateway import NoAuthMCP, issued_extra
from .kit.harness import SHIM_BIN, Shim
from .kit.idp import free_port

GRAPH_HEADER = "X-Graph-Token"


@pytest.fixture(scope="module")
def obo(tmp_path_factory):
    """The Entra fake, its app exposing the API the shim's resource names (so the
    user's access token has the shim's app as aud, as on-behalf-of requires), and
    the MCP server without auth behind the gateway."""
    workdir = tmp_path_factory.mktemp("downstream")
    port = free_port()
    fake = EntraFake(f"http://127.0.0.1:{port}/callback")
    fake.api_app = fake.client_id
    mcp = NoAuthMCP(workdir / "mcp")
    yield workdir, port, fake, mcp
    mcp.stop()
    fake.stop()


def start_shim(obo, name: str) -> Shim:
    workdir, port, fake, mcp = obo
    idp = fake.as_idp()
    base = f"http://127.0.0.1:{port}"
    extra = issued_extra(idp, base + "/mcp", upstream=mcp.url)
    extra["resources"][0]["downstream"] = [
        {"name": "graph", "header": GRAPH_HEADER, "scopes": [f"{GRAPH}/User.Read"]},
    ]
    extra["upstream"] = fake.upstream_config()
    return Shim(workdir / name, port, idp, base + "/mcp", extra=extra).start()


def mcp_post(shim: Shim, token: str, **headers) -> httpx.Response:
    return httpx.post(shim.base_url + "/mcp", headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
                                                       "Content-Type": "application/json", **headers},
                      json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=30)


def test_the_mcp_server_receives_a_graph_token_obtained_on_behalf_of_the_user(obo):
    _, _, fake, mcp = obo
    shim = start_shim(obo, "obo")
    try:
        flow = SDKFlow(shim, fake.as_idp(), shim.base_url + "/mcp")
        before, asked = len(mcp.requests()), len(fake.obo_requests)
        who = json.loads(asyncio.run(flow.call_tool("whoami", {})))
        assert who["user"], who
        seen = mcp.requests()[before:]
        graph_tokens = {r["headers"].get(GRAPH_HEADER.lower(), [None])[0] for r in seen if r["method"] == "POST"}
        assert len(graph_tokens) == 1 and None not in graph_tokens, seen
        graph_token = graph_tokens.pop()
        # A token Entra issued for Graph, as the signed-in user, through the app's own credentials.
        record = fake.access_tokens[graph_token]
        assert record["aud"] == GRAPH and record["sub"] == fake.user_sub and record["obo_of"] == fake.client_id
        assert fake.obo_requests and fake.obo_requests[-1] == {
            "client_auth": "secret", "scope": f"{GRAPH}/User.Read", "requested_token_use": "on_behalf_of",
            "assertion_aud": fake.client_id}
        # Cached: one on-behalf-of request for all the calls of the session.
        assert len(fake.obo_requests) == asked + 1, fake.obo_requests

        # A client's own X-Graph-Token never reaches the MCP server as the user's.
        token = flow.result.access_tokens[-1]
        before = len(mcp.requests())
        assert mcp_post(shim, token, **{GRAPH_HEADER: "forged-by-the-client"}).status_code not in (401, 403, 503)
        assert mcp.requests()[before]["headers"][GRAPH_HEADER.lower()] == [graph_token]

        # A revoked grant (`grants revoke`, another process): 401, no on-behalf-of request, nothing reaches the MCP server.
        run = subprocess.run([SHIM_BIN, "grants", "revoke", "--client", flow.result.registered_client_id, "--config",
                              str(shim.config_path)], capture_output=True, text=True, timeout=30)
        assert run.returncode == 0, run.stderr
        before = len(mcp.requests())
        assert mcp_post(shim, token).status_code == 401
        assert len(fake.obo_requests) == asked + 1 and len(mcp.requests()) == before
        log = shim.log_text()
        assert graph_token not in log and token not in log
    finally:
        shim.stop()


def test_missing_consent_is_a_403_naming_the_api_and_tells_the_operator_what_to_grant(obo):
    _, _, fake, mcp = obo
    fake.obo_refusal = 65001
    shim = start_shim(obo, "obo-consent")
    try:
        flow = SDKFlow(shim, fake.as_idp(), shim.base_url + "/mcp")
        before = len(mcp.requests())
        # The SDK signs in, then its first MCP request fails on the gateway's 403 (MCPError; bounded in time).
        with pytest.raises(Exception):
            asyncio.run(asyncio.wait_for(flow.call_tool("whoami", {}), 120))
        flow._collect()
        token = flow.result.access_tokens[-1]
        refused = mcp_post(shim, token)
        assert refused.status_code == 403, refused.text
        assert "graph" in refused.json()["error"]["message"] and token not in refused.text
        assert len(mcp.requests()) == before
        log = shim.log_text()
        assert "AADSTS65001" in log and "admin consent" in log and token not in log
    finally:
        fake.obo_refusal = None
        shim.stop()


def test_fake_entra_on_behalf_of_refuses_a_token_for_another_app_and_an_unconsented_scope(obo):
    """The fake's own rules, without the shim."""
    _, _, fake, _ = obo
    from .kit.fakes.base import Refusal, Request
    own = fake.new_access_token(f"api://{fake.client_id}/mcp.access", aud=fake.client_id)
    other = fake.new_access_token(f"{GRAPH}/User.Read", aud=GRAPH)

    def refusal(**params) -> dict:
        base = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "client_id": fake.client_id,
                "client_secret": fake.client_secret, "requested_token_use": "on_behalf_of", "scope": f"{GRAPH}/User.Read"}
        with pytest.raises(Refusal) as refused:
            fake.on_behalf_of(Request("POST", "/token", {**base, **params}, {}))
        return json.loads(refused.value.answer.body)

    assert "AADSTS50013" in refusal(assertion=other)["error_description"]          # aud is Graph, not the app
    assert "AADSTS50013" in refusal(assertion="not-a-token")["error_description"]
    assert "AADSTS70011" in refusal(assertion=own, scope=f"{GRAPH}/Mail.Send")["error_description"]
    assert "requested_token_use" in refusal(assertion=own, requested_token_use="")["error_description"]
    assert refusal(assertion=own, client_secret="wrong")["error"] == "invalid_client"
    fake.obo_refusal = 50079
    try:
        mfa = refusal(assertion=own)
        assert mfa["error"] == "interaction_required" and mfa["error_codes"] == [50079] and "polids" in mfa["claims"]
    finally:
        fake.obo_refusal = None


def test_okta_token_exchange_gives_the_mcp_server_a_token_for_the_api_it_names(tmp_path):
    port = free_port()
    fake = OktaFake(f"http://127.0.0.1:{port}/callback")
    mcp = NoAuthMCP(tmp_path / "mcp")
    shim = None
    try:
        idp = fake.as_idp()
        base = f"http://127.0.0.1:{port}"
        extra = issued_extra(idp, base + "/mcp", upstream=mcp.url)
        extra["resources"][0]["downstream"] = [
            {"name": "reports", "header": "X-Reports-Token", "scopes": ["reports.read"], "audience": fake.exchange_audience},
        ]
        shim = Shim(tmp_path / "shim", port, idp, base + "/mcp", extra=extra).start()
        flow = SDKFlow(shim, idp, base + "/mcp")
        before = len(mcp.requests())
        asyncio.run(flow.call_tool("whoami", {}))
        tokens = {r["headers"].get("x-reports-token", [None])[0] for r in mcp.requests()[before:] if r["method"] == "POST"}
        assert len(tokens) == 1 and None not in tokens
        record = fake.access_tokens[tokens.pop()]
        assert record["aud"] == fake.exchange_audience and record["sub"] == fake.user_sub and record["exchanged"]
        assert fake.exchange_requests == [{"subject_token_type": ACCESS_TOKEN_TYPE, "scope": "reports.read",
                                           "audience": fake.exchange_audience}]
    finally:
        if shim:
            shim.stop()
        mcp.stop()
        fake.stop()
