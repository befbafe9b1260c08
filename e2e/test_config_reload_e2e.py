"""Configuration reload without a restart, end to end: SIGHUP makes
`dcr-shim serve` read its configuration file again.

A valid file applies to the requests that start afterwards: a redirect URI
removed from `redirects.allow` is refused at /authorize at once, while an
SSE stream open through the gateway finishes with all its events and a
sign-in waiting at the consent page completes (consent, IdP, callback,
token) and its token works. An invalid file changes nothing and its
problem is logged. A setting only a restart can change (`listen.port`) is
named in the log and keeps its running value. Run once (django-oauth-toolkit)."""
from __future__ import annotations

import asyncio
import os
import signal
import threading
from urllib.parse import urljoin

import httpx
import httpx2
import pytest
import yaml
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from .kit.flow import SDKFlow, step
from .kit.gateway import NoAuthMCP, issued_extra
from .kit.harness import Browser, Shim, parse_consent_form, query, wait_until
from .kit.idp import free_port
from .kit.shimclient import RawClient

#: The second redirect set: admitted at start, removed by the reload.
REMOVED_REDIRECT = "https://app.example.com/oauth/callback"
RELOADED = "configuration reloaded"
REFUSED = "reload refused; the running configuration stays"
RESTART_ONLY = "reload: this setting changes only at a restart; its running value is kept"
FILE_CHANGED = "reload requested (configuration file changed)"
#: The stream: STEPS progress events DELAY seconds apart (8 s), long enough
#: to still be open after the reload on a loaded machine.
STEPS = 20
DELAY = 0.4


@pytest.fixture(scope="module")
def noauth(tmp_path_factory):
    server = NoAuthMCP(tmp_path_factory.mktemp("noauth-reload"))
    yield server
    server.stop()


def reload_shim(stack, noauth) -> Shim:
    """A gateway shim (issued tokens, `/mcp` in front of `noauth`) whose
    allowlist admits loopback redirects and REMOVED_REDIRECT."""
    for old in stack.shims:
        old.stop()
    base = f"http://127.0.0.1:{stack.shim_port}"
    extra = issued_extra(stack.idp, base + "/mcp", upstream=noauth.url)
    extra["redirects"] = {"clients": ["loopback"], "allow": [REMOVED_REDIRECT]}
    shim = Shim(stack.workdir / f"reload-{len(stack.shims)}", stack.shim_port, stack.idp, base + "/mcp", extra=extra).start()
    stack.shims.append(shim)
    return shim


def send_reload(shim: Shim, config: dict | str, expect: str, timeout: float = 30.0) -> None:
    """Writes `config` (a dict as YAML, or text as it is) to the shim's file,
    sends SIGHUP and waits until the log says `expect` once more."""
    before = shim.log_text().count(expect)
    shim.config_path.write_text(config if isinstance(config, str) else yaml.safe_dump(config))
    shim.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: shim.log_text().count(expect) > before or shim.proc.poll() is not None, timeout=timeout, interval=0.1), \
        f"no {expect!r} in the log within {timeout}s; log tail:\n{shim.log_text()[-3000:]}"
    assert shim.proc.poll() is None, f"the shim exited on SIGHUP; log tail:\n{shim.log_text()[-3000:]}"


def mcp_post(shim: Shim, token: str) -> httpx.Response:
    return httpx.post(shim.base_url + "/mcp", headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
                                                       "Content-Type": "application/json"},
                      json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=10)


def authorize_page(client: RawClient) -> httpx.Response:
    return httpx.get(client.authorize_url(), follow_redirects=False, timeout=10)


def expect_refused_redirect(client: RawClient) -> None:
    page = authorize_page(client)
    assert page.status_code == 400 and "location" not in page.headers, (page.status_code, dict(page.headers))
    assert "no longer allowed" in page.text, page.text[:400]


