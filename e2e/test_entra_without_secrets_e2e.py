"""Entra without a client secret: the shim signs in against the Entra fake
with a certificate (private_key_jwt, PS256 with x5t#S256) and with a
federated token file (a Kubernetes projected service account token as AKS
workload identity mounts it), and no `client_secret` anywhere. The fake
checks each assertion as Entra documents it (e2e/kit/fakes/entra.py); its own
rules are checked first, without the shim. Test certificates and keys are
made at test time with `cryptography`."""
from __future__ import annotations

import asyncio
import datetime
import json
import time
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from .conftest import Stack
from .kit.fakes.base import Refusal, Request, b64url
from .kit.fakes.entra import EntraFake
from .kit.flow import run_full_flow

K8S_ISSUER = "https://oidc.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/"
K8S_SUBJECT = "system:serviceaccount:mcp:dcr-shim"


def make_certificate(days: int = 365):
    """(key, key PEM, certificate PEM): self-signed, as `az ad app credential reset --create-cert` would make."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dcr-shim e2e")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return key, key_pem, cert.public_bytes(serialization.Encoding.PEM)


def sign(key, header: dict, claims: dict) -> str:
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32) if header["alg"] == "PS256" else padding.PKCS1v15()
    return signing_input + "." + b64url(key.sign(signing_input.encode(), pad, hashes.SHA256()))


def federated_token(key, *, subject: str = K8S_SUBJECT, audience: str = "api://AzureADTokenExchange", lifetime: int = 3600) -> str:
    now = int(time.time())
    return sign(key, {"alg": "RS256", "typ": "JWT", "kid": "k8s"},
                {"iss": K8S_ISSUER, "sub": subject, "aud": [audience], "iat": now, "nbf": now, "exp": now + lifetime})


def thumbprint_s256(cert_pem: bytes) -> str:
    return b64url(x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA256()))


def secretless(fake: EntraFake, client_auth: dict) -> dict:
    upstream = dict(fake.upstream_config())
    upstream.pop("client_secret")
    upstream.pop("token_endpoint_auth_method")
    upstream["client_auth"] = client_auth
    return upstream


def token_calls(fake: EntraFake) -> list[Request]:
    return [r for r in fake.requests if r.method == "POST" and "grant_type" in r.params]


# --- the fake's own rules (no shim) ------------------------------------------------


@pytest.fixture
def entra():
    fake = EntraFake("http://127.0.0.1:9/callback")
    yield fake
    fake.stop()


def _assertion(fake: EntraFake, key, cert_pem: bytes, **overrides) -> str:
    now = int(time.time())
    claims = {"iss": fake.client_id, "sub": fake.client_id, "aud": fake.endpoint("token"), "jti": str(uuid.uuid4()),
              "iat": now, "nbf": now, "exp": now + 300}
    claims.update(overrides)
    return sign(key, {"alg": "PS256", "typ": "JWT", "x5t#S256": thumbprint_s256(cert_pem)}, claims)


def _refusal(fake: EntraFake, assertion: str) -> str:
    request = Request("POST", "/token", {"client_id": fake.client_id, "client_assertion": assertion,
                                        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, {})
    with pytest.raises(Refusal) as refused:
        fake.check_client_assertion(request)
    return json.loads(refused.value.answer.body)["error_description"]


def test_fake_entra_checks_certificate_assertions_as_documented(entra):
    key, _, cert_pem = make_certificate()
    # An unregistered certificate: 700027, naming the thumbprint the client used.
    assert "AADSTS700027" in _refusal(entra, _assertion(entra, key, cert_pem))
    entra.register_certificate(cert_pem)
    good = _assertion(entra, key, cert_pem)
    request = Request("POST", "/token", {"client_assertion": good,
                                        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, {})
    assert entra.check_client_assertion(request) == "certificate"
    assert "replay" in _refusal(entra, good)                                                     # the same jti again
    assert "AADSTS700023" in _refusal(entra, _assertion(entra, key, cert_pem, aud=entra.issuer))   # aud is the token endpoint
    assert "AADSTS700024" in _refusal(entra, _assertion(entra, key, cert_pem, exp=int(time.time()) - 3600))
    other_key, _, _ = make_certificate()
    assert "invalid signature" in _refusal(entra, _assertion(entra, other_key, cert_pem))        # not the certificate's key


def test_fake_entra_checks_federated_assertions_against_the_credential(entra):
    issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert "AADSTS70021" in _refusal(entra, federated_token(issuer_key))
    entra.add_federated_credential(K8S_ISSUER, K8S_SUBJECT, issuer_key.public_key())
    assert "AADSTS70021" in _refusal(entra, federated_token(issuer_key, subject="system:serviceaccount:other:app"))
    assert "AADSTS700212" in _refusal(entra, federated_token(issuer_key, audience="api://other"))
    assert "AADSTS700024" in _refusal(entra, federated_token(issuer_key, lifetime=-3600))
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert "invalid signature" in _refusal(entra, federated_token(impostor))


# --- the shim against the fake ----------------------------------------------------


@pytest.fixture(scope="module")
def entra_stack(tmp_path_factory):
    s = Stack("fake-entra", tmp_path_factory.mktemp("entra-without-secrets"))
    yield s
    s.close()


def test_entra_sign_in_with_a_certificate_and_no_secret(entra_stack, tmp_path):
    stack = entra_stack
    fake = stack.idp.proc.fake
    _, key_pem, cert_pem = make_certificate()
    fake.register_certificate(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    upstream = secretless(fake, {"method": "private_key_jwt", "key_file": str(tmp_path / "key.pem"),
                                 "certificate_file": str(tmp_path / "cert.pem")})
    before = len(token_calls(fake))
    shim = stack.shim("certificate", extra={"upstream": upstream})
    result = asyncio.run(run_full_flow(shim, stack.idp, stack.mcp.url))
    assert result.tool_results == [f"subject={fake.user_sub}", "5"]
    calls = token_calls(fake)[before:]
    assert {c.params["grant_type"] for c in calls} == {"authorization_code", "refresh_token"}
    for call in calls:
        assert "client_secret" not in call.params and "authorization" not in call.headers
        header = json.loads(base64_part(call.params["client_assertion"], 0))
        assert header["alg"] == "PS256" and header["x5t#S256"] == thumbprint_s256(cert_pem)
    assert fake.client_auth_log[-len(calls):] == ["certificate"] * len(calls)

    # doctor: the certificate is accepted (the made-up code alone refused), and its end is reported.
    from .kit.doctor import line, run_doctor
    doctor_upstream = {**upstream, "client_secret": None, "token_endpoint_auth_method": None}
    rc, out = run_doctor(tmp_path / "doctor", stack.shim_port, stack.idp, upstream=doctor_upstream)
    assert rc == 0 and line(out, "client credentials").startswith("[ ok ]"), out
    assert line(out, "client certificate").startswith("[ ok ]"), out
    # An unregistered certificate: doctor fails and names its thumbprint.
    _, other_key_pem, other_cert_pem = make_certificate(days=10)
    (tmp_path / "other-key.pem").write_bytes(other_key_pem)
    (tmp_path / "other-cert.pem").write_bytes(other_cert_pem)
    rc, out = run_doctor(tmp_path / "doctor-other", stack.shim_port, stack.idp, upstream={
        **doctor_upstream, "client_auth": {"method": "private_key_jwt", "key_file": str(tmp_path / "other-key.pem"),
                                           "certificate_file": str(tmp_path / "other-cert.pem")}})
    credentials = line(out, "client credentials")
    assert rc == 1 and credentials.startswith("[FAIL]") and thumbprint_s256(other_cert_pem) in credentials, out
    assert "AADSTS700027" in credentials, credentials
    assert line(out, "client certificate").startswith("[warn]"), out     # 10 days left


def test_entra_sign_in_with_a_federated_token_file(entra_stack, tmp_path):
    stack = entra_stack
    fake = stack.idp.proc.fake
    issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake.add_federated_credential(K8S_ISSUER, K8S_SUBJECT, issuer_key.public_key())
    token_file = tmp_path / "azure-identity-token"
    first = federated_token(issuer_key)
    token_file.write_text(first)
    upstream = secretless(fake, {"method": "federated", "token_file": str(token_file)})
    before = len(token_calls(fake))
    shim = stack.shim("federated", extra={"upstream": upstream})
    result = asyncio.run(run_full_flow(shim, stack.idp, stack.mcp.url))
    assert result.tool_results == [f"subject={fake.user_sub}", "5"]
    calls = token_calls(fake)[before:]
    assert calls and all(c.params["client_assertion"] == first and "client_secret" not in c.params for c in calls)
    assert fake.client_auth_log[-len(calls):] == ["federated"] * len(calls)
    # The kubelet rotates the file in place: the next request presents the new token.
    second = federated_token(issuer_key)
    token_file.write_text(second)
    from .kit.doctor import line, run_doctor
    rc, out = run_doctor(tmp_path / "doctor", stack.shim_port, stack.idp,
                         upstream={**upstream, "client_secret": None, "token_endpoint_auth_method": None})
    assert rc == 0 and line(out, "client credentials").startswith("[ ok ]"), out
    assert token_calls(fake)[-1].params["client_assertion"] == second


def base64_part(jwt: str, index: int) -> bytes:
    part = jwt.split(".")[index]
    import base64
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


CERTIFICATE_CONFIG = """
issuer: https://auth.example.com
upstream:
  preset: {preset}
  tenant: contoso.onmicrosoft.com
  issuer: https://idp.example.com
  client_id: 11111111-1111-1111-1111-111111111111
  client_auth:
    method: private_key_jwt
    key_file: {key}
    certificate_file: {cert}
