"""Helpers for the issued-token and gateway end-to-end tests: the
MCP server without auth, shim configurations in `tokens.access: issued`,
JWT decoding for assertions, and an SDK tool call that collects progress."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import httpx2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from .flow import SDKFlow, step
from .harness import REPO, Shim
from .idp import IdP, free_port, stop_process, wait_http

INTROSPECTION_ID = "mcp-resource-server"
INTROSPECTION_SECRET = "introspection-secret-e2e-5b2f"
UPSTREAM_TOKEN_HEADER = "X-Upstream-Token"


class RecordedServer:
    """A Python test server (`python -m e2e.kit.<module>`) in its own process on
    a free port, recording every request it receives as JSON lines."""

    def __init__(self, workdir: Path, module: str, name: str, extra_args: list[str] | None = None):
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.record = workdir / f"{name}-requests.jsonl"
        self.record.write_text("")
        self.log_path = workdir / f"{name}.log"
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", f"e2e.kit.{module}", "--port", str(self.port),
                                          "--record", str(self.record), *(extra_args or [])],
                                         cwd=str(REPO), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        try:
            wait_http(self.url, proc=self.proc, log_path=str(self.log_path))
        except BaseException:
            self.stop()
            raise

    def requests(self) -> list[dict]:
        return [json.loads(line) for line in self.record.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        stop_process(self.proc)


class NoAuthMCP(RecordedServer):
    """`e2e/kit/noauth_mcp_server.py`: an MCP server with no authentication that
    records every request's headers."""

    def __init__(self, workdir: Path, refuse_bodies_over: int | None = None):
        super().__init__(workdir, "noauth_mcp_server", "noauth-mcp",
                         ["--refuse-bodies-over", str(refuse_bodies_over)] if refuse_bodies_over else None)


class ServletLikeUpstream(RecordedServer):
    """`e2e/kit/servlet_like_server.py`: resolves paths as a servlet container
    does (`;params` cut, percent-decoded, dot-segments removed) and serves a
    secret marker at `/admin`, outside the resource."""

    def __init__(self, workdir: Path):
        super().__init__(workdir, "servlet_like_server", "servlet-like")


def pem_key() -> str:
    """A fresh ES256 (P-256) private key in PKCS#8 PEM, as an operator would configure it."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def issued_extra(idp: IdP, resource: str, *, upstream: str | None = None, other: str | None = None, ttl: str = "5m",
                 grace: str = "45s", keys: dict | None = None, storage: dict | None = None,
                 gateway: dict | None = None) -> dict:
    """`Shim(extra=...)` for `tokens.access: issued`: `resource` (a gateway
    in front of `upstream` when given, injecting the user's upstream token),
    optionally a second plain resource `other`, and one introspection client."""
    first = {"resource": resource, "scopes": list(idp.resource_scopes)}
    if upstream:
        first.update({"upstream": upstream, "upstream_token_header": UPSTREAM_TOKEN_HEADER})
    resources = [first] + ([{"resource": other, "scopes": list(idp.resource_scopes)}] if other else [])
    extra = {
        "tokens": {"access": "issued", "access_ttl": ttl, "refresh_ttl": "30d", "refresh_grace": grace},
        "resources": resources,
        "introspection": {"clients": [{"id": INTROSPECTION_ID, "secret": INTROSPECTION_SECRET}]},
        "registration": {"rate_limit": 0},
    }
    if keys:
        extra["keys"] = keys
    if storage:
        extra["storage"] = storage
    if gateway:
        extra["gateway"] = gateway
    return extra


def jwt_parts(token: str) -> tuple[dict, dict]:
    """The header and claims of a JWT, decoded without any check (for assertions)."""
    def part(text: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    head, body, _ = token.split(".")
    return part(head), part(body)


def introspect(shim: Shim, token: str, secret: str = INTROSPECTION_SECRET) -> httpx2.Response:
    return httpx2.post(shim.base_url + "/introspect", data={"token": token}, auth=(INTROSPECTION_ID, secret), timeout=10)


async def call_with_progress(flow: SDKFlow, name: str, args: dict) -> tuple[str, list[tuple[float, float | None, str | None]]]:
    """One tool call through the SDK, collecting its progress notifications
    (each one an SSE event before the result)."""
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async with httpx2.AsyncClient(auth=flow.provider, timeout=30, event_hooks={"response": [flow._on_response]}) as http:
        async with streamable_http_client(flow.mcp_url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool(name, args, progress_callback=on_progress)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    flow.result.tool_results.append(text)
    flow._collect()
    step(f"{name} through the gateway: {text!r} after {len(progress)} progress events")
    return text, progress
