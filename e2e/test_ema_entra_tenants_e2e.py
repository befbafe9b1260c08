"""ID-JAG leg 1 with an Entra upstream configured by domain
(`upstream.tenant: contoso.onmicrosoft.com`), against the recorded-behaviour
Entra fake: the shim reads the domain's discovery document, pins the
tenant's GUID issuer, and then refuses an ID token of another tenant that
the MCP client's multi-tenant registration received, signed with the same
keys; an access token for the application's own API (same iss, aud and
keys, with scp) is refused as not an ID token."""
from __future__ import annotations

import uuid

from .kit.ema import exchange
from .kit.fakes import EntraFake
from .kit.gateway import issued_extra, jwt_parts
from .kit.harness import Shim
from .kit.idp import free_port


def test_domain_tenant_refuses_an_id_token_of_another_tenant_at_leg_1(tmp_path):
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    fake = EntraFake(issuer + "/callback")
    app = (str(uuid.uuid4()), "app-secret-at-the-shim-0123456789")   # the MCP client's own Entra registration, multi-tenant
    try:
        idp = fake.as_idp()
        idp.upstream = {**idp.upstream, "tenant": fake.domain, "issuer": f"{fake.base}/{fake.domain}/v2.0",
                        "jwks_uri": fake.jwks_url(), "scopes": ["openid", "offline_access"]}
        resource = issuer + "/mcp"
        scope = idp.resource_scopes[0]
        extra = issued_extra(idp, resource)
        extra["ema"] = {"clients": [{"id": app[0], "secret": app[1], "token_endpoint_auth_method": "client_secret_basic"}],
                        "issuer": {"enabled": True, "lifetime": "5m"},
                        "policy": [{"clients": [app[0]], "subjects": ["*"], "audience": issuer, "resources": [resource],
                                    "scopes": [scope], "client_id": "client-at-the-target"}]}
        shim = Shim(tmp_path / "shim", port, idp, resource, extra=extra).start()
        try:
            home = exchange(shim.base_url, app, fake.sso_id_token(app[0]), issuer, resource, scope=scope)
            assert home.status_code == 200, home.text
            id_jag = jwt_parts(home.json()["access_token"])[1]
            assert id_jag["tenant"] == fake.tenant
            # Entra's sub is pairwise per application: the user is <tid>/<oid>, as at sign-in.
            assert id_jag["sub"] == f"{fake.tenant}/{fake.oid}" != fake.pairwise_sub(app[0]), id_jag
            assert any(r.path == f"/{fake.domain}/v2.0/.well-known/openid-configuration" for r in fake.requests), \
                "the domain was resolved through its discovery document"

            other = exchange(shim.base_url, app, fake.sso_id_token(app[0], tenant=fake.other_tenant), issuer, resource, scope=scope)
            assert other.status_code == 400 and other.json()["error"] == "invalid_grant", other.text
            assert "another issuer" in other.json()["error_description"], other.text

            access = exchange(shim.base_url, app, fake.api_access_token(app[0]), issuer, resource, scope=scope)
            assert access.status_code == 400 and access.json()["error"] == "invalid_grant", access.text
            assert "scp" in access.json()["error_description"], access.text
            assert not any(t in shim.log_text() for t in (home.json()["access_token"],))
        finally:
            shim.stop()
    finally:
        fake.stop()
