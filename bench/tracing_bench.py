"""What traces cost (figures, not pass/fail): one shim on the fast fake
upstream, run with `tracing` off, then on (exporting every span to a local
OTLP/HTTP receiver, sampled 1.0), then off and on again, back to back in
one run. For each: complete browser flows per second and the shim's CPU
per flow, wrk on POST /register with the shim's CPU per request, wrk on
the metadata document (the cheapest traced route; probes are not traced). The ratios "on / off" are the cost an operator pays for a fully
sampled trace of every request; the receiver is in this process, so it
competes for the same two cores (the CPU figures are the shim's own).

With `--baseline-bin PATH` (a release build from before traces existed),
that binary is measured in each round too: "off / baseline" is what the
spans cost when traces are off, which every operator pays.

Run (a release build): .venv/bin/python bench/tracing_bench.py [--baseline-bin PATH]"""
from __future__ import annotations

import argparse
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
from e2e.kit import harness  # noqa: E402
from e2e.kit.harness import Shim  # noqa: E402
from e2e.kit.idp import free_port  # noqa: E402
from e2e.kit.otlp import OTLPReceiver  # noqa: E402


def measure(shim: Shim, fake_idp, resource: str) -> dict:
    flows = with_cpu(shim.proc.pid, lambda: flows_per_second(shim.base_url, lambda: FakeSession(fake_idp), resource))
    register = with_cpu(shim.proc.pid, lambda: wrk(shim.base_url + "/register", script=REGISTER_LUA))
    metadata = wrk(shim.base_url + "/.well-known/oauth-authorization-server")
    return {"flows_per_s": flows["flows_per_s"], "flow_cpu_ms": flows["cpu_ms_per_op"], "flow_errors": flows["errors"],
            "register_rps": register["rps"], "register_cpu_us": register["cpu_ms_per_op"] * 1000,
            "metadata_rps": metadata["rps"], "metadata_p99_ms": metadata["p99_ms"]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline-bin", default="")
    args = ap.parse_args()
    this_bin = harness.SHIM_BIN
    modes = (["baseline"] if args.baseline_bin else []) + ["off", "on"]
    work = Path(tempfile.mkdtemp(prefix="dcr-shim-tracing-bench-"))
    fake = FakeIdP()
    receiver = OTLPReceiver()
    port = free_port()
    fake_idp = fake.as_idp(f"http://127.0.0.1:{port}/callback")
    resource = "http://127.0.0.1:9/mcp"
    base_extra = {"registration": {"rate_limit": 0, "max_clients": 10_000_000}, "authorization": {"rate_limit": 0},
                  "log": {"level": "warning"}}
    runs: dict[str, list[dict]] = {mode: [] for mode in modes}
    try:
        for round_ in range(2):
            for mode in modes:
                harness.SHIM_BIN = args.baseline_bin if mode == "baseline" else this_bin
                extra = dict(base_extra)
                if mode == "on":
                    extra["tracing"] = {"otlp_endpoint": receiver.endpoint, "service_name": "dcr-shim-bench"}
                shim = Shim(work / f"{mode}-{round_}", port, fake_idp, resource, extra=extra).start()
                try:
                    figures = measure(shim, fake_idp, resource)
                finally:
                    shim.stop()
                runs[mode].append(figures)
                print(f"round {round_ + 1}, {mode}: {json.dumps(figures)}", flush=True)
        time.sleep(1)
        spans = len(receiver.spans())
    finally:
        receiver.close()
        fake.stop()

    def mean(mode: str, key: str) -> float:
        return statistics.mean(r[key] for r in runs[mode])

    print(f"\nspans received while tracing was on: {spans}")
    baseline = "baseline" in runs
    print("| figure |" + (" before traces |" if baseline else "") + " tracing off | tracing on |"
          + (" off / before |" if baseline else "") + " on / off |")
    print("|---|" + ("---|" if baseline else "") + "---|---|" + ("---|" if baseline else "") + "---|")
    for key, label in (("flows_per_s", "complete flows/s (c=8)"), ("flow_cpu_ms", "shim CPU per flow, ms"),
                       ("register_rps", "POST /register req/s"), ("register_cpu_us", "shim CPU per /register, µs"),
                       ("metadata_rps", "GET metadata req/s"), ("metadata_p99_ms", "GET metadata p99, ms")):
        off, on = mean("off", key), mean("on", key)
        before = mean("baseline", key) if baseline else 0.0
        print(f"| {label} |" + (f" {before:.2f} |" if baseline else "") + f" {off:.2f} | {on:.2f} |"
              + (f" {ratio(off, before)} |" if baseline else "") + f" {ratio(on, off)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
