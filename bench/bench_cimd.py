"""Client ID Metadata Documents: what a CIMD client costs at /authorize.
Figures, not pass/fail; every figure beside its baseline from the same run.

  1. GET /authorize with a CIMD client whose document is cached, against the
     same request from a DCR client (goal: within 10%). Measured twice: on the
     default SQLite store (`synchronous: full`, what users run; the pending
     consent's fsync dominates both), and on `memory:` (CPU only, where the
     document lookup and its validation are the whole difference). wrk, 2
     threads, 32 connections; DCR and CIMD alternate three times and the
     medians are compared, because the machine is shared.
  2. The cold fetch: /authorize for documents not yet cached (each a new URL,
     one request at a time) against the warm one, p50 and p99. The document
     server is a Python HTTPS server on loopback, so the figure is the shim's
     own cost plus one local TLS handshake: a lower bound for a document on
     the Internet, where the network round trips add to it.

Run: bash bench/run.sh (after bench.py), or alone with the release binary:
  DCR_SHIM_BIN=.build/release/dcr-shim .venv/bin/python bench/bench_cimd.py"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import wrk  # noqa: E402  (bench/bench.py, beside this file)
from e2e.kit.cimd import DocumentServer, TestCA, document  # noqa: E402
from e2e.kit.fake_idp import FakeIdP  # noqa: E402
from e2e.kit.harness import Shim, pkce_pair  # noqa: E402
from e2e.kit.idp import free_port  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_CIMD_ROUNDS", "3"))
COLD = int(os.environ.get("BENCH_CIMD_COLD", "60"))


def authorize_url(base: str, client_id: str, redirect: str, resource: str) -> str:
    _, challenge = pkce_pair()
    return base + "/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect, "state": "s",
        "code_challenge": challenge, "code_challenge_method": "S256", "resource": resource, "scope": "mcp"})


def timed_gets(urls: list[str]) -> list[float]:
    """One request at a time, each on a fresh connection (as a browser's first navigation); milliseconds."""
    out = []
    for url in urls:
        started = time.perf_counter()
        r = httpx.get(url, timeout=30)
        out.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 303, (r.status_code, r.text[:300])
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def measure(store: str, work: Path, fake: FakeIdP, docs: DocumentServer) -> dict:
    port = free_port()
    idp = fake.as_idp(f"http://127.0.0.1:{port}/callback")
    resource = "http://127.0.0.1:9/mcp"
    storage = {"url": "memory:"} if store == "memory" else {"url": f"sqlite://{work / store / 'shim.db'}"}
    shim = Shim(work / store, port, idp, resource,
                extra={**docs.shim_extra(), "registration": {"rate_limit": 0}, "log": {"level": "warning"}, "storage": storage})
    shim.start()
    try:
        redirect = "http://127.0.0.1:5555/callback"
        dcr = httpx.post(shim.base_url + "/register", json={"redirect_uris": [redirect], "token_endpoint_auth_method": "none",
                                                             "client_name": "bench dcr"}).json()["client_id"]
        cimd = docs.publish(f"bench-{store}", document(docs.url(f"bench-{store}"), name="bench cimd",
                                                       redirect_uris=["http://127.0.0.1/callback"]), cache_control="max-age=3600")
        dcr_url = authorize_url(shim.base_url, dcr, redirect, resource)
        cimd_url = authorize_url(shim.base_url, cimd, redirect, resource)
        assert httpx.get(cimd_url).status_code == 303  # fetched once; cached from here on
        fetches_before = len(docs.requests)
        runs: dict[str, list[dict]] = {"dcr": [], "cimd": []}
        for _ in range(ROUNDS):
            runs["dcr"].append(wrk(dcr_url))
            runs["cimd"].append(wrk(cimd_url))
        warm_fetches = len(docs.requests) - fetches_before
        result = {kind: {"rps_median": statistics.median(r["rps"] for r in rs), "p99_ms_median": statistics.median(r["p99_ms"] for r in rs),
                         "errors": sum(r["errors"] for r in rs), "runs": rs} for kind, rs in runs.items()}
        result["ratio"] = result["cimd"]["rps_median"] / result["dcr"]["rps_median"]
        result["document_fetches_during_warm_runs"] = warm_fetches
        print(f"[{store}] /authorize DCR {result['dcr']['rps_median']:.0f} req/s (p99 {result['dcr']['p99_ms_median']:.1f} ms), "
              f"CIMD cached {result['cimd']['rps_median']:.0f} req/s (p99 {result['cimd']['p99_ms_median']:.1f} ms): "
              f"{result['ratio']:.2f}x (goal >= 0.90x); document fetches during the warm runs: {warm_fetches}", flush=True)

        if store == "sqlite":
            cold_urls = [authorize_url(shim.base_url, docs.publish(f"cold-{i}", document(docs.url(f"cold-{i}"))), redirect, resource)
                         for i in range(COLD)]
            cold = timed_gets(cold_urls)
            warm = timed_gets([cimd_url] * COLD)
            base = timed_gets([dcr_url] * COLD)
            result["cold"] = {"p50_ms": pct(cold, 0.5), "p99_ms": pct(cold, 0.99), "warm_p50_ms": pct(warm, 0.5),
                              "warm_p99_ms": pct(warm, 0.99), "dcr_p50_ms": pct(base, 0.5), "dcr_p99_ms": pct(base, 0.99)}
            c = result["cold"]
            print(f"[{store}] cold CIMD /authorize p50 {c['p50_ms']:.1f} ms p99 {c['p99_ms']:.1f} ms; warm p50 {c['warm_p50_ms']:.1f} ms "
                  f"p99 {c['warm_p99_ms']:.1f} ms; DCR p50 {c['dcr_p50_ms']:.1f} ms; cold fetch cost ≈ "
                  f"{c['p50_ms'] - c['warm_p50_ms']:.1f} ms at p50 ({COLD} documents, one at a time)", flush=True)
        return result
    finally:
        shim.stop()


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="dcr-shim-bench-cimd-"))
    fake = FakeIdP()
    docs = DocumentServer(TestCA(work / "ca"))
    results = {"binary": os.environ.get("DCR_SHIM_BIN", "debug"), "rounds": ROUNDS, "cold_documents": COLD}
    try:
        for store in ("sqlite", "memory"):
            results[store] = measure(store, work, fake, docs)
    finally:
        docs.close()
        fake.stop()
    (Path(__file__).resolve().parent / "last-results-cimd.json").write_text(json.dumps(results, indent=2))
    print("\n=== CIMD summary (ratios within this run; other work ran on the machine)")
    for store in ("sqlite", "memory"):
        r = results[store]
        print(f"{store}: cached CIMD /authorize / DCR /authorize = {r['ratio']:.2f}x "
              f"({r['cimd']['rps_median']:.0f} vs {r['dcr']['rps_median']:.0f} req/s)")
    c = results["sqlite"]["cold"]
    print(f"cold fetch: p50 {c['p50_ms']:.1f} ms vs warm {c['warm_p50_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
