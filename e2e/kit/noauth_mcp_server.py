"""An MCP server with NO authentication, built with the real `mcp` SDK: the
kind of server dcr-shim's gateway mode fronts. It records the
headers of every HTTP request it receives (one JSON line each in --record)
so the tests can check that it never sees the client's token and does see
the identity and upstream-token headers the gateway injects.

Tools: `whoami` (the gateway's identity headers, as the server saw them),
`verified_identity` (the gateway's signed identity assertion, verified with
PyJWT against the shim's /jwks.json), `add`, `text_length`, and
`stream_steps`, which reports progress several times before its result
(`delay` seconds apart), so its response is an SSE stream of several events,
open for as long as the caller asks.

With --refuse-bodies-over N it refuses a POST whose Content-Length passes N
from its headers alone, answering 413 with a JSON-RPC error before reading a
byte of the body, as servers with a body limit do (the answer a proxy must
survive while its client is still sending).
Run: python -m e2e.kit.noauth_mcp_server --port P --record FILE [--refuse-bodies-over N]
"""
from __future__ import annotations

import argparse
import asyncio
import json

import jwt
import uvicorn
from mcp.server.mcpserver import Context, MCPServer


class RecordHeaders:
    """ASGI middleware: appends each HTTP request's method, path and headers to a file."""

    def __init__(self, app, path: str):
        self.app = app
        self.path = path

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers: dict[str, list[str]] = {}
            for name, value in scope["headers"]:
                headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
            with open(self.path, "a") as f:
                f.write(json.dumps({"method": scope["method"], "path": scope["path"], "headers": headers}) + "\n")
        await self.app(scope, receive, send)


class RefuseLargeBodies:
    """ASGI middleware: 413 at once for a POST declaring more than `limit`
    bytes; the body is never read (`receive` is not called)."""

    BODY = b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"request body too large for this server"}}'

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST":
            declared = dict(scope["headers"]).get(b"content-length")
            if declared is not None and int(declared) > self.limit:
                await send({"type": "http.response.start", "status": 413,
                            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(self.BODY)).encode())]})
                await send({"type": "http.response.body", "body": self.BODY})
                return
        await self.app(scope, receive, send)


def build() -> MCPServer:
    server = MCPServer(name="dcr-shim e2e MCP server without auth")

    @server.tool()
    def whoami(ctx: Context) -> str:
        """The identity the gateway asserted for this call."""
        headers = ctx.headers or {}
        return json.dumps({"user": headers.get("x-forwarded-user"), "client_id": headers.get("x-forwarded-client-id"),
                           "scope": headers.get("x-forwarded-scope")})

    @server.tool()
    def verified_identity(jwks_url: str, issuer: str, audience: str, ctx: Context) -> str:
        """The gateway's signed identity assertion (`X-DCR-Shim-Assertion`), verified
        as an MCP server would, with PyJWT (independent of the shim's JWT code)
        against the shim's /jwks.json: ES256 only, typ identity+jwt, iss, aud,
        exp, iat, jti and sub required. Answers the claims, or why it failed."""
        headers = ctx.headers or {}
        token = headers.get("x-dcr-shim-assertion")
        if not token:
            return json.dumps({"error": "no assertion"})
        try:
            if jwt.get_unverified_header(token).get("typ") != "identity+jwt":
                return json.dumps({"error": "wrong typ"})
            key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=["ES256"], audience=audience, issuer=issuer,
                                options={"require": ["iss", "aud", "sub", "exp", "iat", "jti"]})
        except jwt.PyJWTError as error:
            return json.dumps({"error": f"{type(error).__name__}: {error}"})
        return json.dumps({"claims": claims, "forwarded_user": headers.get("x-forwarded-user")})

    @server.tool()
    def add(a: int, b: int) -> int:
        """Adds two numbers."""
        return a + b

    @server.tool()
    def text_length(text: str) -> int:
        """The length of `text` (a call whose size the client chooses)."""
        return len(text)

    @server.tool()
    async def stream_steps(steps: int, ctx: Context, delay: float = 0.05) -> str:
        """Reports progress `steps` times (one SSE event each, `delay` seconds
        apart, at most 2), then answers."""
        for i in range(1, steps + 1):
            await ctx.report_progress(i, steps, f"step {i}")
            await asyncio.sleep(min(max(delay, 0.0), 2.0))
        return f"done {steps}"

    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--refuse-bodies-over", type=int, default=None)
    args = parser.parse_args()
    app = RecordHeaders(build().streamable_http_app(host="127.0.0.1"), args.record)
    if args.refuse_bodies_over is not None:
        app = RefuseLargeBodies(app, args.refuse_bodies_over)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
