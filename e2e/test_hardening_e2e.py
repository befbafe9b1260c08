"""Hardening under real conditions: concurrent refreshes (grace window, one
upstream refresh), kill -9 during load (nothing acknowledged is lost), and
consent that is never silently reused by another client."""
from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from .kit.harness import Browser, query
from .kit.shimclient import RawClient


def upstream_refresh_calls(idp) -> int:
    """How many refresh-grant token requests the IdP has served (from its log)."""
    return len(re.findall(r'"POST /o/token/ HTTP/1.1" 200', open(idp.log_path).read()))


def test_concurrent_refreshes_share_one_successor_and_one_upstream_refresh(dot_stack):
    shim = dot_stack.shim("concurrency", refresh_grace="3s")
    client = RawClient.register(shim)
    tokens = client.exchange(client.sign_in(Browser(), dot_stack.idp.new_session())["code"]).json()
    before = upstream_refresh_calls(dot_stack.idp)
    barrier = threading.Barrier(8)

    def refresh(_):
        barrier.wait()
        return client.refresh(tokens["refresh_token"])

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(refresh, range(8)))
    assert [r.status_code for r in results] == [200] * 8, [r.text for r in results if r.status_code != 200]
    successors = {r.json()["refresh_token"] for r in results}
    access = {r.json()["access_token"] for r in results}
    assert len(successors) == 1, "honest concurrent refreshes get the same successor, not new families"
    assert len(access) == 1
    assert successors != {tokens["refresh_token"]}
    # The shim refreshed upstream once (the IdP's access token lives 60 s, inside the shim's margin).
    assert upstream_refresh_calls(dot_stack.idp) - before == 1
    print(f"8 concurrent refreshes → 1 successor, {upstream_refresh_calls(dot_stack.idp) - before} upstream refresh")

    # After the grace window the rotated token is reuse: the family is revoked.
    time.sleep(3.5)
    reuse = client.refresh(tokens["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    assert client.refresh(successors.pop()).json()["error"] == "invalid_grant"


def test_kill_9_during_load_loses_nothing_acknowledged(dot_stack):
    shim = dot_stack.shim("crash")
    idp_session = dot_stack.idp.new_session()
    registered: list[RawClient] = []
    grants: list[tuple[RawClient, str]] = []
    stop = threading.Event()
    lock = threading.Lock()

    def register_loop():
        while not stop.is_set():
            try:
                client = RawClient.register(shim)
            except (httpx.HTTPError, AssertionError):
                return  # the shim died under us; only acknowledged work counts
            with lock:
                registered.append(client)

    def flow_loop():
        browser = Browser()
        while not stop.is_set():
            try:
                client = RawClient.register(shim)
                with lock:
                    registered.append(client)
                params = client.sign_in(browser, idp_session)
                r = client.exchange(params["code"])
            except (httpx.HTTPError, AssertionError, KeyError):
                return
            if r.status_code == 200:
                with lock:
                    grants.append((client, r.json()["refresh_token"]))

    threads = [threading.Thread(target=register_loop) for _ in range(3)] + [threading.Thread(target=flow_loop) for _ in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (len(grants) < 5 or len(registered) < 100):
        time.sleep(0.1)
    shim.kill()  # SIGKILL mid-load
    stop.set()
    for t in threads:
        t.join(timeout=30)
    with lock:
        acknowledged_clients = list(registered)
        acknowledged_grants = list(grants)
    assert len(acknowledged_clients) >= 100 and len(acknowledged_grants) >= 5

    shim.start()
    browser = Browser()
    for client in acknowledged_clients:
        r = browser.get(client.authorize_url())
        assert r.status_code == 303, f"registration {client.client_id} lost after kill -9"
    for client, refresh_token in acknowledged_grants:
        r = client.refresh(refresh_token)
        assert r.status_code == 200, f"grant of {client.client_id} lost after kill -9: {r.text}"
    print(f"kill -9: {len(acknowledged_clients)} acknowledged registrations and {len(acknowledged_grants)} grants "
          "all intact after restart")


def test_consent_is_per_client_and_redirect_even_when_the_idp_session_is_silent(dot_stack):
    """remember mode: the same browser and a logged-in IdP session. Only the
    exact (client, redirect_uri, scopes) already approved passes silently;
    a second client, or the same client with another redirect_uri, sees the
    consent page again."""
    shim = dot_stack.shim("remember", consent_mode="remember")
    browser = Browser()
    idp_session = dot_stack.idp.new_session()
    first = RawClient.register(shim)
    assert "code" in first.sign_in(browser, idp_session)  # consent given once
    headers = {"Sec-Fetch-Site": "none"}
    again = browser.get(first.authorize_url(), headers=headers)
    assert again.status_code == 302 and "/consent" not in again.headers["location"], "remembered consent skipped"

    second = RawClient.register(shim)
    r = browser.get(second.authorize_url(), headers=headers)
    assert r.status_code == 303 and "/consent?" in r.headers["location"], "another client must be asked"

    cross_site = browser.get(first.authorize_url(), headers={"Sec-Fetch-Site": "cross-site"})
    assert "/consent?" in cross_site.headers["location"], "cross-site navigation must be asked"
    no_header = browser.get(first.authorize_url())
    assert "/consent?" in no_header.headers["location"], "a missing Sec-Fetch-Site means ask"

    other_port = first.redirect_uri.replace(str(httpx.URL(first.redirect_uri).port), "1")
    moved = browser.get(first.authorize_url(redirect_uri=other_port), headers=headers)
    assert "/consent?" in moved.headers["location"], "a new redirect_uri must be asked"
    assert query(moved.headers["location"])["request_id"]
