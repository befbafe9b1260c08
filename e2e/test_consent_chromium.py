"""The consent page in a real browser (headless Chromium via Selenium):
it renders the client's name, the redirect host and the scopes; Allow
continues through the IdP's login to the client with code, state and iss;
Deny returns access_denied with state and iss. Chromium treats
http://127.0.0.1 as a secure context, so the __Host- cookie works as in
production."""
from __future__ import annotations

import shutil
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from .kit.cimd import document
from .kit.harness import Browser, pkce_pair
from .kit.shimclient import RawClient

pytestmark = pytest.mark.skipif(not shutil.which("chromedriver"), reason="chromium-driver not installed")


class Listener:
    """The MCP client's loopback redirect target: records what arrives."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if urlparse(self.path).path == "/callback":  # not the browser's /favicon.ico
                    outer.received.append({k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()})
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<html><body><h1 id='done'>Client received the response</h1></body></html>")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def listener():
    listener = Listener()
    yield listener
    listener.close()


def start(dot_stack, listener, chromium) -> tuple[RawClient, object]:
    shim = dot_stack.shim("chromium")
    client = RawClient.register(shim, redirect_uri=listener.redirect_uri, name="Chromium Test Client <b>&")
    chromium.get(client.authorize_url())
    WebDriverWait(chromium, 15).until(EC.presence_of_element_located((By.ID, "allow")))
    return client, shim


def test_consent_page_renders_and_allow_completes_the_flow(dot_stack, listener, chromium, tmp_path):
    client, shim = start(dot_stack, listener, chromium)
    assert urlparse(chromium.current_url).path == "/consent"
    # The client's name is shown as text (escaped, not markup), with the redirect host and the scopes.
    assert chromium.find_element(By.ID, "client-name").text == "Chromium Test Client <b>&"
    # Rule 4 (threat C7): the full redirect URI, in plain words for loopback, and the IdP the user signs in with.
    assert chromium.find_element(By.ID, "redirect-uri").text == listener.redirect_uri
    assert chromium.find_element(By.ID, "redirect-destination").text == \
        f"an application on this computer (listening on port {listener.port})"
    assert chromium.find_element(By.ID, "identity-provider").text == urlparse(dot_stack.idp.issuer).netloc
    assert "registered itself" in chromium.find_element(By.ID, "self-registered").text
    assert [li.text for li in chromium.find_elements(By.CSS_SELECTOR, "#scopes li")] == ["mcp"]
    shot = tmp_path / "consent.png"
    chromium.save_screenshot(str(shot))
    print(f"consent page screenshot: {shot}")
    cookie = chromium.get_cookie("__Host-dcr-shim-browser")
    assert cookie and cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"

    chromium.find_element(By.ID, "allow").click()
    WebDriverWait(chromium, 15).until(EC.presence_of_element_located((By.ID, "id_username")))
    chromium.find_element(By.ID, "id_username").send_keys(dot_stack.idp.username)
    chromium.find_element(By.ID, "id_password").send_keys(dot_stack.idp.password)
    chromium.find_element(By.ID, "login").click()
    WebDriverWait(chromium, 20).until(EC.presence_of_element_located((By.ID, "done")))
    assert len(listener.received) == 1
    got = listener.received[0]
    assert set(got) >= {"code", "state", "iss"}
    assert got["state"] == "st-" + client.client_id[:6] and got["iss"] == shim.base_url
    tokens = client.exchange(got["code"])
    assert tokens.status_code == 200 and tokens.json()["token_type"] == "Bearer"


def test_deny_returns_access_denied_with_state_and_iss(dot_stack, listener, chromium):
    client, shim = start(dot_stack, listener, chromium)
    chromium.find_element(By.ID, "deny").click()
    WebDriverWait(chromium, 15).until(EC.presence_of_element_located((By.ID, "done")))
    got = listener.received[0]
    assert got["error"] == "access_denied"
    assert got["state"] == "st-" + client.client_id[:6] and got["iss"] == shim.base_url
    assert "code" not in got


def test_consent_page_headers_forbid_framing(dot_stack):
    shim = dot_stack.shim("headers")
    client = RawClient.register(shim)
    browser = Browser()
    r = browser.get(client.authorize_url())
    page = browser.get(r.headers["location"])
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    # The same page fetched without the browser's cookie is refused.
    assert httpx.get(r.headers["location"]).status_code == 400


def test_cimd_consent_page_shows_document_host_full_redirect_and_loopback_warning(dot_stack, listener, chromium, cimd_documents):
    """A client known by its metadata document: the page names the verified
    document host prominently, its URL, the full redirect URI, and warns that
    a document whose redirects are all local proves nothing about who asks;
    Allow then completes the flow in the browser and the code is redeemed as
    the public client the document describes."""
    shim = dot_stack.shim("chromium-cimd", extra=cimd_documents.shim_extra())
    url = cimd_documents.publish("chromium", document(cimd_documents.url("chromium"), name="Local Tool",
                                                      redirect_uris=["http://127.0.0.1/callback"]))
    client = RawClient(shim, url, None, listener.redirect_uri)
    client.verifier, client.challenge = pkce_pair()
    chromium.get(client.authorize_url())
    WebDriverWait(chromium, 15).until(EC.presence_of_element_located((By.ID, "allow")))
    assert chromium.find_element(By.ID, "client-name").text == "Local Tool"
    host = chromium.find_element(By.ID, "document-host")
    assert host.text == "localhost" and host.value_of_css_property("font-weight") in ("600", "700", "bold")
    assert chromium.find_element(By.ID, "client-id").text == url
    assert chromium.find_element(By.ID, "redirect-uri").text == listener.redirect_uri
    assert chromium.find_element(By.ID, "redirect-destination").text.startswith("an application on this computer")
    warning = chromium.find_element(By.ID, "loopback-warning")
    assert warning.is_displayed() and "Anyone can publish a document" in warning.text
    assert chromium.find_element(By.ID, "identity-provider").text == urlparse(dot_stack.idp.issuer).netloc

    chromium.find_element(By.ID, "allow").click()
    WebDriverWait(chromium, 15).until(EC.presence_of_element_located((By.ID, "id_username")))
    chromium.find_element(By.ID, "id_username").send_keys(dot_stack.idp.username)
    chromium.find_element(By.ID, "id_password").send_keys(dot_stack.idp.password)
    chromium.find_element(By.ID, "login").click()
    WebDriverWait(chromium, 20).until(EC.presence_of_element_located((By.ID, "done")))
    got = listener.received[0]
    assert got["iss"] == shim.base_url and "code" in got
    tokens = client.exchange(got["code"])
    assert tokens.status_code == 200 and tokens.json()["token_type"] == "Bearer", tokens.text


def test_cimd_document_on_a_refused_address_is_an_error_page_and_never_fetched(dot_stack, listener, chromium, cimd_documents):
    """Rule 11 through the whole shim: the same document server named by its
    loopback address (not the one relaxed name) is refused before any
    connection; the user sees which application's document cannot be used,
    and nothing of why (which address a name has is the operator's to read,
    in the log)."""
    shim = dot_stack.shim("chromium-ssrf", extra=cimd_documents.shim_extra())
    cimd_documents.publish("ssrf", document(cimd_documents.url("ssrf", host="127.0.0.1")))
    before = cimd_documents.connections
    client = RawClient(shim, cimd_documents.url("ssrf", host="127.0.0.1"), None, listener.redirect_uri)
    client.verifier, client.challenge = pkce_pair()
    chromium.get(client.authorize_url())
    body = WebDriverWait(chromium, 15).until(EC.presence_of_element_located((By.TAG_NAME, "h1"))).text
    assert body == "Sign-in cannot continue"
    page = chromium.find_element(By.TAG_NAME, "body").text
    # The document server listens on a test port: the port rule (443 only
    # unless the operator named the host) refuses it before the address rule
    # would; either way nothing is fetched and the page says nothing of why
    # an address or port answers as it does.
    assert ("127.0.0.1" in page and "cannot be used" in page) or "port 443 only" in page, page
    assert "only public addresses" not in page and "loopback" not in page, page
    assert cimd_documents.connections == before and listener.received == []
