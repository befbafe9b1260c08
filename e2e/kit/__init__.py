"""The end-to-end test kit: what the tests in e2e/, the benchmarks in bench/
and the demo (scripts/demo.sh) are built from.

- processes and the browser: harness.py (the shim process, the scripted
  browser with its own cookie jar, PKCE, consent forms), flow.py (the `mcp`
  SDK client through the whole flow, the MCP server process), shimclient.py
  (a raw OAuth client of the shim), doctor.py (`dcr-shim doctor` runs);
- identity providers: idp/ (the real ones: django-oauth-toolkit, glewlwyd,
  LemonLDAP::NG), fakes/ (recorded-behaviour fakes of the presets' hosted
  IdPs), fake_idp.py (a controllable fault-injecting upstream);
- MCP servers: mcp_server.py (authenticating), noauth_mcp_server.py and
  servlet_like_server.py (behind the gateway), gateway.py (starting them and
  gateway helpers);
- the rest: cimd.py (a test CA and a Client ID Metadata Document server),
  ema.py (Enterprise-Managed Authorization's application and ID-JAG
  exchange), postgres.py (a throw-away PostgreSQL), rootfs.py (Debian root
  file systems), demo.py (the demo driver).
"""