class StreamCall(threading.Thread):
    """`stream_steps` through the gateway on its own thread, with the
    SDK: `first` is set at the first progress event, `done` at the end."""

    def __init__(self, flow: SDKFlow):
        super().__init__(daemon=True)
        self.flow = flow
        self.progress: list[float] = []
        self.first = threading.Event()
        self.done = threading.Event()
        self.text: str | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.text = asyncio.run(self._call())
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            self.done.set()

    async def _call(self) -> str:
        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            self.progress.append(value)
            self.first.set()

        async with httpx2.AsyncClient(auth=self.flow.provider, timeout=60) as http:
            async with streamable_http_client(self.flow.mcp_url, http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    result = await session.call_tool("stream_steps", {"steps": STEPS, "delay": DELAY}, progress_callback=on_progress)
        return " ".join(getattr(c, "text", "") for c in result.content)


def test_sighup_reloads_the_configuration(dot_stack, noauth):
    stack = dot_stack
    shim = reload_shim(stack, noauth)

    # A client registered under the second redirect set reaches consent before the reload.
    removed = RawClient.register(shim, redirect_uri=REMOVED_REDIRECT)
    before = authorize_page(removed)
    assert before.status_code in (302, 303) and "/consent" in before.headers["location"], (before.status_code, before.text[:300])

    # A loopback client's sign-in waits at the consent page.
    pending = RawClient.register(shim)
    browser = Browser()
    first = browser.get(pending.authorize_url())
    assert first.status_code in (302, 303), first.text[:300]
    consent_url = urljoin(pending.authorize_url(), first.headers["location"])
    page = browser.get(consent_url)
    assert page.status_code == 200, page.text[:300]
    form = parse_consent_form(page.text)
    assert "csrf_token" in form and "request_id" in form, page.text[:300]
    step("a sign-in waits at the consent page")

    # An SSE stream through the gateway, open across the reload.
    flow = SDKFlow(shim, stack.idp, shim.base_url + "/mcp")
    assert asyncio.run(flow.call_tool("add", {"a": 1, "b": 2})) == "3"   # signs in first
    stream = StreamCall(flow)
    stream.start()
    assert stream.first.wait(timeout=30), f"no progress event within 30 s: {stream.error!r}"
    step("the stream is open: first progress event received")

    # The reload: the second redirect set removed.
    shim.extra["redirects"] = {"clients": ["loopback"]}
    send_reload(shim, shim.config(), RELOADED)
    assert not stream.done.is_set(), "the stream ended before the reload was applied; the test proves nothing"
    step("configuration reloaded while the stream was open")

    # Rule 1 as configured now: the removed redirect is refused, with no redirect.
    expect_refused_redirect(removed)

    # The stream finishes on the router it started with, every event delivered.
    assert stream.done.wait(timeout=60), "the stream did not finish"
    assert stream.error is None, repr(stream.error)
    assert stream.text == f"done {STEPS}" and stream.progress == [float(i) for i in range(1, STEPS + 1)], (stream.text, stream.progress)
    step(f"the stream finished after the reload with all {STEPS} events")

    # The pending sign-in completes: consent, IdP, callback, token; the token opens the gateway.
    post = browser.post(urljoin(consent_url, "/consent"), data={**form, "decision": "allow"},
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert post.status_code == 303 and "location" in post.headers, (post.status_code, post.text[:300])
    back = stack.idp.new_session().authorize(urljoin(consent_url, post.headers["location"]))
    assert back.startswith(shim.issuer + "/callback?"), back.split("?")[0]
    callback = browser.get(back)
    assert callback.status_code in (302, 303) and callback.headers["location"].startswith(pending.redirect_uri), callback.text[:300]
    tokens = pending.exchange(query(callback.headers["location"])["code"]).json()
    assert "access_token" in tokens, tokens
    assert mcp_post(shim, tokens["access_token"]).status_code != 401
    step("the sign-in begun before the reload completed; its token works at the gateway")

    # A broken file: nothing changes, and the problem is logged. (It would
    # also admit the removed redirect again, were it applied.)
    broken = shim.config()
    broken["redirects"] = {"clients": ["loopback"], "allow": [REMOVED_REDIRECT]}
    broken["consnet"] = {"mode": "always"}
    send_reload(shim, broken, REFUSED)
    assert any(REFUSED in line and "consnet" in line for line in shim.log_text().splitlines())
    expect_refused_redirect(removed)
    fresh = RawClient.register(shim)
    code = fresh.sign_in(Browser(), stack.idp.new_session())["code"]
    assert mcp_post(shim, fresh.exchange(code).json()["access_token"]).status_code != 401
    step("a broken file was refused; the running configuration stays")

    # Not YAML at all: refused the same way.
    send_reload(shim, "redirects: [unclosed\n", REFUSED)
    expect_refused_redirect(removed)

    # listen.port only: named in the log, and the shim answers on the old port.
    moved = shim.config()
    new_port = free_port()
    moved["listen"] = {**moved["listen"], "port": new_port}
    send_reload(shim, moved, RELOADED)
    assert any(RESTART_ONLY in line and "setting=listen.port" in line for line in shim.log_text().splitlines()), \
        shim.log_text()[-2000:]
    assert httpx.get(shim.base_url + "/healthz", timeout=10).status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{new_port}/healthz", timeout=5)
    expect_refused_redirect(removed)
    step("listen.port: named in the log; the shim still answers on its old port")


#: A secret value on the line a YAML error points at.
SECRET_MARKER = "hunter2-reload-secret-5e1f"


def test_a_refused_reload_never_logs_a_secret_of_the_file(dot_stack):
    """Rule: never log secrets. A file that is not valid YAML is refused;
    the logged problem names the position and the mistake, never the text of
    the line, which may hold a secret (here the upstream client secret)."""
    shim = dot_stack.shim("reload-secret")
    text = yaml.safe_dump(shim.config())
    assert "client_secret:" in text
    broken = "\n".join(f"  client_secret: {SECRET_MARKER}: oops" if line.strip().startswith("client_secret:") else line
                       for line in text.splitlines()) + "\n"
    send_reload(shim, broken, REFUSED)
    refused = [line for line in shim.log_text().splitlines() if REFUSED in line]
    assert refused and "not valid YAML" in refused[-1], refused
    assert SECRET_MARKER not in shim.log_text()


def write_and_wait(shim: Shim, config: dict | str, expect: str, timeout: float = 30.0) -> None:
    """Writes `config` to the shim's file (no signal) and waits until the log
    says `expect` once more: the file watch (`reload.watch_interval`) noticed."""
    before = shim.log_text().count(expect)
    # Replaced in one step, as an editor saving atomically does: the watch never reads half a file.
    staged = shim.config_path.with_name(shim.config_path.name + ".new")
    staged.write_text(config if isinstance(config, str) else yaml.safe_dump(config))
    os.replace(staged, shim.config_path)
    assert wait_until(lambda: shim.log_text().count(expect) > before or shim.proc.poll() is not None, timeout=timeout, interval=0.1), \
        f"no {expect!r} in the log within {timeout}s; log tail:\n{shim.log_text()[-3000:]}"
    assert shim.proc.poll() is None, f"the shim exited; log tail:\n{shim.log_text()[-3000:]}"


def test_an_edited_file_is_reloaded_without_sighup_when_watched(dot_stack):
    """`reload.watch_interval`: an edit of the configuration file is applied
    as SIGHUP would apply it (no signal is sent); a broken edit changes
    nothing and its problem is logged, and the next good edit applies."""
    shim = dot_stack.shim("reload-watch", extra={
        "reload": {"watch_interval": "1s"},
        "redirects": {"clients": ["loopback"], "allow": [REMOVED_REDIRECT]},
    })
    assert any("watching the configuration file" in line for line in shim.log_text().splitlines()), shim.log_text()[-2000:]
    removed = RawClient.register(shim, redirect_uri=REMOVED_REDIRECT)
    before = authorize_page(removed)
    assert before.status_code in (302, 303) and "/consent" in before.headers["location"], (before.status_code, before.text[:300])

    # A broken edit: refused, logged, nothing changes (the redirect is still admitted).
    broken = shim.config()
    broken["consnet"] = {"mode": "always"}
    write_and_wait(shim, broken, REFUSED)
    assert any(REFUSED in line and "consnet" in line for line in shim.log_text().splitlines())
    assert FILE_CHANGED in shim.log_text()
    again = authorize_page(removed)
    assert again.status_code in (302, 303), (again.status_code, again.text[:300])
    step("a broken edit was refused by the file watch; the running configuration stays")

    # A good edit: the redirect removed, applied without a signal.
    shim.extra["redirects"] = {"clients": ["loopback"]}
    write_and_wait(shim, shim.config(), RELOADED)
    expect_refused_redirect(removed)
    step("an edit of the file was applied without SIGHUP")


def test_a_reload_keeps_the_registration_count(dot_stack):
    """A client at `registration.rate_limit` stays refused after a reload
    (SIGHUP rebuilds the endpoints; the counts are kept), and a raised limit
    counts the registrations made before it."""
    shim = dot_stack.shim("reload-counts", extra={"registration": {"rate_limit": 2}})
    body = {"redirect_uris": ["http://127.0.0.1:9/callback"], "token_endpoint_auth_method": "none"}
    statuses = [httpx.post(shim.base_url + "/register", json=body, timeout=10).status_code for _ in range(3)]
    assert statuses == [201, 201, 429], statuses
    send_reload(shim, shim.config(), RELOADED)
    assert httpx.post(shim.base_url + "/register", json=body, timeout=10).status_code == 429, "the reload gave a fresh budget"
    shim.extra["registration"] = {"rate_limit": 3}
    send_reload(shim, shim.config(), RELOADED)
    statuses = [httpx.post(shim.base_url + "/register", json=body, timeout=10).status_code for _ in range(2)]
    assert statuses == [201, 429], statuses
