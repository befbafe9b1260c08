"""Drives the official Python `mcp` SDK client through the shim:
discovery → registration → authorize → consent → IdP login → callback →
token → tool call → refresh → second tool call."""
from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import httpx2
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider, TokenStorage
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from .harness import REPO, Browser, FlowError, Shim, authorize_through_shim, query
from .idp import IdP, free_port, stop_process, wait_http

CLIENT_REDIRECT = "http://127.0.0.1:{port}/callback"


def tag(secret: str | None) -> str:
    """A short hash for printing: never the value."""
    return hashlib.sha256(secret.encode()).hexdigest()[:8] if secret else "-"


#: The last step printed, so that a failure can name where it happened.
LAST_STEP = ["start"]


def step(text: str) -> None:
    LAST_STEP[0] = text
    print(f"[step] {text}", flush=True)


class MemoryStorage(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None
        self.history: list[OAuthToken] = []

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.history.append(tokens)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@dataclass
class FlowResult:
    registered_client_id: str | None
    tool_results: list[str] = field(default_factory=list)
    access_tokens: list[str] = field(default_factory=list)
    refresh_tokens: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    upstream_urls: list[str] = field(default_factory=list)
    storage: MemoryStorage | None = None
    #: Every response the SDK's HTTP client saw outside the MCP endpoint
    #: itself (discovery, registration, token), bodies read, for the scans.
    sdk_responses: list = field(default_factory=list)


class MCPServerProcess:
    def __init__(self, port: int, issuer: str, userinfo: str, scopes: list[str], log_path: Path, jwks: str | None = None,
                 jwks_cache: int = 300):
        self.port = port
        self.url = f"http://127.0.0.1:{port}/mcp"
        self.log_path = log_path
        # With `jwks`, it validates the shim's issued JWTs against that key set instead of calling userinfo.
        verification = ["--jwks", jwks, "--jwks-cache", str(jwks_cache)] if jwks else ["--userinfo", userinfo]
        with open(log_path, "a") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "e2e.kit.mcp_server", "--port", str(port), "--issuer", issuer,
                 *verification, "--scopes", ",".join(scopes)],
                cwd=str(REPO), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        try:
            wait_http(f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp", proc=self.proc,
                      log_path=str(log_path))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        stop_process(self.proc)


