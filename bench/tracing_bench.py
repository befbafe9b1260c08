"""What traces cost (figures, not pass/fail): one shim on the fast fake
upstream, run with `tracing` off, then on (exporting every span to a local
OTLP/HTTP receiver, sampled 1.0), then off and on again, back to back in
one run. For each: complete browser flows per second and the shim's CPU
per flow, wrk on POST /register with the shim's CPU per request, wrk on
/healthz. The ratios "on / off" are the cost an operator pays for a fully
sampled trace of every request; the receiver is in this process, so it
competes for the same two cores (the CPU figures are the shim's own).

Run (a release build): .venv/bin/python bench/tracing_bench.py"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import REGISTER_LUA, flows_per_second, ratio, with_cpu, wrk  # noqa: E402
from e2e.kit.fake_idp import FakeIdP, FakeSession  # noqa: E402
from e2e.kit.harness import Shim  # noqa: E402
from e2e.kit.idp import free_port  # noqa: E402
from e2e.kit.otlp import OTLPReceiver  # noqa: E402


def measure(shim: Shim, fake_idp, resource: str) -> dict:
    flows = with_cpu(shim.proc.pid, lambda: flows_per_second(shim.base_url, lambda: FakeSession(fake_idp), resource))
    register = with_cpu(shim.proc.pid, lambda: wrk(shim.base_url + "/register", script=REGISTER_LUA))
    healthz = wrk(shim.base_url + "/healthz")
    return {"flows_per_s": flows["flows_per_s"], "flow_cpu_ms": flows["cpu_ms_per_op"], "flow_errors": flows["errors"],
            "register_rps": register["rps"], "register_cpu_us": register["cpu_ms_per_op"] * 1000,
            "healthz_rps": healthz["rps"], "healthz_p99_ms": healthz["p99_ms"]}


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="dcr-shim-tracing-bench-"))
    fake = FakeIdP()
    receiver = OTLPReceiver()
    port = free_port()
    fake_idp = fake.as_idp(f"http://127.0.0.1:{port}/callback")
    resource = "http://127.0.0.1:9/mcp"
    base_extra = {"registration": {"rate_limit": 0, "max_clients": 10_000_000}, "authorization": {"rate_limit": 0},
                  "log": {"level": "warning"}}
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    try:
        for round_ in range(2):
            for mode in ("off", "on"):
                extra = dict(base_extra)
                if mode == "on":
                    extra["tracing"] = {"otlp_endpoint": receiver.endpoint, "service_name": "dcr-shim-bench"}
                shim = Shim(work / f"{mode}-{round_}", port, fake_idp, resource, extra=extra).start()
                try:
                    figures = measure(shim, fake_idp, resource)
                finally:
                    shim.stop()
                runs[mode].append(figures)
                print(f"round {round_ + 1}, tracing {mode}: {json.dumps(figures)}", flush=True)
        time.sleep(1)
        spans = len(receiver.spans())
    finally:
        receiver.close()
        fake.stop()

    def mean(mode: str, key: str) -> float:
        return statistics.mean(r[key] for r in runs[mode])

    print(f"\nspans received while tracing was on: {spans}")
    print("| figure | tracing off | tracing on | on / off |")
    print("|---|---|---|---|")
    for key, label in (("flows_per_s", "complete flows/s (c=8)"), ("flow_cpu_ms", "shim CPU per flow, ms"),
                       ("register_rps", "POST /register req/s"), ("register_cpu_us", "shim CPU per /register, µs"),
                       ("healthz_rps", "GET /healthz req/s"), ("healthz_p99_ms", "GET /healthz p99, ms")):
        off, on = mean("off", key), mean("on", key)
        print(f"| {label} | {off:.2f} | {on:.2f} | {ratio(on, off)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
