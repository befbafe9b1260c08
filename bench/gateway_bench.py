"""Gateway and issued-token benchmarks: figures, not pass/fail.

  1. Gateway overhead per MCP request against a direct call to the same
     upstream, at one connection (latency: p50 overhead) and at 32
     (throughput ratio): first with a fast upstream (another dcr-shim
     process's /healthz, so the gateway's own cost shows), then with the
     real Python `mcp` SDK server (stateless 2026-07-28 `tools/call`).
  2. JWT cost per request: bench/jwt-bench (sign, verify, validate).
  3. RSS of the shim with 200 concurrent SSE streams open through the gateway.
  4. How soon a revocation is seen: from `grants revoke` returning (another
     process) or the revoke endpoint answering, until (a) a new request at a
     gateway gets 401 and (b) an event stream open through that gateway ends
     (gateway.stream_recheck_interval 1s): one SQLite server; then, when the
     PostgreSQL server binaries are installed, two replicas (revoke on A,
     measured on B). BENCH_REVOCATION_ROUNDS rounds each (default 5).

Run: bash bench/run.sh (after bench.py), or directly with DCR_SHIM_BIN set to
a release build: .venv/bin/python bench/gateway_bench.py"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from e2e.kit.fake_idp import FakeIdP, FakeSession  # noqa: E402
from e2e.kit.gateway import NoAuthMCP, issued_extra, pem_key  # noqa: E402
from e2e.kit.harness import SHIM_BIN, Browser, Shim  # noqa: E402
from e2e.kit.idp import free_port  # noqa: E402
from e2e.kit.revocation import StreamWatch, gateway_post, seconds_until_refused  # noqa: E402
from e2e.kit.shimclient import RawClient  # noqa: E402

WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "5"))
STREAMS = int(os.environ.get("BENCH_STREAMS", "200"))
REVOCATION_ROUNDS = int(os.environ.get("BENCH_REVOCATION_ROUNDS", "5"))
REPO = Path(__file__).resolve().parent.parent
# One token drives the whole load: the per-grant caps (600 requests a minute,
# 16 open streams by default) would answer 429, which is not what is measured.
UNLIMITED = {"requests_per_minute": 0, "max_streams_per_grant": 0}
MCP_CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
    "name": "add", "arguments": {"a": 1, "b": 2},
    "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
              "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
              "io.modelcontextprotocol/clientCapabilities": {}}}}


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wrk(url: str, *, connections: int, token: str | None = None, post_mcp: bool = False, call: dict | None = None,
        seconds: int | None = None) -> dict:
    seconds = seconds or WRK_SECONDS
    cmd = ["wrk", "-t1" if connections == 1 else "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    script = None
    if post_mcp:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write('wrk.method = "POST"\nwrk.body = [[' + json.dumps(call or MCP_CALL) + ']]\n'
                     'wrk.headers["Content-Type"] = "application/json"\n'
                     'wrk.headers["Accept"] = "application/json, text/event-stream"\n'
                     'wrk.headers["MCP-Protocol-Version"] = "2026-07-28"\n'
                     'wrk.headers["Mcp-Method"] = "tools/call"\nwrk.headers["Mcp-Name"] = "add"\n')
        script.close()
        cmd += ["-s", script.name]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    if script:
        os.unlink(script.name)

    def millis(label: str) -> float:
        m = re.search(label + r"\s+([\d.]+)(us|ms|s)\b", out)
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)] if m else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50_ms": millis("50%"), "p99_ms": millis("99%"),
            "errors": int(non2xx.group(1)) if non2xx else 0, "requests": int(total.group(1)) if total else 0,
            "socket_errors": sum(int(n) for n in sockets.groups()) if sockets else 0}


def median_run(url: str, *, connections: int, token: str | None, post_mcp: bool, runs: list) -> dict:
    """The run with the median req/s of ROUNDS runs (the machine is shared: single runs are noisy)."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    return ordered[len(ordered) // 2]


ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def compare(name: str, direct_url: str, gateway_url: str, token: str, *, post_mcp: bool, results: dict,
            nginx_url: str | None = None) -> None:
    """Direct, through the gateway and (when given) through nginx, alternated
    ROUNDS times; the median of each."""
    row = {}
    for connections in (1, 32):
        directs, gateways, nginxes = [], [], []
        for _ in range(ROUNDS):
            directs.append(wrk(direct_url, connections=connections, post_mcp=post_mcp))
            gateways.append(wrk(gateway_url, connections=connections, token=token, post_mcp=post_mcp))
            if nginx_url:
                nginxes.append(wrk(nginx_url, connections=connections, token=token, post_mcp=post_mcp))
        direct = median_run(direct_url, connections=connections, token=None, post_mcp=post_mcp, runs=directs)
        gateway = median_run(gateway_url, connections=connections, token=token, post_mcp=post_mcp, runs=gateways)
        row[f"c{connections}"] = {"direct": direct, "gateway": gateway, "direct_runs": directs, "gateway_runs": gateways}
        line = (f"{name}, {connections} connection(s): direct {direct['rps']:.0f} req/s p50 {direct['p50_ms']:.3f} ms p99 {direct['p99_ms']:.2f} ms "
                f"(non-2xx {direct['errors']}); gateway {gateway['rps']:.0f} req/s p50 {gateway['p50_ms']:.3f} ms p99 {gateway['p99_ms']:.2f} ms "
                f"(non-2xx {gateway['errors']})")
        if nginx_url:
            nginx = median_run(nginx_url, connections=connections, token=token, post_mcp=post_mcp, runs=nginxes)
            row[f"c{connections}"].update({"nginx": nginx, "nginx_runs": nginxes})
            line += f"; nginx {nginx['rps']:.0f} req/s p50 {nginx['p50_ms']:.3f} ms p99 {nginx['p99_ms']:.2f} ms (non-2xx {nginx['errors']})"
        print(line, flush=True)
    one, many = row["c1"], row["c32"]
    row["p50_overhead_ms"] = one["gateway"]["p50_ms"] - one["direct"]["p50_ms"]
    row["throughput_ratio"] = many["gateway"]["rps"] / many["direct"]["rps"]
    summary = (f"{name}: p50 overhead {row['p50_overhead_ms']:.3f} ms (goal ≤ 0.5 ms); throughput {row['throughput_ratio']:.2f}× direct")
    if nginx_url:
        row["nginx_p50_overhead_ms"] = one["nginx"]["p50_ms"] - one["direct"]["p50_ms"]
        row["nginx_throughput_ratio"] = many["nginx"]["rps"] / many["direct"]["rps"]
        row["throughput_vs_nginx"] = many["gateway"]["rps"] / many["nginx"]["rps"]
        summary += (f", nginx {row['nginx_throughput_ratio']:.2f}× direct (p50 overhead {row['nginx_p50_overhead_ms']:.3f} ms); "
                    f"gateway {row['throughput_vs_nginx']:.2f}× nginx (goal ≥ 0.80×)")
    print(summary, flush=True)
    results[name] = row


