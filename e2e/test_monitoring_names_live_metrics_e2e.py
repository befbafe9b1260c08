"""The alerting rules (deploy/prometheus/alerts.yaml) and the Grafana
dashboard (deploy/grafana/dcr-shim.json) name only metrics a live shim
exports: a gateway shim signs a user in and proxies one MCP call, its
/metrics is scraped, promtool checks the scrape and the rules, and every
metric name the rules and the dashboard's queries use is in the scrape."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import httpx
import pytest

from .kit.gateway import NoAuthMCP, issued_extra
from .kit.harness import REPO, Browser, Shim
from .kit.shimclient import RawClient

ALERTS = REPO / "deploy" / "prometheus" / "alerts.yaml"
DASHBOARD = REPO / "deploy" / "grafana" / "dcr-shim.json"

# PromQL words that are not metric names: functions, aggregations, keywords.
PROMQL_WORDS = {
    "sum", "rate", "irate", "increase", "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
    "unless", "histogram_quantile", "max", "min", "avg", "count", "topk", "bottomk", "clamp_min", "clamp_max", "abs",
    "absent", "time", "vector", "scalar", "le", "offset", "bool", "delta", "deriv", "label_replace", "max_over_time",
    "min_over_time", "avg_over_time", "sum_over_time", "count_over_time", "up", "inf", "nan",
}


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool is missing: install Debian's prometheus package (scripts/debian-packages.txt)")
    return path


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers outside
    label matchers, strings and durations that are not PromQL words."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)          # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)                     # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)                    # range selectors
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)  # label lists
    names = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr))
    return {n for n in names if n.lower() not in PROMQL_WORDS and not re.fullmatch(r"\d+[smhdwy]", n)}


def alert_exprs() -> list[str]:
    import yaml
    doc = yaml.safe_load(ALERTS.read_text())
    return [rule["expr"] for group in doc["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    doc = json.loads(DASHBOARD.read_text())
    exprs = []
    for panel in doc["panels"]:
        for target in panel.get("targets", []):
            exprs.append(target["expr"])
    for variable in doc.get("templating", {}).get("list", []):
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if variable.get("type") == "query" and query:
            # label_values(metric, label)
            exprs.append(re.sub(r"^label_values\((.*),\s*\w+\)$", r"\1", query))
    return exprs


def exported_names(scrape: str) -> set[str]:
    """Series names in a Prometheus text scrape, with the bare family names
    of histograms and summaries (`_bucket`, `_sum`, `_count` belong to them)."""
    names = set()
    for line in scrape.splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            names.add(re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group(0))
    return names


def test_alert_rules_pass_promtool():
    run = subprocess.run([promtool(), "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS" in run.stdout + run.stderr


def test_dashboard_is_grafana_json_with_a_prometheus_query_in_every_panel():
    doc = json.loads(DASHBOARD.read_text())
    assert doc["uid"] and doc["title"] and doc["schemaVersion"] >= 30
    assert any(v["type"] == "datasource" and v["query"] == "prometheus" for v in doc["templating"]["list"])
    ids = [panel["id"] for panel in doc["panels"]]
    assert len(ids) == len(set(ids))
    for panel in doc["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip() and metric_names(target["expr"]), (panel["title"], target["expr"])
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


def test_the_metric_name_parser_finds_names_and_skips_promql_words():
    expr = ('sum by (kind) (rate(dcr_shim_events_total{kind="reuse_detected"}[5m])) / '
            'ignoring(kind) histogram_quantile(0.99, sum by (le) (rate(hb_request_duration_seconds_bucket[10m]))) > 0.5')
    assert metric_names(expr) == {"dcr_shim_events_total", "hb_request_duration_seconds_bucket"}


@pytest.fixture(scope="module")
def noauth(tmp_path_factory):
    server = NoAuthMCP(tmp_path_factory.mktemp("noauth-metrics"))
    yield server
    server.stop()


def test_every_metric_in_the_alerts_and_dashboard_is_exported_after_a_sign_in_and_a_gateway_call(dot_stack, noauth, tmp_path):
    tool = promtool()
    for old in dot_stack.shims:
        old.stop()
    base = f"http://127.0.0.1:{dot_stack.shim_port}"
    shim = Shim(dot_stack.workdir / f"metrics-{len(dot_stack.shims)}", dot_stack.shim_port, dot_stack.idp, base + "/mcp",
                extra=issued_extra(dot_stack.idp, base + "/mcp", upstream=noauth.url)).start()
    dot_stack.shims.append(shim)

    client = RawClient.register(shim, name="Metrics Client")
    tokens = client.exchange(client.sign_in(Browser(), dot_stack.idp.new_session())["code"]).json()
    call = httpx.post(shim.base_url + "/mcp", headers={"Authorization": f"Bearer {tokens['access_token']}",
                                                       "Accept": "application/json, text/event-stream"},
                      json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                          "protocolVersion": "2025-06-18", "capabilities": {},
                          "clientInfo": {"name": "metrics", "version": "1"}}}, timeout=30)
    assert call.status_code == 200, call.text
    assert client.refresh(tokens["refresh_token"]).status_code == 200
    httpx.get(shim.base_url + "/readyz", timeout=30)
    # A client id naming a metadata document on a private address: the fetch is refused (rule 11) and counted.
    refused = httpx.get(shim.base_url + "/authorize", params={
        "response_type": "code", "client_id": "https://10.0.0.1/client.json", "redirect_uri": "https://10.0.0.1/cb",
        "code_challenge": client.challenge, "code_challenge_method": "S256", "state": "s", "resource": shim.resource}, timeout=30)
    assert refused.status_code == 400, refused.text

    scrape = httpx.get(shim.base_url + "/metrics", timeout=10)
    assert scrape.status_code == 200
    (tmp_path / "scrape.txt").write_text(scrape.text)
    check = subprocess.run([tool, "check", "metrics"], input=scrape.text, capture_output=True, text=True, timeout=60)
    # promtool exits 3 for lint findings and 1 for a scrape it cannot parse. Hummingbird's own names
    # (hb_requests without _total) and the missing HELP texts are lint findings; the shim's own
    # names have none beyond those.
    findings = (check.stdout + check.stderr).splitlines()
    assert check.returncode in (0, 3) and not any("error while linting" in line for line in findings), findings
    own = [line for line in findings if line.startswith("dcr_shim_") and not line.endswith("no help text")]
    assert not own, own

    exported = exported_names(scrape.text)
    used = {}
    for source, exprs in (("alerts.yaml", alert_exprs()), ("dcr-shim.json", dashboard_exprs())):
        for expr in exprs:
            for name in metric_names(expr):
                used.setdefault(name, []).append(source)
    missing = {name: sources for name, sources in used.items() if name not in exported}
    assert not missing, f"named in the rules or the dashboard but not exported: {missing}\nexported: {sorted(exported)}"
    assert {"dcr_shim_events_total", "dcr_shim_upstream_requests_total", "dcr_shim_gateway_requests_total"} <= set(used)
