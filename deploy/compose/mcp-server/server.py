"""The example MCP server of deploy/compose/compose.yaml: no authentication
of its own (dcr-shim's gateway signs users in), streamable HTTP on the
shim's loopback. Its `whoami` tool shows the identity headers the gateway sends."""
import json

import uvicorn
from mcp.server.mcpserver import Context, MCPServer

server = MCPServer(name="dcr-shim example MCP server")


@server.tool()
def whoami(ctx: Context) -> str:
    """The user, client and scope the gateway asserted for this call."""
    headers = ctx.headers or {}
    return json.dumps({"user": headers.get("x-forwarded-user"), "email": headers.get("x-forwarded-email"),
                       "client_id": headers.get("x-forwarded-client-id"), "scope": headers.get("x-forwarded-scope")})


@server.tool()
def add(a: int, b: int) -> int:
    """Adds two numbers."""
    return a + b


if __name__ == "__main__":
    uvicorn.run(server.streamable_http_app(host="127.0.0.1"), host="127.0.0.1", port=3000, log_level="info")
