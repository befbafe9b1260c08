"""The real upstream IdPs on their own, without the shim: this test plays the
shim's part toward each IdP with httpx, to prove that what the end-to-end
tests stand on works and is strict.

For each IdP (django-oauth-toolkit and glewlwyd), in a temp dir:
- discovery and ``upstream_config()`` agree, S256 is the only PKCE method,
  no registration endpoint;
- the authorization-code flow as the shim runs it (PKCE S256, state, nonce,
  redirect_uri = the callback, client_secret_basic with client_id in the
  body), the ID token, userinfo with the access token, one refresh;
- a ``plain`` or missing challenge, a wrong secret, a wrong verifier, a
  replayed code and any redirect URI other than the callback are refused;
- the quirks each IdP is known for, so a new version that changes them is
  noticed here rather than deep inside a shim test.

Nothing listens at the callback: the IdP's redirect is read, never followed.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from .kit.idp import IdP, IdPError, free_port
from .kit.idp.dot import start_dot
from .kit.idp.glewlwyd import start_glewlwyd

ACCESS_TOKEN_SECONDS = 45  # not the default, to prove the knob reaches the IdP
STARTERS = {"django-oauth-toolkit": start_dot, "glewlwyd": start_glewlwyd}
TIMEOUT = 15

# What each IdP does where the specs leave room, or where it departs from them.
QUIRKS = {
    "django-oauth-toolkit": {
        "nonce_required": False, "rotates_refresh_token": True,
        "wrong_secret": (401, "invalid_client"), "wrong_verifier": (400, "invalid_grant"),
        "bad_redirect_status": 400, "replay_revokes_grant": False,
    },
    "glewlwyd": {
        "nonce_required": True, "rotates_refresh_token": False,
        "wrong_secret": (403, "unauthorized_client"), "wrong_verifier": (403, "invalid_code"),
        "bad_redirect_status": 403, "replay_revokes_grant": True,
    },
}


@pytest.fixture(scope="module", params=list(STARTERS))
def idp(request, tmp_path_factory):
    callback = f"http://127.0.0.1:{free_port()}/callback"
    started = time.monotonic()
    idp = STARTERS[request.param](str(tmp_path_factory.mktemp(request.param)), free_port(), callback,
                                  access_token_seconds=ACCESS_TOKEN_SECONDS)
    print(f"{idp.name} up in {time.monotonic() - started:.1f}s")
    yield idp
    idp.stop()
    assert idp.proc.poll() is not None


class Shimlike:
    """The shim's side of the upstream flow, as its config tells it."""

    def __init__(self, idp: IdP):
        self.idp = idp
        self.config = idp.upstream_config()
        self.metadata = discover(self.config["issuer"])
        self.authorization_endpoint = self.config.get("authorization_endpoint", self.metadata["authorization_endpoint"])
        self.token_endpoint = self.config.get("token_endpoint", self.metadata["token_endpoint"])
        self.scope = " ".join(self.config["scopes"] + idp.resource_scopes)

    def authorize_url(self, *, challenge_method: str | None = "S256", **overrides) -> tuple[str, dict]:
        """An upstream authorize URL and what the shim keeps for the callback."""
        verifier = secrets.token_urlsafe(64)  # 86 characters of the unreserved set
        challenge = s256(verifier) if challenge_method == "S256" else verifier
        params = {"response_type": "code", "client_id": self.idp.client_id, "redirect_uri": self.idp.callback_url,
                  "scope": self.scope, "state": secrets.token_urlsafe(16), "nonce": secrets.token_urlsafe(16),
                  "code_challenge": challenge, "code_challenge_method": challenge_method}
        params.update(overrides)
        params = {k: v for k, v in params.items() if v is not None}
        return f"{self.authorization_endpoint}?{urlencode(params)}", {**params, "code_verifier": verifier}

    def sign_in(self, session=None) -> tuple[dict, dict]:
        """Authorize as the user; answers the callback's query and the request."""
        url, sent = self.authorize_url()
        location = (session or self.idp.new_session()).authorize(url)
        assert location.startswith(self.idp.callback_url + "?"), location.split("?")[0]
        params = callback_params(location)
        assert params.get("state") == sent["state"] and "code" in params, sorted(params)
        return params, sent

    def token(self, data: dict, *, secret: str | None = None) -> httpx.Response:
        """client_secret_basic, and client_id in the body too (as the brief for the
        shim says glewlwyd wants; harmless for both)."""
        return httpx.post(self.token_endpoint, data={**data, "client_id": self.idp.client_id},
                          auth=(self.idp.client_id, secret or self.idp.client_secret), timeout=TIMEOUT)

    def exchange(self, code: str, sent: dict, **overrides) -> httpx.Response:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": sent["redirect_uri"],
                "code_verifier": sent["code_verifier"]}
        secret = overrides.pop("secret", None)
        return self.token({**data, **overrides}, secret=secret)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def discover(issuer: str) -> dict:
    """OIDC discovery, then RFC 8414 at the issuer (what the shim's oidc preset tries)."""
    for suffix in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        r = httpx.get(issuer + suffix, timeout=TIMEOUT)
        if r.status_code == 200:
            return r.json()
    raise AssertionError(f"no discovery document under {issuer}")


