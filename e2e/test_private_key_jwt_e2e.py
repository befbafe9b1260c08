"""`upstream.client_auth: private_key_jwt` against a real IdP, glewlwyd: the
shim's client there has no secret at all, only the public key of a test
certificate (its ``pubkey`` property); the shim signs each token request with
the certificate's key (PS256, naming the certificate by its x5t#S256
thumbprint). The full sign-in with the real mcp SDK client, the upstream
refresh behind it, doctor, check-config and the expiry gauge; then a
certificate the IdP does not know: the code redemption fails with an error
that says what to fix, and doctor names the thumbprint glewlwyd refused.
Certificates are made at test time with `cryptography`. (The Entra fake's
own checks of the same assertion are in test_entra_without_secrets_e2e.py.)"""
from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import subprocess

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .conftest import Stack
from .kit.doctor import line, run_doctor
from .kit.flow import run_full_flow
from .kit.harness import SHIM_BIN, Browser
from .kit.shimclient import RawClient
from .test_entra_without_secrets_e2e import make_certificate, thumbprint_s256

#: The registered certificate ends within check-config's 30-day warning, on purpose.
DAYS_LEFT = 20


def public_key_pem(cert_pem: bytes) -> str:
    return x509.load_pem_x509_certificate(cert_pem).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """(key path, certificate path, certificate PEM) of the certificate glewlwyd knows."""
    directory = tmp_path_factory.mktemp("pkjwt-certificate")
    _, key_pem, cert_pem = make_certificate(days=DAYS_LEFT)
    (directory / "key.pem").write_bytes(key_pem)
    (directory / "cert.pem").write_bytes(cert_pem)
    return directory / "key.pem", directory / "cert.pem", cert_pem


@pytest.fixture(scope="module")
def pkjwt_stack(tmp_path_factory, registered):
    _, _, cert_pem = registered
    s = Stack("glewlwyd", tmp_path_factory.mktemp("glewlwyd-pkjwt"), client_public_key=public_key_pem(cert_pem))
    yield s
    s.close()


def certificate_upstream(idp, key_path, cert_path) -> dict:
    return {**idp.upstream_config(), "client_auth": {"method": "private_key_jwt", "key_file": str(key_path),
                                                     "certificate_file": str(cert_path)}}


def accepted_assertions(idp) -> list[str]:
    """The jti hashes glewlwyd recorded for the client: one per client assertion
    it accepted (its replay check keeps them)."""
    db = sqlite3.connect(idp.db_path)
    try:
        return [h for (h,) in db.execute("SELECT gpoctr_jti_hash FROM gpo_client_token_request WHERE gpoctr_cient_id = ?",
                                         (idp.client_id,)) if h]
    finally:
        db.close()


