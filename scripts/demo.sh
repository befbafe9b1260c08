#!/usr/bin/env bash
# The demo: installs what it needs, builds the shim, and runs a real IdP
# (django-oauth-toolkit), the shim on SQLite and the Python mcp SDK client
# through discovery → registration → consent → login → token → tool call →
# refresh → tool call. Ends with "DEMO OK" or "DEMO FAILED at step ...".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "[demo] swift build (debug)"
swift build --product dcr-shim 2>&1 | tail -1
exec .venv/bin/python -m e2e.demo
