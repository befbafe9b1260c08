"""The Debian part of the set-up, proven on a really fresh system: a minimal
Debian bookworm root file system (mmdebstrap --variant=minbase, this
machine's apt sources) gets the packages of scripts/debian-packages.txt as
scripts/install-deps.sh installs them, without Recommends; then, inside it
with chroot:

- scripts/check-deps.sh loads what the tests load (the LemonLDAP::NG portal's
  modules for the e2e configuration, glewlwyd's plugins, headless chromium,
  PostgreSQL's tools, ...);
- the LemonLDAP::NG portal is started as e2e/kit/idp/lemonldap.py starts it and
  must answer its discovery document and one authorization-code flow.

A package the tests need that the list lacks (a Recommends a machine only
had from an earlier install) fails here on every machine, with its name,
instead of an IdP answering 500 on a fresh one.

The root file system is cached under .build/fresh-rootfs (ignored by git),
keyed by the package list, and used read-only under an overlay, so that a
cached run neither unpacks nor deletes its 1.4 GB; CI starts without it."""
from __future__ import annotations

import ast
import base64
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from .kit.harness import REPO
from .kit.idp import free_port, lemonldap
from .kit.rootfs import Overlay, rootfs_tree

PACKAGE_LIST = REPO / "scripts" / "debian-packages.txt"
CHECK_DEPS = REPO / "scripts" / "check-deps.sh"
CACHE = REPO / ".build" / "fresh-rootfs"


def debian_packages() -> list[str]:
    """scripts/debian-packages.txt as install-deps.sh reads it (a fresh
    Debian's python3 lacks ensurepip, so python3-venv stays in)."""
    return [word for line in PACKAGE_LIST.read_text().splitlines() for word in line.split("#", 1)[0].split()]


@pytest.fixture(scope="module")
def fresh_root():
    """The fresh system, read-only and cached, under a writable overlay that
    holds check-deps.sh; the overlay goes after the module."""
    if os.geteuid() != 0:
        pytest.fail("the fresh-system test needs root (mmdebstrap, chroot, mount): run it as CI does")
    scratch = Path(tempfile.mkdtemp(prefix="dcr-shim-fresh-"))
    try:
        root = Overlay(rootfs_tree(debian_packages(), CACHE), scratch)
        root.add("/tmp/check-deps.sh", CHECK_DEPS)
        yield root
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_install_deps_installs_the_list_without_recommends():
    """The list this test installs is the one install-deps.sh installs, with
    the same flag (what e2e/kit/rootfs.py gives mmdebstrap)."""
    script = (REPO / "scripts" / "install-deps.sh").read_text()
    assert "scripts/debian-packages.txt" in script
    install = re.findall(r"^\s*apt-get install .*$", script, re.MULTILINE)
    assert install and all("--no-install-recommends" in line for line in install), install


def test_check_deps_covers_what_the_e2e_code_imports():
    """Every module the e2e code imports from outside the standard library
    and this package is imported by check-deps.sh's --venv checks."""
    checked = {m.split(".")[0] for m in re.findall(r"^\S+\s+venv\s+(\S+)\s*$", CHECK_DEPS.read_text(), re.MULTILINE)}
    imported = set()
    for path in (REPO / "e2e").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"__future__", "e2e"}
    assert third_party - checked == set(), "add these imports to the venv checks in scripts/check-deps.sh"


def test_check_deps_pass_in_a_fresh_bookworm(fresh_root):
    run = subprocess.run(fresh_root.argv("bash /tmp/check-deps.sh"), capture_output=True, text=True, timeout=600)
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr


def test_lemonldap_answers_discovery_and_a_code_flow_in_a_fresh_bookworm(fresh_root, tmp_path, monkeypatch):
    """The portal, configured and started by e2e/kit/idp/lemonldap.py, but with
    the fresh system's perl and modules: its workdir is mounted at the same
    path inside, and plackup runs there."""
    workdir = str(tmp_path)

    def start_in_root(argv, *, cwd, log_path, env=None):
        conf = (env or {}).get("LLNG_DEFAULTCONFFILE", "")
        command = " ".join(f"'{a}'" for a in argv)
        return original(fresh_root.argv(f"cd '{cwd}' && LLNG_DEFAULTCONFFILE='{conf}' exec {command}", binds=(workdir,)),
                        cwd=cwd, log_path=log_path, env=env)

    original = lemonldap.start_server
    monkeypatch.setattr(lemonldap, "start_server", start_in_root)
    monkeypatch.setattr(lemonldap, "available", lambda: (fresh_root.lower / lemonldap.PSGI.lstrip("/")).exists())
    callback = f"http://127.0.0.1:{free_port()}/callback"
    idp = lemonldap.start_lemonldap(workdir, free_port(), callback)  # waits for its discovery document
    try:
        meta = httpx.get(idp.issuer + "/.well-known/openid-configuration", timeout=15).json()
        verifier = secrets.token_urlsafe(64)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = {"response_type": "code", "client_id": idp.client_id, "redirect_uri": callback, "scope": "openid mcp",
                 "state": "s", "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256"}
        location = idp.new_session().authorize(meta["authorization_endpoint"] + "?" + urlencode(query))
        code = parse_qs(urlsplit(location).query)["code"][0]
        token = httpx.post(meta["token_endpoint"], auth=(idp.client_id, idp.client_secret), timeout=15,
                           data={"grant_type": "authorization_code", "code": code, "redirect_uri": callback,
                                 "code_verifier": verifier})
        assert token.status_code == 200 and token.json().get("id_token"), token.text
    finally:
        idp.stop()
