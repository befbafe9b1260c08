"""The recorded-behaviour fakes on their own, without the shim: each refuses
what its provider documents it refuses (the rule and its link are in the
fake's module). The per-preset flows, the error mapping and the doctor stand
on these; a fake that accepted anything would prove nothing."""
from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from .kit.fakes import FAKES, start_fake

CALLBACK = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def fakes():
    started = {preset: start_fake(preset, CALLBACK) for preset in FAKES}
    yield started
    for fake in started.values():
        fake.stop()


def authorize_url(fake, **overrides) -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    config = fake.upstream_config()
    endpoint = config.get("authorization_endpoint") or httpx.get(
        fake.issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=5).json()["authorization_endpoint"]
    params = {"response_type": "code", "client_id": fake.client_id, "redirect_uri": fake.callback_url, "state": "s1",
              "scope": " ".join(["openid", "offline_access"] + list(fake.resource_scopes)), "code_challenge": challenge,
              "code_challenge_method": "S256", **overrides}
    return endpoint + "?" + urlencode({k: v for k, v in params.items() if v is not None}), verifier


def redirect_params(r: httpx.Response) -> dict:
    assert r.status_code == 302, (r.status_code, r.text[:200])
    return {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}


def token_endpoint(fake) -> str:
    return fake.upstream_config().get("token_endpoint") or httpx.get(
        fake.issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=5).json()["token_endpoint"]


def exchange(fake, code: str, verifier: str, *, basic: bool = True, secret: str | None = None, **extra) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": fake.callback_url, "code_verifier": verifier, **extra}
    secret = secret or fake.client_secret
    if basic:
        return httpx.post(token_endpoint(fake), data=data, auth=(fake.client_id, secret), timeout=5)
    return httpx.post(token_endpoint(fake), data={**data, "client_id": fake.client_id, "client_secret": secret},
                      headers={"Accept": "application/json"}, timeout=5)


def sign_in(fake, *, basic=True, **overrides) -> dict:
    url, verifier = authorize_url(fake, **overrides)
    r = exchange(fake, redirect_params(httpx.get(url, timeout=5))["code"], verifier, basic=basic)
    assert r.status_code == 200, r.text
    return r.json()


def test_entra_refuses_resource_mixed_default_two_resources_and_short_names(fakes):
    entra = fakes["entra"]
    api = f"api://{entra.api_app}"
    page = httpx.get(authorize_url(entra, redirect_uri="http://127.0.0.1:9/other")[0], timeout=5)
    assert page.status_code == 200 and "AADSTS50011" in page.text and "location" not in page.headers
    assert "AADSTS700016" in httpx.get(authorize_url(entra, client_id="00000000-0000-0000-0000-000000000000")[0], timeout=5).text
    cases = [({"resource": api}, "AADSTS9010010"), ({"resource": api, "scope": None}, "AADSTS901002"),
             ({"scope": f"openid {api}/.default {api}/mcp.access"}, "AADSTS70011"),
             ({"scope": f"openid {api}/mcp.access api://other/x"}, "AADSTS28000"), ({"scope": "openid mcp.access"}, "AADSTS70011")]
    for overrides, code in cases:
        params = redirect_params(httpx.get(authorize_url(entra, **overrides)[0], timeout=5))
        assert params["error_description"].startswith(code) and params["state"] == "s1", (overrides, params)
    tokens = sign_in(entra, basic=False)
    assert tokens["refresh_token"] and tokens["id_token"]
    no_offline = sign_in(entra, basic=False, scope=f"openid {api}/mcp.access")
    assert "refresh_token" not in no_offline   # offline_access is what asks for one
    url, verifier = authorize_url(entra)
    bad = exchange(entra, redirect_params(httpx.get(url, timeout=5))["code"], verifier, secret="wrong")
    assert bad.status_code == 401 and bad.json()["error_codes"] == [7000215]
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    missing = httpx.post(token_endpoint(entra), data=refresh, auth=(entra.client_id, entra.client_secret), timeout=5)
    assert missing.status_code == 400 and missing.json()["error_codes"] == [900144]
    with_resource = httpx.post(token_endpoint(entra), data={**refresh, "scope": f"{api}/mcp.access", "resource": api},
                               auth=(entra.client_id, entra.client_secret), timeout=5)
    assert with_resource.json()["error_codes"] == [901002]
    ok = httpx.post(token_endpoint(entra), data={**refresh, "scope": f"openid offline_access {api}/mcp.access"},
                    auth=(entra.client_id, entra.client_secret), timeout=5)
    assert ok.status_code == 200 and ok.json()["refresh_token"] != tokens["refresh_token"]


def test_google_refresh_token_only_offline_and_again_only_with_prompt_consent(fakes):
    google = fakes["google"]
    page = httpx.get(authorize_url(google)[0], timeout=5)   # offline_access is not a Google scope
    assert page.status_code == 400 and "invalid_scope" in page.text
    scope = "openid " + google.resource_scopes[0]
    assert "refresh_token" not in sign_in(google, scope=scope)                          # no access_type=offline
    assert "refresh_token" not in sign_in(google, scope=scope, access_type="offline")   # consented before
    assert "refresh_token" in sign_in(google, scope=scope, access_type="offline", prompt="consent")
    assert httpx.get(authorize_url(google, scope=scope, redirect_uri="http://127.0.0.1:9/x")[0], timeout=5).status_code == 400


