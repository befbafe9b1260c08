#!/usr/bin/env bash
# The demo: installs what it needs, builds the shim, and runs a real IdP
# (django-oauth-toolkit), the shim on SQLite and the Python mcp SDK client
# through discovery → registration → consent → login → token → tool call →
# refresh → tool call. Ends with "DEMO OK" or "DEMO FAILED at step ...".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "[demo] swift build (debug)"
mkdir -p .build
if ! swift build --product dcr-shim > .build/demo-build.log 2>&1; then
  grep -E "error:" .build/demo-build.log | head -40 || true
  tail -20 .build/demo-build.log
  echo "DEMO FAILED at step 'swift build'"
  exit 1
fi
tail -1 .build/demo-build.log
exec .venv/bin/python -m e2e.kit.demo
