"""Every preset's end-to-end flow with the real Python
`mcp` SDK client through the shim, against that preset's recorded-behaviour
fake IdP (e2e/kit/fakes/, written from the provider's documentation and refusing
what the provider refuses): discovery, registration, consent, sign-in,
token, tool call, refresh, tool call — with the IdP's tokens living an hour
(GitHub's expiring tokens: eight hours), as users have them. Then what the
shim sent the IdP is checked against what that provider documents."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from .kit.fakes.base import Answer
from .kit.flow import run_full_flow
from .kit.harness import Browser
from .kit.shimclient import RawClient


def test_preset_flow_tool_call_and_refresh(preset_stack):
    stack = preset_stack
    fake = stack.idp.proc.fake
    shim = stack.shim()
    result = asyncio.run(run_full_flow(shim, stack.idp, stack.mcp.url))

    # The MCP server accepted the IdP's tokens and saw the provider's subject.
    subject = str(getattr(fake, "user_id", fake.user_sub))
    assert result.tool_results == [f"subject={subject}", "5"]
    # The refresh brought a NEW access token although the first one had an hour left (threat T26).
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
    metadata = httpx.get(shim.base_url + "/.well-known/oauth-authorization-server", timeout=10).json()
    assert set(stack.idp.resource_scopes) <= set(metadata["scopes_supported"])


def _redirect_error(params: dict) -> Answer:
    """An error the IdP puts on its redirect to the shim's callback."""
    return Answer(302, json.dumps(params).encode())


def _aad(code: int, error: str, text: str, status: int = 400) -> Answer:
    return Answer.json({"error": error, "error_description": f"AADSTS{code}: {text} Trace ID: 1 Correlation ID: 2",
                        "error_codes": [code]}, status)


