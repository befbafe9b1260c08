#!/usr/bin/env bash
# Every test: installs what the tests need (Debian and PyPI packages), builds
# the shim, runs the Swift unit and router tests, then the end-to-end tests
# against django-oauth-toolkit and glewlwyd with the Python mcp SDK client
# and headless Chromium. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

phase() { echo; echo "=== $1 ($(date +%H:%M:%S))"; }
start=$(date +%s)

phase "install dependencies"
bash scripts/install-deps.sh

phase "swift build"
mkdir -p .build
if ! swift build --build-tests > .build/test-build.log 2>&1; then
  grep -E "error" .build/test-build.log | head -40
  tail -20 .build/test-build.log
  exit 1
fi
tail -1 .build/test-build.log

phase "swift test"
swift test --skip-build 2>&1 | grep -vE "^(◇|􀟈|↳)|started\.$|info Hummingbird|Server started" | tail -60
test "${PIPESTATUS[0]}" -eq 0

phase "end-to-end tests (pytest)"
.venv/bin/python -m pytest -q -p no:cacheprovider e2e "$@"

echo; echo "all tests passed in $(( $(date +%s) - start ))s"
