"""Enterprise-Managed Authorization (ID-JAG) end to end: the user signs in
to the MCP client at django-oauth-toolkit (a real ID token); the client
exchanges it at shim A for an ID-JAG (leg 1, under A's policy); the real
mcp SDK's IdentityAssertionOAuthProvider presents the ID-JAG as a
jwt-bearer grant (leg 2) and calls a tool. Leg 2 runs at A itself and at
shim B, another issuer that trusts A and fetches A's keys over HTTPS under
rule 11. Then on two replicas of A sharing PostgreSQL, where an ID-JAG's
jti is single use across replicas."""
from __future__ import annotations

import asyncio
import base64
import json
import os

import httpx
import pytest

from .kit.cimd import DocumentServer
from .kit.cimd import TestCA as CertificateAuthority
from .kit.ema import JWT_BEARER, SSOApplication, exchange, sdk_tool_call
from .kit.flow import step
from .kit.gateway import NoAuthMCP, issued_extra, jwt_parts, pem_key
from .kit.harness import Shim
from .kit.idp import free_port
from .kit.postgres import PostgresServer
from .test_gateway_e2e import mcp_post

APP = ("mcp-client-app", "app-secret-at-the-shim-0123456789")      # the MCP client's application (leg 1)
CLIENT_A = ("ema-client-a", "ema-client-a-secret-0123456789")      # the MCP client at A (leg 2)
CLIENT_B = ("ema-client-b", "ema-client-b-secret-0123456789")      # the MCP client at B (leg 2)


