"""Negative end-to-end cases for the security rules (docs/security-rules.md), against the
shim in front of django-oauth-toolkit. Each test names its rule."""
from __future__ import annotations

import httpx
import pytest

from .kit.harness import Browser, query
from .kit.shimclient import RawClient


@pytest.fixture
def shim(dot_stack):
    return dot_stack.current()


@pytest.fixture
def idp(dot_stack):
    return dot_stack.idp


def no_redirect(r: httpx.Response, status: int = 400) -> None:
    """An error page: the contract's status, and no Location to follow."""
    assert r.status_code == status, (r.status_code, r.headers.get("location"), r.text[:200])
    assert "location" not in r.headers


def upstream_authorize_requests(idp) -> int:
    """How many authorize requests django-oauth-toolkit has logged."""
    return open(idp.log_path, encoding="utf-8", errors="replace").read().count("/o/authorize/")


def test_rule1_disallowed_redirect_refused_at_registration(shim):
    for uri in ["https://evil.example/callback", "http://attacker.example/cb", "http://127.0.0.1:5/cb#frag",
                "javascript://127.0.0.1/%0aalert(1)"]:
        r = httpx.post(shim.base_url + "/register", json={"redirect_uris": [uri]})
        assert r.status_code == 400, uri
        assert r.json()["error"] == "invalid_redirect_uri", uri


def test_rule2_mismatched_redirect_at_authorize_is_a_page_not_a_redirect(shim, idp):
    client = RawClient.register(shim)
    browser = Browser()
    before = upstream_authorize_requests(idp)
    for bad in [{"redirect_uri": "http://127.0.0.1:9/other"}, {"redirect_uri": "https://evil.example/callback"},
                {"redirect_uri": client.redirect_uri + "/x"}, {"redirect_uri": client.redirect_uri + "?a=1"},
                {"client_id": "no-such-client"}, {"client_id": None}]:
        r = browser.get(client.authorize_url(**bad))
        no_redirect(r)
        # The consent form is not offered either.
        assert 'name="csrf_token"' not in r.text, bad
    # The IdP was never contacted for these ...
    assert upstream_authorize_requests(idp) == before
    assert "evil.example" not in open(idp.log_path).read()
    # ... while the registered redirect_uri does reach it (so the count above means something).
    assert "code" in client.sign_in(Browser(), idp.new_session())
    assert upstream_authorize_requests(idp) > before


@pytest.mark.parametrize("challenge,method", [(None, None), ("x" * 43, "plain"), ("abc", "S256")])
def test_rule3_missing_or_plain_pkce_refused_with_error_redirect(shim, challenge, method):
    client = RawClient.register(shim)
    r = Browser().get(client.authorize_url(code_challenge=challenge, code_challenge_method=method))
    assert r.status_code == 302
    params = query(r.headers["location"])
    assert r.headers["location"].startswith(client.redirect_uri)
    assert params["error"] == "invalid_request"
    assert params["state"] == "st-" + client.client_id[:6]
    assert params["iss"] == shim.base_url


