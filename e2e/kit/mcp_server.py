"""A small MCP server that accepts the upstream IdP's access tokens.

It validates a bearer token by calling the IdP's OIDC userinfo endpoint (as a
resource server that already trusts its IdP would), and publishes RFC 9728
protected-resource metadata naming the shim as its authorization server.
Run: python -m e2e.kit.mcp_server --port P --issuer SHIM --userinfo URL

With `--jwks URL` it validates the shim's own issued tokens instead (RFC 9068
JWTs, `tokens.access: issued`) against the shim's /jwks.json with PyJWT, as a
resource server that never calls the shim would: `typ` at+jwt, ES256 only,
`iss` = the shim, `aud` = this server, `exp`; an unknown `kid` makes PyJWT
fetch the key set again, which is how a key rotation reaches it.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time

import httpx
import jwt
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


class JWKSVerifier:
    """RFC 9068 §4 validation of the shim's issued tokens, keys from its JWKS."""

    def __init__(self, jwks_url: str, issuer: str, resource: str, cache_seconds: int = 300):
        # PyJWT caches the key set for `lifespan` and refetches it for an unknown
        # kid at most every 30 s: a rotated key must be published that long
        # before it signs (docs/tokens-and-gateway.md, "Rotating the signing key").
        self.keys = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=cache_seconds)
        self.issuer = issuer
        self.resource = resource

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            header = jwt.get_unverified_header(token)
            if str(header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
                return None
            key = await asyncio.to_thread(self.keys.get_signing_key_from_jwt, token)
            claims = jwt.decode(token, key.key, algorithms=["ES256"], audience=self.resource, issuer=self.issuer,
                                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]})
        except (jwt.PyJWTError, httpx.HTTPError) as e:
            print(f"token refused: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            return None
        print(f"token accepted: kid {header.get('kid')}", file=sys.stderr, flush=True)
        return AccessToken(token=token, client_id=str(claims.get("client_id", "")), scopes=str(claims.get("scope", "")).split(),
                           expires_at=int(claims["exp"]), resource=self.resource, subject=str(claims["sub"]))


def build(port: int, issuer: str, userinfo: str, scopes: list[str], jwks: str | None = None,
          jwks_cache: int = 300) -> MCPServer:
    resource = f"http://127.0.0.1:{port}/mcp"
    verifier = JWKSVerifier(jwks, issuer, resource, jwks_cache) if jwks else UserinfoVerifier(userinfo, resource, scopes)
    server = MCPServer(
        name="dcr-shim demo MCP server",
        token_verifier=verifier,
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
    parser.add_argument("--userinfo", default="")
    parser.add_argument("--jwks", default=None, help="validate the shim's issued JWTs against this JWKS URL")
    parser.add_argument("--jwks-cache", type=int, default=300, help="seconds the JWKS is cached")
    parser.add_argument("--scopes", default="mcp")
    args = parser.parse_args()
    if not args.userinfo and not args.jwks:
        parser.error("give --userinfo or --jwks")
    server = build(args.port, args.issuer, args.userinfo, args.scopes.split(","), args.jwks, args.jwks_cache)
    app = server.streamable_http_app(host="127.0.0.1")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
