"""End-to-end tests: real IdPs, the shim binary, the Python mcp SDK client, Chromium. What they, the
benchmarks and the demo are built from is the kit package beside them (e2e/kit)."""
