"""Gateway mode end to end: an MCP server with NO authentication
behind the shim. The real Python `mcp` SDK client discovers the shim's RFC
9728 document from the gateway's 401, registers, signs in at the real IdP
(django-oauth-toolkit and glewlwyd), calls tools through the gateway (one
streams several SSE events), refreshes and calls again. A revoked grant, a
token for another resource and an expired token get 401 at once; the MCP
server never sees the client's token and does see the user's upstream one.
A session belongs to whoever opened it (another principal naming its id gets
404), and an open SSE stream ends within seconds of its grant's revocation."""
from __future__ import annotations

import asyncio
import http.client
import json
import signal
import subprocess
import threading
import time
from urllib.parse import urlsplit

import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from .kit.flow import SDKFlow, step
from .kit.gateway import (UPSTREAM_TOKEN_HEADER, NoAuthMCP, ServletLikeUpstream, call_with_progress, introspect,
                      issued_extra, jwt_parts)
from .kit.servlet_like_server import SECRET_MARKER
from .kit.harness import SHIM_BIN, Browser, Shim
from .kit.revocation import POLL_SLACK, SQLITE_REVOCATION_BOUND, seconds_until_refused
from .kit.shimclient import RawClient


@pytest.fixture(scope="module")
def noauth(tmp_path_factory):
    server = NoAuthMCP(tmp_path_factory.mktemp("noauth"))
    yield server
    server.stop()


def gateway_shim(stack, noauth, name: str, **settings) -> Shim:
    """A shim in issued mode whose resource `/mcp` is the gateway in front of `noauth`."""
    for old in stack.shims:
        old.stop()
    base = f"http://127.0.0.1:{stack.shim_port}"
    extra = issued_extra(stack.idp, base + "/mcp", upstream=noauth.url, other=base + "/other-mcp", **settings)
    shim = Shim(stack.workdir / f"{name}-{len(stack.shims)}", stack.shim_port, stack.idp, base + "/mcp", extra=extra).start()
    stack.shims.append(shim)
    return shim


def mcp_post(shim: Shim, token: str) -> httpx.Response:
    """A raw MCP request to the gateway with `token` (the answer past the gateway does not matter)."""
    return httpx.post(shim.base_url + "/mcp", headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
                                                       "Content-Type": "application/json"},
                      json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=10)


def expect_challenge(response: httpx.Response, shim: Shim, error: str | None) -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith(f'Bearer resource_metadata="{shim.issuer}/.well-known/oauth-protected-resource/mcp"'), challenge
    assert ("error=" in challenge) == (error is not None) and (error is None or f'error="{error}"' in challenge), challenge
    assert response.headers["cache-control"] == "no-store"


