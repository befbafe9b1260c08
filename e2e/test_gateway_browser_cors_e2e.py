"""A browser MCP client through the gateway's CORS, in a real browser
(headless Chromium via Selenium). A page served from an allowed origin
(`resources[0].allowed_origins`) reads the RFC 9728 document, reads the
gateway's 401 ("Unauthorized") and its `WWW-Authenticate` challenge, opens
an MCP session with its bearer token (a request the browser preflights:
Authorization, `Content-Type: application/json` and `MCP-Protocol-Version`
are not safelisted) and reads `Mcp-Session-Id`, lists tools in that
session, opens its SSE stream, ends it with DELETE and reads the gateway's
404 for it afterwards. The gateway answers the preflight itself, before any
token check; the MCP server never sees an OPTIONS. A page from another
origin can read the public RFC 9728 document but nothing else: its calls
reject with a TypeError (the gateway refuses its preflight and its simple
request with 403, without CORS headers) and the MCP server never sees them.
The IdP is the recorded-behaviour Entra fake."""
from __future__ import annotations

import json
import re
import shutil
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from .kit.chromium import PageServer
from .kit.fakes import EntraFake
from .kit.flow import step
from .kit.gateway import NoAuthMCP, issued_extra
from .kit.harness import Browser, Shim
from .kit.idp import free_port
from .kit.shimclient import RawClient

pytestmark = pytest.mark.skipif(not shutil.which("chromedriver"), reason="chromium-driver not installed")

PROTOCOL_VERSION = "2025-06-18"

#: The browser MCP client's page: `call` is one fetch() whose outcome (the
#: status and the headers JavaScript may read, or the error) the test reads.
PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>browser MCP client</title>
<script>
async function call(url, init) {
  try {
    const response = await fetch(url, init);
    const headers = {};
    for (const name of ["www-authenticate", "mcp-session-id", "content-type"]) {
      headers[name] = response.headers.get(name);
    }
    return {status: response.status, statusText: response.statusText, headers: headers, body: await response.text()};
  } catch (error) {
    return {error: error.name, message: String(error.message)};
  }
}
// A stream's answer: its status and type once its headers arrive, then the page closes it.
async function opened(url, init) {
  const controller = new AbortController();
  try {
    const response = await fetch(url, Object.assign({signal: controller.signal}, init));
    const result = {status: response.status, headers: {"content-type": response.headers.get("content-type")}};
    controller.abort();
    return result;
  } catch (error) {
    return {error: error.name, message: String(error.message)};
  }
}
</script></head>
<body><h1 id="ready">browser MCP client</h1></body></html>
"""


@pytest.fixture
def pages():
    allowed, other = PageServer(PAGE), PageServer(PAGE)
    yield allowed, other
    allowed.close()
    other.close()


@pytest.fixture
def gateway(tmp_path, pages):
    """The Entra fake, the MCP server without auth and a shim whose gateway
    at /mcp allows the first page's origin only; a signed-in user's tokens."""
    allowed, _ = pages
    port = free_port()
    fake = EntraFake(f"http://127.0.0.1:{port}/callback")
    noauth = NoAuthMCP(tmp_path / "noauth")
    shim = None
    try:
        idp = fake.as_idp()
        resource = f"http://127.0.0.1:{port}/mcp"
        extra = issued_extra(idp, resource, upstream=noauth.url)
        extra["resources"][0]["allowed_origins"] = [allowed.origin]
        shim = Shim(tmp_path / "shim", port, idp, resource, extra=extra).start()
        client = RawClient.register(shim)
        code = client.sign_in(Browser(), idp.new_session(), scope=" ".join(idp.resource_scopes))["code"]
        tokens = client.exchange(code)
        assert tokens.status_code == 200, tokens.text
        yield shim, noauth, tokens.json()["access_token"]
    finally:
        if shim:
            shim.stop()
        noauth.stop()
        fake.stop()


def fetch(driver, url: str, init: dict, function: str = "call") -> dict:
    """One fetch() in the page's origin; its outcome as the page saw it."""
    return driver.execute_async_script(
        f"const done = arguments[arguments.length - 1]; {function}(arguments[0], arguments[1]).then(done);", url, init)


def open_page(driver, origin: str) -> None:
    driver.get(origin + "/")
    WebDriverWait(driver, 15).until(EC.presence_of_element_located((By.ID, "ready")))


def mcp_headers(token: str | None, session: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": PROTOCOL_VERSION}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if session:
        headers["Mcp-Session-Id"] = session
    return headers


def post(message: dict, token: str | None, session: str | None = None) -> dict:
    return {"method": "POST", "headers": mcp_headers(token, session), "body": json.dumps(message)}


def jsonrpc_result(outcome: dict) -> dict:
    """The JSON-RPC message of an answer, sent as JSON or as one SSE event."""
    body = outcome["body"]
    if (outcome["headers"]["content-type"] or "").startswith("text/event-stream"):
        data = [line[len("data:"):].strip() for line in body.splitlines() if line.startswith("data:")]
        assert data, body
        body = data[-1]
    return json.loads(body)


def gateway_answers(shim: Shim, status: int) -> int:
    """`dcr_shim_gateway_requests_total` for the gateway at /mcp with `status`."""
    total = 0
    for line in httpx.get(shim.base_url + "/metrics", timeout=10).text.splitlines():
        if line.startswith("dcr_shim_gateway_requests_total{") and f'status="{status}"' in line and \
                f'resource="{shim.resource}"' in line:
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                         "clientInfo": {"name": "browser e2e", "version": "1"}}}


