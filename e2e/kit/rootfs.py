"""Fresh Debian bookworm root file systems, laid out with mmdebstrap from this
machine's apt sources, for the tests that prove a set-up on a system that
has nothing but what it installs (the container image's runtime stage, the
Debian part of scripts/install-deps.sh).

``--variant=minbase`` is Debian's smallest system (what debian:bookworm-slim
is, with docs trimmed); Recommends are not installed, as with
``apt-get install --no-install-recommends`` (mmdebstrap's default, made
explicit). A root file system is cached under ``cache`` (.build/..., ignored
by git), keyed by its package list; CI starts without it. The caches of
earlier package lists are removed when a new one is made."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

NO_RECOMMENDS = 'Apt::Install-Recommends "false"'


def apt_sources() -> str:
    """This machine's apt sources, which mmdebstrap reads as its mirrors."""
    deb822 = Path("/etc/apt/sources.list.d/debian.sources")
    return str(deb822) if deb822.exists() else "/etc/apt/sources.list"


def _key(packages: list[str]) -> str:
    return hashlib.sha256(" ".join(["bookworm", "minbase", "no-recommends", *sorted(packages)]).encode()).hexdigest()[:16]


def _forget_others(cache: Path, keep: Path) -> None:
    for old in cache.glob("bookworm-*"):
        if old != keep:
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)


def rootfs_tarball(packages: list[str], cache: Path, *, timeout: float = 900) -> Path:
    """A tarball of a minbase bookworm with ``packages`` installed (without
    their Recommends); made on the first call for a package list, then reused."""
    tarball = cache / f"bookworm-{_key(packages)}.tar"
    if not tarball.exists():
        cache.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".partial.tar")
        subprocess.run(["mmdebstrap", "--quiet", "--variant=minbase", f"--aptopt={NO_RECOMMENDS}",
                        "--include=" + ",".join(packages), "bookworm", str(partial), apt_sources()],
                       check=True, timeout=timeout)
        partial.rename(tarball)
        _forget_others(cache, tarball)
    return tarball


def rootfs_tree(packages: list[str], cache: Path, *, timeout: float = 900) -> Path:
    """The same root file system as a directory, to be used read-only under
    an overlay (see ``Overlay``): a big one is then neither unpacked nor
    deleted at every run. Made from ``rootfs_tarball``, which is dropped once
    unpacked."""
    tree = cache / f"bookworm-{_key(packages)}"
    if not tree.is_dir():
        tarball = rootfs_tarball(packages, cache, timeout=timeout)
        partial = tree.with_name(tree.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        subprocess.run(["tar", "-x", "--numeric-owner", "-f", str(tarball), "-C", str(partial)], check=True, timeout=900)
        partial.rename(tree)
        _forget_others(cache, tree)
    return tree


@dataclass
class Overlay:
    """A read-only root file system (``lower``) with a writable layer in
    ``scratch``: each command runs in its own mount namespace where the two
    are mounted as one tree, with /proc, and chroots into it. What commands
    write lands in ``scratch/upper`` (``add`` puts files there first)."""
    lower: Path
    scratch: Path

    def __post_init__(self) -> None:
        for d in ("upper", "work", "merged"):
            (self.scratch / d).mkdir(parents=True, exist_ok=True)

    def add(self, path: str, source: Path) -> None:
        target = self.scratch / "upper" / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)

    def argv(self, script: str, binds: tuple[str, ...] = ()) -> list[str]:
        """``sh -c script`` inside, as root with a clean environment; each of
        ``binds`` (a host directory) is mounted at the same path inside."""
        merged = self.scratch / "merged"
        mounts = [f"mount -t overlay overlay -o lowerdir='{self.lower}',upperdir='{self.scratch}/upper',"
                  f"workdir='{self.scratch}/work' '{merged}'",
                  f"mount -t proc proc '{merged}/proc'"]
        for path in binds:
            mounts += [f"mkdir -p '{merged}{path}'", f"mount --bind '{path}' '{merged}{path}'"]
        quoted = script.replace("'", "'\\''")
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                " && ".join(mounts) + f" && exec chroot '{merged}' /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "
                f"HOME=/root sh -c '{quoted}'"]
