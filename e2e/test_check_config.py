"""`dcr-shim check-config` prints every problem at once and exits non-zero
(issue "core flow", done-when 5)."""
from __future__ import annotations

import subprocess

from .kit.harness import SHIM_BIN

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
    """One example per preset (examples/), each passes check-config."""
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


BAD_CIMD = """
issuer: https://auth.example.com
upstream: {issuer: https://idp.example.com, client_id: x, client_secret: y}
resources: [{resource: https://mcp.example.com/mcp, scopes: [mcp]}]
redirects: {clients: [loopback]}
cimd:
  allowed_hosts: ["*.com", claude.ai]      # mistake 1: a pattern that matches a whole TLD
  blocked_hosts: [https://evil.example]    # mistake 2: a URL, not a host
  cache_min: 2h                            # mistake 3: longer than cache_max
  cache_max: 1h
  insecure_private_hosts: ["*.corp"]       # mistake 4: relaxations name exact hosts
  fetch_timeout: 5 minutes                 # mistake 5: not a duration
  nat64_prefixes: ["2001:db8:64::/64"]     # mistake 6: a NAT64 prefix here is a /96
"""


def test_check_config_validates_the_cimd_keys_and_accepts_the_cimd_example(tmp_path):
    root = __import__("pathlib").Path(__file__).resolve().parent.parent
    path = tmp_path / "cimd.yaml"
    path.write_text(BAD_CIMD)
    run = subprocess.run([SHIM_BIN, "check-config", "--config", str(path)], capture_output=True, text=True, timeout=30)
    errors = [line for line in run.stdout.splitlines() if line.startswith("error:")]
    assert run.returncode != 0 and len(errors) == 6, run.stdout
    for key in ("cimd.allowed_hosts[0]", "cimd.blocked_hosts[0]", "cimd.cache_min", "cimd.insecure_private_hosts[0]",
                "cimd.fetch_timeout", "cimd.nat64_prefixes[0]"):
        assert any(line.startswith(f"error: {key}") for line in errors), (key, run.stdout)

    # A CA file that is not PEM, and one that looks like PEM but holds no certificate.
    for text, needle in [("not a certificate\n", "PEM certificates"),
                         ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "cannot be read")]:
        ca = tmp_path / "ca.pem"
        ca.write_text(text)
        good = BAD_CIMD.split("cimd:")[0] + f"cimd: {{insecure_private_hosts: [docs.corp.example], insecure_ca_file: {ca}}}\n"
        path.write_text(good)
        run = subprocess.run([SHIM_BIN, "check-config", "--config", str(path)], capture_output=True, text=True, timeout=30)
        assert run.returncode != 0 and needle in run.stdout and "cimd.insecure_ca" in run.stdout, run.stdout

    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    run = subprocess.run([SHIM_BIN, "check-config", "--config", "examples/cimd.yaml"], capture_output=True, text=True, timeout=30,
                         env={"DCR_SHIM_UPSTREAM_CLIENT_SECRET_FILE": str(secret)}, cwd=str(root))
    assert run.returncode == 0 and "configuration OK" in run.stdout, run.stdout


def test_check_config_accepts_the_issued_and_gateway_examples(tmp_path):
    from .kit.gateway import pem_key
    (tmp_path / "secret").write_text("from-a-file\n")
    (tmp_path / "signing.pem").write_text(pem_key())
    (tmp_path / "introspection").write_text("introspection-secret-from-a-file\n")
    env = {"DCR_SHIM_UPSTREAM_CLIENT_SECRET_FILE": str(tmp_path / "secret"),
           "DCR_SHIM_KEYS_SIGNING_KEY_FILE": str(tmp_path / "signing.pem")}
    for name in ("issued.yaml", "gateway.yaml"):
        # The commented keys and introspection blocks, switched on, with files that exist.
        text = (__import__("pathlib").Path(__file__).resolve().parent.parent / "examples" / name).read_text()
        for block in ("keys:", "  signing_key_file:", "introspection:", "  clients:", "    - id:", "      secret_file:"):
            text = text.replace("# " + block, block)
        path = tmp_path / name
        path.write_text(text.replace("/run/secrets/introspection-secret", str(tmp_path / "introspection")))
        assert "signing_key_file" in text and not text.count("\n# keys:")
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


def test_check_config_accepts_the_ema_examples(tmp_path):
    """examples/ema/: both halves of Enterprise-Managed Authorization, their secret files provided."""
    root = __import__("pathlib").Path(__file__).resolve().parent.parent
    (tmp_path / "secret").write_text("from-a-file-0123456789\n")
    env = {"DCR_SHIM_UPSTREAM_CLIENT_SECRET_FILE": str(tmp_path / "secret")}
    for name in ("accept.yaml", "issuer.yaml"):
        text = (root / "examples" / "ema" / name).read_text()
        for secret in ("/run/secrets/ema-client-secret", "/run/secrets/ai-client-secret"):
            text = text.replace(secret, str(tmp_path / "secret"))
        path = tmp_path / name
        path.write_text(text)
        run = subprocess.run([SHIM_BIN, "check-config", "--config", str(path)], capture_output=True, text=True, timeout=30, env=env)
        assert run.returncode == 0 and "configuration OK" in run.stdout, (name, run.stdout + run.stderr)


def test_check_config_reports_non_string_and_repeated_keys_instead_of_crashing(tmp_path):
    """A YAML key that is a map or a list (found by fuzzing: `? ?`) made the
    YAML library trap; a repeated key silently kept its last value. Both are
    problems check-config reports, with exit status 1."""
    cases = {
        "? ?\n": "configuration keys must be strings",
        "issuer: https://auth.example.com\n? [a, b]\n: 1\n": "configuration keys must be strings (found a list)",
        "upstream:\n  ? {x: 1}\n  : y\n": "upstream: configuration keys must be strings (found a map)",
        # The YAML library refuses a repeated key itself ("expected all keys
        # to be unique"); the loader names the path when it gets that far.
        "issuer: https://auth.example.com\nissuer: https://evil.example\n": ("issuer: given twice", "unique"),
    }
    for text, expected in cases.items():
        path = tmp_path / "bad.yaml"
        path.write_text(text)
        run = subprocess.run([SHIM_BIN, "check-config", "--config", str(path)], capture_output=True, text=True, timeout=30)
        assert run.returncode == 1, (text, run.returncode, run.stdout, run.stderr[-500:])
        alternatives = expected if isinstance(expected, tuple) else (expected,)
        assert any(e in run.stdout + run.stderr for e in alternatives), (text, run.stdout, run.stderr[-500:])