def callback_params(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def verified_id_token(idp: IdP, metadata: dict, id_token: str) -> dict:
    """The ID token's claims after checking its signature against the JWKS."""
    from jwcrypto import jwk, jwt  # comes with django-oauth-toolkit
    keys = jwk.JWKSet.from_json(httpx.get(metadata["jwks_uri"], timeout=TIMEOUT).text)
    header = json.loads(base64.urlsafe_b64decode(id_token.split(".")[0] + "=="))
    assert header["alg"] == "RS256", header
    return json.loads(jwt.JWT(jwt=id_token, key=keys, algs=["RS256"]).claims)


def test_config_and_discovery(idp):
    up = Shimlike(idp)
    assert not [k for k in up.config if k.startswith("_")]
    assert {k: up.config[k] for k in ("preset", "issuer", "client_id", "client_secret", "token_endpoint_auth_method",
                                      "scopes")} == {
        "preset": "oidc", "issuer": idp.issuer, "client_id": idp.client_id, "client_secret": idp.client_secret,
        "token_endpoint_auth_method": "client_secret_basic", "scopes": ["openid"]}
    assert idp.issuer.startswith("http://127.0.0.1:") and idp.callback_url.startswith("http://127.0.0.1:")
    meta = up.metadata
    assert meta["issuer"] == idp.issuer
    assert meta["authorization_endpoint"] == up.authorization_endpoint
    assert meta["token_endpoint"] == up.token_endpoint
    assert meta["userinfo_endpoint"] == idp.userinfo_endpoint
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert "client_secret_basic" in meta["token_endpoint_auth_methods_supported"]
    assert not meta.get("registration_endpoint")
    assert set(idp.resource_scopes) <= set(meta.get("scopes_supported") or idp.resource_scopes)


def test_code_flow_id_token_userinfo_and_refresh(idp):
    up, quirks = Shimlike(idp), QUIRKS[idp.name]
    session = idp.new_session()
    params, sent = up.sign_in(session)
    r = up.exchange(params["code"], sent)
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["token_type"].lower() == "bearer"
    assert tokens["expires_in"] == ACCESS_TOKEN_SECONDS
    assert set(tokens["scope"].split()) == set(up.scope.split())
    assert tokens["refresh_token"] and tokens["access_token"]

    claims = verified_id_token(idp, up.metadata, tokens["id_token"])
    assert claims["iss"] == idp.issuer and claims["nonce"] == sent["nonce"]
    assert idp.client_id in ([claims["aud"]] if isinstance(claims["aud"], str) else claims["aud"])

    me = httpx.get(idp.userinfo_endpoint, headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=TIMEOUT)
    assert me.status_code == 200, me.text
    assert me.json()["sub"] == claims["sub"]
    assert httpx.get(idp.userinfo_endpoint, headers={"Authorization": "Bearer not-a-token"},
                     timeout=TIMEOUT).status_code in (401, 403)

    r = up.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200, r.text
    refreshed = r.json()
    assert refreshed["access_token"] != tokens["access_token"]
    assert refreshed["expires_in"] == ACCESS_TOKEN_SECONDS
    me = httpx.get(idp.userinfo_endpoint, headers={"Authorization": f"Bearer {refreshed['access_token']}"},
                   timeout=TIMEOUT)
    assert me.status_code == 200 and me.json()["sub"] == claims["sub"], me.text

    old_again = up.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    if quirks["rotates_refresh_token"]:
        assert refreshed["refresh_token"] != tokens["refresh_token"]
        assert old_again.status_code == 400 and old_again.json()["error"] == "invalid_grant"
    else:  # the shim must keep the refresh token it has when none comes back
        assert "refresh_token" not in refreshed
        assert old_again.status_code == 200, old_again.text

    replay = up.exchange(params["code"], sent)
    assert replay.status_code >= 400 and "access_token" not in replay.text
    live = refreshed.get("refresh_token", tokens["refresh_token"])
    after = up.token({"grant_type": "refresh_token", "refresh_token": live})
    if quirks["replay_revokes_grant"]:  # RFC 6749 section 4.1.2: SHOULD revoke what the code gave
        assert after.status_code >= 400 and "access_token" not in after.text, after.text
    else:
        assert after.status_code == 200, after.text


def test_a_session_signs_in_once_and_a_new_session_again(idp, monkeypatch):
    up = Shimlike(idp)
    logins = []
    first, second = idp.new_session(), idp.new_session()
    for session in (first, second):
        real = session._login
        monkeypatch.setattr(session, "_login", lambda *a, real=real, **k: (logins.append(1), real(*a, **k))[1])
    up.sign_in(first)
    up.sign_in(first)
    assert len(logins) == 1
    up.sign_in(second)
    assert len(logins) == 2


@pytest.mark.parametrize("case", ["plain", "no method (means plain)", "no challenge"])
def test_pkce_other_than_s256_is_refused(idp, case):
    up = Shimlike(idp)
    overrides = {"plain": {"challenge_method": "plain"},
                 "no method (means plain)": {"challenge_method": None},
                 "no challenge": {"challenge_method": None, "code_challenge": None}}[case]
    url, sent = up.authorize_url(**overrides)
    location = idp.new_session().authorize(url)
    params = callback_params(location)
    assert location.startswith(idp.callback_url + "?")
    assert params.get("error") == "invalid_request" and "code" not in params, params
    assert params.get("state") == sent["state"]


def test_wrong_secret_and_wrong_verifier_are_refused(idp):
    up, quirks = Shimlike(idp), QUIRKS[idp.name]
    params, sent = up.sign_in()
    for r, expected in ((up.exchange(params["code"], sent, secret="wrong-" + idp.client_secret), quirks["wrong_secret"]),
                        (up.exchange(params["code"], sent, code_verifier=secrets.token_urlsafe(64)),
                         quirks["wrong_verifier"])):
        assert "access_token" not in r.text
        assert (r.status_code, r.json()["error"]) == expected, r.text
    # client_secret_basic is the client's only method at glewlwyd; DOT takes either
    post = httpx.post(up.token_endpoint, data={"grant_type": "authorization_code", "code": params["code"],
                                                "redirect_uri": sent["redirect_uri"],
                                                "code_verifier": sent["code_verifier"], "client_id": idp.client_id,
                                                "client_secret": "wrong-" + idp.client_secret}, timeout=TIMEOUT)
    assert post.status_code in (400, 401, 403) and "access_token" not in post.text


def test_basic_auth_alone_is_enough(idp):
    """glewlwyd's token endpoint was reported to want client_id in the body even
    with HTTP Basic; 2.7.5 does not (for the code or the refresh grant). The
    shim may send it anyway: Shimlike.token does, and every other test passes."""
    up = Shimlike(idp)
    params, sent = up.sign_in()
    data = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": sent["redirect_uri"],
            "code_verifier": sent["code_verifier"]}
    r = httpx.post(up.token_endpoint, data=data, auth=(idp.client_id, idp.client_secret), timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    refresh = {"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"]}
    r = httpx.post(up.token_endpoint, data=refresh, auth=(idp.client_id, idp.client_secret), timeout=TIMEOUT)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("redirect", ["other port", "other path", "suffix"])
