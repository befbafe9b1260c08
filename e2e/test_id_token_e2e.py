"""Issue 11, finding 11, against the real IdPs: the shim verifies each ID
token against the keys the IdP publishes (signature, iss, aud, exp, nonce),
and a token that does not meet the configured rules stops the sign-in."""
from __future__ import annotations

from .harness import Browser
from .shimclient import RawClient


def test_id_token_is_verified_against_the_idps_published_keys(stack):
    shim = stack.current()
    client = RawClient.register(shim)
    params = client.sign_in(Browser(), stack.idp.new_session())
    assert "code" in params, params
    assert client.exchange(params["code"]).status_code == 200
    log = shim.log_text()
    assert "upstream signing keys fetched" in log, log[-2000:]
    assert "upstream id_token verified" in log
    assert "id_token refused" not in log


def test_an_id_token_outside_the_allowed_algorithms_stops_the_sign_in(dot_stack):
    """django-oauth-toolkit signs with RS256; an operator who allows only
    ES256 gets every sign-in refused, with the reason in the log."""
    shim = dot_stack.shim("es256-only", extra={"upstream": {**dot_stack.idp.upstream_config(), "id_token_algorithms": ["ES256"]}})
    client = RawClient.register(shim)
    params = client.sign_in(Browser(), dot_stack.idp.new_session())
    assert params.get("error") == "access_denied" and "code" not in params, params
    assert "id_token alg RS256 is not allowed" in shim.log_text()
