"""Load through the gateway against an MCP server that answers at once,
before reading the request body: figures, and whether the shim survives.

nginx (`return 200`, keep-alive) stands in for the fastest such server: it
answers every request from its headers and discards the body afterwards.
wrk posts a JSON-RPC `tools/call` of about 8 KB (a body that spans several
reads) over 32 keep-alive connections, first straight to nginx (the
baseline, in the same run), then through the gateway with a valid token.
Printed: requests, req/s, p50/p99, non-2xx answers, socket errors, and
whether the shim process is still up and answers /healthz afterwards.

Run: DCR_SHIM_BIN=.build/release/dcr-shim .venv/bin/python bench/gateway_early_answer_bench.py
(bench/run.sh runs it after bench/gateway_bench.py). Loopback only."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gateway_bench import MCP_CALL, sign_in, wrk  # noqa: E402  (bench/gateway_bench.py, beside this file)
from e2e.kit.fake_idp import FakeIdP  # noqa: E402
from e2e.kit.gateway import issued_extra  # noqa: E402
from e2e.kit.harness import Shim  # noqa: E402
from e2e.kit.idp import free_port, stop_process, wait_http  # noqa: E402

SECONDS = int(os.environ.get("BENCH_EARLY_SECONDS", "15"))
CONNECTIONS = 32
CALL = {**MCP_CALL, "params": {**MCP_CALL["params"], "name": "text_length", "arguments": {"text": "x" * 8000}}}


class AnswersAtOnce:
    """nginx on a loopback port answering every request with a fixed
    JSON-RPC result, without reading the request body first."""

    def __init__(self, workdir: Path):
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        temp = "\n".join(f"  {kind}_temp_path {workdir}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        answer = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"content": []}})
        (workdir / "nginx.conf").write_text(f"""
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
{temp}
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{self.port};
    location / {{ default_type application/json; return 200 '{answer}'; }}
  }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-c", str(workdir / "nginx.conf"), "-p", str(workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        wait_http(self.url, proc=self.proc, log_path=str(workdir / "error.log"))

    def stop(self) -> None:
        stop_process(self.proc)


def main() -> int:
    if not shutil.which("nginx") or not shutil.which("wrk"):
        print("needs nginx and wrk (apt-get install nginx-light wrk; bench/run.sh installs them)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="dcr-shim-early-answer-bench-"))
    fake = FakeIdP()
    fake.expires_in = 3600
    upstream = AnswersAtOnce(work / "nginx")
    port = free_port()
    idp = fake.as_idp(f"http://127.0.0.1:{port}/callback")
    resource = f"http://127.0.0.1:{port}/mcp"
    gateway = Shim(work / "gateway", port, idp, resource, extra={**issued_extra(idp, resource, upstream=upstream.url),
                                                                 "log": {"level": "warning"}})
    gateway.extra["resources"][0].pop("upstream_token_header")
    results: dict = {"binary": os.environ.get("DCR_SHIM_BIN", "debug"), "seconds": SECONDS, "connections": CONNECTIONS,
                     "body_bytes": len(json.dumps(CALL))}
    try:
        gateway.start()
        token = sign_in(gateway, idp)
        direct = wrk(upstream.url, connections=CONNECTIONS, post_mcp=True, call=CALL, seconds=SECONDS)
        through = wrk(resource, connections=CONNECTIONS, token=token, post_mcp=True, call=CALL, seconds=SECONDS)
        time.sleep(0.5)
        alive = gateway.proc.poll() is None
        health = httpx.get(gateway.base_url + "/healthz", timeout=5).status_code if alive else None
        results.update({"direct": direct, "gateway": through, "shim_alive": alive, "healthz": health})
        for name, run in (("nginx direct", direct), ("through the gateway", through)):
            print(f"{name}: {run['requests']} requests, {run['rps']:.0f} req/s, p50 {run['p50_ms']:.3f} ms, p99 {run['p99_ms']:.2f} ms, "
                  f"non-2xx {run['errors']}, socket errors {run['socket_errors']}", flush=True)
        print(f"gateway/direct throughput {through['rps'] / direct['rps']:.2f}x; shim alive after the run: {alive} (/healthz {health})",
              flush=True)
    finally:
        gateway.stop()
        upstream.stop()
        fake.stop()
    (Path(__file__).resolve().parent / "last-early-answer-results.json").write_text(json.dumps(results, indent=2))
    return 0 if results.get("shim_alive") else 1


if __name__ == "__main__":
    sys.exit(main())
