"""A tiny HTTP server that resolves request paths the way a servlet
container (Tomcat, Jetty) does, standing in for an MCP server built on one
behind dcr-shim's gateway: each segment's `;parameters` are cut, the path
is percent-decoded, then dot-segments are removed (RFC 3986 §5.2.4). So
`/mcp/..;/admin` and `/mcp/%2e%2e;jsessionid=1/admin` are `/admin` here.

`/admin` answers with a secret marker (what must never be reachable
through the gateway, which authorizes `/mcp` only); `/mcp` and below answer
a small JSON-RPC result naming the resolved path. Every request's raw and
resolved path is appended to --record as one JSON line.
Run: python -m e2e.kit.servlet_like_server --port P --record FILE
"""
from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

SECRET_MARKER = "servlet-admin-secret-7f3c1e"


def resolve(raw_path: str) -> str:
    """The path a servlet container maps to a handler: `;params` cut from
    every segment, percent-decoded, dot-segments removed."""
    path = raw_path.split("?", 1)[0]
    cut = "/".join(segment.split(";", 1)[0] for segment in path.split("/"))
    decoded = unquote(cut)
    output: list[str] = []
    for segment in decoded.split("/"):
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
    resolved = "/".join(output)
    return resolved if resolved.startswith("/") else "/" + resolved


class Handler(BaseHTTPRequestHandler):
    record = ""

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        resolved = resolve(self.path)
        with open(self.record, "a") as f:
            f.write(json.dumps({"method": self.command, "raw": self.path, "resolved": resolved}) + "\n")
        if resolved == "/admin" or resolved.startswith("/admin/"):
            body = json.dumps({"secret": SECRET_MARKER}).encode()
        elif resolved == "/mcp" or resolved.startswith("/mcp/"):
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"path": resolved}}).encode()
        else:
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", required=True)
    args = parser.parse_args()
    Handler.record = args.record
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
