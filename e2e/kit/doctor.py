"""Runs `dcr-shim doctor` on a configuration for an IdP (the shim itself need
not run: doctor only talks to the IdP)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from .harness import SHIM_BIN, Shim
from .idp import IdP


def run_doctor(workdir: Path, shim_port: int, idp: IdP, *, issuer_port: int | None = None,
               upstream: dict | None = None, resources: list | None = None) -> tuple[int, str]:
    """(exit status, stdout) of doctor for a shim on `shim_port` (its issuer on
    `issuer_port` when given, to make the callback one the IdP does not know)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = Shim(workdir, shim_port, idp, "http://127.0.0.1:9/mcp", issuer_port=issuer_port).config()
    config["upstream"] = {**config["upstream"], **(upstream or {})}
    if resources is not None:
        config["resources"] = resources
    path = workdir / "doctor.yaml"
    path.write_text(yaml.safe_dump(config))
    run = subprocess.run([SHIM_BIN, "doctor", "--config", str(path)], capture_output=True, text=True, timeout=60)
    assert not run.stderr.strip() or run.returncode != 0, run.stderr
    return run.returncode, run.stdout


def line(output: str, check: str) -> str:
    """The line of one check (with its fix line, when it has one)."""
    lines = output.splitlines()
    for i, text in enumerate(lines):
        if text.startswith("[") and f"] {check}:" in text:
            fix = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].startswith("       fix:") else ""
            return text + "\n" + fix
    raise AssertionError(f"no {check} line in:\n{output}")
