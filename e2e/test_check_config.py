"""`dcr-shim check-config` prints every problem at once and exits non-zero
(issue "core flow", done-when 5)."""
from __future__ import annotations

import subprocess

from .harness import SHIM_BIN

THREE_MISTAKES = """
issuer: http://auth.example.com           # mistake 1: http off loopback
upstream:
  preset: entra                           # mistake 2: entra without a tenant
  client_id: 11111111-1111-1111-1111-111111111111
  client_secret: s3cret
resources:
  - resource: https://mcp.example.com/mcp
    scopes: [api://22222222-2222-2222-2222-222222222222/mcp.access]
redirects: {clients: [claude]}
consnet: {mode: always}                   # mistake 3: unknown key
"""


def test_check_config_prints_all_three_mistakes(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(THREE_MISTAKES)
    run = subprocess.run([SHIM_BIN, "check-config", "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert run.returncode != 0
    errors = [line for line in run.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 3, run.stdout
    assert any(line.startswith("error: issuer:") and "https" in line for line in errors)
    assert any(line.startswith("error: upstream.tenant:") for line in errors)
    assert any(line.startswith("error: consnet: unknown key") for line in errors)
    assert "s3cret" not in run.stdout + run.stderr


def test_check_config_accepts_the_examples_and_reads_secret_files(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    for name in ("entra.yaml", "oidc.yaml"):
        run = subprocess.run([SHIM_BIN, "check-config", "--config", f"examples/{name}"], capture_output=True, text=True,
                             timeout=30, env={"DCR_SHIM_UPSTREAM_CLIENT_SECRET_FILE": str(secret)},
                             cwd=str(__import__("pathlib").Path(__file__).resolve().parent.parent))
        # The example names a secret file under /run/secrets; the environment overrides it.
        assert run.returncode == 0 and "configuration OK" in run.stdout, run.stdout


def test_check_config_accepts_the_issued_and_gateway_examples(tmp_path):
    from .gateway import pem_key
    (tmp_path / "secret").write_text("from-a-file\n")
    (tmp_path / "signing.pem").write_text(pem_key())
    (tmp_path / "introspection").write_text("introspection-secret-from-a-file\n")
    env = {"DCR_SHIM_UPSTREAM_CLIENT_SECRET_FILE": str(tmp_path / "secret"),
           "DCR_SHIM_KEYS_SIGNING_KEY_FILE": str(tmp_path / "signing.pem")}
    for name in ("issued.yaml", "gateway.yaml"):
        text = (__import__("pathlib").Path(__file__).resolve().parent.parent / "examples" / name).read_text()
        path = tmp_path / name
        path.write_text(text.replace("/run/secrets/introspection-secret", str(tmp_path / "introspection")))
        run = subprocess.run([SHIM_BIN, "check-config", "--config", str(path)], capture_output=True, text=True, timeout=30, env=env)
        assert run.returncode == 0 and "configuration OK" in run.stdout, run.stdout + run.stderr


def test_check_config_refuses_github_tokens_handed_to_clients_and_says_why(tmp_path):
    config = """
issuer: https://auth.example.com
upstream: {preset: github, client_id: Iv1.abc, client_secret: s3cret}
resources: [{resource: "https://mcp.example.com/mcp", scopes: [repo]}]
redirects: {clients: [claude]}
tokens: {access: upstream}
"""
    path = tmp_path / "github.yaml"
    path.write_text(config)
    run = subprocess.run([SHIM_BIN, "check-config", "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert run.returncode != 0
    line = next(line for line in run.stdout.splitlines() if line.startswith("error: tokens.access:"))
    assert "not bound to the MCP server" in line and "tokens.access: issued" in line and "insecure_upstream_audience_ack" in line
    path.write_text(config.replace("{access: upstream}", "{access: upstream, insecure_upstream_audience_ack: true}"))
    run = subprocess.run([SHIM_BIN, "check-config", "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stdout