def test_github_form_encoded_unless_json_errors_in_200_no_id_token_user_agent(fakes):
    github = fakes["github"]
    url, verifier = authorize_url(github, scope="read:user")
    code = redirect_params(httpx.get(url, timeout=5))["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": github.callback_url, "code_verifier": verifier,
            "client_id": github.client_id, "client_secret": github.client_secret}
    r = httpx.post(token_endpoint(github), data=data, timeout=5)
    assert r.headers["content-type"].startswith("application/x-www-form-urlencoded")
    tokens = {k: v[0] for k, v in parse_qs(r.text).items()}
    assert tokens["access_token"].startswith("ghu_") and "id_token" not in tokens and tokens["refresh_token"]
    again = httpx.post(token_endpoint(github), data=data, headers={"Accept": "application/json"}, timeout=5)
    assert again.status_code == 200 and again.json()["error"] == "bad_verification_code"
    basic_only = exchange(github, "x", verifier)   # HTTP Basic without body credentials
    assert basic_only.status_code == 200 and "incorrect_client_credentials" in basic_only.text
    user = httpx.get(github.base + "/user", headers={"Authorization": "Bearer " + tokens["access_token"], "User-Agent": ""}, timeout=5)
    assert user.status_code == 403
    assert httpx.get(github.base + "/user", headers={"Authorization": "Bearer " + tokens["access_token"]}, timeout=5).json()["id"] == 583231
    mismatch = httpx.get(authorize_url(github, redirect_uri="http://127.0.0.1:10/callback")[0], timeout=5)
    assert mismatch.headers["location"].startswith(github.callback_url + "?") and "redirect_uri_mismatch" in mismatch.headers["location"]
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": github.client_id,
               "client_secret": github.client_secret}
    assert "access_token" in httpx.post(token_endpoint(github), data=refresh, headers={"Accept": "application/json"}, timeout=5).json()
    assert httpx.post(token_endpoint(github), data=refresh, headers={"Accept": "application/json"}, timeout=5).json()["error"] == "bad_refresh_token"


def test_okta_auth0_keycloak_refuse_what_they_refuse(fakes):
    okta, auth0, keycloak = fakes["okta"], fakes["auth0"], fakes["keycloak"]
    assert "Login redirect URI" in httpx.get(authorize_url(okta, redirect_uri="http://127.0.0.1:9/x")[0], timeout=5).text
    assert redirect_params(httpx.get(authorize_url(okta, scope="openid nope")[0], timeout=5))["error"] == "invalid_scope"
    url, verifier = authorize_url(okta)
    post = exchange(okta, redirect_params(httpx.get(url, timeout=5))["code"], verifier, basic=False)
    assert post.status_code == 401 and post.json()["error"] == "invalid_client"   # the app is set to client_secret_basic
    okta.assigned = False
    assert redirect_params(httpx.get(authorize_url(okta)[0], timeout=5))["error"] == "access_denied"
    okta.assigned = True

    assert "Service not found" in redirect_params(httpx.get(authorize_url(auth0, audience="https://other")[0], timeout=5))["error_description"]
    no_audience = sign_in(auth0, basic=False)
    assert httpx.get(auth0.userinfo_url(), headers={"Authorization": "Bearer " + no_audience["access_token"]}, timeout=5).status_code == 401
    tokens = sign_in(auth0, basic=False, audience=auth0.api_identifier)
    url, verifier = authorize_url(auth0, audience=auth0.api_identifier)
    wrong = exchange(auth0, redirect_params(httpx.get(url, timeout=5))["code"], verifier, basic=False, secret="wrong")
    assert wrong.status_code == 401 and wrong.json() == {"error": "access_denied", "error_description": "Unauthorized"}
    refresh = {"grant_type": "refresh_token", "client_id": auth0.client_id, "client_secret": auth0.client_secret}
    rotated = httpx.post(token_endpoint(auth0), data={**refresh, "refresh_token": tokens["refresh_token"]}, timeout=5).json()
    assert httpx.post(token_endpoint(auth0), data={**refresh, "refresh_token": tokens["refresh_token"]}, timeout=5).status_code == 400
    # Reuse detected: the whole family is revoked, the successor too.
    assert httpx.post(token_endpoint(auth0), data={**refresh, "refresh_token": rotated["refresh_token"]}, timeout=5).status_code == 400

    assert "Invalid parameter: redirect_uri" in httpx.get(authorize_url(keycloak, redirect_uri="http://127.0.0.1:9/x")[0], timeout=5).text
    assert redirect_params(httpx.get(authorize_url(keycloak, scope="openid nope")[0], timeout=5))["error_description"].startswith("Invalid scopes:")
    url, verifier = authorize_url(keycloak)
    bad = exchange(keycloak, redirect_params(httpx.get(url, timeout=5))["code"], verifier, secret="wrong")
    assert bad.status_code == 401 and bad.json()["error"] == "unauthorized_client"
    for fake in (okta, auth0, keycloak):
        url, verifier = authorize_url(fake, code_challenge_method="plain" if fake is not auth0 else "S256")
        if fake is not auth0:   # Okta and Keycloak (PKCE method S256 on the client) refuse plain
            assert redirect_params(httpx.get(url, timeout=5))["error"] == "invalid_request"