def gauge(metrics: str, name: str) -> float:
    values = [float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? (\S+)$", metrics, re.M)]
    assert len(values) == 1, f"{name}: {values}\n{metrics[:2000]}"
    return values[0]


def test_sign_in_and_refresh_with_a_certificate_and_no_secret_at_glewlwyd(pkjwt_stack, registered, tmp_path):
    stack, idp = pkjwt_stack, pkjwt_stack.idp
    key_path, cert_path, cert_pem = registered
    # No secret anywhere: not at the IdP (no password, no client_secret property) ...
    db = sqlite3.connect(idp.db_path)
    try:
        (password,) = db.execute("SELECT gc_password FROM g_client WHERE gc_client_id = ?", (idp.client_id,)).fetchone()
        properties = dict(db.execute("SELECT gcp_name, gcp_value FROM g_client_property JOIN g_client USING (gc_id) "
                                     "WHERE gc_client_id = ?", (idp.client_id,)).fetchall())
    finally:
        db.close()
    assert password is None and "client_secret" not in properties, properties
    assert properties["token_endpoint_auth_method"] == "private_key_jwt" and "PUBLIC KEY" in properties["pubkey"]
    discovery = httpx.get(idp.issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert "private_key_jwt" in discovery["token_endpoint_auth_methods_supported"]

    upstream = certificate_upstream(idp, key_path, cert_path)
    shim = stack.shim("certificate", extra={"upstream": upstream})
    # ... nor in the shim's configuration.
    config_text = shim.config_path.read_text()
    assert "client_secret" not in config_text and "token_endpoint_auth_method" not in config_text, config_text

    # The whole sign-in: glewlwyd redeemed the code and refreshed on the shim's assertions alone.
    before = accepted_assertions(idp)
    result = asyncio.run(run_full_flow(shim, idp, stack.mcp.url))
    assert result.tool_results[0].startswith("subject=") and result.tool_results[0] != "subject=unknown"
    assert result.tool_results[1] == "5"
    assert len(result.refresh_tokens) == 2 and result.refresh_tokens[0] != result.refresh_tokens[1]
    log = shim.log_text()
    assert "upstream refreshed" in log and "upstream id_token verified" in log, log[-3000:]
    assert "refused" not in log and "Authorization invalid" not in open(idp.log_path).read()
    # One accepted assertion per token request (code, refresh), each with its own jti.
    accepted = accepted_assertions(idp)[len(before):]
    assert len(accepted) >= 2 and len(set(accepted)) == len(accepted), accepted

    # The certificate ends in DAYS_LEFT days: the gauge says so (seconds), check-config warns.
    left = gauge(httpx.get(shim.base_url + "/metrics", timeout=10).text, "dcr_shim_upstream_certificate_expiry_seconds")
    assert (DAYS_LEFT - 1) * 86400 < left <= DAYS_LEFT * 86400, left
    check = subprocess.run([SHIM_BIN, "check-config", "--config", str(shim.config_path)],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "warning: upstream.client_auth.certificate_file: the certificate expires on" in check.stdout, check.stdout
    assert f"(in {DAYS_LEFT - 1} day(s))" in check.stdout, check.stdout

    # doctor: the made-up code alone was refused (glewlwyd's invalid_code), so the assertion passed.
    rc, out = run_doctor(tmp_path / "doctor", stack.shim_port, idp, upstream=upstream)
    credentials = line(out, "client credentials")
    assert rc == 0 and credentials.startswith("[ ok ]") and "invalid_code" in credentials, out
    assert thumbprint_s256(cert_pem) in credentials
    assert line(out, "client certificate").startswith("[warn]") and thumbprint_s256(cert_pem) in line(out, "client certificate")
    assert "client authentication method:" not in out, out   # discovery lists private_key_jwt


def test_a_certificate_glewlwyd_does_not_know_fails_the_redemption_and_doctor_names_it(pkjwt_stack, tmp_path):
    stack, idp = pkjwt_stack, pkjwt_stack.idp
    _, key_pem, cert_pem = make_certificate()
    (tmp_path / "key.pem").write_bytes(key_pem)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    upstream = certificate_upstream(idp, tmp_path / "key.pem", tmp_path / "cert.pem")
    shim = stack.shim("other-certificate", extra={"upstream": upstream})

    # The user signs in at glewlwyd; the shim's redemption of the code is refused
    # (glewlwyd: 403, no body). The client gets a server_error on its redirect URI ...
    client = RawClient.register(shim)
    params = client.sign_in(Browser(), idp.new_session())
    assert params.get("error") == "server_error" and "code" not in params, params
    assert params["state"] == "st-" + client.client_id[:6] and params["iss"] == shim.base_url
    assert "operator" in params.get("error_description", ""), params
    # ... and the operator a log line that says what to fix: the certificate, by its thumbprint in doctor.
    refusal = [json.loads(l) if l.startswith("{") else l for l in shim.log_text().splitlines()
               if "upstream code exchange refused" in l]
    assert refusal, shim.log_text()[-3000:]
    text = json.dumps(refusal[-1]) if isinstance(refusal[-1], dict) else refusal[-1]
    assert "403" in text and "refused the shim's client assertion" in text and "dcr-shim doctor prints its thumbprint" in text, text
    assert key_pem.decode().splitlines()[1] not in shim.log_text()

    rc, out = run_doctor(tmp_path / "doctor", stack.shim_port, idp, upstream=upstream)
    credentials = line(out, "client credentials")
    assert rc == 1 and credentials.startswith("[FAIL]"), out
    assert thumbprint_s256(cert_pem) in credentials and "PS256" in credentials, credentials
    assert "refused the shim's client assertion" in credentials, credentials

