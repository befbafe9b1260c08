"""FastMCP's OAuthProxy (PyPI `fastmcp`), configured for the same upstream
as the shim, as the peer to measure against. Run in its own virtualenv:
python fastmcp_proxy.py --port P --authorize URL --token URL --client-id ID --client-secret S --data DIR"""
from __future__ import annotations

import argparse
import os

import uvicorn
from fastmcp import FastMCP
from fastmcp.server.auth.oauth_proxy import OAuthProxy
from fastmcp.server.auth.providers.debug import DebugTokenVerifier


def main() -> None:
    p = argparse.ArgumentParser()
    for name in ("--port", "--authorize", "--token", "--client-id", "--client-secret", "--data"):
        p.add_argument(name, required=True)
    args = p.parse_args()
    os.environ.setdefault("FASTMCP_HOME", args.data)
    base = f"http://127.0.0.1:{args.port}"
    auth = OAuthProxy(
        upstream_authorization_endpoint=args.authorize, upstream_token_endpoint=args.token,
        upstream_client_id=args.client_id, upstream_client_secret=args.client_secret,
        token_verifier=DebugTokenVerifier(required_scopes=["mcp"]), base_url=base, redirect_path="/callback",
        jwt_signing_key=os.urandom(16).hex().encode(),  # 32 ASCII bytes: FastMCP decodes them as text
        # Its consent screen on (the default, said out loud) and the scope the flows ask for;
        # client storage is FastMCP's default.
        require_authorization_consent=True, valid_scopes=["mcp"],
    )
    server = FastMCP("bench", auth=auth)

    @server.tool
    def ping() -> str:
        return "pong"

    uvicorn.run(server.http_app(path="/mcp"), host="127.0.0.1", port=int(args.port), log_level="warning")


if __name__ == "__main__":
    main()
