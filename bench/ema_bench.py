"""EMA benchmark (ID-JAG): jwt-bearer grants per second (an ID-JAG from a
trusted issuer, inline keys, checked and answered with an issued access
token) against complete authorization-code flows per second, on the same
shim (release build, SQLite, issued tokens) in the same run, with the fast
fake upstream. Figures, not pass/fail. Run after bench.py from bench/run.sh,
or: DCR_SHIM_BIN=.build/release/dcr-shim .venv/bin/python bench/ema_bench.py"""
from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import CONCURRENCY, FLOW_SECONDS, concurrent_rate, flows_per_second  # noqa: E402  (bench/bench.py)
from e2e.kit.fake_idp import FakeIdP, FakeSession  # noqa: E402
from e2e.kit.gateway import issued_extra  # noqa: E402
from e2e.kit.harness import Shim  # noqa: E402
from e2e.kit.idp import free_port  # noqa: E402

ISSUER = "https://idp.bench.example"
CLIENT = ("bench-ema-client", "bench-ema-client-secret-0123")
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def b64(n: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes(32, "big")).decode().rstrip("=")


def grants_per_second(base: str, assertions: list[str]) -> dict:
    """Each ID-JAG once (a replay would be refused): a worker stops when none is left."""
    lock = threading.Lock()

    def make_step():
        http = httpx.Client(timeout=30)

        def step() -> bool:
            with lock:
                if not assertions:
                    return False
                assertion = assertions.pop()
            r = http.post(base + "/token", data={"grant_type": JWT_BEARER, "assertion": assertion,
                                                 "client_id": CLIENT[0], "client_secret": CLIENT[1]})
            if r.status_code != 200:
                raise AssertionError(r.text[:200])
            return True
        return step

    return concurrent_rate("grants", make_step)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="dcr-shim-ema-bench-"))
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    jwks = {"keys": [{"kty": "EC", "crv": "P-256", "x": b64(numbers.x), "y": b64(numbers.y), "kid": "bench-1", "alg": "ES256"}]}
    fake = FakeIdP()
    fake.expires_in = 3600
    port = free_port()
    idp = fake.as_idp(f"http://127.0.0.1:{port}/callback")
    resource = f"http://127.0.0.1:{port}/mcp"
    extra = {**issued_extra(idp, resource), "log": {"level": "warning"}}
    extra["ema"] = {"trusted_issuers": [{"issuer": ISSUER, "jwks": json.dumps(jwks), "algorithms": ["ES256"]}],
                    "clients": [{"id": CLIENT[0], "secret": CLIENT[1]}]}
    shim = Shim(work / "shim", port, idp, resource, extra=extra)
    results: dict = {"binary": os.environ.get("DCR_SHIM_BIN", "debug"), "seconds": FLOW_SECONDS, "concurrency": CONCURRENCY}
    try:
        shim.start()
        now = int(time.time())
        count = 40_000
        assertions = [jwt.encode({"iss": ISSUER, "sub": f"user-{i % 100}", "aud": shim.issuer, "client_id": CLIENT[0],
                                  "jti": str(uuid.uuid4()), "iat": now, "exp": now + 600, "resource": resource, "scope": "mcp"},
                                 key, algorithm="ES256", headers={"typ": "oauth-id-jag+jwt", "kid": "bench-1"})
                      for i in range(count)]
        results["jwt_bearer"] = grants_per_second(shim.base_url, assertions)
        print(f"jwt-bearer grants (c={CONCURRENCY}): {results['jwt_bearer']}", flush=True)
        results["code_flows"] = flows_per_second(shim.base_url, lambda: FakeSession(idp), resource)
        print(f"authorization-code flows (c={CONCURRENCY}): {results['code_flows']}", flush=True)
        g, f = results["jwt_bearer"]["grants_per_s"], results["code_flows"]["flows_per_s"]
        print(f"\n=== EMA: {g:.1f} jwt-bearer grants/s vs {f:.1f} authorization-code flows/s = {g / f:.1f}× "
              f"(same shim, same run; p50 {results['jwt_bearer']['p50_ms']:.1f} ms vs {results['code_flows']['p50_ms']:.0f} ms)")
    finally:
        shim.stop()
        fake.stop()
    (Path(__file__).resolve().parent / "last-ema-results.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
