"""deploy/: the Kubernetes manifests (one replica on SQLite, N on
PostgreSQL) pass the Kubernetes schemas offline (kubernetes-validate, strict)
and keep the hardening the docs promise; every configuration in deploy/
passes `dcr-shim check-config` with its secrets as files; the systemd unit
passes `systemd-analyze verify` and stays sandboxed; the compose file passes
the Compose specification's schema and hangs together."""
from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .kit.gateway import pem_key
from .kit.harness import REPO, SHIM_BIN

DEPLOY = REPO / "deploy"
MANIFESTS = {"sqlite": DEPLOY / "kubernetes" / "sqlite.yaml", "postgres": DEPLOY / "kubernetes" / "postgres.yaml"}
UNIT = DEPLOY / "systemd" / "dcr-shim.service"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
KUBERNETES_VERSIONS = ["1.30.0", "1.33.0"]


def image_user() -> int:
    """The uid of the Dockerfile's runtime stage (`USER 10001:10001`)."""
    return int(re.search(r"^USER (\d+)", (REPO / "Dockerfile").read_text(), re.M).group(1))


def documents(path: Path) -> dict[str, dict]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(path.read_text()) if doc}


def shim_config(docs: dict[str, dict]) -> dict:
    return yaml.safe_load(docs["ConfigMap"]["data"]["dcr-shim.yaml"])


def file_keys(node, path="") -> dict[str, str]:
    """Every `*_file` key of a configuration, by its dotted path: the secrets."""
    found = {}
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("_file") and isinstance(value, str):
                found[f"{path}{key}"] = value
            else:
                found.update(file_keys(value, f"{path}{key}."))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.update(file_keys(value, f"{path}{i}."))
    return found


def secret_value(name: str) -> str:
    """A value of the right shape for the secret file `name`, as an operator would create it."""
    if "signing" in name:
        return pem_key()
    if "encryption" in name or "cookie" in name:
        return base64.b64encode(os.urandom(32)).decode() + "\n"
    if "storage" in name:
        return "postgres://dcrshim:pw-from-a-file@postgresql.dcr-shim.svc:5432/dcrshim?sslmode=require\n"
    return "client-secret-from-a-file\n"


def check_config(text: str, tmp_path: Path, secret_dirs: list[str], data_dir: str) -> subprocess.CompletedProcess:
    """`dcr-shim check-config` on `text` with its secrets written under
    tmp_path (the paths rewritten from `secret_dirs`) and its data directory there."""
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    for directory in secret_dirs:
        text = text.replace(directory.rstrip("/") + "/", str(secrets) + "/")
    text = text.replace(data_dir, str(tmp_path / "data"))
    for path in file_keys(yaml.safe_load(text)).values():
        assert path.startswith(str(secrets) + "/"), f"a secret file outside {secret_dirs}: {path}"
        Path(path).write_text(secret_value(Path(path).name))
    config = tmp_path / "dcr-shim.yaml"
    config.write_text(text)
    return subprocess.run([SHIM_BIN, "check-config", "--config", str(config)], capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})


# --- Kubernetes -------------------------------------------------------------

def kubernetes_validate():
    try:
        import kubernetes_validate as module
    except ImportError:
        pytest.skip("kubernetes-validate is missing: pip install -r e2e/requirements.txt")
    return module


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("variant", sorted(MANIFESTS))
def test_kubernetes_manifests_pass_the_schemas_offline(variant, version):
    """kubernetes-validate ships the schemas: nothing is downloaded."""
    module = kubernetes_validate()
    for doc in yaml.safe_load_all(MANIFESTS[variant].read_text()):
        module.validate(doc, version, strict=True)


def test_the_schema_check_refuses_a_misspelt_field():
    module = kubernetes_validate()
    deployment = documents(MANIFESTS["sqlite"])["Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContxt"] = {"runAsNonRoot": True}
    with pytest.raises(module.ValidationError):
        module.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