def test_sdk_through_the_gateway_to_an_mcp_server_without_auth(stack, noauth):
    shim = gateway_shim(stack, noauth, "gateway")
    resource = shim.base_url + "/mcp"
    start = len(noauth.requests())

    # The gateway answers an anonymous request with the challenge the SDK follows.
    expect_challenge(httpx.post(resource, json={}, timeout=10), shim, None)
    prm = httpx.get(shim.base_url + "/.well-known/oauth-protected-resource/mcp", timeout=10).json()
    assert prm["resource"] == resource and prm["authorization_servers"] == [shim.issuer] and "offline_access" not in prm["scopes_supported"]

    flow = SDKFlow(shim, stack.idp, resource)
    who = json.loads(asyncio.run(flow.call_tool("whoami", {})))
    first_token = flow.result.access_tokens[-1]
    header, claims = jwt_parts(first_token)
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256"
    assert claims["aud"] == resource and claims["iss"] == shim.issuer and claims["client_id"] == flow.result.registered_client_id
    assert not claims["sub"].startswith("grant:"), "the IdP's ID token names the user"
    assert who == {"user": claims["sub"], "client_id": claims["client_id"], "scope": claims["scope"]}

    text, progress = asyncio.run(call_with_progress(flow, "stream_steps", {"steps": 4}))
    assert text == "done 4" and [p[0] for p in progress] == [1, 2, 3, 4]

    flow.expire_access_token()
    assert asyncio.run(flow.call_tool("add", {"a": 2, "b": 3})) == "5"
    assert len(flow.result.access_tokens) == 2 and flow.result.access_tokens[1] != first_token
    assert len(flow.result.refresh_tokens) == 2

    # What the MCP server saw: never a token of the client's, always the user's upstream token.
    seen = noauth.requests()[start:]
    posts = [r for r in seen if r["method"] == "POST"]
    assert posts, seen
    for request in seen:
        values = [v for vs in request["headers"].values() for v in vs]
        assert "authorization" not in request["headers"] and "cookie" not in request["headers"]
        assert not any(t in v for t in flow.result.access_tokens + flow.result.refresh_tokens for v in values)
    assert all(r["headers"]["x-forwarded-user"] == [claims["sub"]] for r in posts)
    assert all(r["headers"][UPSTREAM_TOKEN_HEADER.lower()][0] not in flow.result.access_tokens for r in posts)
    # The last injected token is the IdP's own, current token for this user:
    # the IdP's userinfo accepts it (earlier ones were rotated by upstream refreshes).
    upstream_token = posts[-1]["headers"][UPSTREAM_TOKEN_HEADER.lower()][0]
    info = httpx.get(stack.idp.userinfo_endpoint, headers={"Authorization": f"Bearer {upstream_token}"}, timeout=10)
    assert info.status_code == 200 and str(info.json().get("sub")) == claims["sub"], info.text

    # Introspection agrees; a wrong credential is 401.
    current = flow.result.access_tokens[-1]
    active = introspect(shim, current).json()
    assert active["active"] is True and active["aud"] == resource and active["client_id"] == claims["client_id"]
    assert introspect(shim, current, secret="wrong-secret").status_code == 401

    # `grants revoke` (admin CLI, another process on the SQLite file): refused
    # within the stated bound (the server probes PRAGMA data_version every 100 ms).
    assert mcp_post(shim, current).status_code != 401
    run = subprocess.run([SHIM_BIN, "grants", "revoke", "--client", claims["client_id"], "--config", str(shim.config_path)],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    took = seconds_until_refused(shim.base_url + "/mcp", current, time.monotonic(), SQLITE_REVOCATION_BOUND + POLL_SLACK)
    assert took is not None, f"still accepted {SQLITE_REVOCATION_BOUND + POLL_SLACK} s after grants revoke"
    step(f"grants revoke: the gateway refused {took * 1000:.0f} ms after the command returned")
    expect_challenge(mcp_post(shim, current), shim, "invalid_token")
    assert introspect(shim, current).json() == {"active": False}
    assert current not in shim.log_text()


def test_gateway_refuses_other_resources_and_revoked_tokens(stack, noauth):
    shim = gateway_shim(stack, noauth, "gateway-refusals")
    client = RawClient.register(shim)
    other = shim.base_url + "/other-mcp"
    code = client.sign_in(Browser(), stack.idp.new_session(), resource=other)["code"]
    tokens = client.exchange(code, resource=other).json()
    assert jwt_parts(tokens["access_token"])[1]["aud"] == other
    # A token minted for another resource of the same shim does not open this one.
    expect_challenge(mcp_post(shim, tokens["access_token"]), shim, "invalid_token")
    assert introspect(shim, tokens["access_token"]).json()["active"] is True   # it is a good token, for `other`

    client2 = RawClient.register(shim)
    mine = client2.exchange(client2.sign_in(Browser(), stack.idp.new_session())["code"]).json()
    assert mcp_post(shim, mine["access_token"]).status_code != 401
    # RFC 7009 revocation of the refresh token ends the access token at the gateway at once.
    revoke = httpx.post(shim.base_url + "/revoke", data={"token": mine["refresh_token"], "client_id": client2.client_id}, timeout=10)
    assert revoke.status_code == 200
    expect_challenge(mcp_post(shim, mine["access_token"]), shim, "invalid_token")
    # Garbage and the IdP's own tokens are refused too (MCP: "MUST NOT accept or transit any other tokens").
    expect_challenge(mcp_post(shim, "not.a.token"), shim, "invalid_token")


def test_mcp_server_verifies_the_gateways_identity_assertion_with_pyjwt(stack, noauth):
    """resources[].identity_assertion: the MCP server verifies X-DCR-Shim-Assertion
    with PyJWT against the shim's /jwks.json (the same user as the token, for
    this resource, for 60 s); a client's forged assertion never reaches it."""
    if stack.idp.name != "django-oauth-toolkit":
        pytest.skip("run once")
    for old in stack.shims:
        old.stop()
    base = f"http://127.0.0.1:{stack.shim_port}"
    resource = base + "/mcp"
    extra = issued_extra(stack.idp, resource, upstream=noauth.url)
    extra["resources"][0]["identity_assertion"] = True
    shim = Shim(stack.workdir / f"gateway-assertion-{len(stack.shims)}", stack.shim_port, stack.idp, resource, extra=extra).start()
    stack.shims.append(shim)
    start = len(noauth.requests())
    flow = SDKFlow(shim, stack.idp, resource)
    answer = json.loads(asyncio.run(flow.call_tool(
        "verified_identity", {"jwks_url": shim.base_url + "/jwks.json", "issuer": shim.issuer, "audience": resource})))
    assert "claims" in answer, answer
    claims, token = answer["claims"], jwt_parts(flow.result.access_tokens[-1])[1]
    assert claims["sub"] == token["sub"] == answer["forwarded_user"] and claims["client_id"] == token["client_id"]
    assert claims["sub_id"] == token["sub_id"] and claims["sub_id"]["format"] == "iss_sub"
    assert claims["aud"] == resource and claims["iss"] == shim.issuer and claims["scope"] == token["scope"]
    assert claims["exp"] - claims["iat"] == 60 and claims["jti"] != token["jti"] and "sid" not in claims
    posts = [r for r in noauth.requests()[start:] if r["method"] == "POST"]
    assert posts and all(len(r["headers"]["x-dcr-shim-assertion"]) == 1 for r in posts)
    # Not a bearer token at the gateway (typ identity+jwt, not at+jwt).
    assertion = posts[-1]["headers"]["x-dcr-shim-assertion"][0]
    expect_challenge(mcp_post(shim, assertion), shim, "invalid_token")
    # A client's own assertion header is replaced, never passed on.
    forged = httpx.post(resource, headers={"Authorization": f"Bearer {flow.result.access_tokens[-1]}", "X-DCR-Shim-Assertion": "forged",
                                           "Accept": "application/json, text/event-stream", "Content-Type": "application/json"},
                        json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=10)
    assert forged.status_code != 401
    last = [r for r in noauth.requests() if r["method"] == "POST"][-1]
    assert last["headers"]["x-dcr-shim-assertion"] != ["forged"]


def test_expired_token_gets_the_challenge(stack, noauth):
    """Slow (waits out a 5 s token): run once, with django-oauth-toolkit."""
    if stack.idp.name != "django-oauth-toolkit":
        pytest.skip("run once")
    shim = gateway_shim(stack, noauth, "gateway-expiry", ttl="5s")
    client = RawClient.register(shim)
    tokens = client.exchange(client.sign_in(Browser(), stack.idp.new_session())["code"]).json()
    assert tokens["expires_in"] == 5
    assert mcp_post(shim, tokens["access_token"]).status_code != 401
    time.sleep(5.5)
    response = mcp_post(shim, tokens["access_token"])
    expect_challenge(response, shim, "invalid_token")
    assert "expired" in response.headers["www-authenticate"]
    # A refresh gives a working token again (the grant is alive).
    fresh = client.refresh(tokens["refresh_token"]).json()
    assert mcp_post(shim, fresh["access_token"]).status_code != 401


REFUSED = "request body too large for this server"


async def refused_and_answered(flow: SDKFlow, sessions: int, rounds: int) -> tuple[list[str], list[str]]:
    """`sessions` SDK sessions at once, each on its own pooled, reused
    connections, alternating a call the MCP server refuses before reading
    its body with an ordinary one; what each call ended with."""
    refusals: list[str] = []
    answers: list[str] = []

    async def one(n: int) -> None:
        async with httpx2.AsyncClient(auth=flow.provider, timeout=30) as http:
            async with streamable_http_client(flow.mcp_url, http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    for i in range(rounds):
                        try:
                            await session.call_tool("text_length", {"text": "x" * 60_000})
                            refusals.append("answered")
                        except MCPError as error:
                            refusals.append(str(error))
                        result = await session.call_tool("add", {"a": n, "b": i})
                        answers.append(" ".join(getattr(c, "text", "") for c in result.content) + f" = {n}+{i}")

    await asyncio.gather(*(one(n) for n in range(sessions)))
    return refusals, answers


def test_an_mcp_server_that_answers_before_reading_the_body(stack, tmp_path):
    """The MCP server refuses large requests from their Content-Length alone,
    before reading a byte of the body. Four real SDK sessions at once alternate
    such a call with an ordinary one over their reused connections: each
    refusal reaches the client as the server's own JSON-RPC error, each
    ordinary call its answer, and the shim stays up. Run once."""
    if stack.idp.name != "django-oauth-toolkit":
        pytest.skip("run once")
    refusing = NoAuthMCP(tmp_path / "refusing", refuse_bodies_over=16_384)
    try:
        shim = gateway_shim(stack, refusing, "gateway-early-answer")
        flow = SDKFlow(shim, stack.idp, shim.base_url + "/mcp")
        assert asyncio.run(flow.call_tool("add", {"a": 1, "b": 2})) == "3"
        refusals, answers = asyncio.run(refused_and_answered(flow, sessions=4, rounds=25))
        assert refusals == [REFUSED] * 100, {r for r in refusals}
        assert sorted(answers) == sorted(f"{n + i} = {n}+{i}" for n in range(4) for i in range(25))
        assert shim.proc.poll() is None, "the shim exited"
        assert httpx.get(shim.base_url + "/healthz", timeout=10).status_code == 200
        step("100 refusals before the body was read and 100 answers through the gateway; the shim is up")
    finally:
        refusing.stop()


def raw_request(shim: Shim, method: str, path: str, token: str) -> tuple[int, str]:
    """One request with `path` sent exactly as written (httpx would remove
    its dot-segments before sending)."""
    address = urlsplit(shim.base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request(method, path, body=b"{}" if method == "POST" else None,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


SERVLET_ESCAPES = ["/mcp/..;/admin", "/mcp/..;jsessionid=1/admin", "/mcp/%2e%2e;/admin", "/mcp/%2E%2E;/admin",
                   "/mcp/..%3b/admin", "/mcp/..%3B/admin", "/mcp/%252e%252e/admin", "/mcp/.;/..;/admin", "/mcp/x/..;/..;/admin",
                   "/mcp/../admin", "/mcp/%2e%2e/admin", "/mcp//../admin", "/mcp/..%2fadmin", "/mcp/..\\admin"]


def test_gateway_never_reaches_outside_the_resource_of_a_servlet_like_mcp_server(stack, tmp_path):
    """An MCP server that resolves paths as Tomcat and Jetty do (`;params`
    cut before dot-segments are removed) has an `/admin` outside the
    resource the gateway authorizes. With a valid token for `/mcp`, no
    spelling of `/mcp/..;/admin` reaches it: each is refused by the gateway
    and the server's record holds only the resource's own paths. Run once."""
    if stack.idp.name != "django-oauth-toolkit":
        pytest.skip("run once")
    upstream = ServletLikeUpstream(tmp_path / "servlet")
    try:
        # The stand-in really does resolve these to its secret (checked directly, without the gateway).
        assert SECRET_MARKER in raw_request_direct(upstream.port, "/mcp/..;/admin")
        shim = gateway_shim(stack, upstream, "gateway-servlet")
        client = RawClient.register(shim)
        token = client.exchange(client.sign_in(Browser(), stack.idp.new_session())["code"]).json()["access_token"]
        status, body = raw_request(shim, "POST", "/mcp/tools", token)
        assert status == 200 and '"path": "/mcp/tools"' in body, (status, body)   # the token and the route work
        before = len(upstream.requests())
        for path in SERVLET_ESCAPES:
            for method in ("GET", "POST"):
                status, body = raw_request(shim, method, path, token)
                assert SECRET_MARKER not in body, f"{method} {path} reached /admin: {status} {body}"
                assert status in (400, 404), f"{method} {path}: {status} {body}"
        seen = upstream.requests()[before:]
        assert all(r["resolved"].startswith("/mcp") for r in seen), seen
        step(f"{len(SERVLET_ESCAPES) * 2} spellings of /mcp/..;/admin refused; the servlet-like server's /admin never reached")
    finally:
        upstream.stop()


def raw_request_direct(port: int, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().read().decode("utf-8", "replace")
    finally:
        connection.close()


MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}}


def mcp_raw(shim: Shim, method: str, token: str, session: str | None = None, body: dict | None = None) -> httpx.Response:
    """One Streamable HTTP request to the gateway, optionally naming a session."""
    headers = {"Authorization": f"Bearer {token}", **MCP_HEADERS}
    if session:
        headers.update({"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-06-18"})
    return httpx.request(method, shim.base_url + "/mcp", headers=headers, json=body, timeout=10)


def open_session(shim: Shim, token: str) -> str:
    """initialize and notifications/initialized; the session id the MCP server gave."""
    response = mcp_raw(shim, "POST", token, body=INITIALIZE)
    assert response.status_code == 200, response.text
    session = response.headers["mcp-session-id"]
    initialized = mcp_raw(shim, "POST", token, session, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert initialized.status_code == 202, initialized.text
    return session


def signed_in(shim: Shim, stack) -> tuple[RawClient, dict]:
    client = RawClient.register(shim)
    return client, client.exchange(client.sign_in(Browser(), stack.idp.new_session())["code"]).json()


def test_gateway_binds_sessions_to_their_user(stack, noauth):
    """Two principals, one session id: the second gets 404 for POST, GET (the
    session's SSE stream) and DELETE, and the MCP server never sees those
    requests; the opener keeps using it. The test IdP has one user, so the
    second principal is that user through a second registered client: the
    gateway binds a session to (user, client, resource)."""
    shim = gateway_shim(stack, noauth, "gateway-sessions")
    alice, alice_tokens = signed_in(shim, stack)
    other, other_tokens = signed_in(shim, stack)
    session = open_session(shim, alice_tokens["access_token"])
    before = len(noauth.requests())
    for method, body in [("POST", {"jsonrpc": "2.0", "id": 2, "method": "ping"}), ("GET", None), ("DELETE", None)]:
        response = mcp_raw(shim, method, other_tokens["access_token"], session, body)
        assert response.status_code == 404, (method, response.status_code, response.text)
        assert response.json()["error"]["code"] == -32000
    assert len(noauth.requests()) == before, "a request naming another principal's session reached the MCP server"
    # A session id nobody opened is refused the same way.
    assert mcp_raw(shim, "POST", alice_tokens["access_token"], "0123456789abcdef", {"jsonrpc": "2.0", "id": 3, "method": "ping"}).status_code == 404
    # The opener's session still works, and its DELETE ends it.
    assert mcp_raw(shim, "POST", alice_tokens["access_token"], session, {"jsonrpc": "2.0", "id": 4, "method": "ping"}).status_code == 200
    assert mcp_raw(shim, "DELETE", alice_tokens["access_token"], session).status_code in (200, 204)
    assert mcp_raw(shim, "POST", alice_tokens["access_token"], session, {"jsonrpc": "2.0", "id": 5, "method": "ping"}).status_code == 404
    step("another principal's request naming the session: 404, never forwarded; the opener's works")


def test_gateway_ends_a_revoked_grants_stream(stack, noauth):
    """An open GET /mcp SSE stream ends within gateway.stream_recheck_interval
    of its grant's revocation (RFC 7009 here), not when the token expires."""
    shim = gateway_shim(stack, noauth, "gateway-stream-revoked", gateway={"stream_recheck_interval": "1s"})
    client, tokens = signed_in(shim, stack)
    session = open_session(shim, tokens["access_token"])
    ended: dict[str, float] = {}

    def read_stream() -> None:
        headers = {"Authorization": f"Bearer {tokens['access_token']}", "Accept": "text/event-stream",
                   "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-06-18"}
        with httpx.stream("GET", shim.base_url + "/mcp", headers=headers, timeout=httpx.Timeout(10, read=60)) as response:
            ended["status"] = response.status_code
            for _ in response.iter_bytes():
                pass
        ended["at"] = time.monotonic()

    reader = threading.Thread(target=read_stream, daemon=True)
    reader.start()
    deadline = time.monotonic() + 10
    while "status" not in ended and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ended.get("status") == 200, ended
    time.sleep(1.5)
    assert "at" not in ended, "the stream ended before the revocation"
    revoke = httpx.post(shim.base_url + "/revoke", data={"token": tokens["refresh_token"], "client_id": client.client_id}, timeout=10)
    assert revoke.status_code == 200
    revoked = time.monotonic()
    reader.join(timeout=10)
    assert "at" in ended, "the stream was still open 10 s after the revocation"
    assert ended["at"] - revoked < 4, ended["at"] - revoked
    expect_challenge(mcp_raw(shim, "GET", tokens["access_token"], session), shim, "invalid_token")
    step(f"the revoked grant's SSE stream ended {ended['at'] - revoked:.1f} s after the revocation")


async def list_call_and_refuse(flow: SDKFlow) -> tuple[list[str], str, MCPError | None]:
    """One SDK session through a gateway with tool rules: the tools it
    lists, an allowed call's answer, and what a denied call raised."""
    refused: MCPError | None = None
    async with httpx2.AsyncClient(auth=flow.provider, timeout=30, event_hooks={"response": [flow._on_response]}) as http:
        async with streamable_http_client(flow.mcp_url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                listed = await session.list_tools()
                result = await session.call_tool("add", {"a": 2, "b": 3})
                try:
                    await session.call_tool("text_length", {"text": "secret-argument-31337"})
                except MCPError as error:
                    refused = error
    flow._collect()
    return [tool.name for tool in listed.tools], " ".join(getattr(c, "text", "") for c in result.content), refused


def test_tool_policy_through_the_gateway_with_the_sdk(stack, noauth):
    """`resources[0].tools`: the SDK lists only the tools its user may call,
    calls an allowed one, and gets the JSON-RPC error -32602 for a denied one,
    which the MCP server never sees; each call leaves one audit line and a
    `dcr_shim_gateway_calls_total` count, never the call's arguments."""
    for old in stack.shims:
        old.stop()
    base = f"http://127.0.0.1:{stack.shim_port}"
    extra = issued_extra(stack.idp, base + "/mcp", upstream=noauth.url)
    extra["resources"][0]["tools"] = [
        {"tools": ["whoami", "add"]},
        {"tools": ["stream_*"], "allow": False},
    ]
    shim = Shim(stack.workdir / f"tools-{len(stack.shims)}", stack.shim_port, stack.idp, base + "/mcp", extra=extra).start()
    stack.shims.append(shim)
    start = len(noauth.requests())

    flow = SDKFlow(shim, stack.idp, base + "/mcp")
    names, added, refused = asyncio.run(list_call_and_refuse(flow))
    assert sorted(names) == ["add", "whoami"], names  # text_length and stream_steps filtered out
    assert added == "5"
    assert refused is not None and refused.code == -32602, refused
    step(f"tool policy: listed {names}, add -> {added}, text_length refused {refused.code}")

    # The same denial without the SDK: a 200 JSON-RPC error with the request's id.
    token = flow.result.access_tokens[-1]
    raw = httpx.post(base + "/mcp", headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
                                             "Content-Type": "application/json", "Mcp-Method": "tools/call", "Mcp-Name": "stream_steps"},
                     json={"jsonrpc": "2.0", "id": 41, "method": "tools/call", "params": {"name": "stream_steps", "arguments": {"steps": 1}}},
                     timeout=10)
    assert raw.status_code == 200 and raw.json()["id"] == 41 and raw.json()["error"]["code"] == -32602, raw.text
    # Headers that disagree with the body: 400 HeaderMismatch.
    mismatch = httpx.post(base + "/mcp", headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                                  "Accept": "application/json, text/event-stream",
                                                  "Mcp-Method": "tools/call", "Mcp-Name": "add"},
                          json={"jsonrpc": "2.0", "id": 42, "method": "tools/call", "params": {"name": "stream_steps"}}, timeout=10)
    assert mismatch.status_code == 400 and mismatch.json()["error"]["code"] == -32020, mismatch.text

    # The MCP server never saw the denied calls (the SDK names each call's tool in Mcp-Name).
    named = [v for r in noauth.requests()[start:] for v in r["headers"].get("mcp-name", [])]
    assert "text_length" not in named and "stream_steps" not in named, named
    assert not named or "add" in named, named
    log = shim.log_text()
    calls = [line for line in log.splitlines() if "gateway: call" in line]
    assert any("tool=text_length" in line and "decision=deny" in line and "status=200" in line for line in calls), calls
    assert any("tool=add" in line and "decision=allow" in line and "subject=" in line for line in calls), calls
    assert "secret-argument-31337" not in log
    metrics = httpx.get(base + "/metrics", timeout=10).text
    counted = [line for line in metrics.splitlines() if line.startswith("dcr_shim_gateway_calls_total")]
    assert any('tool="add"' in line and 'decision="allow"' in line for line in counted), counted
    assert any('tool="other"' in line and 'decision="deny"' in line for line in counted), counted


def test_gateway_drains_on_sigterm_within_the_grace(stack, noauth):
    """SIGTERM during a rolling update: new connections are refused at
    once; a tool call in flight (its SSE answer still coming) finishes with
    its result; an open GET /mcp stream, which never ends by itself, is
    ended when listen.shutdown_grace runs out; the process then exits 0,
    without waiting for the orchestrator's SIGKILL. Run once."""
    if stack.idp.name != "django-oauth-toolkit":
        pytest.skip("run once")
    for old in stack.shims:
        old.stop()
    base = f"http://127.0.0.1:{stack.shim_port}"
    extra = issued_extra(stack.idp, base + "/mcp", upstream=noauth.url)
    extra["listen"] = {"host": "127.0.0.1", "port": stack.shim_port, "shutdown_grace": "3s"}
    shim = Shim(stack.workdir / f"gateway-drain-{len(stack.shims)}", stack.shim_port, stack.idp, base + "/mcp", extra=extra).start()
    stack.shims.append(shim)
    _, tokens = signed_in(shim, stack)
    session = open_session(shim, tokens["access_token"])
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-06-18"}
    stream: dict = {}
    call: dict = {}

    def read_stream() -> None:
        try:
            with httpx.stream("GET", base + "/mcp", headers={**headers, "Accept": "text/event-stream"},
                              timeout=httpx.Timeout(10, read=60)) as response:
                stream["status"] = response.status_code
                for _ in response.iter_bytes():
                    pass
        except httpx.HTTPError as e:
            stream["error"] = repr(e)
        finally:
            stream["at"] = time.monotonic()

    def slow_call() -> None:
        body = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                "params": {"name": "stream_steps", "arguments": {"steps": 8, "delay": 0.25}, "_meta": {"progressToken": "p"}}}
        try:
            with httpx.stream("POST", base + "/mcp", headers={**headers, **MCP_HEADERS}, json=body,
                              timeout=httpx.Timeout(10, read=30)) as response:
                call["status"] = response.status_code
                call["body"] = b"".join(response.iter_bytes()).decode()
        except httpx.HTTPError as e:
            call["error"] = repr(e)
        finally:
            call["at"] = time.monotonic()

    readers = [threading.Thread(target=read_stream, daemon=True), threading.Thread(target=slow_call, daemon=True)]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + 10
    while ("status" not in stream or "status" not in call) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stream.get("status") == 200 and call.get("status") == 200, (stream, call)
    shim.proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    time.sleep(0.3)
    with pytest.raises(httpx.ConnectError):
        httpx.get(base + "/healthz", timeout=2)
    for reader in readers:
        reader.join(timeout=15)
    assert "error" not in call and '"id":7' in call["body"].replace(" ", "") and '"result"' in call["body"], call
    assert call["at"] - sent < 3, "the call in flight should finish on its own, well within the grace"
    assert "at" in stream and 2.5 < stream["at"] - sent < 7, (stream, stream.get("at", 0) - sent)
    assert shim.proc.wait(timeout=10) == 0
    exited = time.monotonic() - sent
    assert exited < 8, exited
    step(f"SIGTERM: the call in flight finished after {call['at'] - sent:.1f} s, the open stream was ended after "
         f"{stream['at'] - sent:.1f} s (grace 3 s), the process exited 0 after {exited:.1f} s")


def test_one_sign_ins_flood_gets_429_while_another_sign_ins_calls_succeed(stack, noauth):
    """gateway.requests_per_minute holds per grant: a client sending far
    more than its budget gets 429 with Retry-After, and those requests never
    reach the MCP server; another sign-in's calls through the same gateway,
    with the real SDK, still succeed. Run once."""
    if stack.idp.name != "django-oauth-toolkit":
        pytest.skip("run once")
    shim = gateway_shim(stack, noauth, "gateway-flood", gateway={"requests_per_minute": 10})
    _, flooder = signed_in(shim, stack)
    before = len(noauth.requests())
    answers = [mcp_post(shim, flooder["access_token"]) for _ in range(30)]
    limited = [r for r in answers if r.status_code == 429]
    assert limited, [r.status_code for r in answers]
    assert all(int(r.headers["retry-after"]) > 0 and r.json()["error"]["code"] == -32000 for r in limited), limited[0].text
    forwarded = len(noauth.requests()) - before
    # A fixed one-minute window: at most one window boundary falls inside the burst.
    assert forwarded == len(answers) - len(limited) and forwarded <= 20, (forwarded, len(limited))
    flow = SDKFlow(shim, stack.idp, shim.base_url + "/mcp")
    assert asyncio.run(flow.call_tool("add", {"a": 2, "b": 3})) == "5"
    step(f"{len(limited)} of 30 requests from one sign-in answered 429 (Retry-After), {forwarded} forwarded; "
         "another sign-in's SDK call succeeded")