def test_browser_client_from_an_allowed_origin_reads_challenge_and_session(gateway, pages, chromium):
    shim, noauth, token = gateway
    allowed, _ = pages
    mcp = shim.base_url + "/mcp"
    open_page(chromium, allowed.origin)
    start = len(noauth.requests())  # after the readiness probe NoAuthMCP made
    assert gateway_answers(shim, 204) == 0

    # The RFC 9728 document, asked for with MCP-Protocol-Version as SDK clients do (its own preflight).
    prm = fetch(chromium, shim.base_url + "/.well-known/oauth-protected-resource/mcp",
                {"headers": {"MCP-Protocol-Version": PROTOCOL_VERSION}})
    assert prm.get("status") == 200, prm
    assert json.loads(prm["body"])["resource"] == mcp

    # Without a token: the page reads the 401 and its challenge (exposed), which names that document.
    anonymous = fetch(chromium, mcp, post(INITIALIZE, None))
    assert anonymous.get("status") == 401, anonymous
    assert anonymous["statusText"] == "Unauthorized", anonymous  # the reason phrase MCP clients match on
    challenge = anonymous["headers"]["www-authenticate"]
    assert challenge and challenge.startswith(f'Bearer resource_metadata="{shim.issuer}/.well-known/oauth-protected-resource/mcp"'), \
        anonymous
    # That POST (Content-Type: application/json, MCP-Protocol-Version) was preflighted, and the
    # gateway answered the preflight itself (204, before any token check).
    assert gateway_answers(shim, 204) >= 1

    # With the token: initialize; the page reads the session id (exposed).
    opened = fetch(chromium, mcp, post(INITIALIZE, token))
    assert opened.get("status") == 200, opened
    session = opened["headers"]["mcp-session-id"]
    assert session, opened
    assert jsonrpc_result(opened)["result"]["protocolVersion"] == PROTOCOL_VERSION
    initialized = fetch(chromium, mcp, post({"jsonrpc": "2.0", "method": "notifications/initialized"}, token, session))
    assert initialized.get("status") == 202, initialized
    listed = fetch(chromium, mcp, post({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, token, session))
    assert listed.get("status") == 200, listed
    names = sorted(tool["name"] for tool in jsonrpc_result(listed)["result"]["tools"])
    assert "whoami" in names and "add" in names, names
    # The session's SSE stream (GET): the page reads that it opened, then closes it.
    stream_headers = {k: v for k, v in mcp_headers(token, session).items() if k != "Content-Type"}
    stream = fetch(chromium, mcp, {"method": "GET", "headers": {**stream_headers, "Accept": "text/event-stream"}}, "opened")
    assert stream.get("status") == 200 and stream["headers"]["content-type"].startswith("text/event-stream"), stream
    # DELETE (not a simple method) ends the session; a call naming it then gets the gateway's own 404,
    # which the page can read as well.
    ended = fetch(chromium, mcp, {"method": "DELETE", "headers": mcp_headers(token, session)})
    assert ended.get("status") == 200, ended
    gone = fetch(chromium, mcp, post({"jsonrpc": "2.0", "id": 3, "method": "ping"}, token, session))
    assert gone.get("status") == 404 and json.loads(gone["body"])["error"]["code"] == -32000, gone

    # Every preflight stayed at the gateway: the MCP server saw the three POSTs, the GET and the DELETE, no
    # OPTIONS, never the client's token nor the browser's Origin.
    seen = noauth.requests()[start:]
    assert [r["method"] for r in seen] == ["POST", "POST", "POST", "GET", "DELETE"], seen
    assert all("origin" not in r["headers"] and "authorization" not in r["headers"] for r in seen), seen
    # The gateway's record of the calls, in order: the first POST's preflight answered before any
    # token check (no subject), then the calls themselves. Its answer (Access-Control-Max-Age) lists
    # Authorization, Mcp-Session-Id, GET and DELETE, so Chromium preflights nothing after it.
    calls = [line for line in shim.log_text().splitlines() if "gateway: call" in line]
    assert [re.search(r" status=(\d+)", line).group(1) for line in calls] == ["204", "401", "200", "202", "200", "200", "200", "404"], calls
    assert "subject= " in calls[0] and "decision=unchecked" in calls[0], calls[0]
    step(f"Chromium at {allowed.origin}: 401 challenge read, session {session[:8]}… opened, tools {names}; "
         f"{gateway_answers(shim, 204)} preflight(s) answered by the gateway")


def test_browser_client_from_another_origin_is_refused(gateway, pages, chromium):
    shim, noauth, token = gateway
    _, other = pages
    mcp = shim.base_url + "/mcp"
    open_page(chromium, other.origin)
    start = len(noauth.requests())

    # The RFC 9728 document is public: any origin may read it.
    prm = fetch(chromium, shim.base_url + "/.well-known/oauth-protected-resource/mcp", {})
    assert prm.get("status") == 200 and json.loads(prm["body"])["resource"] == mcp, prm

    refused_before = gateway_answers(shim, 403)
    # A request the browser preflights: the gateway refuses the preflight, so the POST is never sent.
    preflighted = fetch(chromium, mcp, post(INITIALIZE, token))
    assert preflighted.get("error") == "TypeError", preflighted
    # A simple request (no preflight) reaches the gateway, is refused 403 without CORS headers, and
    # the page cannot read even that.
    simple = fetch(chromium, mcp, {"method": "POST", "headers": {"Content-Type": "text/plain"},
                                   "body": json.dumps({"jsonrpc": "2.0", "id": 3, "method": "ping"})})
    assert simple.get("error") == "TypeError", simple
    assert gateway_answers(shim, 403) - refused_before == 2
    assert "gateway: origin refused" in shim.log_text()
    assert noauth.requests()[start:] == [], noauth.requests()[start:]
    step(f"Chromium at {other.origin}: RFC 9728 document read; both MCP calls refused (403 at the gateway, TypeError in the page)")