@pytest.mark.parametrize("variant", sorted(MANIFESTS))
def test_kubernetes_deployment_is_hardened_and_probed(variant):
    docs = documents(MANIFESTS[variant])
    assert {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"} <= set(docs)
    config = shim_config(docs)
    deployment = docs["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    (container,) = pod["containers"]

    uid = image_user()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == uid and pod["securityContext"]["runAsGroup"] == uid
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
    assert container["resources"]["limits"]["memory"]

    (port,) = container["ports"]
    assert port["containerPort"] == config["listen"]["port"] and port["name"] == "http"
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}

    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    # The configuration file the container reads is the ConfigMap's.
    config_path = container["args"][container["args"].index("--config") + 1]
    config_volume = volumes[mounts[str(Path(config_path).parent)]]
    assert config_volume["configMap"]["name"] == docs["ConfigMap"]["metadata"]["name"]
    assert Path(config_path).name in docs["ConfigMap"]["data"]
    # The data directory is a volume (the root file system is read-only), and so is /tmp.
    assert config["data_dir"] in mounts and "/tmp" in mounts
    # Every secret is a file on a Secret volume, readable by the pod's group only.
    secrets = file_keys(config)
    assert secrets and "upstream.client_secret_file" in secrets
    for key, path in secrets.items():
        volume = volumes[mounts[str(Path(path).parent)]]
        assert "secret" in volume, (key, path)
        assert volume["secret"]["defaultMode"] & 0o007 == 0, key
    assert not any(key in config.get("upstream", {}) for key in ("client_secret",))
    assert "url" not in config.get("storage", {}) or not config["storage"]["url"].startswith("postgres")

    for kind in ("Service", "PodDisruptionBudget", "NetworkPolicy"):
        selector = docs[kind]["spec"].get("selector") or docs[kind]["spec"]["podSelector"]
        selector = selector.get("matchLabels", selector)
        assert selector.items() <= labels.items(), kind
    assert docs["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    policy = docs["NetworkPolicy"]["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    assert all(p["port"] == "http" for rule in policy["ingress"] for p in rule["ports"])

    if variant == "sqlite":
        assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
        assert config["storage"]["url"] == f"sqlite://{config['data_dir']}/dcr-shim.db"
        claim = volumes[mounts[config["data_dir"]]]["persistentVolumeClaim"]["claimName"]
        assert claim == docs["PersistentVolumeClaim"]["metadata"]["name"]
        assert pod["securityContext"]["fsGroupChangePolicy"] == "OnRootMismatch"
    else:
        assert deployment["spec"]["replicas"] > 1
        assert "storage.url_file" in secrets and "keys.signing_key_file" in secrets
        assert {"keys.encryption_key_file", "keys.cookie_key_file"} <= set(secrets)
        assert docs["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
        assert any(p.get("port") == 5432 for rule in policy["egress"] for p in rule["ports"])


@pytest.mark.parametrize("variant", sorted(MANIFESTS))
def test_kubernetes_configuration_passes_check_config(variant, tmp_path):
    docs = documents(MANIFESTS[variant])
    text = docs["ConfigMap"]["data"]["dcr-shim.yaml"]
    run = check_config(text, tmp_path, ["/run/secrets/dcr-shim"], "/var/lib/dcr-shim")
    assert run.returncode == 0 and "configuration OK" in run.stdout, run.stdout + run.stderr
    assert ("storage postgres" if variant == "postgres" else "storage sqlite") in run.stdout
    assert "pw-from-a-file" not in run.stdout + run.stderr


# --- systemd ----------------------------------------------------------------

def systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.skip("systemd-analyze is missing: install Debian's systemd package (scripts/debian-packages.txt)")
    return path


def unit_copy(tmp_path: Path, text: str | None = None) -> Path:
    """The unit, named as installed, with its ExecStart binary at a path that
    exists here (verify checks that the command is executable)."""
    binary = tmp_path / "bin" / "dcr-shim"
    binary.parent.mkdir(exist_ok=True)
    if not binary.exists():
        binary.symlink_to(Path(SHIM_BIN).resolve() if Path(SHIM_BIN).exists() else Path("/bin/true"))
    unit = tmp_path / "dcr-shim.service"
    unit.write_text((text or UNIT.read_text()).replace("/usr/local/bin/dcr-shim", str(binary)))
    return unit


def verify(tool: str, unit: Path) -> subprocess.CompletedProcess:
    # verify works without systemd as PID 1; it prints (and sometimes exits 0 on) every problem it finds.
    return subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=60, cwd=unit.parent)


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path):
    tool = systemd_analyze()
    run = verify(tool, unit_copy(tmp_path))
    assert run.returncode == 0 and run.stdout + run.stderr == "", run.stdout + run.stderr


def test_systemd_verify_reports_a_misspelt_key(tmp_path):
    """An unknown key is only a warning to systemd (exit 0): the test above fails on any output."""
    tool = systemd_analyze()
    run = verify(tool, unit_copy(tmp_path, UNIT.read_text().replace("ProtectSystem=", "ProtectSystm=")))
    assert "Unknown key" in run.stdout + run.stderr


def test_systemd_unit_is_sandboxed(tmp_path):
    tool = systemd_analyze()
    text = UNIT.read_text()
    settings = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    for key, value in {"DynamicUser": "yes", "StateDirectory": "dcr-shim", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
                       "SystemCallFilter": "@system-service"}.items():
        assert value in settings.get(key, []), key
    assert set(settings["RestrictAddressFamilies"][0].split()) <= {"AF_INET", "AF_INET6", "AF_UNIX"}
    # Secrets come in as credentials; none is on the command line or in the environment.
    assert settings["LoadCredential"] and not any("SECRET" in v or "KEY" in v for v in settings.get("Environment", []))
    # data_dir is left to its default, $STATE_DIRECTORY (docs/configuration.md).
    assert "DCR_SHIM_DATA_DIR" not in text and "--data-dir" not in text
    # systemd's own exposure score (0 safest, 10 unsandboxed): 2.0 at most.
    run = subprocess.run([tool, "security", "--offline=yes", "--threshold=20", str(unit_copy(tmp_path))],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr


def test_systemd_credentials_config_passes_check_config(tmp_path):
    """A configuration using the unit's credentials as `_file` paths passes check-config."""
    credentials = "/run/credentials/dcr-shim.service"
    names = [line.split("=", 1)[1].split(":", 1)[0] for line in UNIT.read_text().splitlines() if line.startswith("LoadCredential=")]
    assert names == ["upstream-client-secret"]
    text = f"""
issuer: https://auth.example.com
listen: {{host: 127.0.0.1, port: 8080}}
upstream: {{preset: oidc, issuer: https://idp.example.com, client_id: dcr-shim, client_secret_file: {credentials}/{names[0]}}}
resources: [{{resource: https://mcp.example.com/mcp, scopes: [mcp]}}]
redirects: {{clients: [loopback]}}
"""
    run = check_config(text, tmp_path, [credentials], "/var/lib/dcr-shim")
    assert run.returncode == 0 and "configuration OK" in run.stdout, run.stdout + run.stderr


# --- Compose ----------------------------------------------------------------

def test_compose_file_passes_the_compose_specification_schema():
    try:
        import check_jsonschema  # noqa: F401 (its vendored copy of the schema is what is checked against)
    except ImportError:
        pytest.skip("check-jsonschema is missing: pip install -r e2e/requirements.txt")
    run = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_compose_services_hang_together(tmp_path):
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"dcr-shim", "postgres", "mcp-server"} <= set(services)
    shim = services["dcr-shim"]
    config_file = COMPOSE.parent / compose["configs"][shim["configs"][0]["source"]]["file"]
    config = yaml.safe_load(config_file.read_text())
    assert shim["user"] == f"{image_user()}:{image_user()}" and shim["read_only"] is True and shim["cap_drop"] == ["ALL"]
    assert f"{config['listen']['port']}:{config['listen']['port']}" in shim["ports"]
    assert any(v.endswith(":" + config["data_dir"]) for v in shim["volumes"])
    # Every secret a service names is declared, and every `_file` of the configuration is one of the shim's secrets.
    for name, service in services.items():
        for secret in service.get("secrets", []):
            assert (secret["source"] if isinstance(secret, dict) else secret) in compose["secrets"], (name, secret)
    targets = {s["target"] for s in shim["secrets"]}
    assert set(file_keys(config).values()) <= targets
    assert config["storage"]["url_file"] in targets and services["postgres"]["healthcheck"]
    assert shim["depends_on"]["postgres"]["condition"] == "service_healthy"
    # The MCP server listens on the shim's loopback, where the gateway's upstream points.
    assert services["mcp-server"]["network_mode"] == "service:dcr-shim"
    (resource,) = config["resources"]
    assert resource["upstream"].startswith("http://127.0.0.1:3000/")
    assert "port=3000" in (COMPOSE.parent / "mcp-server" / "server.py").read_text()

    run = check_config(config_file.read_text(), tmp_path, ["/run/secrets"], "/var/lib/dcr-shim")
    assert run.returncode == 0 and "configuration OK" in run.stdout, run.stdout + run.stderr