class NginxProxy:
    """nginx as the reverse proxy users already run, in front of the same
    upstream: `proxy_pass` with keep-alive connections to the upstream, no
    buffering (SSE passes through), no access log (the gateway's is at
    warning level in these runs). Two worker processes, as the gateway has
    two event-loop threads on this machine. No token check: this is the
    cost of the proxy alone."""

    def __init__(self, workdir: Path, upstream_base: str, upstream_path: str, public_path: str = "/mcp"):
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{public_path}"
        host_port = upstream_base.split("://", 1)[1].rstrip("/")
        temp = " ".join(f"{kind}_temp_path {workdir}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = workdir / "nginx.conf"
        conf.write_text(f"""
worker_processes 2;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    {temp}
    upstream mcp {{ server {host_port}; keepalive 128; keepalive_timeout 4s; }}
    server {{
        listen 127.0.0.1:{self.port};
        location = {public_path} {{
            proxy_pass http://mcp{upstream_path};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host {host_port};
            proxy_buffering off;
        }}
    }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not start: {(workdir / 'error.log').read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class SSEServer:
    """A threaded upstream holding each request open as an SSE stream: one
    event per second for `seconds` (the gateway only moves bytes here)."""

    def __init__(self, seconds: int):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for i in range(seconds):
                        data = f"data: {{\"n\": {i}}}\n\n".encode()
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        self.wfile.flush()
                        time.sleep(1)
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 512   # listen() backlog: 200 streams connect at once

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sse"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


async def open_streams(url: str, token: str, count: int, shim_pid: int) -> dict:
    opened = 0
    events = 0
    samples: list[float] = []

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal opened, events
        async with client.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status_code == 200, response.status_code
            seen_first = False
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    events += 1
                    if not seen_first:
                        seen_first = True
                        opened += 1

    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        tasks = [asyncio.create_task(one(client)) for _ in range(count)]
        deadline = time.monotonic() + 30
        while opened < count and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        for _ in range(5):
            samples.append(rss_mb(shim_pid))
            await asyncio.sleep(1)
        done = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [repr(d) for d in done if isinstance(d, BaseException)]
    return {"streams_open": opened, "events": events, "events_expected": count * 12, "rss_samples_mb": samples, "failures": len(failures),
            "first_failure": failures[0] if failures else ""}


def sign_in(shim: Shim, fake) -> str:
    client = RawClient.register(shim)
    code = client.sign_in(Browser(), FakeSession(fake))["code"]
    return client.exchange(code).json()["access_token"]


def measure_revocation(revoker: Shim, watcher: Shim, idp, how: str, rounds: int) -> dict:
    """Each round: a new grant, its status read once at `watcher` (now in
    memory) and a stream opened there; then the grant is revoked at
    `revoker` (how: "endpoint", RFC 7009 /revoke; "cli", `grants revoke` with
    `revoker`'s configuration); the seconds until `watcher` refuses a new
    request and until the stream ends."""
    refused: list[float | None] = []
    ended: list[float | None] = []
    url = watcher.base_url + "/mcp"
    for _ in range(rounds):
        client = RawClient.register(revoker)
        tokens = client.exchange(client.sign_in(Browser(), FakeSession(idp))["code"]).json()
        token = tokens["access_token"]
        assert gateway_post(url, token).status_code != 401
        stream = StreamWatch(url, token)
        if not stream.wait_open():
            raise RuntimeError(f"no stream through the gateway: {stream.status} {stream.error}")
        if how == "cli":
            run = subprocess.run([SHIM_BIN, "grants", "revoke", "--client", client.client_id, "--config", str(revoker.config_path)],
                                 capture_output=True, text=True, timeout=30)
            assert run.returncode == 0, run.stdout + run.stderr
        else:
            answer = httpx.post(revoker.base_url + "/revoke", data={"token": tokens["refresh_token"], "client_id": client.client_id}, timeout=10)
            assert answer.status_code == 200, answer.text
        since = time.monotonic()
        refused.append(seconds_until_refused(url, token, since, 30))
        ended.append(stream.seconds_until_end(since, 60))

    def ms(values: list[float | None]) -> dict:
        seen = sorted(v for v in values if v is not None)
        if not seen:
            return {"missed": len(values)}
        return {"median_ms": round(seen[len(seen) // 2] * 1000, 1), "max_ms": round(seen[-1] * 1000, 1), "missed": len(values) - len(seen)}
    return {"rounds": rounds, "request_refused": ms(refused), "stream_ended": ms(ended)}


def revocation_propagation(work: Path, fake, sse_url: str, quiet: dict, results: dict) -> None:
    """Section 4: one SQLite server, then two PostgreSQL replicas."""
    settings = {**UNLIMITED, "stream_recheck_interval": "1s"}
    port = free_port()
    idp = fake.as_idp(f"http://127.0.0.1:{port}/callback")
    resource = f"http://127.0.0.1:{port}/mcp"
    found: dict = {}
    one = Shim(work / "revocation-sqlite", port, idp, resource, extra={**issued_extra(idp, resource, upstream=sse_url, gateway=settings), **quiet})
    one.extra["resources"][0].pop("upstream_token_header")
    one.start()
    try:
        found["sqlite, revoke endpoint (same process)"] = measure_revocation(one, one, idp, "endpoint", REVOCATION_ROUNDS)
        found["sqlite, grants revoke (another process)"] = measure_revocation(one, one, idp, "cli", REVOCATION_ROUNDS)
    finally:
        one.stop()
    try:
        from e2e.kit.postgres import PostgresServer
        postgres = PostgresServer()
    except Exception as error:  # noqa: BLE001 - a bench without PostgreSQL still reports the rest
        found["postgresql"] = f"not measured: {error}"
        postgres = None
    if postgres:
        keys = {"encryption_key": base64.b64encode(os.urandom(32)).decode(), "cookie_key": base64.b64encode(os.urandom(32)).decode(),
                "signing_key": pem_key()}
        extra = {**issued_extra(idp, resource, upstream=sse_url, keys=keys, storage={"url": postgres.url}, gateway=settings), **quiet}
        extra["resources"][0].pop("upstream_token_header")
        a = Shim(work / "revocation-pg-a", port, idp, resource, extra=extra)
        b = Shim(work / "revocation-pg-b", free_port(), idp, resource, extra=extra, issuer_port=port)
        try:
            a.start()
            b.start()
            found["postgresql, revoke endpoint on A, measured on B"] = measure_revocation(a, b, idp, "endpoint", REVOCATION_ROUNDS)
            found["postgresql, grants revoke, measured on B"] = measure_revocation(a, b, idp, "cli", REVOCATION_ROUNDS)
        finally:
            a.stop()
            b.stop()
            postgres.stop()
    results["revocation"] = found
    for name, figures in found.items():
        print(f"revocation seen, {name}: {figures}", flush=True)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="dcr-shim-gateway-bench-"))
    results: dict = {"binary": os.environ.get("DCR_SHIM_BIN", "debug"), "wrk_seconds": WRK_SECONDS, "streams": STREAMS}
    fake = FakeIdP()
    fake.expires_in = 3600   # IdP access tokens that live an hour, as real ones do
    fake_idp = fake.as_idp("http://127.0.0.1:9/callback")
    quiet = {"log": {"level": "warning"}}
    stops = []
    try:
        # 2. JWT cost, in process.
        jwt_bench = REPO / ".build" / ("release" if "release" in results["binary"] else "debug") / "jwt-bench"
        if jwt_bench.exists():
            out = subprocess.run([str(jwt_bench), "20000"], capture_output=True, text=True, timeout=300).stdout
            print(out, flush=True)
            results["jwt_bench"] = out

        # 1a. Fast upstream: another shim's /healthz.
        upstream = Shim(work / "upstream", free_port(), fake_idp, "http://127.0.0.1:9/mcp", extra=quiet)
        upstream.idp = fake.as_idp(f"http://127.0.0.1:{upstream.port}/callback")
        upstream.start()
        stops.append(upstream.stop)
        port = free_port()
        idp = fake.as_idp(f"http://127.0.0.1:{port}/callback")
        resource = f"http://127.0.0.1:{port}/mcp"
        gateway = Shim(work / "gateway", port, idp, resource,
                       extra={**issued_extra(idp, resource, upstream=upstream.base_url + "/healthz", gateway=UNLIMITED), **quiet})
        gateway.extra["resources"][0].pop("upstream_token_header")
        gateway.start()
        stops.append(gateway.stop)
        token = sign_in(gateway, idp)
        results["rss_gateway_idle_mb"] = rss_mb(gateway.proc.pid)
        nginx = NginxProxy(work / "nginx-fast", upstream.base_url, "/healthz") if shutil.which("nginx") else None
        if nginx:
            stops.append(nginx.stop)
        compare("fast upstream (dcr-shim /healthz)", upstream.base_url + "/healthz", resource, token, post_mcp=False, results=results,
                nginx_url=nginx.url if nginx else None)
        gateway.stop()

        # 1b. The real Python MCP server (stateless tools/call); then with the user's upstream token injected.
        mcp = NoAuthMCP(work / "mcp")
        stops.append(mcp.stop)
        for name, inject in (("python mcp SDK server, tools/call", False), ("python mcp SDK server, tools/call, upstream token injected", True)):
            gateway.extra = {**issued_extra(idp, resource, upstream=mcp.url, gateway=UNLIMITED), **quiet}
            if not inject:
                gateway.extra["resources"][0].pop("upstream_token_header")
            gateway.start()
            token = sign_in(gateway, idp)
            nginx = NginxProxy(work / f"nginx-mcp-{inject}", mcp.url.split("/mcp")[0], "/mcp") if shutil.which("nginx") and not inject else None
            if nginx:
                stops.append(nginx.stop)
            compare(name, mcp.url, resource, token, post_mcp=True, results=results, nginx_url=nginx.url if nginx else None)
            mcp.record.write_text("")
            gateway.stop()

        # 3. RSS with STREAMS concurrent SSE streams through the gateway.
        sse = SSEServer(seconds=12)
        stops.append(sse.stop)
        gateway.extra = {**issued_extra(idp, resource, upstream=sse.url.rsplit("/", 1)[0] + "/sse", gateway=UNLIMITED), **quiet}
        gateway.extra["resources"][0].pop("upstream_token_header")
        gateway.start()
        token = sign_in(gateway, idp)
        time.sleep(1)
        idle = rss_mb(gateway.proc.pid)
        streams = asyncio.run(open_streams(resource, token, STREAMS, gateway.proc.pid))
        streams["rss_idle_mb"] = idle
        results["streams_rss"] = streams
        print(f"{STREAMS} concurrent SSE streams through the gateway: {streams['streams_open']} open, RSS idle {idle:.1f} MB, "
              f"with the streams open {max(streams['rss_samples_mb']):.1f} MB (samples {streams['rss_samples_mb']}), "
              f"failures {streams['failures']} {streams['first_failure']}", flush=True)
        gateway.stop()

        # 4. How soon a revocation is seen (streams that outlast the measurement).
        long_sse = SSEServer(seconds=90)
        stops.append(long_sse.stop)
        revocation_propagation(work, fake, long_sse.url, quiet, results)
    finally:
        for stop in reversed(stops):
            stop()
        fake.stop()
    (Path(__file__).resolve().parent / "last-gateway-results.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