def test_rule3_wrong_verifier_is_invalid_grant(shim, idp):
    client = RawClient.register(shim)
    params = client.sign_in(Browser(), idp.new_session())
    r = client.exchange(params["code"], code_verifier="W" * 64)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_rule6_replayed_code_fails_and_revokes_its_tokens(shim, idp):
    client = RawClient.register(shim)
    params = client.sign_in(Browser(), idp.new_session())
    first = client.exchange(params["code"])
    assert first.status_code == 200, first.text
    refresh = first.json()["refresh_token"]
    replay = client.exchange(params["code"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    after = client.refresh(refresh)
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"


def test_rule7_refresh_token_used_twice_revokes_the_family(dot_stack):
    shim = dot_stack.shim("no-grace", refresh_grace="0s")
    try:
        client = RawClient.register(shim)
        params = client.sign_in(Browser(), dot_stack.idp.new_session())
        tokens = client.exchange(params["code"]).json()
        rotated = client.refresh(tokens["refresh_token"])
        assert rotated.status_code == 200, rotated.text
        successor = rotated.json()["refresh_token"]
        assert successor != tokens["refresh_token"]
        reuse = client.refresh(tokens["refresh_token"])
        assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
        # The whole family is gone: the successor no longer works either.
        dead = client.refresh(successor)
        assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
        assert "reuse detected" in shim.log_text()
    finally:
        shim.stop()


def test_rule7_refresh_token_bound_to_its_client(dot_stack):
    shim = dot_stack.current()
    owner = RawClient.register(shim)
    other = RawClient.register(shim)
    tokens = owner.exchange(owner.sign_in(Browser(), dot_stack.idp.new_session())["code"]).json()
    stolen = other.refresh(tokens["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"


def test_unknown_client_at_token_is_401_invalid_client(dot_stack):
    shim = dot_stack.current()
    r = httpx.post(shim.base_url + "/token", data={"grant_type": "authorization_code", "client_id": "gone",
                                                   "code": "x", "redirect_uri": "http://127.0.0.1/cb", "code_verifier": "v" * 43})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_rule5_tampered_callback_state_is_refused_without_redirect(dot_stack):
    shim = dot_stack.current()
    client = RawClient.register(shim)
    browser = Browser()
    upstream_urls: list[str] = []
    session = dot_stack.idp.new_session()

    class Tamper:
        def authorize(self, url: str) -> str:
            upstream_urls.append(url)
            callback = session.authorize(url)
            return callback.replace("state=", "state=X")

    from .kit.harness import authorize_through_shim
    with pytest.raises(AssertionError, match="GET /callback"):
        authorize_through_shim(browser, Tamper(), client.authorize_url(), client_redirect_prefix=client.redirect_uri)
    last = browser.responses[-1]
    assert last.request.url.path == "/callback"
    no_redirect(last)


def test_rule5_callback_in_another_browser_is_refused(dot_stack):
    """A victim who opens an attacker's upstream URL and signs in must not
    produce a code for the attacker's client."""
    shim = dot_stack.current()
    attacker_client = RawClient.register(shim)
    attacker = Browser()
    r = attacker.get(attacker_client.authorize_url())
    page = attacker.get(shim.base_url + r.headers["location"][len(shim.base_url):])
    from .kit.harness import parse_consent_form
    form = parse_consent_form(page.text)
    allow = attacker.post(shim.base_url + "/consent", data={**form, "decision": "allow"})
    upstream = allow.headers["location"]
    victim = Browser()
    callback = dot_stack.idp.new_session().authorize(upstream)  # the victim signs in
    assert callback.startswith(shim.callback_url + "?")
    landed = victim.get(callback)
    no_redirect(landed)
    # Nothing was sent towards the attacker's redirect_uri.
    assert not any((r.headers.get("location") or "").startswith(attacker_client.redirect_uri)
                   for r in victim.responses)


def test_rule4_deny_returns_access_denied_with_state_and_iss(dot_stack):
    shim = dot_stack.current()
    client = RawClient.register(shim)
    from .kit.harness import authorize_through_shim
    final = authorize_through_shim(Browser(), dot_stack.idp.new_session(), client.authorize_url(),
                                   client_redirect_prefix=client.redirect_uri, decision="deny")
    params = query(final)
    assert params["error"] == "access_denied"
    assert params["state"] == "st-" + client.client_id[:6]
    assert params["iss"] == shim.base_url


MALFORMED = [
    ("POST", "/register", {"Content-Type": "application/json"}, b"{not json"),
    ("POST", "/register", {"Content-Type": "text/plain"}, b'{"redirect_uris":["http://127.0.0.1/cb"]}'),
    ("POST", "/register", {"Content-Type": "application/json"}, b'{"redirect_uris":"http://127.0.0.1/cb"}'),
    ("POST", "/register", {"Content-Type": "application/json"}, b"[]"),
    ("POST", "/register", {"Content-Type": "application/json"}, b"x" * (1024 * 1024)),
    ("POST", "/register", {"Content-Type": "application/json"}, b'{"redirect_uris":["http://127.0.0.1/cb"],"client_name":"' + b"x" * (1024 * 1024) + b'"}'),
    ("POST", "/register", {"Content-Type": "application/json"}, b"{}"),
    ("POST", "/register", {"Content-Type": "application/json"}, b'{"redirect_uris":[]}'),
    ("POST", "/register", {"Content-Type": "application/json"}, b'{"redirect_uris":["http://127.0.0.1/cb"],"grant_types":"x"}'),
    ("POST", "/register", {}, b""),
    ("POST", "/token", {"Content-Type": "application/json"}, b'{"grant_type":"authorization_code"}'),
    ("POST", "/token", {"Content-Type": "application/x-www-form-urlencoded"}, b"grant_type=authorization_code&grant_type=refresh_token"),
    ("POST", "/token", {"Content-Type": "application/x-www-form-urlencoded"}, b""),
    ("POST", "/token", {"Content-Type": "application/x-www-form-urlencoded"}, b"grant_type=password&client_id=x"),
    ("POST", "/token", {"Content-Type": "application/x-www-form-urlencoded"}, b"grant_type=%zz"),
    ("POST", "/token", {"Content-Type": "application/x-www-form-urlencoded"}, b"a=" + b"x" * (1024 * 1024)),
    ("POST", "/token", {"Content-Type": "text/plain"}, b"grant_type=refresh_token&refresh_token=x&client_id=y"),
    ("POST", "/token", {"Content-Type": "application/x-www-form-urlencoded"}, b"grant_type=refresh_token&client_id=x"),
    ("POST", "/token", {"Content-Type": "application/x-www-form-urlencoded"}, b"grant_type=refresh_token&refresh_token=a&refresh_token=b&client_id=x"),
    ("POST", "/token", {"Content-Type": "application/x-www-form-urlencoded"}, b"grant_type=authorization_code&client_id=x&code=c"),
    ("POST", "/token", {"Content-Type": "application/x-www-form-urlencoded"}, b"grant_type=authorization_code&client_id=x&client_id=y&code=c"),
    ("POST", "/revoke", {"Content-Type": "application/x-www-form-urlencoded"}, b"token=a&token=b"),
    ("POST", "/revoke", {"Content-Type": "text/plain"}, b"token=a"),
    ("POST", "/revoke", {"Content-Type": "application/x-www-form-urlencoded"}, b"client_id=x"),
    ("POST", "/revoke", {"Content-Type": "application/x-www-form-urlencoded"}, b"token=" + b"x" * (1024 * 1024)),
    ("POST", "/consent", {"Content-Type": "application/x-www-form-urlencoded"}, b"request_id=a&request_id=b"),
    ("POST", "/consent", {"Content-Type": "application/x-www-form-urlencoded"}, b"request_id=a&csrf_token=b&decision=allow"),
    ("POST", "/consent", {"Content-Type": "multipart/form-data"}, b"x"),
    ("POST", "/consent", {"Content-Type": "application/x-www-form-urlencoded"}, b""),
    ("POST", "/consent", {"Content-Type": "application/x-www-form-urlencoded"}, b"request_id=" + b"x" * (1024 * 1024)),
    ("GET", "/authorize?client_id=a&client_id=b", {}, None),
    ("GET", "/authorize", {}, None),
    ("GET", "/authorize?client_id=%ZZ", {}, None),
    ("GET", "/authorize?response_type=code", {}, None),
    ("GET", "/authorize?client_id=" + "x" * 20000, {}, None),
    ("GET", "/consent", {}, None),
    ("GET", "/consent?request_id=nope", {}, None),
    ("GET", "/callback", {}, None),
    ("GET", "/callback?state=a&state=b", {}, None),
    ("GET", "/callback?state=forged&code=c", {}, None),
]


@pytest.mark.parametrize("method,path,headers,body", MALFORMED, ids=[f"{m} {p[:40]} {h.get('Content-Type', '')} {len(b or b'')}" for m, p, h, b in MALFORMED])
def test_rule10_malformed_input_gets_a_4xx_oauth_error(dot_stack, method, path, headers, body):
    shim = dot_stack.current()
    r = httpx.request(method, shim.base_url + path, headers={**headers, "Accept": "application/json"}, content=body, timeout=20)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    assert "error" in r.json(), r.text[:200]


def test_rule8_unknown_resource_and_resource_mismatch_are_invalid_target(dot_stack):
    shim = dot_stack.current()
    client = RawClient.register(shim)
    r = Browser().get(client.authorize_url(resource="https://other.example/mcp"))
    assert r.status_code == 302 and query(r.headers["location"])["error"] == "invalid_target"
    params = client.sign_in(Browser(), dot_stack.idp.new_session())
    wrong = client.exchange(params["code"], resource="https://other.example/mcp")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_target"


def test_an_id_token_outside_the_allowed_algorithms_stops_the_sign_in(dot_stack):
    """Rule 12 for ID tokens: django-oauth-toolkit signs its ID tokens RS256;
    with upstream.id_token_algorithms [ES256] every sign-in is refused
    (access_denied to the client, the reason in the log): the ID token is
    verified, not only read."""
    shim = dot_stack.shim("es256-only", extra={"upstream": {**dot_stack.idp.upstream_config(), "id_token_algorithms": ["ES256"]}})
    client = RawClient.register(shim)
    params = client.sign_in(Browser(), dot_stack.idp.new_session())
    assert params.get("error") == "access_denied" and "code" not in params, params
    assert "id_token alg RS256 is not allowed" in shim.log_text()