class SDKFlow:
    """One MCP client (one registration, one token storage) using the SDK."""

    def __init__(self, shim: Shim, idp: IdP, mcp_url: str, browser: Browser | None = None,
                 client_metadata_url: str | None = None):
        self.shim = shim
        self.idp = idp
        self.mcp_url = mcp_url
        self.browser = browser or Browser()
        self.idp_session = idp.new_session()
        self.storage = MemoryStorage()
        self.redirect_uri = CLIENT_REDIRECT.format(port=free_port())
        self.result = FlowResult(registered_client_id=None, storage=self.storage)
        self._pending_url: str | None = None
        self.provider = OAuthClientProvider(
            server_url=mcp_url,
            client_metadata=OAuthClientMetadata(
                client_name="dcr-shim e2e (python mcp sdk)", redirect_uris=[self.redirect_uri],
                grant_types=["authorization_code", "refresh_token"], response_types=["code"]),
            storage=self.storage,
            redirect_handler=self._redirect_handler,
            callback_handler=self._callback_handler,
            # A Client ID Metadata Document URL (SEP-991): used instead of
            # registration when the server advertises support for it.
            client_metadata_url=client_metadata_url,
        )

    async def _redirect_handler(self, url: str) -> None:
        step(f"authorize: the SDK sends the user to {url.split('?')[0]}")
        self._pending_url = url

    async def _callback_handler(self) -> AuthorizationCodeResult:
        assert self._pending_url, "redirect_handler was not called"
        final = await asyncio.to_thread(
            authorize_through_shim, self.browser, self.idp_session, self._pending_url,
            client_redirect_prefix=self.redirect_uri, upstream_hops=self.result.upstream_urls,
            trace=lambda text: step("browser: " + text))
        step("callback: the client's redirect_uri received code, state and iss")
        params = query(final)
        if "error" in params:
            raise FlowError(f"authorization failed: {params.get('error')}: {params.get('error_description')}")
        self.result.codes.append(params["code"])
        return AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss"))

    async def _on_response(self, response) -> None:
        """Records the SDK's OAuth traffic and prints it as steps (no secrets)."""
        request = response.request
        if str(request.url).split("?")[0] == self.mcp_url:
            if response.status_code == 401:
                step("MCP server answered 401 with WWW-Authenticate: the SDK starts OAuth")
            return
        await response.aread()
        self.result.sdk_responses.append(response)
        path = request.url.path
        status = response.status_code
        if "/.well-known/oauth-protected-resource" in path:
            step(f"discovery: protected-resource metadata (RFC 9728) {path} -> {status}")
        elif "/.well-known/" in path:
            step(f"discovery: authorization-server metadata (RFC 8414) {path} -> {status}")
        elif path.endswith("/register"):
            client_id = response.json().get("client_id") if status == 201 else None
            step(f"registration (RFC 7591) -> {status}, client_id {client_id}")
        elif path.endswith("/token"):
            grant = parse_qs(request.content.decode()).get("grant_type", ["?"])[0]
            body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
            detail = (f"access token #{tag(body.get('access_token'))}, refresh token #{tag(body.get('refresh_token'))}, "
                      f"expires_in {body.get('expires_in')}") if status == 200 else f"error {body.get('error')}"
            name = "token: code exchange" if grant == "authorization_code" else f"token: {grant} grant"
            step(f"{name} -> {status}, {detail}")
        else:
            step(f"{request.method} {path} -> {status}")

    async def call_tool(self, name: str, args: dict) -> str:
        async with httpx2.AsyncClient(auth=self.provider, timeout=30,
                                      event_hooks={"response": [self._on_response]}) as http:
            async with streamable_http_client(self.mcp_url, http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    result = await session.call_tool(name, args)
        if result.isError if hasattr(result, "isError") else getattr(result, "is_error", False):
            raise FlowError(f"tool {name} failed: {result}")
        text = " ".join(getattr(c, "text", "") for c in result.content)
        self.result.tool_results.append(text)
        self._collect()
        return text

    def _collect(self) -> None:
        info = self.storage.client_info
        self.result.registered_client_id = info.client_id if info else None
        for token in self.storage.history:
            if token.access_token not in self.result.access_tokens:
                self.result.access_tokens.append(token.access_token)
            if token.refresh_token and token.refresh_token not in self.result.refresh_tokens:
                self.result.refresh_tokens.append(token.refresh_token)

    def expire_access_token(self) -> None:
        """Makes the SDK see its access token as expired, so its next request refreshes."""
        self.provider.context.token_expiry_time = 1.0


async def run_full_flow(shim: Shim, idp: IdP, mcp_url: str, *, restart_before_refresh: bool = False,
                        client_metadata_url: str | None = None) -> FlowResult:
    flow = SDKFlow(shim, idp, mcp_url, client_metadata_url=client_metadata_url)
    step(f"tool call 1: the SDK calls whoami on {mcp_url} (no token yet; shim {shim.base_url}, upstream {idp.name})")
    first = await flow.call_tool("whoami", {})
    step(f"tool call 1 OK: {first}; client_id {flow.result.registered_client_id}, access token #{tag(flow.result.access_tokens[-1])}")
    if restart_before_refresh:
        step("restarting the shim (SQLite keeps the grant)")
        await asyncio.to_thread(shim.restart)
    flow.expire_access_token()
    step("refresh: the stored access token is marked expired; the SDK must refresh before tool call 2")
    before = len(flow.storage.history)
    second = await flow.call_tool("add", {"a": 2, "b": 3})
    if len(flow.storage.history) <= before:
        raise FlowError("the SDK did not refresh its token")
    step(f"refresh OK: new access token #{tag(flow.result.access_tokens[-1])}, rotated refresh token #{tag(flow.result.refresh_tokens[-1])}")
    step(f"tool call 2 OK: add(2, 3) = {second}")
    return flow.result
