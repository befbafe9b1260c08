"""Nothing secret is logged or returned (issue "core flow", done-when 6):
after a full flow with refresh and revocation, the shim's log holds no
upstream client secret, upstream refresh token, code or token, and no
response to the client carries the upstream client secret or the upstream
refresh token."""
from __future__ import annotations

import asyncio
import sqlite3

import httpx

from .kit.flow import SDKFlow
from .kit.harness import Browser
from .kit.shimclient import RawClient


def upstream_refresh_tokens(idp) -> list[str]:
    """Every refresh token the IdP ever issued (read from its own database)."""
    with sqlite3.connect(idp.db_path) as db:
        if idp.name == "django-oauth-toolkit":
            return [row[0] for row in db.execute("SELECT token FROM oauth2_provider_refreshtoken")]
    return []


def test_no_secret_in_log_or_responses(dot_stack):
    shim = dot_stack.shim("secrets")
    idp = dot_stack.idp

    # 1. The official SDK client: flow, tool call, refresh, tool call.
    flow = SDKFlow(shim, idp, dot_stack.mcp.url)
    asyncio.run(flow.call_tool("whoami", {}))
    flow.expire_access_token()
    asyncio.run(flow.call_tool("add", {"a": 1, "b": 1}))

    # 2. A hand-driven client: exchange, refresh, revoke, with every response kept.
    client = RawClient.register(shim, auth_method="client_secret_post")
    browser = Browser()
    params = client.sign_in(browser, idp.new_session())
    tokens = client.exchange(params["code"], client_secret=client.client_secret).json()
    refreshed = client.refresh(tokens["refresh_token"], client_secret=client.client_secret).json()
    revoke = httpx.post(shim.base_url + "/revoke", data={"token": refreshed["refresh_token"], "client_id": client.client_id,
                                                         "client_secret": client.client_secret})
    assert revoke.status_code == 200

    upstream_rts = upstream_refresh_tokens(idp)
    assert len(upstream_rts) >= 4, "the IdP issued refresh tokens during the flows"
    secrets_never_logged = {
        "upstream client secret": [idp.client_secret],
        "upstream refresh token": upstream_rts,
        "authorization code": flow.result.codes + [params["code"]],
        "upstream code": _upstream_codes(browser, shim.callback_url) + _upstream_codes(flow.browser, shim.callback_url),
        "shim refresh token": flow.result.refresh_tokens + [tokens["refresh_token"], refreshed["refresh_token"]],
        "access token": flow.result.access_tokens + [tokens["access_token"], refreshed["access_token"]],
        "client secret": [client.client_secret],
    }
    log = shim.log_text()
    assert "grant_issued" in log and "refresh token rotated" in log  # the log did record the flow
    for what, values in secrets_never_logged.items():
        for value in values:
            assert value and value not in log, f"{what} appears in the shim's log"

    # Everything the clients saw: both browsers, the raw client, and the SDK's
    # own HTTP traffic (discovery, registration, code exchange, refresh).
    responses = browser.responses + client.responses + flow.browser.responses + flow.result.sdk_responses + [revoke]
    bodies = [r.text + " " + str(r.headers.multi_items()) + " " + str(r.request.url) for r in responses]
    assert len(bodies) > 10
    sdk_token_calls = [r for r in flow.result.sdk_responses if r.request.url.path.endswith("/token")]
    assert len(sdk_token_calls) == 2, "the SDK's code exchange and refresh were recorded"
    for r in sdk_token_calls + [r for r in client.responses if r.request.url.path.endswith("/token")]:
        assert r.headers.get("cache-control") == "no-store", f"{r.request.url.path} answered without Cache-Control: no-store"
    for what in ("upstream client secret", "upstream refresh token"):
        for value in secrets_never_logged[what]:
            assert not any(value in body for body in bodies), f"{what} returned to a client"
    # The client's refresh tokens are the shim's own, never the IdP's.
    assert not set(flow.result.refresh_tokens) & set(upstream_rts)


def _upstream_codes(browser: Browser, callback: str) -> list[str]:
    """The IdP's codes: what the browser carried to the shim's callback."""
    codes = [r.request.url.params["code"] for r in browser.responses
             if str(r.request.url).startswith(callback) and "code" in r.request.url.params]
    assert codes, "the browser reached the shim's callback with an upstream code"
    return codes


def test_upstream_tokens_are_sealed_at_rest_and_keys_are_0600(dot_stack):
    """The upstream refresh and access tokens are stored AES-GCM sealed: the
    SQLite file (with its WAL) never holds them in the clear, nor the shim's
    own codes and refresh tokens (stored by hash); generated keys are 0600."""
    import os
    import stat

    shim = dot_stack.shim("at-rest")
    client = RawClient.register(shim)
    params = client.sign_in(Browser(), dot_stack.idp.new_session())
    tokens = client.exchange(params["code"]).json()
    refreshed = client.refresh(tokens["refresh_token"]).json()
    raw = b""
    for suffix in ("", "-wal"):
        path = shim.workdir / f"shim.db{suffix}"
        if path.exists():
            raw += path.read_bytes()
    assert raw, "the store has data"
    upstream_rts = upstream_refresh_tokens(dot_stack.idp)
    for value in upstream_rts + [tokens["access_token"], refreshed["access_token"], tokens["refresh_token"],
                                 refreshed["refresh_token"], params["code"]]:
        assert value.encode() not in raw
    for name in ("encryption.key", "cookie.key"):
        mode = stat.S_IMODE(os.stat(shim.workdir / "shim-data" / name).st_mode)
        assert mode == 0o600, f"{name} has mode {oct(mode)}"