@pytest.fixture(scope="module")
def ema_env(dot_stack, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ema")
    noauth = NoAuthMCP(workdir / "noauth")
    sso = SSOApplication(dot_stack.idp, APP[0])
    documents = DocumentServer(CertificateAuthority(workdir / "ca"))
    yield dot_stack, noauth, sso, documents, workdir
    documents.close()
    noauth.stop()


def issuer_extra(idp, issuer: str, noauth_url: str, rules: list[dict], **settings) -> dict:
    """Shim A: issued tokens, a gateway at /mcp, and ID-JAG issuance under `rules`."""
    extra = issued_extra(idp, issuer + "/mcp", upstream=noauth_url, **settings)
    extra["resources"][0].pop("upstream_token_header")
    extra["ema"] = {"clients": [{"id": APP[0], "secret": APP[1], "token_endpoint_auth_method": "client_secret_basic"},
                                {"id": CLIENT_A[0], "secret": CLIENT_A[1]}],
                    "issuer": {"enabled": True, "lifetime": "5m"}, "policy": rules}
    return extra


def rule(audience: str, client_id: str) -> dict:
    return {"clients": [APP[0]], "subjects": ["*"], "audience": audience, "resources": [audience + "/mcp"], "scopes": ["mcp"],
            "client_id": client_id}


def test_id_jag_from_a_real_sign_in_accepted_by_the_issuing_shim_and_by_another(ema_env):
    dot_stack, noauth, sso, documents, workdir = ema_env
    for old in dot_stack.shims:
        old.stop()
    idp = dot_stack.idp
    a_issuer, port_b = f"http://127.0.0.1:{dot_stack.shim_port}", free_port()
    b_issuer = f"http://127.0.0.1:{port_b}"
    a = Shim(workdir / "a", dot_stack.shim_port, idp, a_issuer + "/mcp",
             extra=issuer_extra(idp, a_issuer, noauth.url, [rule(a_issuer, CLIENT_A[0]), rule(b_issuer, CLIENT_B[0])],
                                keys={"signing_key": pem_key()})).start()
    dot_stack.shims.append(a)
    jwks_url = documents.publish("shim-a-jwks", httpx.get(a.base_url + "/jwks.json").json())
    b_extra = issued_extra(idp, b_issuer + "/mcp", upstream=noauth.url)
    b_extra["resources"][0].pop("upstream_token_header")
    b_extra["ema"] = {"trusted_issuers": [{"issuer": a_issuer, "jwks_uri": jwks_url, "algorithms": ["ES256"]}],
                      "clients": [{"id": CLIENT_B[0], "secret": CLIENT_B[1]}],
                      "insecure_private_hosts": ["localhost"], "insecure_ca_file": str(documents.ca.ca_path)}
    b = Shim(workdir / "b", port_b, idp, b_issuer + "/mcp", extra=b_extra).start()
    dot_stack.shims.append(b)
    try:
        metadata = httpx.get(a.base_url + "/.well-known/oauth-authorization-server").json()
        assert JWT_BEARER in metadata["grant_types_supported"] and "urn:ietf:params:oauth:grant-profile:id-jag" in \
            metadata["authorization_grant_profiles_supported"]

        id_token = sso.sign_in()
        subject = jwt_parts(id_token)[1]["sub"]
        idp_issuer = idp.upstream["issuer"]   # upstream.issuer: the issuer of the shim's sign-ins
        issued: list[str] = []

        async def leg1(audience: str, resource: str) -> str:
            step(f"leg 1: token exchange at shim A for audience {audience}, resource {resource}")
            r = exchange(a.base_url, APP, id_token, audience, resource)
            assert r.status_code == 200, r.text
            assert r.json()["issued_token_type"] == "urn:ietf:params:oauth:token-type:id-jag" and r.json()["token_type"] == "N_A"
            issued.append(r.json()["access_token"])
            return r.json()["access_token"]

        text, storage = asyncio.run(sdk_tool_call(a_issuer + "/mcp", a_issuer, CLIENT_A, leg1, "whoami", {}))
        step(f"leg 2 at A: the SDK got an access token and called whoami: {text}")
        # Rule 13: several issuers can assert users here, so the user is named with its issuer;
        # A's own ID-JAGs name the IdP's users, as A's sign-ins do.
        assert json.loads(text)["user"] == f"{idp_issuer}#{subject}" and json.loads(text)["client_id"] == CLIENT_A[0]
        assert storage.tokens.refresh_token is None and jwt_parts(storage.tokens.access_token)[0]["typ"] == "at+jwt"
        header, claims = jwt_parts(issued[0])
        assert header["typ"] == "oauth-id-jag+jwt" and claims["iss"] == a_issuer and claims["aud"] == a_issuer
        assert claims["sub"] == subject and claims["client_id"] == CLIENT_A[0] and claims["resource"] == a_issuer + "/mcp"

        text, storage = asyncio.run(sdk_tool_call(b_issuer + "/mcp", b_issuer, CLIENT_B, leg1, "whoami", {}))
        step(f"leg 2 at B (another issuer, trusting A): {text}")
        # At B the user is A's assertion of them: A's issuer names the subject.
        assert json.loads(text)["user"] == f"{a_issuer}#{subject}" and json.loads(text)["client_id"] == CLIENT_B[0]
        assert jwt_parts(issued[1])[1]["aud"] == b_issuer and jwt_parts(storage.tokens.access_token)[1]["iss"] == b_issuer
        assert "/shim-a-jwks.json" in documents.requests, "B fetched A's keys over HTTPS"
        assert "insecure relaxation in effect" in b.log_text()

        # Replay at B: the jti is single use. A policy that denies: access_denied. A forged ID token: invalid_grant.
        replay = httpx.post(b.base_url + "/token", data={"grant_type": JWT_BEARER, "assertion": issued[1], "client_id": CLIENT_B[0],
                                                         "client_secret": CLIENT_B[1]}, timeout=10)
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant" and "already used" in replay.text
        denied = exchange(a.base_url, APP, id_token, "https://not-in-the-policy.example", "https://not-in-the-policy.example/mcp")
        assert denied.status_code == 400 and denied.json()["error"] == "access_denied", denied.text
        head, body, _ = id_token.split(".")
        forged = exchange(a.base_url, APP, f"{head}.{body}.{base64.urlsafe_b64encode(os.urandom(256)).decode().rstrip('=')}",
                          b_issuer, b_issuer + "/mcp")
        assert forged.status_code == 400 and forged.json()["error"] == "invalid_grant", forged.text
        # The ID-JAG is not an access token: the gateway refuses it.
        gateway = httpx.post(b.base_url + "/mcp", headers={"Authorization": "Bearer " + issued[1]}, json={}, timeout=10)
        assert gateway.status_code == 401
        for log in (a.log_text(), b.log_text()):
            assert id_token not in log and not any(t in log for t in issued)
    finally:
        a.stop()
        b.stop()


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer()
    yield server
    server.stop()


def test_id_jag_on_two_replicas_sharing_postgres(ema_env, postgres):
    dot_stack, noauth, sso, _, workdir = ema_env
    for old in dot_stack.shims:
        old.stop()
    idp = dot_stack.idp
    issuer = f"http://127.0.0.1:{dot_stack.shim_port}"
    keys = {"encryption_key": base64.b64encode(os.urandom(32)).decode(), "cookie_key": base64.b64encode(os.urandom(32)).decode(),
            "signing_key": pem_key()}
    extra = issuer_extra(idp, issuer, noauth.url, [rule(issuer, CLIENT_A[0])], keys=keys, storage={"url": postgres.url})
    a1 = Shim(workdir / "a1", dot_stack.shim_port, idp, issuer + "/mcp", extra=extra).start()
    a2 = Shim(workdir / "a2", free_port(), idp, issuer + "/mcp", extra=extra, issuer_port=dot_stack.shim_port).start()
    try:
        id_token = sso.sign_in()
        id_jag = exchange(a1.base_url, APP, id_token, issuer, issuer + "/mcp").json()["access_token"]
        form = {"grant_type": JWT_BEARER, "assertion": id_jag, "client_id": CLIENT_A[0], "client_secret": CLIENT_A[1]}
        first = httpx.post(a2.base_url + "/token", data=form, timeout=10)
        assert first.status_code == 200, first.text
        again = httpx.post(a1.base_url + "/token", data=form, timeout=10)
        assert again.status_code == 400 and "already used" in again.json()["error_description"], "jti single use across replicas"

        # The SDK: its ID-JAG from replica A2 (leg 1), its token and tool call at the issuer's address (A1);
        # then the same access token through replica A2's gateway.
        async def leg1(audience: str, resource: str) -> str:
            return exchange(a2.base_url, APP, id_token, audience, resource).json()["access_token"]

        text, storage = asyncio.run(sdk_tool_call(issuer + "/mcp", issuer, CLIENT_A, leg1, "add", {"a": 20, "b": 22}))
        assert text == "42"
        assert mcp_post(a2, storage.tokens.access_token).status_code != 401
        events = httpx.get(a1.base_url + "/metrics").text
        assert 'kind="id_jag_accepted"' in events or "id_jag_accepted" in events
    finally:
        a1.stop()
        a2.stop()
