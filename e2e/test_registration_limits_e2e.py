"""Registration abuse limits (issue "Hardening"): a per-address rate limit
answering 429 with Retry-After, and a cap on registrations answering 503."""
from __future__ import annotations

import httpx

from .kit.harness import Shim


def register(shim: Shim) -> httpx.Response:
    return httpx.post(shim.base_url + "/register", json={"redirect_uris": ["http://127.0.0.1:7000/cb"],
                                                         "token_endpoint_auth_method": "none"})


def test_rate_limit_per_address_answers_429_with_retry_after(dot_stack):
    shim = dot_stack.shim("ratelimit", extra={"registration": {"rate_limit": 3}})
    try:
        assert [register(shim).status_code for _ in range(3)] == [201, 201, 201]
        limited = register(shim)
        assert limited.status_code == 429
        assert limited.json()["error"] == "temporarily_unavailable"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
    finally:
        shim.stop()


def test_registration_cap_answers_503(dot_stack):
    shim = dot_stack.shim("cap", extra={"registration": {"rate_limit": 0, "max_clients": 4}})
    try:
        assert [register(shim).status_code for _ in range(4)] == [201] * 4
        capped = register(shim)
        assert capped.status_code == 503 and capped.json()["error"] == "temporarily_unavailable"
        assert "retry-after" not in capped.headers
    finally:
        shim.stop()