resources:
  - resource: https://mcp.example.com/mcp
    scopes: [api://22222222-2222-2222-2222-222222222222/mcp.access]
redirects: {{clients: [claude]}}
tokens: {{insecure_upstream_audience_ack: true}}
"""


def _check_config(tmp_path, preset: str, days: int, key_from_other: bool = False):
    import subprocess

    from .kit.harness import SHIM_BIN
    _, key_pem, cert_pem = make_certificate(days=days)
    if key_from_other:
        _, key_pem, _ = make_certificate()
    (tmp_path / "key.pem").write_bytes(key_pem)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    path = tmp_path / "dcr-shim.yaml"
    text = CERTIFICATE_CONFIG.format(preset=preset, key=tmp_path / "key.pem", cert=tmp_path / "cert.pem")
    if preset != "entra":
        text = text.replace("  tenant: contoso.onmicrosoft.com\n", "")
    path.write_text(text)
    run = subprocess.run([SHIM_BIN, "check-config", "--config", str(path)], capture_output=True, text=True, timeout=30)
    return run.returncode, run.stdout


def test_check_config_on_certificates(tmp_path):
    """A certificate near its end is a warning, one past it an error; a key that is
    not the certificate's is an error; Google takes no certificate, and says why."""
    rc, out = _check_config(tmp_path, "entra", days=365)
    assert rc == 0 and "warning:" not in out, out
    rc, out = _check_config(tmp_path, "entra", days=10)
    assert rc == 0 and "warning: upstream.client_auth.certificate_file: the certificate expires on" in out, out
    rc, out = _check_config(tmp_path, "entra", days=-2)
    assert rc == 1 and "expired" in out, out
    rc, out = _check_config(tmp_path, "entra", days=365, key_from_other=True)
    assert rc == 1 and "the key is not the certificate's" in out, out
    rc, out = _check_config(tmp_path, "google", days=365)
    assert rc == 1 and "client secret only" in out, out
