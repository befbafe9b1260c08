"""The container image as the Dockerfile ships it, proven without a Docker
engine. The release binary is built as the Dockerfile's build stage builds it
(`swift build -c release --static-swift-stdlib`, then stripped); a Debian
bookworm root file system is laid out with mmdebstrap from this machine's apt
sources with exactly the runtime stage's packages (read from the Dockerfile,
so the two cannot drift); the stage's user and directories are created the
same way; and the binary runs inside it with chroot as uid 10001:
check-config, serve, /healthz, /readyz, one registration. A runtime library
the image lacks fails here, not at a user's.

The root file system is cached as a tarball under .build/image-rootfs
(ignored by git), keyed by the package list; CI starts without it."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest
import yaml

from .kit.fake_idp import FakeIdP
from .kit.harness import REPO
from .kit.idp import free_port
from .kit.rootfs import rootfs_tarball

RELEASE_BIN = Path(os.environ.get("DCR_SHIM_RELEASE_BIN", str(REPO / ".build" / "release" / "dcr-shim")))
CACHE = REPO / ".build" / "image-rootfs"
UID = 10001


def runtime_stage() -> tuple[str, list[str]]:
    """The runtime stage's base image and the packages it installs."""
    text = (REPO / "Dockerfile").read_text()
    stage = text[text.rindex("\nFROM "):]
    base = stage.split()[1]
    install = re.search(r"apt-get install -y --no-install-recommends ([^&\\\n]+)", stage)
    assert base == "debian:bookworm-slim" and install, "the runtime stage changed shape: update this test"
    return base, install.group(1).split()


def in_image(root: Path, *argv: str, user: bool = True, cwd: str = "/") -> list[str]:
    """A command inside the root file system, in its own mount namespace with
    /proc mounted (as a container has), as uid 10001 unless `user` is False."""
    inner = " ".join(f"'{a}'" for a in argv)
    who = f"--userspec={UID}:{UID} " if user else ""
    script = f"mount -t proc proc '{root}/proc' && exec chroot {who}'{root}' /bin/sh -c 'cd {cwd} && exec {inner}'"
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.fail("the image test needs root (chroot, mount): run it as CI does")
    assert RELEASE_BIN.exists(), f"{RELEASE_BIN} is missing: scripts/test.sh builds it with --static-swift-stdlib"
    _, packages = runtime_stage()
    root = Path(tempfile.mkdtemp(prefix="dcr-shim-image-"))
    try:
        subprocess.run(["tar", "-x", "--numeric-owner", "-f", str(rootfs_tarball(packages, CACHE)), "-C", str(root)], check=True, timeout=300)
        # The runtime stage's RUN, after its apt-get install:
        for command in (["groupadd", "--system", "--gid", str(UID), "dcrshim"],
                        ["useradd", "--system", "--uid", str(UID), "--gid", "dcrshim", "--home-dir", "/var/lib/dcr-shim",
                         "--shell", "/usr/sbin/nologin", "dcrshim"]):
            subprocess.run(["chroot", str(root), *command], check=True, timeout=60)
        for d in ("var/lib/dcr-shim", "etc/dcr-shim"):
            (root / d).mkdir(parents=True, exist_ok=True)
        os.chown(root / "var/lib/dcr-shim", UID, UID)
        os.chmod(root / "var/lib/dcr-shim", 0o700)
        # COPY --from=build /out/dcr-shim /usr/local/bin/dcr-shim (stripped, as the build stage does).
        subprocess.run(["strip", "-o", str(root / "usr/local/bin/dcr-shim"), str(RELEASE_BIN)], check=True, timeout=120)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def missing_libraries(root: Path) -> list[str]:
    """The shared libraries the binary needs that the image lacks (ldd inside it)."""
    out = subprocess.run(["chroot", str(root), "ldd", "/usr/local/bin/dcr-shim"], capture_output=True, text=True, timeout=60)
    return [line.split()[0] for line in (out.stdout + out.stderr).splitlines() if "not found" in line]


def test_binary_links_only_what_the_image_has(image):
    host = subprocess.run(["ldd", str(RELEASE_BIN)], capture_output=True, text=True).stdout
    assert "libswift" not in host and "libFoundation" not in host, f"not built with --static-swift-stdlib:\n{host}"
    assert missing_libraries(image) == []
    # The check is not vacuous: take one library the binary links out of the image.
    libz = next((image / "usr/lib/x86_64-linux-gnu").glob("libz.so.1*"))
    hidden = libz.with_name("hidden-" + libz.name)
    libz.rename(hidden)
    try:
        assert "libz.so.1" in missing_libraries(image)
        run = subprocess.run(in_image(image, "/usr/local/bin/dcr-shim", "--help"), capture_output=True, text=True, timeout=60)
        assert run.returncode != 0 and "libz.so.1" in run.stderr
    finally:
        hidden.rename(libz)


def test_check_config_serve_healthz_and_one_registration_as_uid_10001(image):
    fake = FakeIdP()
    port = free_port()
    config = {
        "issuer": f"http://127.0.0.1:{port}",
        "listen": {"host": "127.0.0.1", "port": port},
        "data_dir": "/var/lib/dcr-shim",
        "upstream": fake.as_idp(f"http://127.0.0.1:{port}/callback").upstream_config(),
        "resources": [{"resource": "http://127.0.0.1:9/mcp", "scopes": ["mcp"]}],
        "redirects": {"clients": ["loopback"]},
        "storage": {"url": "sqlite:///var/lib/dcr-shim/dcr-shim.db"},
    }
    (image / "etc/dcr-shim/dcr-shim.yaml").write_text(yaml.safe_dump(config))
    proc = None
    try:
        check = subprocess.run(in_image(image, "/usr/local/bin/dcr-shim", "check-config", "--config", "/etc/dcr-shim/dcr-shim.yaml"),
                               capture_output=True, text=True, timeout=60)
        assert check.returncode == 0 and "configuration OK" in check.stdout, check.stdout + check.stderr
        log = open(image.parent / f"{image.name}-serve.log", "w")
        proc = subprocess.Popen(in_image(image, "/usr/local/bin/dcr-shim", "serve", "--config", "/etc/dcr-shim/dcr-shim.yaml",
                                         cwd="/var/lib/dcr-shim"), stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, open(log.name).read()[-3000:]
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "no /healthz within 30 s: " + open(log.name).read()[-3000:]
            time.sleep(0.1)
        assert httpx.get(base + "/readyz", timeout=5).status_code == 200
        r = httpx.post(base + "/register", json={"redirect_uris": ["http://127.0.0.1:5/cb"], "token_endpoint_auth_method": "none"},
                       timeout=10)
        assert r.status_code == 201 and r.json()["client_id"], r.text
        # Written as the unprivileged user into its own directory, keys 0600.
        data = image / "var/lib/dcr-shim"
        assert (data / "dcr-shim.db").stat().st_uid == UID
        assert oct((data / "encryption.key").stat().st_mode & 0o777) == "0o600"
    finally:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        fake.stop()
