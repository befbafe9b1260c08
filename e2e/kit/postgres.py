"""A private PostgreSQL server (Debian's postgresql package) for the replica
tests: initdb in a temp directory, listening on a loopback port, run as the
`postgres` system user (the server refuses to run as root)."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .idp import IdPError, free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise IdPError("PostgreSQL server binaries are missing (scripts/install-deps.sh installs postgresql)")
    return found[-1]


class PostgresServer:
    def __init__(self) -> None:
        # Its own directory outside pytest's (which is 0700 root): the server runs as `postgres`.
        workdir = Path(tempfile.mkdtemp(prefix="dcr-shim-pg-"))
        self.workdir = workdir
        self.dir = workdir / "pgdata"
        self.socket_dir = workdir / "pgsock"
        self.port = free_port()
        self.password = "shim-test-" + os.urandom(6).hex()
        for d in (self.dir, self.socket_dir):
            d.mkdir(parents=True, exist_ok=True)
            shutil.chown(d, "postgres", "postgres")
        os.chmod(workdir, 0o755)
        as_postgres = ["runuser", "-u", "postgres", "--"]
        subprocess.run(as_postgres + [_bin("initdb"), "-D", str(self.dir), "--auth-local=trust", "--auth-host=scram-sha-256",
                                      "-U", "postgres"], check=True, capture_output=True, timeout=120)
        self.log = workdir / "postgres.log"
        self.log.touch()
        shutil.chown(self.log, "postgres", "postgres")
        subprocess.run(as_postgres + [_bin("pg_ctl"), "-D", str(self.dir), "-l", str(self.log), "-w", "-t", "60", "-o",
                                      f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1", "start"],
                       check=True, capture_output=True, timeout=90)
        self._psql(f"CREATE USER shim PASSWORD '{self.password}'")
        self._psql("CREATE DATABASE shim OWNER shim")

    def _psql(self, sql: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-h", str(self.socket_dir), "-p", str(self.port),
                        "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True, timeout=30)

    @property
    def url(self) -> str:
        return f"postgres://shim:{self.password}@127.0.0.1:{self.port}/shim?sslmode=disable"

    def stop(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", _bin("pg_ctl"), "-D", str(self.dir), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.workdir, ignore_errors=True)
