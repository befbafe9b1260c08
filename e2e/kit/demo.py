"""The README's demo: a real IdP (django-oauth-toolkit), the shim on SQLite,
a small MCP server that accepts the IdP's tokens, and the official Python
`mcp` SDK client completing the whole flow. Run: python -m e2e.kit.demo"""
from __future__ import annotations

import asyncio
import sys
import tempfile
import traceback
from pathlib import Path

from .flow import LAST_STEP, MCPServerProcess, run_full_flow, step
from .harness import Shim
from .idp import free_port
from .idp.dot import start_dot


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="dcr-shim-demo-"))
    current = "start"
    idp = shim = mcp = None
    try:
        shim_port = free_port()
        callback = f"http://127.0.0.1:{shim_port}/callback"
        current = "start the IdP"
        step("starting django-oauth-toolkit (no DCR, one confidential client, PKCE required)")
        idp = start_dot(str(workdir / "idp"), free_port(), callback)
        step(f"IdP up at {idp.issuer}; its only redirect URI is {callback}")
        current = "start the MCP server"
        mcp_port = free_port()
        mcp = MCPServerProcess(mcp_port, f"http://127.0.0.1:{shim_port}", idp.userinfo_endpoint,
                               idp.resource_scopes, workdir / "mcp.log")
        step(f"MCP server up at {mcp.url} (trusts the IdP's tokens, names the shim as its authorization server)")
        current = "start the shim"
        shim = Shim(workdir / "shim", shim_port, idp, mcp.url).start()
        step(f"dcr-shim up at {shim.base_url} (SQLite at {shim.workdir / 'shim.db'})")
        current = None  # from here on, the flow's own last step names where it failed
        result = asyncio.run(run_full_flow(shim, idp, mcp.url))
        print(f"DEMO OK: the mcp SDK client registered ({result.registered_client_id}), signed in through the shim, "
              f"called 2 tools and refreshed once.")
        return 0
    except Exception as e:  # the demo names the step that failed
        traceback.print_exc()
        print(f"DEMO FAILED at step '{current or LAST_STEP[0]}': {e}")
        if shim:
            print("--- shim log (tail) ---\n" + shim.log_text()[-3000:])
        return 1
    finally:
        for part in (shim, mcp, idp):
            if part:
                part.stop()


if __name__ == "__main__":
    sys.exit(main())
