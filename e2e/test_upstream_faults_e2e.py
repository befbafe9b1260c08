"""Upstream faults through the whole shim (issue "Hardening"): the IdP
down, slow beyond the timeout, 5xx, invalid JSON, a token response without
an access token, and a callback with `error=`. Each gives the MCP client a
clear OAuth error (on its redirect_uri, with state and iss), and the very
next flow through the same shim succeeds."""
from __future__ import annotations

import pytest

from .kit.fake_idp import FakeIdP
from .kit.harness import Browser, Shim, authorize_through_shim, query
from .kit.idp import IdP, free_port
from .kit.shimclient import RawClient


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    fake = FakeIdP()
    port = free_port()
    idp = fake.as_idp(f"http://127.0.0.1:{port}/callback", timeout="2s")
    shim = Shim(tmp_path_factory.mktemp("faults"), port, idp, "http://127.0.0.1:9/mcp").start()
    yield fake, shim, idp
    shim.stop()
    fake.stop()


def attempt(shim: Shim, idp: IdP) -> tuple[RawClient, dict[str, str]]:
    client = RawClient.register(shim)
    final = authorize_through_shim(Browser(), idp.new_session(), client.authorize_url(),
                                   client_redirect_prefix=client.redirect_uri)
    return client, query(final)


def succeeds(shim: Shim, idp: IdP) -> None:
    client, params = attempt(shim, idp)
    assert "code" in params, params
    r = client.exchange(params["code"])
    assert r.status_code == 200 and r.json()["access_token"].startswith("fake-at-"), r.text


@pytest.mark.parametrize("mode,error", [
    ("500", "temporarily_unavailable"),
    ("slow", "temporarily_unavailable"),
    ("invalid_json", "server_error"),
    ("no_access_token", "server_error"),
    ("callback_error", "access_denied"),
])
def test_fault_at_code_exchange_gives_the_client_a_clear_error_then_the_next_flow_works(faulty, mode, error):
    fake, shim, idp = faulty
    fake.mode = mode
    client, params = attempt(shim, idp)
    assert params["error"] == error, params
    assert params["state"] == "st-" + client.client_id[:6] and params["iss"] == shim.base_url
    assert "not json" not in params.get("error_description", "")
    fake.mode = "normal"
    succeeds(shim, idp)


def test_fault_at_refresh_gives_a_clear_error_and_the_grant_survives_a_5xx(faulty):
    fake, shim, idp = faulty
    client, params = attempt(shim, idp)
    tokens = client.exchange(params["code"]).json()
    fake.mode = "500"  # every rotation refreshes upstream (threat T26)
    r = client.refresh(tokens["refresh_token"])
    assert r.status_code == 503 and r.json()["error"] == "temporarily_unavailable"
    fake.mode = "normal"
    again = client.refresh(tokens["refresh_token"])  # a transient IdP failure did not burn the token
    assert again.status_code == 200, again.text


def test_idp_down_gives_temporarily_unavailable(faulty, tmp_path):
    _, _, idp = faulty
    port = free_port()
    down = IdP(**{**idp.__dict__, "callback_url": f"http://127.0.0.1:{port}/callback",
                  "upstream": {**idp.upstream, "token_endpoint": f"http://127.0.0.1:{free_port()}/token"}})
    shim = Shim(tmp_path, port, down, "http://127.0.0.1:9/mcp").start()
    try:
        client, params = attempt(shim, down)
        assert params["error"] == "temporarily_unavailable" and params["iss"] == shim.base_url
    finally:
        shim.stop()
