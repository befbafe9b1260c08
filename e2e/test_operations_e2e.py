"""Operations (issue "Scale and operations", the SQLite half): /metrics after
a flow, the audit trail naming every event with no secret in it, and the
admin commands against the store the shim wrote."""
from __future__ import annotations

import json
import subprocess

import httpx

from .kit.harness import SHIM_BIN, Browser, Shim, authorize_through_shim, query
from .kit.shimclient import RawClient
from .test_secrets import upstream_refresh_tokens


def admin(shim: Shim, *args: str) -> str:
    run = subprocess.run([SHIM_BIN, *args, "--config", str(shim.config_path)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def exercise(shim: Shim, idp) -> dict:
    """Registration, consent given and denied, grant, refresh, reuse, revocation."""
    client = RawClient.register(shim, name="Ops Client")
    params = client.sign_in(Browser(), idp.new_session())
    tokens = client.exchange(params["code"]).json()
    denied = authorize_through_shim(Browser(), idp.new_session(), client.authorize_url(),
                                    client_redirect_prefix=client.redirect_uri, decision="deny")
    assert query(denied)["error"] == "access_denied"
    rotated = client.refresh(tokens["refresh_token"]).json()
    other = RawClient.register(shim, name="Reuse Victim")
    other_tokens = other.exchange(other.sign_in(Browser(), idp.new_session())["code"]).json()
    other.refresh(other_tokens["refresh_token"])
    return {"client": client, "tokens": tokens, "rotated": rotated, "other": other, "other_tokens": other_tokens,
            "code": params["code"]}


def test_metrics_audit_and_admin_commands(dot_stack):
    shim = dot_stack.shim("ops", refresh_grace="0s")
    seen = exercise(shim, dot_stack.idp)
    other = seen["other"]
    assert other.refresh(seen["other_tokens"]["refresh_token"]).json()["error"] == "invalid_grant"  # reuse
    client = seen["client"]
    revoke = httpx.post(shim.base_url + "/revoke", data={"token": seen["rotated"]["refresh_token"], "client_id": client.client_id})
    assert revoke.status_code == 200

    metrics = httpx.get(shim.base_url + "/metrics").text
    for kind in ("registration", "consent_given", "consent_denied", "grant_issued", "refresh", "reuse_detected", "revocation"):
        assert f'dcr_shim_events_total{{kind="{kind}"}}' in metrics, kind
    assert 'dcr_shim_upstream_requests_total{operation="code_exchange",outcome="ok"}' in metrics
    assert "dcr_shim_upstream_request_duration_seconds" in metrics
    assert "hb_requests" in metrics and 'http_route="/token"' in metrics

    audit = json.loads(admin(shim, "audit", "--json"))
    kinds = {e["event"] for e in audit}
    assert kinds >= {"registration", "consent_given", "consent_denied", "grant_issued", "refresh", "reuse_detected", "revocation"}
    grant = next(e for e in audit if e["event"] == "grant_issued" and e["client_id"] == client.client_id)
    assert grant["client_name"] == "Ops Client" and grant["redirect_host"] == "127.0.0.1"
    assert grant["subject"] and grant["resource"] == shim.resource and grant["scope"] == "mcp"
    trail = json.dumps(audit) + admin(shim, "audit") + shim.log_text()
    for secret in [dot_stack.idp.client_secret, seen["code"], seen["tokens"]["refresh_token"], seen["tokens"]["access_token"],
                   seen["rotated"]["refresh_token"], *upstream_refresh_tokens(dot_stack.idp)]:
        assert secret not in trail
    assert json.loads(admin(shim, "audit", "--json", "--since", "1h")) == audit
    assert json.loads(admin(shim, "audit", "--json", "--since", "2100-01-01T00:00:00Z")) == []

    clients = json.loads(admin(shim, "clients", "list", "--json"))
    assert {c["client_id"] for c in clients} >= {client.client_id, other.client_id}
    assert "Ops Client" in admin(shim, "clients", "list")
    shown = json.loads(admin(shim, "clients", "show", client.client_id, "--json"))[0]
    assert shown["client_name"] == "Ops Client" and len(shown["grants"]) == 1
    assert json.loads(admin(shim, "grants", "list", "--json", "--client", other.client_id))[0]["revoked_at"]

    # Revoking a client kills its grants and makes the client re-register (401 invalid_client).
    fresh = RawClient.register(shim, name="To Revoke")
    fresh_tokens = fresh.exchange(fresh.sign_in(Browser(), dot_stack.idp.new_session())["code"]).json()
    assert "1 grant(s) revoked" in admin(shim, "clients", "revoke", fresh.client_id)
    r = fresh.refresh(fresh_tokens["refresh_token"])
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert any(e["event"] == "client_revoked" and e["client_id"] == fresh.client_id
               for e in json.loads(admin(shim, "audit", "--json")))


def test_key_rotation_keeps_grants_readable_and_json_logs_carry_request_ids(dot_stack):
    """keys.encryption_key / keys.cookie_key rotate: with the old keys listed
    as previous keys, grants sealed before the rotation still refresh; with
    the old key dropped they cannot be opened (the key really changed).
    log.format: json gives one JSON object per line, with a request id."""
    import base64
    import os

    old = {"encryption_key": base64.b64encode(os.urandom(32)).decode(), "cookie_key": base64.b64encode(os.urandom(32)).decode()}
    new = {"encryption_key": base64.b64encode(os.urandom(32)).decode(), "cookie_key": base64.b64encode(os.urandom(32)).decode()}
    shim = dot_stack.shim("rotation", extra={"keys": old, "log": {"format": "json"}})
    client = RawClient.register(shim)
    tokens = client.exchange(client.sign_in(Browser(), dot_stack.idp.new_session())["code"]).json()

    lines = [line for line in shim.log_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON
    assert any(r.get("message") == "audit" and r.get("audit") == "grant_issued" and r.get("hb.request.id") for r in records)

    shim.extra = {"keys": {**new, "previous_encryption_keys": [old["encryption_key"]], "previous_cookie_keys": [old["cookie_key"]]}}
    shim.restart()
    rotated = client.refresh(tokens["refresh_token"])  # upstream tokens sealed under the old key are read
    assert rotated.status_code == 200, rotated.text

    shim.extra = {"keys": new}
    shim.restart()
    # The grant's upstream tokens were re-sealed under the new key at the last refresh: still fine.
    again = client.refresh(rotated.json()["refresh_token"])
    assert again.status_code == 200, again.text
