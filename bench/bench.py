"""dcr-shim benchmarks: figures, not pass/fail. Every measured quantity is
printed beside its baseline from the same run, as a ratio.

  - wrk on the metadata route and on /healthz (the bare route of the same
    server, same middleware), and on POST /register; requests/s and p99.
  - complete browser flows per second (register → authorize → consent →
    upstream → callback → token) at a fixed concurrency, against a fast
    fake upstream and against django-oauth-toolkit.
  - the same against FastMCP's OAuthProxy with the same upstreams.
  - RSS idle and after 1k / 100k / 1M registered clients; start-to-ready.

Run: bash bench/run.sh (installs wrk and fastmcp, builds release)."""
from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlparse

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from e2e.kit.fake_idp import FakeIdP, FakeSession  # noqa: E402
from e2e.kit.harness import Browser, Shim, pkce_pair, query  # noqa: E402
from e2e.kit.idp import IdP, free_port, stop_process, wait_http  # noqa: E402
from e2e.kit.idp.dot import start_dot  # noqa: E402

WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "8"))
FLOW_SECONDS = int(os.environ.get("BENCH_FLOW_SECONDS", "12"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
REGISTER_LUA = Path(__file__).resolve().parent / "register.lua"


def wrk(url: str, *, script: Path | None = None, connections: int = 32) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{WRK_SECONDS}s", "--latency"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=WRK_SECONDS + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale, "errors": int(non2xx.group(1)) if non2xx else 0}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_cpu(pid: int, measure) -> dict:
    """Runs `measure()` and adds the process's CPU time per request or flow."""
    before = cpu_seconds(pid)
    result = measure()
    used = cpu_seconds(pid) - before
    count = result.get("flows") or result.get("rps", 0) * WRK_SECONDS
    result["cpu_ms_per_op"] = used * 1000 / count if count else float("nan")
    return result


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def generic_flow(base: str, idp_session, client_redirect: str, resource: str | None, browser: Browser) -> None:
    """One complete browser flow against an authorization server that has a
    consent page (the shim's or FastMCP's), ending in a token response. The
    worker's one HTTP client is reused (keep-alive), so the driver measures
    the server, not its own connection set-up."""
    http = browser.client
    r = http.post(base + "/register", json={"redirect_uris": [client_redirect], "token_endpoint_auth_method": "none",
                                            "grant_types": ["authorization_code", "refresh_token"], "client_name": "bench",
                                            "scope": "mcp"})
    assert r.status_code in (200, 201), r.text
    client_id = r.json()["client_id"]
    verifier, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": client_redirect, "state": "s",
              "code_challenge": challenge, "code_challenge_method": "S256", "scope": "mcp"}
    if resource:
        params["resource"] = resource
    url = base + "/authorize?" + httpx.QueryParams(params).__str__()
    origin = f"{urlparse(base).scheme}://{urlparse(base).netloc}"
    for _ in range(12):
        if url.startswith(client_redirect):
            break
        if not url.startswith(origin):
            url = idp_session.authorize(url)
            continue
        resp = browser.get(url)
        if resp.status_code in (302, 303, 307):
            url = urljoin(url, resp.headers["location"])
            continue
        assert resp.status_code == 200, (resp.status_code, resp.text[:200])
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', resp.text))
        decision = {"decision": "allow"} if "request_id" in fields else {"action": "approve"}
        action = re.search(r'<form[^>]*action="([^"]*)"', resp.text)
        target = urljoin(url, action.group(1)) if action and action.group(1) else url.split("?")[0]
        post = browser.post(target, data={**fields, **decision})
        assert post.status_code in (302, 303), (post.status_code, post.text[:200])
        url = urljoin(url, post.headers["location"])
    final = query(url)
    assert "code" in final, f"authorization ended with {final.get('error')}: {final.get('error_description')}"
    code = final["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": client_redirect, "code_verifier": verifier,
            "client_id": client_id}
    if resource:
        form["resource"] = resource
    t = http.post(base + "/token", data=form)
    assert t.status_code == 200 and "access_token" in t.json(), t.text[:300]


def concurrent_rate(unit: str, make_step) -> dict:
    """CONCURRENCY threads for FLOW_SECONDS: each calls `make_step()` once for
    its own state (a session, a browser), then the step it returns until the
    time is up or the step returns False. A step that raises is an error
    (counted; the first one shown); the others' durations are the latencies.
    `unit` names the figures: `<unit>_per_s`, `<unit>`."""
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.monotonic() + FLOW_SECONDS
    lock = threading.Lock()

    def worker() -> None:
        step = make_step()
        while time.monotonic() < stop:
            started = time.monotonic()
            try:
                if step() is False:
                    return
            except Exception as e:  # counted, and shown once
                with lock:
                    errors.append(repr(e)[:200])
                continue
            with lock:
                latencies.append(time.monotonic() - started)

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")
    return {f"{unit}_per_s": len(latencies) / elapsed, "p50_ms": pct(0.5), "p99_ms": pct(0.99), unit: len(latencies),
            "errors": len(errors), "first_error": errors[0] if errors else ""}


def flows_per_second(base: str, session_factory, resource: str | None) -> dict:
    def make_step():
        session, browser = session_factory(), Browser()
        redirect = f"http://127.0.0.1:{free_port()}/callback"
        return lambda: generic_flow(base, session, redirect, resource, browser)

    return concurrent_rate("flows", make_step)


def start_fastmcp(workdir: Path, authorize: str, token: str, client_id: str, secret: str, python: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(workdir / "fastmcp.log", "w")
    proc = subprocess.Popen([python, str(Path(__file__).resolve().parent / "fastmcp_proxy.py"), "--port", str(port),
                             "--authorize", authorize, "--token", token, "--client-id", client_id, "--client-secret", secret,
                             "--data", str(workdir / "fastmcp-data")], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/.well-known/oauth-authorization-server", timeout=60, proc=proc, log_path=str(workdir / "fastmcp.log"))
    return proc, base


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "n/a"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fastmcp-python", default=os.environ.get("FASTMCP_PYTHON", ""))
    ap.add_argument("--clients", default="1000,100000,1000000")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dcr-shim-bench-"))
    results: dict = {"binary": os.environ.get("DCR_SHIM_BIN", "debug"), "wrk_seconds": WRK_SECONDS,
                     "flow_seconds": FLOW_SECONDS, "concurrency": CONCURRENCY}
    procs: list = []
    fake = FakeIdP()
    shim_port = free_port()
    fake_idp = fake.as_idp(f"http://127.0.0.1:{shim_port}/callback")
    resource = "http://127.0.0.1:9/mcp"
    shim = Shim(work / "shim", shim_port, fake_idp, resource,
                extra={"registration": {"rate_limit": 0, "max_clients": 10_000_000}, "log": {"level": "warning"}})
    try:
        t0 = time.monotonic()
        shim.start()
        results["start_to_ready_ms"] = (time.monotonic() - t0) * 1000
        time.sleep(1)
        results["rss_idle_mb"] = rss_mb(shim.proc.pid)

        # 1. metadata vs the bare route of the same server
        bare = wrk(shim.base_url + "/healthz")
        meta = wrk(shim.base_url + "/.well-known/oauth-authorization-server")
        results["wrk_healthz"], results["wrk_metadata"] = bare, meta
        print(f"metadata: {meta['rps']:.0f} req/s p99 {meta['p99_ms']:.2f} ms; bare /healthz: {bare['rps']:.0f} req/s "
              f"p99 {bare['p99_ms']:.2f} ms; ratio {ratio(meta['rps'], bare['rps'])}", flush=True)

        # 2. POST /register (the durable default: SQLite, synchronous full), CPU per request
        results["wrk_healthz_cpu"] = with_cpu(shim.proc.pid, lambda: wrk(shim.base_url + "/healthz"))
        reg = with_cpu(shim.proc.pid, lambda: wrk(shim.base_url + "/register", script=REGISTER_LUA))
        results["wrk_register"] = reg
        print(f"register: {reg['rps']:.0f} req/s p99 {reg['p99_ms']:.2f} ms (non-2xx: {reg['errors']})", flush=True)
        shim.stop()
        shim.extra = {**shim.extra, "storage": {"url": f"sqlite://{shim.workdir / 'shim.db'}", "sqlite_synchronous": "normal"}}
        shim.start()
        results["wrk_register_sync_normal"] = wrk(shim.base_url + "/register", script=REGISTER_LUA)
        print(f"register (sqlite_synchronous: normal): {results['wrk_register_sync_normal']}", flush=True)
        shim.stop()
        shim.extra = {**shim.extra, "storage": {"url": "memory:"}}
        shim.start()
        results["wrk_register_memory"] = with_cpu(shim.proc.pid, lambda: wrk(shim.base_url + "/register", script=REGISTER_LUA))
        results["wrk_healthz_memory"] = wrk(shim.base_url + "/healthz")
        print(f"register (memory:): {results['wrk_register_memory']}; healthz {results['wrk_healthz_memory']}", flush=True)
        shim.stop()
        shim.extra = {k: v for k, v in shim.extra.items() if k != "storage"}
        shim.start()

        # 3. flows against the fake upstream
        results["flows_fake"] = with_cpu(shim.proc.pid, lambda: flows_per_second(shim.base_url, lambda: FakeSession(fake_idp), resource))
        print(f"flows (fake upstream, c={CONCURRENCY}): {results['flows_fake']}", flush=True)

        # 4. flows against django-oauth-toolkit (the shim needs the IdP's callback on its port)
        shim.stop()
        dot = start_dot(str(work / "dot"), free_port(), f"http://127.0.0.1:{shim_port}/callback", access_token_seconds=3600)
        procs.append(dot)
        shim_dot = Shim(work / "shim-dot", shim_port, dot, resource,
                        extra={"registration": {"rate_limit": 0}, "log": {"level": "warning"}}).start()
        results["flows_dot"] = flows_per_second(shim_dot.base_url, dot.new_session, resource)
        print(f"flows (django-oauth-toolkit, c={CONCURRENCY}): {results['flows_dot']}", flush=True)
        shim_dot.stop()

        # 5. FastMCP's OAuthProxy with the same upstreams
        if args.fastmcp_python:
            fm_proc, fm_base = start_fastmcp(work, fake.base + "/authorize", fake.base + "/token", "static", "fake-secret",
                                             args.fastmcp_python)
            procs.append(fm_proc)
            results["fastmcp_wrk_metadata"] = wrk(fm_base + "/.well-known/oauth-authorization-server")
            results["fastmcp_wrk_register"] = wrk(fm_base + "/register", script=REGISTER_LUA)
            results["fastmcp_flows_fake"] = with_cpu(fm_proc.pid, lambda: flows_per_second(fm_base, lambda: FakeSession(fake_idp), None))
            stop_process(fm_proc)
            print(f"fastmcp: metadata {results['fastmcp_wrk_metadata']}, register {results['fastmcp_wrk_register']}, "
                  f"flows {results['fastmcp_flows_fake']}", flush=True)
            fm_port = free_port()
            dot2 = start_dot(str(work / "dot2"), free_port(), f"http://127.0.0.1:{fm_port}/callback", access_token_seconds=3600)
            procs.append(dot2)
            log = open(work / "fastmcp-dot.log", "w")
            fm2 = subprocess.Popen([args.fastmcp_python, str(Path(__file__).resolve().parent / "fastmcp_proxy.py"), "--port",
                                    str(fm_port), "--authorize", dot2.issuer + "/authorize/", "--token", dot2.issuer + "/token/",
                                    "--client-id", dot2.client_id, "--client-secret", dot2.client_secret,
                                    "--data", str(work / "fastmcp-data2")], stdout=log, stderr=subprocess.STDOUT)
            procs.append(fm2)
            wait_http(f"http://127.0.0.1:{fm_port}/.well-known/oauth-authorization-server", timeout=60, proc=fm2)
            results["fastmcp_flows_dot"] = flows_per_second(f"http://127.0.0.1:{fm_port}", dot2.new_session, None)
            print(f"fastmcp flows (django-oauth-toolkit): {results['fastmcp_flows_dot']}", flush=True)

        # 6. RSS as registrations grow (the registrations live in SQLite, not in memory)
        shim = Shim(work / "shim-rss", free_port(), fake_idp, resource,
                    extra={"registration": {"rate_limit": 0, "max_clients": 10_000_000}, "log": {"level": "warning"}})
        shim.idp = IdP(**{**fake_idp.__dict__, "callback_url": f"http://127.0.0.1:{shim.port}/callback"})
        shim.start()
        time.sleep(1)
        results["rss"] = {"idle": rss_mb(shim.proc.pid)}
        registered = 0
        targets = [int(n) for n in args.clients.split(",")]
        for target in targets:
            registered = grow_clients(shim, registered, target)
            # touch random registrations through the server so their pages are read
            for i in range(200):
                httpx.get(shim.base_url + f"/authorize?client_id=bench-{(i * 7919) % target}&redirect_uri=http://127.0.0.1:5/cb")
            results["rss"][str(target)] = rss_mb(shim.proc.pid)
            print(f"RSS after {target} clients: {results['rss'][str(target)]:.1f} MB", flush=True)
            if target in (min(targets), max(targets)):
                # /register with this many clients stored (the cap counts them in O(1)).
                at = {"healthz": wrk(shim.base_url + "/healthz"), "register": wrk(shim.base_url + "/register", script=REGISTER_LUA)}
                results.setdefault("register_by_clients", {})[str(target)] = at
                print(f"/register with {target} clients: {at['register']}; healthz {at['healthz']}", flush=True)
                registered = max(registered, target)
        shim.stop()
    finally:
        for p in procs:
            if hasattr(p, "stop"):
                p.stop()
            else:
                stop_process(p)
        shim.stop()
        fake.stop()
    (Path(__file__).resolve().parent / "last-results.json").write_text(json.dumps(results, indent=2))
    summary(results)
    return 0


def grow_clients(shim: Shim, have: int, target: int) -> int:
    """Adds registrations up to `target`: the first 1000 through POST /register,
    the rest by bulk insert of copies of a real registration (1M HTTP
    registrations would take minutes and measure the same code)."""
    while have < min(target, 1000):
        httpx.post(shim.base_url + "/register", json={"redirect_uris": ["http://127.0.0.1:5/cb"], "token_endpoint_auth_method": "none"})
        have += 1
    if have >= target:
        return have
    db = sqlite3.connect(shim.workdir / "shim.db", timeout=30)
    body, created = db.execute("SELECT body, created_at FROM clients LIMIT 1").fetchone()
    template = json.loads(body)
    rows = []
    for i in range(have, target):
        template["clientID"] = f"bench-{i}"
        rows.append((f"bench-{i}", json.dumps(template), created, created))
        if len(rows) == 50_000:
            db.executemany("INSERT OR IGNORE INTO clients (id, body, created_at, used_at) VALUES (?, ?, ?, ?)", rows)
            db.commit()
            rows = []
    db.executemany("INSERT OR IGNORE INTO clients (id, body, created_at, used_at) VALUES (?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    return target


def summary(r: dict) -> None:
    print("\n=== summary (ratios are within this run)")
    print(f"binary: {r['binary']}; wrk {r['wrk_seconds']} s, 2 threads, 32 connections; flows {r['flow_seconds']} s at concurrency {r['concurrency']}")
    print(f"start to ready: {r['start_to_ready_ms']:.0f} ms; RSS idle {r['rss_idle_mb']:.1f} MB")
    m, b, g = r["wrk_metadata"], r["wrk_healthz"], r["wrk_register"]
    print(f"metadata {m['rps']:.0f} req/s (p99 {m['p99_ms']:.2f} ms) vs bare route {b['rps']:.0f} req/s (p99 {b['p99_ms']:.2f} ms): {ratio(m['rps'], b['rps'])} (target ≥ 0.90×)")
    hb = r.get("wrk_healthz_cpu", b)  # the bare route measured right before /register
    print(f"register {g['rps']:.0f} req/s (p99 {g['p99_ms']:.2f} ms) vs bare route {hb['rps']:.0f}: {ratio(g['rps'], hb['rps'])} "
          f"(target ≥ 0.60×); CPU {g.get('cpu_ms_per_op', float('nan')) * 1000:.0f} µs/request vs "
          f"{r.get('wrk_healthz_cpu', {}).get('cpu_ms_per_op', float('nan')) * 1000:.0f} µs for /healthz")
    if "wrk_register_memory" in r:
        mem, hm = r["wrk_register_memory"], r["wrk_healthz_memory"]
        print(f"register on memory: {mem['rps']:.0f} req/s vs healthz {hm['rps']:.0f}: {ratio(mem['rps'], hm['rps'])}")
    by = r.get("register_by_clients", {})
    if len(by) >= 2:
        lo, hi = sorted(by, key=int)[0], sorted(by, key=int)[-1]
        print(f"register with {lo} clients {by[lo]['register']['rps']:.0f} req/s, with {hi} clients {by[hi]['register']['rps']:.0f} req/s: "
              f"{ratio(by[hi]['register']['rps'], by[lo]['register']['rps'])} (target ≥ 0.90×); healthz then "
              f"{by[lo]['healthz']['rps']:.0f} and {by[hi]['healthz']['rps']:.0f}")
    for key in ("flows_fake", "flows_dot"):
        f = r[key]
        cpu = f" CPU {f['cpu_ms_per_op']:.2f} ms/flow (target < 3)" if "cpu_ms_per_op" in f else ""
        print(f"{key}: {f['flows_per_s']:.1f} flows/s, p50 {f['p50_ms']:.0f} ms, p99 {f['p99_ms']:.0f} ms ({f['flows']} flows, {f['errors']} errors){cpu}")
    if "fastmcp_wrk_register" in r:
        fm = r["fastmcp_wrk_register"]
        print(f"register vs FastMCP OAuthProxy: {g['rps']:.0f} vs {fm['rps']:.0f} req/s = {ratio(g['rps'], fm['rps'])} (target ≥ 25×)")
        n = r.get("wrk_register_sync_normal")
        if n:
            print(f"register with sqlite_synchronous: normal vs FastMCP: {n['rps']:.0f} vs {fm['rps']:.0f} req/s = {ratio(n['rps'], fm['rps'])}")
        fmm = r["fastmcp_wrk_metadata"]
        print(f"metadata vs FastMCP: {m['rps']:.0f} vs {fmm['rps']:.0f} req/s = {ratio(m['rps'], fmm['rps'])}")
        for ours, theirs in (("flows_fake", "fastmcp_flows_fake"), ("flows_dot", "fastmcp_flows_dot")):
            if theirs in r:
                a, c = r[ours], r[theirs]
                print(f"{ours} vs FastMCP: {a['flows_per_s']:.1f} vs {c['flows_per_s']:.1f} flows/s = {ratio(a['flows_per_s'], c['flows_per_s'])} "
                      f"(target ≥ 10×); FastMCP p50 {c['p50_ms']:.0f} ms p99 {c['p99_ms']:.0f} ms, errors {c['errors']} {c['first_error']}"
                      + (f"; FastMCP CPU {c['cpu_ms_per_op']:.2f} ms/flow" if "cpu_ms_per_op" in c else ""))
    if "rss" in r:
        print("RSS by registered clients: " + ", ".join(f"{k}: {v:.1f} MB" for k, v in r["rss"].items()) + " (target ≤ 50 MB idle, flat)")


if __name__ == "__main__":
    sys.exit(main())
