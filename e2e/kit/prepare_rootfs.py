"""Makes, ahead of the tests, the cached root file systems that
e2e/test_fresh_machine_e2e.py (a fresh bookworm with the Debian package list)
and e2e/test_image_e2e.py (the runtime stage's packages) use.
scripts/test.sh runs it in the background while Swift builds: mmdebstrap
waits mostly on the network and the disk, the compiler on the CPU. The tests
make a missing one themselves, so a failure here only costs time; the script
exits non-zero and says which one failed.

    python -m e2e.kit.prepare_rootfs"""
from __future__ import annotations

import sys
import time

from .rootfs import rootfs_tarball, rootfs_tree


def main() -> int:
    # The package lists and cache places are the tests' own.
    from e2e.test_fresh_machine_e2e import CACHE as FRESH_CACHE, debian_packages
    from e2e.test_image_e2e import CACHE as IMAGE_CACHE, runtime_stage

    failed = 0
    for name, make in (("fresh bookworm", lambda: rootfs_tree(debian_packages(), FRESH_CACHE)),
                       ("image runtime stage", lambda: rootfs_tarball(runtime_stage()[1], IMAGE_CACHE))):
        started = time.monotonic()
        try:
            path = make()
            print(f"prepare-rootfs: {name}: {path} ({time.monotonic() - started:.0f} s)", flush=True)
        except Exception as e:  # noqa: BLE001 - reported, and the test makes it again
            failed += 1
            print(f"prepare-rootfs: {name} failed after {time.monotonic() - started:.0f} s: {e!r}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
