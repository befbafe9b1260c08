"""A browser MCP client runs the OAuth flow against the shim's
authorization server from its own origin, in a real browser (headless
Chromium via Selenium), as MCP Inspector does in direct mode (rule 17).

The page discovers the metadata (asked for with MCP-Protocol-Version, as
SDK clients do: a preflighted request), reads the key set, registers a
client with a JSON POST (preflighted), and, after a sign-in done outside the
browser with the harness (the consent page and the IdP are top-level
navigations, not fetch()), exchanges the code at /token, reads the tokens,
revokes the refresh token and then reads the token endpoint's OAuth errors:
`invalid_grant` for the used code, and a 401 `invalid_client` with its
`WWW-Authenticate` challenge for a confidential client sending the wrong
secret in an Authorization header the page set. Before rule 17 every one of
these calls rejected with "TypeError: Failed to fetch".

The endpoints that are no business of a page stay closed: /introspect,
/authorize, /consent, /callback and /metrics give a page nothing it can read,
and their preflights are not answered. The IdP is the recorded-behaviour
Entra fake; the shim issues its own tokens (so /jwks.json and /introspect
exist)."""
from __future__ import annotations

import base64
import json
import shutil
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from .kit.chromium import PageServer
from .kit.fakes import EntraFake
from .kit.flow import step
from .kit.gateway import issued_extra
from .kit.harness import Browser, Shim, pkce_pair
from .kit.idp import free_port
from .kit.shimclient import RawClient

pytestmark = pytest.mark.skipif(not shutil.which("chromedriver"), reason="chromium-driver not installed")

PROTOCOL_VERSION = "2025-06-18"

#: The browser client's page: `call` is one fetch() whose outcome (the status,
#: the headers JavaScript may read and the body, or the error) the test reads.
PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>browser OAuth client</title>
<script>
async function call(url, init) {
  try {
    const response = await fetch(url, init);
    const headers = {};
    for (const name of ["www-authenticate", "content-type", "cache-control"]) {
      headers[name] = response.headers.get(name);
    }
    return {status: response.status, headers: headers, body: await response.text()};
  } catch (error) {
    return {error: error.name, message: String(error.message)};
  }
}
</script></head>
<body><h1 id="ready">browser OAuth client</h1></body></html>
"""


@pytest.fixture
def page():
    server = PageServer(PAGE)
    yield server
    server.close()


@pytest.fixture
def stack(tmp_path):
    """The Entra fake and a shim issuing its own tokens for one resource (no gateway)."""
    port = free_port()
    fake = EntraFake(f"http://127.0.0.1:{port}/callback")
    shim = None
    try:
        idp = fake.as_idp()
        shim = Shim(tmp_path / "shim", port, idp, f"http://127.0.0.1:{port}/mcp",
                    extra=issued_extra(idp, f"http://127.0.0.1:{port}/mcp")).start()
        yield shim, idp
    finally:
        if shim:
            shim.stop()
        fake.stop()


def fetch(driver, url: str, init: dict) -> dict:
    """One fetch() in the page's origin; its outcome as the page saw it."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; call(arguments[0], arguments[1]).then(done);", url, init)


def open_page(driver, origin: str) -> None:
    driver.get(origin + "/")
    WebDriverWait(driver, 15).until(EC.presence_of_element_located((By.ID, "ready")))