def test_only_the_callback_is_a_redirect_uri(idp, redirect):
    up = Shimlike(idp)
    parts = urlsplit(idp.callback_url)
    bad = {"other port": f"http://127.0.0.1:{free_port()}{parts.path}",
           "other path": idp.callback_url + "/x",
           "suffix": idp.callback_url + "x"}[redirect]
    url, _ = up.authorize_url(redirect_uri=bad)
    with pytest.raises(IdPError, match=f"answered {QUIRKS[idp.name]['bad_redirect_status']} "):
        idp.new_session().authorize(url)


def test_only_the_code_flow(idp):
    """Implicit is refused (the error comes back to the callback, in the
    query or, for glewlwyd, the fragment), and so is client_credentials."""
    up = Shimlike(idp)
    url, _ = up.authorize_url(response_type="token")
    location = idp.new_session().authorize(url)
    assert location.startswith(idp.callback_url) and "error=" in location and "access_token" not in location
    r = up.token({"grant_type": "client_credentials", "scope": "mcp"})
    assert r.status_code >= 400 and "access_token" not in r.text


def test_registration_is_off(idp):
    for path in ("/register", "/register/"):
        r = httpx.post(idp.issuer + path, json={"redirect_uris": ["http://127.0.0.1:1/cb"], "client_name": "x"},
                       timeout=TIMEOUT)
        assert r.status_code in (403, 404, 405), (path, r.status_code)
    if idp.name == "django-oauth-toolkit":  # DOT's management pages would let a signed-in user add clients
        assert httpx.get(idp.issuer + "/applications/register/", timeout=TIMEOUT).status_code == 404


def test_nonce(idp):
    """glewlwyd refuses an openid request without a nonce (the shim sends one); DOT takes it."""
    up = Shimlike(idp)
    url, sent = up.authorize_url(nonce=None)
    params = callback_params(idp.new_session().authorize(url))
    if QUIRKS[idp.name]["nonce_required"]:
        assert params.get("error") == "invalid_request" and "code" not in params, params
    else:
        assert "code" in params and params["state"] == sent["state"], params


def test_stop_is_idempotent_and_frees_the_port(tmp_path):
    """stop() kills and reaps; a second stop() does nothing."""
    idp = start_glewlwyd(str(tmp_path), free_port(), f"http://127.0.0.1:{free_port()}/callback")
    idp.stop()
    idp.stop()
    assert idp.proc.returncode is not None
    with pytest.raises(httpx.HTTPError):
        httpx.get(idp.issuer + "/.well-known/openid-configuration", timeout=2)
