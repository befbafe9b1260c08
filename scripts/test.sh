#!/usr/bin/env bash
# Every test: installs what the tests need (Debian and PyPI packages), builds
# the shim (debug with the tests; release as the Dockerfile builds it, which
# the end-to-end tests run), checks the formatting, fails on a warning in
# our own files, fuzzes the
# parsers of untrusted input for a few seconds each, runs the
# Swift unit and router tests, then the end-to-end tests
# against django-oauth-toolkit and glewlwyd with the Python mcp SDK client
# and headless Chromium. Exits non-zero on any failure; prints how long each
# phase took. Extra arguments go to pytest (e.g. `-k flow`).
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
phase_name=""
phase_start=$start
timings=()

end_phase() {
  if [ -n "$phase_name" ]; then
    local took=$(( $(date +%s) - phase_start ))
    timings+=("$(printf '%-28s %5ss' "$phase_name" "$took")")
    echo "--- $phase_name: ${took}s"
  fi
  phase_name=""
}
phase() {
  end_phase
  phase_name=$1
  phase_start=$(date +%s)
  echo
  echo "=== $1 ($(date +%H:%M:%S))"
}
summary() {
  local rc=$?
  end_phase
  echo
  echo "=== timings"
  printf '%s\n' "${timings[@]}"
  printf '%-28s %5ss\n' "total" "$(( $(date +%s) - start ))"
  if [ "$rc" -eq 0 ]; then echo "all tests passed"; else echo "FAILED (exit $rc)"; fi
}
trap summary EXIT

phase "install dependencies"
bash scripts/install-deps.sh

# The code is formatted as .swift-format says (Hummingbird's settings: line
# length 150), checked with the toolchain's own swift-format. To fix:
# swift format format -r -i Sources Tests fuzz/Sources bench/jwt-bench
# The root file systems of the fresh-machine and image tests (mmdebstrap:
# network and disk, about two minutes) are made in the background while
# Swift builds (CPU); the end-to-end phase waits for them.
rootfs_log=.build/prepare-rootfs.log
mkdir -p .build
.venv/bin/python -m e2e.kit.prepare_rootfs > "$rootfs_log" 2>&1 &
rootfs_pid=$!

phase "format"
swift format lint --strict -r Sources Tests fuzz/Sources bench/jwt-bench

# Our own sources and tests build without warnings (a warning in another
# package is not ours to fix): any "warning:" line about a file under this
# repository's Sources/ or Tests/ fails the run.
build() {
  local log=$1; shift
  mkdir -p .build
  if ! "$@" > "$log" 2>&1; then
    grep -E "error:" "$log" | head -40 || true
    tail -20 "$log"
    exit 1
  fi
  tail -1 "$log"
  if grep -E "^$PWD/(Sources|Tests)/[^ ]*: warning: " "$log" | sort -u | grep .; then
    echo "the build above has warnings in this repository's own files; fix them (see $log)"
    exit 1
  fi
}

phase "swift build (debug, with tests)"
build .build/test-build.log swift build --build-tests

# The binary as the Dockerfile's build stage makes it, so that the container
# image is proven without Docker: the end-to-end tests run it, and
# e2e/test_image_e2e.py runs it stripped in a Debian root file system with
# only the runtime stage's packages.
phase "swift build (release, as the Dockerfile)"
build .build/release-build.log swift build -c release --product dcr-shim --static-swift-stdlib
release_bin="$PWD/.build/release/dcr-shim"

# libFuzzer on the parsers of untrusted input (redirect URIs, strict JSON,
# client metadata and metadata documents, JWS, form bodies, the YAML
# configuration), a few seconds per target; a crash or a broken invariant
# fails the run and prints the input (scripts/fuzz.sh; docs/security.md,
# "Fuzzing").
phase "fuzz (libFuzzer)"
scripts/fuzz.sh "${DCR_SHIM_FUZZ_SECONDS:-10}"

phase "swift test"
# A throw-away PostgreSQL (Debian's server, run as the postgres user on a
# loopback port) so the storage conformance suite also runs on PostgresStore.
pg_dir=$(mktemp -d /tmp/dcr-shim-swiftpg-XXXXXX)
chown postgres "$pg_dir"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
stop_pg() { runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$pg_dir"; }
runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust >/dev/null
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -t 60 \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1" start >/dev/null
echo "PostgreSQL for the storage tests on 127.0.0.1:$pg_port"
# The full Swift Testing / XCTest output is kept in .build/swift-test.log;
# shown here: failures with their details and the summary lines.
set +e
DCR_SHIM_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable" \
  swift test --skip-build > .build/swift-test.log 2>&1
swift_rc=$?
set -e
stop_pg
grep -E "✘|↳|recorded an issue|error:|Test run with|Executed [0-9]+ test" .build/swift-test.log | tail -80 || true
if [ "$swift_rc" -ne 0 ]; then
  echo "swift test failed (exit $swift_rc); last lines of .build/swift-test.log:"
  tail -40 .build/swift-test.log
  exit "$swift_rc"
fi

phase "end-to-end tests (pytest)"
if wait "$rootfs_pid"; then cat "$rootfs_log"; else echo "the root file systems were not made ahead (the tests make them):"; cat "$rootfs_log"; fi
# SIGINT on timeout lets pytest run its finalizers (every process it started is stopped).
DCR_SHIM_BIN="$release_bin" DCR_SHIM_RELEASE_BIN="$release_bin" \
  timeout -s INT -k 60 1800 .venv/bin/python -m pytest -q -p no:cacheprovider --durations=10 e2e "$@"
end_phase
