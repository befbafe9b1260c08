"""End-to-end tests and the demo: real IdPs, the shim binary, the Python mcp SDK client, Chromium."""
