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
    """Issue 10, done-when 1: one example per preset (examples/), each passes check-config."""
    import pathlib
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    examples = sorted(p.name for p in (pathlib.Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))
    presets = set()
    for name in examples:
        run = subprocess.run([SHIM_BIN, "check-config", "--config", f"examples/{name}"], capture_output=True, text=True,
                             timeout=30, env={"DCR_SHIM_UPSTREAM_CLIENT_SECRET_FILE": str(secret)},
                             cwd=str(__import__("pathlib").Path(__file__).resolve().parent.parent))
        # The example names a secret file under /run/secrets; the environment overrides it.
        assert run.returncode == 0 and "configuration OK" in run.stdout, (name, run.stdout)
        presets.add(run.stdout.split("upstream ", 1)[1].split(",", 1)[0])
    assert presets == {"entra", "okta", "google", "github", "auth0", "keycloak", "oidc"}, examples
