"""docs/openapi.yaml describes what the shim really serves: it is a valid
OpenAPI 3.1 document naming every route the router serves, and a
property-based run of schemathesis against a live shim (issued tokens, one
gateway resource, introspection) finds no 5xx and no answer whose status,
content type or body the document does not describe.

Bounded: a few examples per operation and a wall-clock budget
(DCR_SHIM_SCHEMATHESIS_SECONDS, 60 by default). Requests carry the
introspection caller's HTTP Basic credentials, so /introspect judges the
made-up tokens; /token and /revoke see an unknown client, so the run covers
their refusals, not a grant (the flow tests cover those). Nothing is
excluded: requests schemathesis makes up never reach the IdP (an unknown
client at /authorize, an unknown state at /callback, a request_id without the
browser's cookie at /consent all end at the shim's error page), so no browser
is needed. The successful sign-in itself is what the other e2e tests prove."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from .kit.gateway import INTROSPECTION_ID, INTROSPECTION_SECRET, NoAuthMCP, issued_extra
from .kit.harness import REPO, Shim

OPENAPI = REPO / "docs" / "openapi.yaml"
ROUTER = REPO / "Sources" / "ShimServer" / "ShimRouter.swift"


def spec() -> dict:
    return yaml.safe_load(OPENAPI.read_text())


def test_openapi_document_is_valid_openapi_3_1():
    try:
        from openapi_spec_validator import validate
    except ImportError:
        pytest.skip("openapi-spec-validator is missing: pip install -r e2e/requirements.txt")
    document = spec()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_openapi_document_names_every_route_the_router_serves():
    """The router's `api.get("…")`/`api.post("…")` and `router.get("…")`
    routes, and both metadata names, are paths of the document with the same methods."""
    source = ROUTER.read_text()
    routes = {(method.upper(), "/" + path.lstrip("/"))
              for method, path in re.findall(r'(?:api|router)\.(get|post)\("([^"]+)"\)', source)}
    routes |= {("GET", "/.well-known/oauth-authorization-server"), ("GET", "/.well-known/openid-configuration"),
               ("GET", "/.well-known/oauth-protected-resource/{resourcePath}")}
    # The API description's route is the configured api_description.path; the document shows it at /openapi.yaml.
    assert "services.config.operations.apiDescriptionPath" in source
    routes.add(("GET", "/openapi.yaml"))
    assert ("POST", "/introspect") in routes and ("GET", "/jwks.json") in routes and ("POST", "/consent") in routes
    described = {(method.upper(), path) for path, item in spec()["paths"].items() for method in item
                 if method in ("get", "post", "put", "delete", "patch")}
    assert routes == described


def test_every_json_error_is_the_oauth_error_shape():
    """Every 4xx/5xx answer with a JSON body is RFC 6749 §5.2's object (an
    `error` code and an optional `error_description`), except /readyz's."""
    document = spec()

    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if not status.startswith(("4", "5")) or path == "/readyz":
                    continue
                if "$ref" in response:
                    name = response["$ref"].rsplit("/", 1)[1]
                    response = document["components"]["responses"][name]
                body = response.get("content", {}).get("application/json")
                if body:
                    assert body["schema"] == {"$ref": "#/components/schemas/OAuthError"}, (method, path, status)
    error = document["components"]["schemas"]["OAuthError"]
    assert error["required"] == ["error"] and set(error["properties"]) == {"error", "error_description"}


@pytest.fixture(scope="module")
def noauth(tmp_path_factory):
    server = NoAuthMCP(tmp_path_factory.mktemp("noauth-openapi"))
    yield server
    server.stop()


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(dot_stack, noauth, tmp_path):
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        pytest.skip("schemathesis is missing: pip install -r e2e/requirements.txt")
    for old in dot_stack.shims:
        old.stop()
    base = f"http://127.0.0.1:{dot_stack.shim_port}"
    extra = issued_extra(dot_stack.idp, base + "/mcp", upstream=noauth.url)
    extra["authorization"] = {"rate_limit": 0}
    # The document's own path, as it describes it.
    extra["api_description"] = {"path": "/openapi.yaml"}
    shim = Shim(dot_stack.workdir / f"openapi-{len(dot_stack.shims)}", dot_stack.shim_port, dot_stack.idp, base + "/mcp",
                extra=extra).start()
    dot_stack.shims.append(shim)
    assert httpx.get(base + "/.well-known/oauth-protected-resource/mcp", timeout=10).status_code == 200

    budget = int(os.environ.get("DCR_SHIM_SCHEMATHESIS_SECONDS", "60"))
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "run", str(OPENAPI), "--url", base,
        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        "--phases", "examples,coverage,fuzzing", "--max-examples", "15", "--max-time", str(budget),
        # The introspection caller's credentials (HTTP Basic on every request): /introspect then
        # answers the made-up tokens themselves; elsewhere they are an unknown client (401).
        "--auth", f"{INTROSPECTION_ID}:{INTROSPECTION_SECRET}",
        "--seed", "1", "--generation-database", "none", "--request-timeout", "30", "--workers", "1",
        "--report", "junit", "--report-dir", str(tmp_path / "report"),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=budget + 240, cwd=tmp_path,
                         env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""})
    output = run.stdout + run.stderr
    print(output[-4000:])  # the summary: operations, test cases, checks passed
    assert run.returncode == 0, output[-12000:]
    # Every operation was exercised, and more than a token number of cases ran.
    operations = sum(1 for item in spec()["paths"].values() for method in item if method in ("get", "post"))
    assert f"Tested: {operations}" in output, output[-4000:]
    cases = re.search(r"(\d+) generated, (\d+) passed", output)
    assert cases and int(cases.group(1)) == int(cases.group(2)) >= 10 * operations, output[-4000:]
    assert shim.proc.poll() is None, "the shim stopped during the run"
    assert "crash" not in shim.log_text().lower() and "fatal error" not in shim.log_text().lower()


def test_api_description_is_served_at_its_configured_path_and_nowhere_by_default(dot_stack, noauth):
    """With `api_description.path`, GET answers docs/openapi.yaml byte for byte
    (built into the binary by scripts/embed-openapi.sh) as application/yaml;
    without it, the same path is 404."""
    base = f"http://127.0.0.1:{dot_stack.shim_port}"
    for configured in (True, False):
        for old in dot_stack.shims:
            old.stop()
        extra = issued_extra(dot_stack.idp, base + "/mcp", upstream=noauth.url)
        if configured:
            extra["api_description"] = {"path": "/api/openapi.yaml"}
        shim = Shim(dot_stack.workdir / f"openapi-{len(dot_stack.shims)}", dot_stack.shim_port, dot_stack.idp, base + "/mcp",
                    extra=extra).start()
        dot_stack.shims.append(shim)
        answer = httpx.get(base + "/api/openapi.yaml", timeout=10)
        if configured:
            assert answer.status_code == 200, answer.text[:500]
            assert answer.headers["content-type"] == "application/yaml"
            assert answer.headers["cache-control"] == "public, max-age=3600"
            assert answer.content == OPENAPI.read_bytes()
        else:
            assert answer.status_code == 404
