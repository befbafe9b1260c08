"""OpenTelemetry traces, received by a local OTLP/HTTP receiver: one sign-in
through the real IdP (django-oauth-toolkit) and one gateway call, and what
their span trees must show an operator following a slow request: the
request's span with its route, the IdP calls, the store and the
metadata-document fetch below it, trace context carried on to the IdP's
and the MCP server's side, the caller's trace continued; and what a trace
must never hold (codes, tokens, secrets, query strings), nor send (trace
context to a host a client named). The IdP's side is what django-oauth-
toolkit received (its test project logs each request's `traceparent`)."""
from __future__ import annotations

import secrets
import time
from pathlib import Path

import httpx
import pytest

from .kit.cimd import DocumentServer, document
from .kit.cimd import TestCA as CertificateAuthority
from .kit.gateway import NoAuthMCP, issued_extra
from .kit.harness import Browser, Shim
from .kit.otlp import OTLPReceiver, Span
from .kit.shimclient import RawClient


@pytest.fixture(scope="module")
def traced(dot_stack, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("traces")
    receiver = OTLPReceiver()
    noauth = NoAuthMCP(workdir / "noauth")
    documents = DocumentServer(CertificateAuthority(workdir / "ca"))
    yield dot_stack, receiver, noauth, documents
    documents.close()
    noauth.stop()
    receiver.close()


def children(spans: list[Span], parent: Span) -> list[Span]:
    return [s for s in spans if s.parent_span_id == parent.span_id and s.trace_id == parent.trace_id]


def descendants(spans: list[Span], root: Span) -> list[Span]:
    found, frontier = [], [root]
    while frontier:
        below = [c for p in frontier for c in children(spans, p)]
        found += below
        frontier = below
    return found


def tree(spans: list[Span], root: Span, depth: int = 0) -> str:
    """The span tree below `root`, one line per span (for failure messages)."""
    lines = ["  " * depth + f"{root.name} [{root.kind}] {root.attributes}"]
    for child in children(spans, root):
        lines.append(tree(spans, child, depth + 1))
    return "\n".join(lines)


def one(spans: list[Span], name: str, **attributes) -> Span:
    matching = [s for s in spans if s.name == name and all(s.attributes.get(k) == v for k, v in attributes.items())]
    assert len(matching) == 1, f"{len(matching)} spans named {name!r} {attributes}; names: {sorted({s.name for s in spans})}"
    return matching[0]


def test_a_sign_in_and_a_gateway_call_leave_span_trees_with_no_secret_in_them(traced):
    stack, receiver, noauth, documents = traced
    for old in stack.shims:
        old.stop()
    base = f"http://127.0.0.1:{stack.shim_port}"
    extra = issued_extra(stack.idp, base + "/mcp", upstream=noauth.url)
    extra["tracing"] = {"otlp_endpoint": receiver.endpoint, "service_name": "dcr-shim-e2e"}
    extra.update(documents.shim_extra())
    shim = Shim(stack.workdir / f"traces-{len(stack.shims)}", stack.shim_port, stack.idp, base + "/mcp", extra=extra).start()
    stack.shims.append(shim)

    # One sign-in: registration, the browser's way through /authorize, the IdP, /callback and consent; the code redeemed.
    client = RawClient.register(shim, name="Traced Client")
    signed_in = client.sign_in(Browser(), stack.idp.new_session())
    tokens = client.exchange(signed_in["code"]).json()
    assert "access_token" in tokens, tokens
    # One gateway call, from a caller that is tracing already.
    caller_trace, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    call = httpx.post(base + "/mcp", headers={
        "Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json, text/event-stream",
        "traceparent": f"00-{caller_trace}-{caller_span}-01"},
        json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "traced", "version": "1"}}}, timeout=30)
    assert call.status_code == 200, call.text
    # A client named by its metadata document: the shim fetches it during /authorize.
    url = documents.publish("traced", document(documents.url("traced")))
    fetched_before = len(documents.headers)
    cimd_authorize = httpx.get(base + "/authorize", params={
        "response_type": "code", "client_id": url, "redirect_uri": "http://127.0.0.1/callback", "state": "s",
        "code_challenge": client.challenge, "code_challenge_method": "S256", "resource": shim.resource}, timeout=30)
    assert cimd_authorize.status_code in (200, 302, 303), cimd_authorize.text

    # SIGTERM: spans still queued in the exporter are sent before the process ends.
    assert shim.stop()
    deadline = time.monotonic() + 10
    spans = receiver.spans()
    while time.monotonic() < deadline and not any(s.name == "POST /mcp" for s in spans):
        time.sleep(0.2)
        spans = receiver.spans()
    assert spans, "no span reached the receiver; shim log:\n" + shim.log_text()[-2000:]
    assert {s.resource.get("service.name") for s in spans} == {"dcr-shim-e2e"}
    assert all(t == "application/x-protobuf" for t in receiver.content_types), receiver.content_types

    # The harness polled /readyz until the shim was ready: probes and scrapes make no traces.
    assert not [s for s in spans if s.attributes.get("url.path") in ("/healthz", "/readyz", "/metrics")]
    # /register, /authorize, /callback and /token are server spans named by their route, each its own trace's root.
    for name in ("POST /register", "GET /authorize", "GET /callback", "POST /token"):
        span = [s for s in spans if s.name == name][0]
        assert span.kind == "server" and span.parent_span_id == "", (name, span)
        assert span.attributes["http.response.status_code"] in (200, 201, 302, 303), (name, span.attributes)

    # /callback: the IdP's code redeemed at the IdP and the grant written, below the request's span; the
    # IdP's own call is an HTTP client span that carried the trace context to the IdP.
    callback = one(spans, "GET /callback")
    below = descendants(spans, callback)
    exchange = one(below, "idp code exchange")
    assert exchange.attributes["server.address"] == "127.0.0.1" and exchange.attributes["http.response.status_code"] == 200
    http = [s for s in children(spans, exchange) if s.kind == "client"]
    assert len(http) == 1 and http[0].attributes.get("http.request.method") == "POST", children(spans, exchange)
    # ... and the IdP's side of the trace: its token endpoint received that HTTP span as the parent.
    seen = [line.split() for line in (Path(stack.idp.log_path).parent / "trace-context.log").read_text().splitlines()]
    assert ["POST", "/o/token/", f"00-{exchange.trace_id}-{http[0].span_id}-01"] in seen, seen[-6:]
    assert [s for s in below if s.name.startswith("store ") and s.attributes["db.system.name"] == "sqlite"], \
        sorted(s.name for s in below)
    # /token: the shim's own code redeemed against the store.
    token = next(s for s in spans if s.name == "POST /token" and s.attributes["http.response.status_code"] == 200)
    assert [s for s in descendants(spans, token) if s.name == "store write"], tree(spans, token)

    # The caller's trace continued through the gateway to the MCP server.
    gateway = one(spans, "POST /mcp")
    assert gateway.trace_id == caller_trace and gateway.parent_span_id == caller_span, gateway
    assert gateway.attributes["http.route"] == "/mcp" and gateway.attributes["http.response.status_code"] == 200
    forward = one(descendants(spans, gateway), "gateway forward")
    assert forward.kind == "client" and forward.attributes["dcr_shim.gateway.resource"] == base + "/mcp"
    received = [r for r in noauth.requests() if r["method"] == "POST"][-1]["headers"]
    assert received["traceparent"] == [f"00-{caller_trace}-{forward.span_id}-01"], received.get("traceparent")
    assert "tracestate" not in received

    # The metadata document was fetched inside /authorize's trace, without trace context sent to its host.
    authorize = [s for s in spans if s.name == "GET /authorize" and any(
        d.name.startswith("fetch ") for d in descendants(spans, s))]
    assert len(authorize) == 1, sorted(s.name for s in spans)
    fetch = next(d for d in descendants(spans, authorize[0]) if d.name.startswith("fetch "))
    assert fetch.attributes["url.full"] == url and fetch.attributes["dcr_shim.fetch.outcome"] == "ok", fetch.attributes
    assert documents.headers[fetched_before:] and not any(
        "traceparent" in h or "tracestate" in h for h in documents.headers[fetched_before:])

    # Nothing a trace holds is a secret: no code, token, client secret or state; no query string at all.
    never = [signed_in["code"], tokens["access_token"], tokens["refresh_token"], stack.idp.client_secret,
             signed_in.get("state", "st-")]
    for span in spans:
        assert "url.query" not in span.attributes, (span.name, span.attributes)
        for key, value in span.attributes.items():
            text = str(value)
            assert "?" not in text or key == "url.full", (span.name, key, text)
            assert not [s for s in never if s and s in text], (span.name, key)
