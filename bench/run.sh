#!/usr/bin/env bash
# Benchmarks (figures, not tests): installs wrk and FastMCP (in its own venv),
# builds the release binary, runs bench/bench.py. Loopback only, bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
command -v wrk >/dev/null || apt-get install -y -qq --no-install-recommends wrk >/dev/null
# nginx: the MCP server that answers before reading the body, in the gateway load run.
command -v nginx >/dev/null || apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
if [ ! -x .venv-fastmcp/bin/python ]; then
  python3 -m venv .venv-fastmcp
  .venv-fastmcp/bin/pip install -q fastmcp uvicorn
fi
# The binary as the Dockerfile builds it (and scripts/test.sh: the artifacts are shared).
swift build -c release --product dcr-shim --static-swift-stdlib 2>&1 | tail -1
export DCR_SHIM_BIN="$PWD/.build/release/dcr-shim"
swift build -c release --product jwt-bench 2>&1 | tail -1
.venv/bin/python bench/bench.py --fastmcp-python "$PWD/.venv-fastmcp/bin/python" "$@"
# Client ID Metadata Documents: cached CIMD vs DCR at /authorize, and the cold fetch (about 2 minutes).
.venv/bin/python bench/bench_cimd.py
# Issued tokens and gateway mode (bench/gateway_bench.py, about 4 minutes).
.venv/bin/python bench/gateway_bench.py
# Load through the gateway against a server that answers before reading the body (about 1 minute).
.venv/bin/python bench/gateway_early_answer_bench.py
# Enterprise-Managed Authorization: jwt-bearer grants/s against code flows/s (about 1 minute).
exec .venv/bin/python bench/ema_bench.py