def form_post(body: dict, headers: dict | None = None) -> dict:
    return {"method": "POST", "headers": {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
            "body": urlencode(body)}


def readable(outcome: dict, status: int) -> dict:
    """The JSON body of an answer the page could read, with the status expected."""
    assert outcome.get("status") == status, outcome
    return json.loads(outcome["body"])


def test_browser_client_discovers_registers_and_reads_token_errors(stack, page, chromium):
    shim, idp = stack
    open_page(chromium, page.origin)

    # Discovery, with MCP-Protocol-Version (not safelisted: the browser preflights it).
    metadata = readable(fetch(chromium, shim.base_url + "/.well-known/oauth-authorization-server",
                              {"headers": {"MCP-Protocol-Version": PROTOCOL_VERSION}}), 200)
    assert metadata["issuer"] == shim.issuer, metadata
    oidc = readable(fetch(chromium, shim.base_url + "/.well-known/openid-configuration", {}), 200)
    assert oidc["token_endpoint"] == metadata["token_endpoint"], oidc
    keys = readable(fetch(chromium, metadata["jwks_uri"], {}), 200)
    assert keys["keys"] and keys["keys"][0]["kty"] == "EC", keys

    # Registration: a JSON POST (preflighted), the client id read by the page.
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    registered = readable(fetch(chromium, metadata["registration_endpoint"], {
        "method": "POST", "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none",
                            "grant_types": ["authorization_code", "refresh_token"], "client_name": "browser client"})}), 201)
    client_id = registered["client_id"]

    # The sign-in is a top-level navigation (consent page, IdP): done by the harness for that client.
    client = RawClient(shim, client_id, None, redirect_uri)
    client.verifier, client.challenge = pkce_pair()
    code = client.sign_in(Browser(), idp.new_session(), scope=" ".join(idp.resource_scopes))["code"]

    # The code exchanged by the page: the token response is readable (and not cacheable).
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": client.verifier, "resource": shim.resource, "client_id": client_id}
    answered = fetch(chromium, metadata["token_endpoint"], form_post(exchange))
    tokens = readable(answered, 200)
    assert tokens["access_token"] and tokens["refresh_token"] and tokens["token_type"].lower() == "bearer", tokens
    assert answered["headers"]["cache-control"] == "no-store", answered

    # The same code again: the page reads the OAuth error (RFC 6749 §5.2).
    replayed = readable(fetch(chromium, metadata["token_endpoint"], form_post(exchange)), 400)
    assert replayed["error"] == "invalid_grant", replayed

    # Revocation (RFC 7009) from the page; the revoked refresh token is then invalid_grant.
    revoked = fetch(chromium, metadata["revocation_endpoint"],
                    form_post({"token": tokens["refresh_token"], "token_type_hint": "refresh_token", "client_id": client_id}))
    assert revoked.get("status") == 200, revoked
    refreshed = readable(fetch(chromium, metadata["token_endpoint"], form_post(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id})), 400)
    assert refreshed["error"] == "invalid_grant", refreshed

    # A confidential client sending a wrong secret in the Authorization header the page sets
    # (preflighted): the 401 and its Basic challenge (exposed) are readable.
    confidential = RawClient.register(shim, auth_method="client_secret_basic")
    basic = base64.b64encode(f"{confidential.client_id}:not-the-secret".encode()).decode()
    refused = fetch(chromium, metadata["token_endpoint"], form_post(
        {"grant_type": "authorization_code", "code": "not-a-code", "redirect_uri": confidential.redirect_uri,
         "code_verifier": confidential.verifier}, {"Authorization": "Basic " + basic}))
    assert readable(refused, 401)["error"] == "invalid_client", refused
    assert (refused["headers"]["www-authenticate"] or "").startswith("Basic"), refused

    # What the browser saw on the wire: any origin, never credentials, a preflight answered 204.
    preflight = httpx.request("OPTIONS", metadata["token_endpoint"], timeout=10, headers={
        "Origin": page.origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 204, preflight
    assert preflight.headers["access-control-allow-origin"] == "*", preflight.headers
    assert "access-control-allow-credentials" not in preflight.headers, preflight.headers
    step(f"Chromium at {page.origin}: metadata, keys, registration, code exchange, revocation and the "
         f"token endpoint's invalid_grant and 401 invalid_client (Basic challenge) all read by the page")


def test_browser_client_reads_nothing_from_the_navigation_endpoints_or_introspection(stack, page, chromium):
    shim, _ = stack
    open_page(chromium, page.origin)
    base = shim.base_url
    # Simple requests (no preflight) reach the shim, but their answers carry no CORS header: the page
    # gets a TypeError, not the answer.
    for url, init in [
        (base + "/introspect", form_post({"token": "x"})),
        (base + "/authorize?client_id=x", {}),
        (base + "/consent?request_id=x", {}),
        (base + "/callback?state=x&code=y", {}),
        (base + "/metrics", {}),
    ]:
        outcome = fetch(chromium, url, init)
        assert outcome.get("error") == "TypeError", (url, outcome)
    # Their preflights are not answered (the browser would send nothing after them).
    for path, method in [("/introspect", "POST"), ("/consent", "POST"), ("/authorize", "GET"), ("/callback", "GET")]:
        answer = httpx.request("OPTIONS", base + path, timeout=10, headers={
            "Origin": page.origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert answer.status_code != 204 and "access-control-allow-origin" not in answer.headers, (path, answer.headers)
    step(f"Chromium at {page.origin}: /introspect, /authorize, /consent, /callback and /metrics unreadable; "
         "their preflights unanswered")
