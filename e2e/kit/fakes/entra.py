"""Microsoft Entra ID (v2 endpoints), from Microsoft's documentation:

- the code flow: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
- scopes and permissions: https://learn.microsoft.com/entra/identity-platform/scopes-oidc
- error codes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
- OIDC metadata: https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc
- certificate credentials (private_key_jwt):
  https://learn.microsoft.com/entra/identity-platform/certificate-credentials
- workload identity federation (a federated credential's issuer, subject, audience):
  https://learn.microsoft.com/entra/workload-id/workload-identity-federation
- on-behalf-of (a middle tier exchanging the user's access token for another API's):
  https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow

Paths as on login.microsoftonline.com: ``/{tenant}/oauth2/v2.0/authorize``,
``/{tenant}/oauth2/v2.0/token``, ``/{tenant}/v2.0/.well-known/openid-configuration``,
``/{tenant}/discovery/v2.0/keys``. One app registration (the shim's static
client, redirect ``<shim>/callback`` on the Web platform) and one API app
exposing ``api://{api}/mcp.access`` and ``mcp.admin``.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from .base import Answer, Refusal, Request, b64url
from .standard import StandardProvider

OIDC_SCOPES = {"openid", "profile", "email", "offline_access"}
#: RFC 7521 4.2 / RFC 7523 2.2.
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The audience Entra documents for a federated credential's tokens.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
#: Clock skew Entra tolerates on an assertion's nbf and exp (the fake's figure).
SKEW = 300
#: RFC 7523 2.1: the grant type of an on-behalf-of request.
OBO_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: The downstream API the fake knows (Microsoft Graph) and the delegated permissions consented for it.
GRAPH = "https://graph.microsoft.com"


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class EntraFake(StandardProvider):
    name = "entra (fake)"
    preset = "entra"
    offline_scope_needed = True   # "offline_access ... the app gets a refresh token" (scopes-oidc)
    keeps_old_valid = True        # a new refresh token each time; the old one is not revoked
    s256_only = False             # Entra accepts plain and S256 (v2-oauth2-auth-code-flow)
    user_sub = "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"   # pairwise, per app (id-token-claims-reference)

    #: A verified domain of the home tenant: its discovery document names the tenant's GUID issuer.
    domain = "contoso.onmicrosoft.com"
    #: v2-protocols-oidc: Entra's discovery document lists these.
    auth_methods = ("client_secret_post", "private_key_jwt", "client_secret_basic")

    def __init__(self, callback_url: str, **kwargs) -> None:
        self.tenant = str(uuid.uuid4())
        #: Another tenant whose users can sign in to a multi-tenant application.
        self.other_tenant = str(uuid.uuid4())
        self.api_app = str(uuid.uuid4())
        self.exposed = {"mcp.access", "mcp.admin"}
        self.oid = str(uuid.uuid4())
        #: Certificates & secrets → Certificates: the DER of each registered certificate.
        self.certificates: list[bytes] = []
        #: Certificates & secrets → Federated credentials: (issuer, subject, audience).
        self.federated_credentials: list[tuple[str, str, str]] = []
        #: The signing keys of the federated issuers (Entra reads them from each issuer's discovery document).
        self.federated_issuer_keys: dict[str, object] = {}
        #: Every client assertion's jti seen, and how each token request authenticated.
        self.seen_jtis: set[str] = set()
        self.client_auth_log: list[str] = []
        #: On-behalf-of: Graph permissions consented for the app, the lifetime of its tokens,
        #: the AADSTS code to answer instead (65001, 50079, 50076, 70011), every OBO request seen.
        self.obo_consented = {"User.Read"}
        self.obo_seconds = 3600
        self.obo_refusal: int | None = None
        self.obo_requests: list[dict] = []
        super().__init__(callback_url, **kwargs)

    # --- the app registration's credentials -------------------------------------

    def register_certificate(self, pem: bytes) -> None:
        """az ad app credential reset --cert @cert.pem --append."""
        self.certificates.append(x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER))

    def add_federated_credential(self, issuer: str, subject: str, public_key, audience: str = TOKEN_EXCHANGE_AUDIENCE) -> None:
        """az ad app federated-credential create --parameters {issuer, subject, audiences}."""
        self.federated_credentials.append((issuer, subject, audience))
        self.federated_issuer_keys[issuer] = public_key

    def make_client_id(self) -> str:
        return str(uuid.uuid4())

    @property
    def resource_scopes(self) -> list[str]:
        return [f"api://{self.api_app}/mcp.access"]

    @property
    def issuer(self) -> str:
        return f"{self.base}/{self.tenant}/v2.0"

    def routes(self):
        t = f"/{self.tenant}"
        return {("GET", t + "/oauth2/v2.0/authorize"): "authorize", ("POST", t + "/oauth2/v2.0/token"): "token",
                ("GET", t + "/v2.0/.well-known/openid-configuration"): "discovery",
                ("GET", t + "/discovery/v2.0/keys"): "jwks", ("GET", "/oidc/userinfo"): "userinfo",
                # v2-protocols-oidc: the document asked for by domain names the tenant's GUID issuer.
                ("GET", f"/{self.domain}/v2.0/.well-known/openid-configuration"): "discovery"}

    def jwks_url(self) -> str:
        return f"{self.base}/{self.tenant}/discovery/v2.0/keys"

    def endpoint(self, name: str) -> str:
        return f"{self.base}/{self.tenant}/oauth2/v2.0/{name}"

    def upstream_config(self) -> dict:
        return {"preset": "entra", "tenant": self.tenant, "client_id": self.client_id, "client_secret": self.client_secret,
                "token_endpoint_auth_method": "client_secret_post",
                # login.microsoftonline.com is fixed in the preset; a test IdP on loopback overrides it.
                "authorization_endpoint": self.endpoint("authorize"), "token_endpoint": self.endpoint("token"),
                "issuer": self.issuer}

    def userinfo_url(self) -> str:
        return self.base + "/oidc/userinfo"

    def discovery(self, request: Request) -> Answer:
        return Answer.json(self.discovery_document(self.endpoint("authorize"), self.endpoint("token"), self.userinfo_url(),
                                                   f"{self.base}/{self.tenant}/discovery/v2.0/keys", tenant_region_scope="EU"))

    # --- Entra's answers --------------------------------------------------------

    def description(self, code: int, text: str) -> str:
        return (f"AADSTS{code}: {text} Trace ID: {uuid.uuid4()} Correlation ID: {uuid.uuid4()} "
                f"Timestamp: {time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime())}")

    def error_page(self, code: int, text: str) -> Answer:
        # Entra shows its own sign-in error page and does not redirect for these.
        page = Answer.page(200, "Sign in to your account", "Sorry, but we're having trouble signing you in. " + self.description(code, text))
        return page

    def aad_error(self, status: int, error: str, code: int, text: str) -> Refusal:
        return Refusal(Answer.json({"error": error, "error_description": self.description(code, text), "error_codes": [code],
                                    "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
                                    "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4()),
                                    "error_uri": f"https://login.microsoftonline.com/error?code={code}"}, status))

    def token_error(self, status: int, error: str, description: str) -> Refusal:
        code = {"invalid_grant": 70008, "unsupported_grant_type": 70003, "invalid_request": 900144}.get(error, 90014)
        return self.aad_error(status, error, code, description)

    def bad_client_error(self) -> Refusal:
        return self.aad_error(401, "invalid_client", 7000215,
                              "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'." % self.client_id)

    def unknown_client_page(self) -> Answer:
        return self.error_page(700016, "Application with identifier was not found in the directory.")

    def bad_redirect_page(self, redirect_uri: str) -> Answer:
        return self.error_page(50011, f"The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{self.client_id}'.")

    # --- Entra's rules ------------------------------------------------------------

    def check_scopes(self, scope: str) -> tuple[int, str] | None:
        """scopes-oidc: one resource per request; `.default` not combined with
        named scopes of it; an unqualified name is a Microsoft Graph scope."""
        resources, names = set(), []
        for value in scope.split():
            if value in OIDC_SCOPES:
                continue
            if "/" not in value:   # "mcp.access" means https://graph.microsoft.com/mcp.access
                return 70011, f"The provided value for the input parameter 'scope' is not valid. The scope {value} is not valid."
            resource, _, name = value.rpartition("/")
            resources.add(resource)
            names.append(name)
        if len(resources) > 1:
            return 28000, "Provided value for the input parameter scope is not valid because it contains more than one resource."
        if ".default" in names and len(names) > 1:
            return 70011, "The provided value for the input parameter 'scope' is not valid. .default scope can't be combined with resource-specific scopes."
        if resources and resources != {f"api://{self.api_app}"}:
            return 500011, f"The resource principal named {next(iter(resources))} was not found in the tenant."
        unknown = [n for n in names if n not in self.exposed | {".default"}]
        if unknown:
            return 70011, f"The provided value for the input parameter 'scope' is not valid. The scope {unknown[0]} is not valid."
        return None

    def rule_authorize(self, q: dict) -> None:
        # AADSTS901002 / AADSTS9010010: the v2 endpoint does not take `resource`.
        if "resource" in q:
            if q.get("scope"):
                raise self.redirect_error(q, "invalid_request", self.description(9010010, "The resource parameter provided in the request doesn't match with the requested scopes."))
            raise self.redirect_error(q, "invalid_request", self.description(901002, "The 'resource' request parameter is not supported."))
        problem = self.check_scopes(q.get("scope", ""))
        if problem:
            raise self.redirect_error(q, "invalid_scope", self.description(*problem))

    def code_params(self, q: dict, code: str) -> dict:
        params = super().code_params(q, code)
        params["session_state"] = str(uuid.uuid4())
        return params

    # --- client assertions (certificate-credentials, workload-identity-federation) ---

    def token(self, request: Request) -> Answer:
        p = request.params
        if p.get("grant_type") == OBO_GRANT:
            return self.on_behalf_of(request)
        if "client_assertion" not in p and "client_assertion_type" not in p:
            self.client_auth_log.append("secret")
            return super().token(request)
        self.client_auth_log.append(self.check_client_assertion(request))
        grant = p.get("grant_type")
        if grant == "authorization_code":
            return self.code_grant(request)
        if grant == "refresh_token":
            return self.refresh_grant(request)
        raise self.token_error(400, "unsupported_grant_type", f"grant_type {grant} is not supported")

    # --- on-behalf-of (v2-oauth2-on-behalf-of-flow) -----------------------------------

    def on_behalf_of(self, request: Request) -> Answer:
        """The middle tier's request: its own client authentication (a secret or a
        client assertion), `assertion` = an access token Entra issued whose aud is
        that app (not an ID token, not a token for another API), `scope`, and
        `requested_token_use=on_behalf_of`. Answers token_type, scope, expires_in,
        access_token (a refresh token only with offline_access)."""
        p = request.params
        if "client_assertion" in p or "client_assertion_type" in p:
            kind = self.check_client_assertion(request)
        else:
            client_id, secret, _ = self.client_credentials(request)
            if client_id != self.client_id or not secret or not secrets.compare_digest(secret, self.client_secret):
                raise self.bad_client_error()
            kind = "secret"
        self.client_auth_log.append(kind)
        with self.lock:
            record = self.access_tokens.get(p.get("assertion", ""))
        self.obo_requests.append({"client_auth": kind, "scope": p.get("scope"), "requested_token_use": p.get("requested_token_use"),
                                  "assertion_aud": record.get("aud") if record else None})
        if p.get("requested_token_use") != "on_behalf_of":
            raise self.aad_error(400, "invalid_request", 900144,
                                 "The request body must contain the following parameter: 'requested_token_use'.")
        if record is None or record["expires"] <= time.time():
            raise self.aad_error(400, "invalid_grant", 50013, "Assertion failed signature validation.")
        if record.get("aud") != self.client_id:
            raise self.aad_error(400, "invalid_grant", 50013, "Assertion audience claim does not match the required value.")
        if self.obo_refusal == 65001:
            raise self.aad_error(400, "invalid_grant", 65001,
                                 f"The user or administrator has not consented to use the application with ID '{self.client_id}'. "
                                 "Send an interactive authorization request for this user and resource.")
        if self.obo_refusal in (50076, 50079):
            refusal = self.aad_error(400, "interaction_required", self.obo_refusal,
                                     "Due to a configuration change made by your administrator, or because you moved to a new "
                                     "location, you must use multi-factor authentication to access the resource.")
            body = json.loads(refusal.answer.body)
            body["claims"] = json.dumps({"access_token": {"polids": {"essential": True, "values": [str(uuid.uuid4())]}}})
            raise Refusal(Answer.json(body, 400))
        scope = p.get("scope", "")
        names = [value for value in scope.split() if value not in OIDC_SCOPES]
        unknown = [n for n in names if not n.startswith(GRAPH + "/") or n[len(GRAPH) + 1:] not in self.obo_consented | {".default"}]
        if self.obo_refusal == 70011 or not names or unknown:
            raise self.aad_error(400, "invalid_scope", 70011,
                                 f"The provided value for the input parameter 'scope' is not valid. The scope {(unknown or [scope])[0]} is not valid.")
        body = {"token_type": "Bearer", "scope": " ".join(n[len(GRAPH) + 1:] for n in names), "expires_in": self.obo_seconds,
                "ext_expires_in": self.obo_seconds,
                "access_token": self.new_access_token(scope, aud=GRAPH, obo_of=record.get("aud"), sub=record["sub"])}
        if "offline_access" in scope.split():
            body["refresh_token"] = self.new_refresh_token(scope)
        return Answer.json(body)

    def assertion_refused(self, code: int, text: str) -> Refusal:
        return self.aad_error(401, "invalid_client", code, text)

    def check_client_assertion(self, request: Request) -> str:
        """Entra's checks of a client assertion; answers "certificate" or
        "federated". Codes: 700027 (signature; certificate not registered),
        700024 (not within its valid time range), 700023 (audience), 70021 and
        700212 (no federated credential for the issuer/subject, the audience).
        A certificate assertion's reused jti the fake refuses with 700027 (the docs: jti prevents replay)."""
        p = request.params
        if p.get("client_assertion_type") != JWT_BEARER:
            raise self.aad_error(400, "invalid_request", 90014, f"client_assertion_type must be {JWT_BEARER}.")
        if "client_secret" in p:
            raise self.aad_error(400, "invalid_request", 90014, "Both client_secret and client_assertion were presented.")
        if p.get("client_id") not in (None, self.client_id):
            raise self.aad_error(400, "unauthorized_client", 700016, "Application with identifier was not found in the directory.")
        parts = p["client_assertion"].split(".")
        try:
            header, claims = (json.loads(_b64decode(part)) for part in parts[:2])
            signature = _b64decode(parts[2])
        except (ValueError, IndexError):
            raise self.assertion_refused(700027, "Client assertion is not a valid JWT.")
        signing_input = (parts[0] + "." + parts[1]).encode()
        now = time.time()
        if not isinstance(claims.get("exp"), int) or claims["exp"] + SKEW < now or claims.get("nbf", 0) - SKEW > now:
            raise self.assertion_refused(700024, "Client assertion is not within its valid time range.")
        if "x5t#S256" in header or "x5t" in header:
            self.check_certificate_assertion(header, claims, signing_input, signature)
            kind = "certificate"
        else:
            self.check_federated_assertion(header, claims, signing_input, signature)
            kind = "federated"
        # A federated token is presented again until it is rotated (the kubelet renews it at 80%
        # of its life), so replay is refused for the assertions the client signs itself only.
        jti = claims.get("jti")
        if kind == "certificate":
            if not jti:
                raise self.assertion_refused(700027, "Client assertion has no jti.")
            with self.lock:
                if jti in self.seen_jtis:
                    raise self.assertion_refused(700027, "Client assertion was already used (jti replay).")
                self.seen_jtis.add(jti)
        return kind

    def check_certificate_assertion(self, header: dict, claims: dict, signing_input: bytes, signature: bytes) -> None:
        # certificate-credentials: PS256 names the certificate by x5t#S256; RS256 by x5t (SHA-1).
        alg = header.get("alg")
        if alg == "PS256":
            thumbprint, digest = header.get("x5t#S256"), hashlib.sha256
            pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        elif alg == "RS256":
            thumbprint, digest = (header.get("x5t"), hashlib.sha1) if "x5t" in header else (header.get("x5t#S256"), hashlib.sha256)
            pad = padding.PKCS1v15()
        else:
            raise self.assertion_refused(700027, f"Client assertion alg {alg} is not supported; use PS256 or RS256.")
        match = next((der for der in self.certificates if b64url(digest(der).digest()) == thumbprint), None)
        if match is None:
            used = (_b64decode(thumbprint).hex().upper() if isinstance(thumbprint, str) else "none")
            raise self.assertion_refused(
                700027, "The certificate with identifier used to sign the client assertion is not registered on application. "
                        f"[Reason - The key was not found., Thumbprint of key used by client: '{used}']")
        try:
            x509.load_der_x509_certificate(match).public_key().verify(signature, signing_input, pad, hashes.SHA256())
        except InvalidSignature:
            raise self.assertion_refused(700027, "Client assertion contains an invalid signature.")
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            raise self.assertion_refused(700027, "Client assertion iss and sub must be the application's client id.")
        if claims.get("aud") != self.endpoint("token"):
            raise self.assertion_refused(700023, "Client assertion audience claim does not match Realm issuer.")

    def check_federated_assertion(self, header: dict, claims: dict, signing_input: bytes, signature: bytes) -> None:
        issuer, subject = claims.get("iss"), claims.get("sub")
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        key = self.federated_issuer_keys.get(issuer)
        if key is None or not any(i == issuer and s == subject for i, s, _ in self.federated_credentials):
            raise self.assertion_refused(
                70021, f"No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. "
                       f"Assertion Subject: '{subject}'.")
        if not any(i == issuer and s == subject and a in audiences for i, s, a in self.federated_credentials):
            raise self.assertion_refused(700212, f"No matching federated identity record found for presented assertion audience '{audiences}'.")
        if header.get("alg") != "RS256":
            raise self.assertion_refused(700027, "Client assertion alg is not supported.")
        try:
            key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise self.assertion_refused(700027, "Client assertion contains an invalid signature.")

    def rule_token(self, request: Request, record: dict) -> None:
        if "resource" in request.params:
            raise self.aad_error(400, "invalid_request", 901002, "The 'resource' request parameter is not supported.")

    def rule_refresh(self, request: Request, record: dict) -> None:
        if "resource" in request.params:
            raise self.aad_error(400, "invalid_request", 901002, "The 'resource' request parameter is not supported.")
        # v2-oauth2-auth-code-flow#refresh-the-access-token: `scope` is required; without it
        # the token would not be for the API the grant was for.
        scope = request.params.get("scope")
        if not scope:
            raise self.aad_error(400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
        problem = self.check_scopes(scope)
        if problem:
            raise self.aad_error(400, "invalid_scope", *problem)

    def pairwise_sub(self, audience: str) -> str:
        """id-token-claims-reference, `sub`: "unique to a particular application
        ID": the same user has another sub in every application's ID tokens."""
        digest = hashlib.sha256(f"{self.oid}|{audience}".encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def id_claims(self, record: dict) -> dict:
        claims = super().id_claims(record)
        claims.update({"sub": self.pairwise_sub(claims["aud"]), "tid": self.tenant, "ver": "2.0",
                       "preferred_username": "adele@contoso.example", "name": "Adele Vance"})
        # id-token-claims-reference, `oid`: "the profile scope is required to receive this claim".
        if "profile" in str(record.get("scope", "")).split():
            claims["oid"] = self.oid
        return claims

    # --- tokens of other applications (ID-JAG leg 1) ------------------------------

    def sso_id_token(self, audience: str, tenant: str | None = None) -> str:
        """The ID token Entra gives another application (`audience`, e.g. an MCP
        client's multi-tenant registration) when a user of `tenant` (the home
        tenant by default) signs in to it: iss names the user's tenant, tid too
        (id-token-claims-reference); every tenant's tokens are signed with the
        same keys (v2-protocols-oidc, the common key set)."""
        now = int(time.time())
        tenant = tenant or self.tenant
        return self.id_token({"iss": f"{self.base}/{tenant}/v2.0", "aud": audience, "sub": self.pairwise_sub(audience), "oid": self.oid,
                              "tid": tenant, "ver": "2.0", "iat": now, "nbf": now, "exp": now + 3600,
                              "preferred_username": "adele@contoso.example", "name": "Adele Vance"})

    def api_access_token(self, app: str) -> str:
        """A v2 access token the application got for its own API (aud and azp = its client id):
        same iss, keys and aud as its ID tokens, plus scp and azpacr
        (access-token-claims-reference)."""
        now = int(time.time())
        return self.id_token({"iss": self.issuer, "aud": app, "sub": self.pairwise_sub(app), "oid": self.oid, "tid": self.tenant,
                              "ver": "2.0", "iat": now, "nbf": now, "exp": now + 3600, "azp": app,
                              "azpacr": "1", "scp": "access_as_user"})

    def access_claims(self, scope: str) -> dict:
        return {"aud": self.api_app}

    def access_token_prefix(self) -> str:
        return "eyJ0eXAiOiJKV1Qi." + secrets.token_hex(4) + "."