#: preset -> [(phase, the IdP's answer, the client's error, words of the client's message, words of the operator's log line)]
ERRORS = {
    "entra": [
        ("authorize", _redirect_error({"error": "consent_required", "error_description": "AADSTS65001: The user or administrator has not consented to use the application."}),
         "access_denied", ["administrator must approve"], ["AADSTS65001", "Grant admin consent"]),
        ("authorize", _redirect_error({"error": "invalid_scope", "error_description": "AADSTS70011: The provided value for the input parameter 'scope' is not valid."}),
         "server_error", ["operator"], ["AADSTS70011", "fully qualified"]),
        ("token", _aad(7000215, "invalid_client", "Invalid client secret provided.", 401),
         "server_error", ["operator"], ["AADSTS7000215", "Certificates & secrets", "Secret ID"]),
        ("refresh", _aad(50076, "invalid_grant", "Due to a configuration change made by your administrator, you must use multi-factor authentication."),
         "invalid_grant", ["multi-factor"], ["AADSTS50076", "Conditional Access"]),
        ("refresh", _aad(700082, "invalid_grant", "The refresh token has expired due to inactivity."),
         "invalid_grant", ["sign in again"], ["AADSTS700082", "90 days"]),
    ],
    "github": [
        ("token", Answer.json({"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."}),
         "access_denied", ["start it again"], ["bad_verification_code"]),
        ("authorize", _redirect_error({"error": "redirect_uri_mismatch", "error_description": "The redirect_uri MUST match the registered callback URL for this application."}),
         "server_error", ["operator"], ["redirect_uri_mismatch", "Authorization callback URL"]),
    ],
    "google": [
        ("refresh", Answer.json({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, 400),
         "invalid_grant", ["sign in again"], ["invalid_grant", "signs in again"]),
        ("authorize", _redirect_error({"error": "admin_policy_enforced"}), "access_denied", ["administrator"], ["OAuth consent screen"]),
    ],
    "okta": [
        ("authorize", _redirect_error({"error": "access_denied", "error_description": "User is not assigned to the client application."}),
         "access_denied", ["not assigned"], ["Assignments"]),
    ],
    "auth0": [
        ("authorize", _redirect_error({"error": "access_denied", "error_description": "Service not found: https://mcp.example.com/api"}),
         "server_error", ["operator"], ["Create API", "upstream.audience"]),
        ("token", Answer.json({"error": "access_denied", "error_description": "Unauthorized"}, 401),
         "server_error", ["operator"], ["Client Secret"]),
    ],
    "keycloak": [
        ("token", Answer.json({"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"}, 401),
         "server_error", ["operator"], ["Credentials → Client secret"]),
        ("authorize", _redirect_error({"error": "invalid_scope", "error_description": "Invalid scopes: openid mcp"}),
         "server_error", ["operator"], ["Client scopes"]),
    ],
}


def test_preset_errors_reach_the_client_as_actions_and_the_operator_as_fixes(preset_stack):
    """Each provider's errors through the whole shim: the MCP client gets an
    OAuth error it can act on (on its redirect_uri with state and iss, or from
    /token), never the IdP's text; the shim's log names the provider's code and
    the console step that fixes it."""
    stack = preset_stack
    fake = stack.idp.proc.fake
    shim = stack.current()
    for phase, answer, error, client_words, log_words in ERRORS[fake.preset]:
        before = len(shim.log_text())
        client = RawClient.register(shim)
        if phase == "refresh":
            tokens = client.exchange(client.sign_in(Browser(), stack.idp.new_session(), scope=None)["code"]).json()
            fake.fail_next("refresh", answer)
            r = client.refresh(tokens["refresh_token"])
            assert r.status_code == 400 and r.json()["error"] == error, r.text
            description = r.json()["error_description"]
            # The grant is over: the IdP said so; the same token no longer works.
            assert client.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
        else:
            fake.fail_next(phase, answer)
            params = client.sign_in(Browser(), stack.idp.new_session(), scope=None)
            assert params.get("error") == error, params
            assert params["state"] == "st-" + client.client_id[:6] and params["iss"] == shim.issuer
            description = params["error_description"]
        for word in client_words:
            assert word in description, (word, description)
        idp_text = json.loads(answer.body).get("error_description", "") if answer.body else ""
        assert not idp_text or idp_text[:20] not in description
        log = shim.log_text()[before:]
        for word in log_words:
            assert word in log, (word, log[-1500:])


def test_doctor_against_the_preset_fake(preset_stack, tmp_path):
    """`dcr-shim doctor` with a good and a bad secret, and with a callback the
    IdP does not know: each preset's fake refuses an unregistered redirect
    before sign-in as its provider does, so doctor tells it clearly."""
    from .kit.doctor import line, run_doctor
    from .kit.idp import free_port

    stack = preset_stack
    fake = stack.idp.proc.fake
    rc, out = run_doctor(tmp_path / "good", stack.shim_port, stack.idp)
    assert rc == 0, out
    assert line(out, "client credentials").startswith("[ ok ]") and line(out, "redirect URI").startswith("[ ok ]"), out
    if fake.preset != "github":
        assert line(out, "signing keys").startswith("[ ok ]"), out

    rc, out = run_doctor(tmp_path / "bad", stack.shim_port, stack.idp, upstream={"client_secret": "not-the-secret"})
    credentials = line(out, "client credentials")
    assert rc == 1 and credentials.startswith("[FAIL]"), out
    assert CONSOLE[fake.preset] in credentials, credentials

    other = free_port()
    rc, out = run_doctor(tmp_path / "unregistered", stack.shim_port, stack.idp, issuer_port=other)
    redirect = line(out, "redirect URI")
    assert rc == 1 and redirect.startswith("[FAIL]") and f"register http://127.0.0.1:{other}/callback" in redirect, out
    assert line(out, "client credentials").startswith("[ ok ]")


#: Where each provider's console makes the client secret (the fix doctor prints).
CONSOLE = {"entra": "Certificates & secrets", "google": "APIs & Services → Credentials", "github": "Generate a new client secret",
           "okta": "Client Credentials", "auth0": "Client Secret", "keycloak": "Credentials → Client secret"}


def test_doctor_entra_unknown_client_and_a_scope_of_another_api(preset_stack, tmp_path):
    """Entra's own answers through doctor: an unknown client id (AADSTS700016,
    Entra's error page) and a scope of an API not in the tenant (AADSTS500011
    on the redirect) each come with the portal step that fixes them."""
    stack = preset_stack
    if stack.idp.proc.fake.preset != "entra":
        pytest.skip("Entra's own codes")
    from .kit.doctor import line, run_doctor
    rc, out = run_doctor(tmp_path / "client", stack.shim_port, stack.idp, upstream={"client_id": "00000000-0000-0000-0000-000000000000"})
    redirect = line(out, "redirect URI")
    assert rc == 1 and "AADSTS700016" in redirect and "does not know client" in redirect and "upstream.client_id" in redirect, out
    rc, out = run_doctor(tmp_path / "scope", stack.shim_port, stack.idp,
                         resources=[{"resource": "http://127.0.0.1:9/mcp", "scopes": ["api://99999999-9999-9999-9999-999999999999/mcp.access"]}])
    request = line(out, "authorization request")
    assert rc == 1 and "AADSTS500011" in request and "Expose an API" in request, out


def test_entra_mcp_server_advertising_short_scope_names(preset_stack, tmp_path):
    """The one scope rule: an MCP server that advertises its Entra scope by the short
    name (`mcp.access`) in its protected-resource metadata: the `mcp` SDK
    registers that name (and offline_access, SEP-2207), and the shim accepts
    it at /register as at /authorize, asking Entra for the fully qualified
    api://<app>/mcp.access. Before the one scope rule, registration refused it."""
    stack = preset_stack
    fake = stack.idp.proc.fake
    if fake.preset != "entra":
        pytest.skip("Entra's fully qualified scopes")
    from .kit.flow import MCPServerProcess
    from .kit.harness import Shim
    from .kit.idp import free_port

    mcp = MCPServerProcess(free_port(), f"http://127.0.0.1:{stack.shim_port}", stack.idp.userinfo_endpoint, ["mcp.access"],
                           tmp_path / "mcp.log")
    try:
        for old in stack.shims:
            old.stop()
        shim = Shim(tmp_path / "shim", stack.shim_port, stack.idp, mcp.url).start()
        stack.shims.append(shim)
        result = asyncio.run(run_full_flow(shim, stack.idp, mcp.url))
        assert result.tool_results[1] == "5"
        registration = next(r for r in result.sdk_responses if r.request.url.path.endswith("/register"))
        assert registration.status_code == 201 and set(registration.json()["scope"].split()) == {"mcp.access", "offline_access"}
        upstream = [r for r in fake.requests if r.path.endswith("/authorize")][-1].params["scope"].split()
        assert f"api://{fake.api_app}/mcp.access" in upstream and "mcp.access" not in upstream
        token = next(r for r in result.sdk_responses if r.request.url.path.endswith("/token"))
        assert token.json()["scope"] == f"api://{fake.api_app}/mcp.access"
    finally:
        mcp.stop()


def test_github_without_expiring_tokens_gives_no_refresh_token(preset_stack):
    """GitHub issues refresh tokens only when the OAuth app has "Expire user
    authorization tokens" on; without it the shim can give the client no
    refresh token either (it has nothing to refresh with) — and says so at
    start (the preset's note) — while the access token, which then does not
    expire, works."""
    stack = preset_stack
    fake = stack.idp.proc.fake
    if fake.preset != "github":
        pytest.skip("GitHub's optional expiring tokens")
    shim = stack.current()
    fake.expiring_tokens = False
    try:
        client = RawClient.register(shim)
        tokens = client.exchange(client.sign_in(Browser(), stack.idp.new_session(), scope=None)["code"])
        assert tokens.status_code == 200 and "refresh_token" not in tokens.json() and "expires_in" not in tokens.json(), tokens.text
        assert tokens.json()["access_token"].startswith("gho_")
        assert httpx.get(fake.userinfo_url(), headers={"Authorization": "Bearer " + tokens.json()["access_token"]}, timeout=5).json()["id"] == 583231
        assert "Expire user authorization tokens" in shim.log_text()
    finally:
        fake.expiring_tokens = True
