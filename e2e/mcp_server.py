"""A small MCP server that accepts the upstream IdP's access tokens.

It validates a bearer token by calling the IdP's OIDC userinfo endpoint (as a
resource server that already trusts its IdP would), and publishes RFC 9728
protected-resource metadata naming the shim as its authorization server.
Run: python -m e2e.mcp_server --port P --issuer SHIM --userinfo URL
"""
from __future__ import annotations

import argparse
import sys
import time

import httpx
import uvicorn
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer


class UserinfoVerifier:
    def __init__(self, userinfo: str, resource: str, scopes: list[str]):
        self.userinfo = userinfo
        self.resource = resource
        self.scopes = scopes
        self.cache: dict[str, tuple[float, AccessToken]] = {}

    async def verify_token(self, token: str) -> AccessToken | None:
        hit = self.cache.get(token)
        if hit and hit[0] > time.time():
            return hit[1]
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                r = await client.get(self.userinfo, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as e:  # the IdP unreachable: the token cannot be accepted
            print(f"userinfo unreachable: {type(e).__name__}", file=sys.stderr, flush=True)
            return None
        if r.status_code != 200:
            return None
        claims = r.json()
        # OIDC userinfo has `sub`; GitHub's GET /user has a numeric `id` instead.
        subject = str(claims.get("sub") or claims.get("id") or "")
        access = AccessToken(token=token, client_id="upstream", scopes=self.scopes, resource=self.resource, subject=subject)
        self.cache[token] = (time.time() + 5, access)
        return access


def build(port: int, issuer: str, userinfo: str, scopes: list[str]) -> MCPServer:
    resource = f"http://127.0.0.1:{port}/mcp"
    server = MCPServer(
        name="dcr-shim demo MCP server",
        token_verifier=UserinfoVerifier(userinfo, resource, scopes),
        auth=AuthSettings(issuer_url=issuer, resource_server_url=resource, required_scopes=scopes),
    )

    @server.tool()
    def whoami() -> str:
        """The subject of the upstream token this call was made with."""
        from mcp.server.auth.middleware.auth_context import get_access_token
        token = get_access_token()
        return f"subject={token.subject if token else 'unknown'}"

    @server.tool()
    def add(a: int, b: int) -> int:
        """Adds two numbers."""
        return a + b

    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--userinfo", required=True)
    parser.add_argument("--scopes", default="mcp")
    args = parser.parse_args()
    server = build(args.port, args.issuer, args.userinfo, args.scopes.split(","))
    app = server.streamable_http_app(host="127.0.0.1")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
