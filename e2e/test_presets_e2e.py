"""Issue 10, done-when 1: every preset's end-to-end flow with the real Python
`mcp` SDK client through the shim, against that preset's recorded-behaviour
fake IdP (e2e/fakes/, written from the provider's documentation and refusing
what the provider refuses): discovery, registration, consent, sign-in,
token, tool call, refresh, tool call — with the IdP's tokens living an hour
(GitHub's expiring tokens: eight hours), as users have them. Then what the
shim sent the IdP is checked against what that provider documents."""
from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

from .flow import run_full_flow


def test_preset_flow_tool_call_and_refresh(preset_stack):
    stack = preset_stack
    fake = stack.idp.proc.fake
    shim = stack.shim()
    result = asyncio.run(run_full_flow(shim, stack.idp, stack.mcp.url))

    # The MCP server accepted the IdP's tokens and saw the provider's subject.
    subject = str(getattr(fake, "user_id", fake.user_sub))
    assert result.tool_results == [f"subject={subject}", "5"]
    # The refresh brought a NEW access token although the first one had an hour left (issue 10).
    assert len(result.access_tokens) == 2 and result.access_tokens[0] != result.access_tokens[1]
    assert len(result.refresh_tokens) == 2 and result.refresh_tokens[0] != result.refresh_tokens[1]
    assert all(token in fake.access_tokens for token in result.access_tokens)   # the IdP's own tokens

    authorize = [r for r in fake.requests if r.params.get("response_type") == "code" or r.path.endswith("/authorize")
                 or r.path.endswith("/auth")][-1].params
    token_calls = [r for r in fake.requests if r.method == "POST" and "grant_type" in r.params]
    exchange = next(r for r in token_calls if r.params["grant_type"] == "authorization_code")
    refresh = next(r for r in token_calls if r.params["grant_type"] == "refresh_token")
    # Never the MCP client's identity or redirect toward the IdP; never `resource` (Entra refuses it).
    assert authorize["client_id"] == fake.client_id and authorize["redirect_uri"] == fake.callback_url
    assert "resource" not in authorize and "resource" not in exchange.params and "resource" not in refresh.params
    assert authorize["code_challenge_method"] == "S256"
    scopes = authorize["scope"].split()
    assert set(fake.resource_scopes) <= set(scopes)
    expected = EXPECTED[fake.preset]
    for name, value in expected.get("authorize", {}).items():
        assert authorize.get(name) == value, (name, authorize.get(name))
    for absent in expected.get("absent_scopes", []):
        assert absent not in scopes
    for present in expected.get("scopes", []):
        assert present in scopes
    assert ("scope" in refresh.params) == expected["refresh_scope"], refresh.params.keys()
    basic = exchange.headers.get("authorization", "").lower().startswith("basic ")
    assert basic == (expected["auth"] == "client_secret_basic")
    assert ("client_secret" in exchange.params) == (expected["auth"] == "client_secret_post")
    assert "upstream refreshed" in shim.log_text()


EXPECTED = {
    # The scopes name the API fully qualified, with offline_access for a refresh token;
    # Entra wants `scope` again on refresh (one resource per token).
    "entra": {"scopes": ["openid", "offline_access"], "refresh_scope": True, "auth": "client_secret_post"},
    # access_type=offline for a refresh token, prompt=consent so it comes again after the first consent.
    "google": {"authorize": {"access_type": "offline", "prompt": "consent"}, "absent_scopes": ["offline_access"],
               "refresh_scope": False, "auth": "client_secret_basic"},
    # No OpenID Connect at GitHub: no openid scope, no nonce; credentials in the body.
    "github": {"absent_scopes": ["openid"], "refresh_scope": False, "auth": "client_secret_post"},
    "okta": {"scopes": ["openid", "offline_access"], "refresh_scope": True, "auth": "client_secret_basic"},
    # The API's identifier as `audience`, or Auth0 issues no token for it (the fake's userinfo
    # then refuses it, as the MCP server's check of the audience would).
    "auth0": {"authorize": {"audience": "https://mcp.example.com/api"}, "scopes": ["offline_access"],
              "refresh_scope": True, "auth": "client_secret_post"},
    "keycloak": {"scopes": ["openid"], "refresh_scope": True, "auth": "client_secret_basic"},
}


def test_preset_metadata_and_check_config(preset_stack):
    """The running shim says what the preset needs: no nonce toward GitHub, the
    preset's notes at start; scopes_supported always has offline_access."""
    stack = preset_stack
    shim = stack.current()
    log = shim.log_text()
    preset = stack.idp.proc.fake.preset
    if preset == "github":
        assert "Expire user authorization tokens" in log
        assert all("nonce" not in r.params for r in stack.idp.proc.fake.requests)
    if preset == "google":
        assert "access_type=offline" in log
    import httpx
    metadata = httpx.get(shim.base_url + "/.well-known/oauth-authorization-server", timeout=10).json()
    assert set(stack.idp.resource_scopes) <= set(metadata["scopes_supported"])
    _ = parse_qs, urlsplit
