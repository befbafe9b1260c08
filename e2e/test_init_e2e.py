"""`dcr-shim init` in a real terminal (tmux): the prompts, a refused answer
asked again, the file it writes passing `check-config`, a shim started on it
answering its metadata; the same from flags (--non-interactive); Ctrl-C
and end of input leave no file behind; an existing file is kept."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from .kit.fake_idp import FakeIdP
from .kit.harness import SHIM_BIN, wait_until
from .kit.idp import free_port

ENTRA_CLIENT = "11111111-2222-3333-4444-555555555555"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (scripts/debian-packages.txt)")


class Terminal:
    """One `dcr-shim init` in a tmux pane of its own tmux server (its own
    socket, so a tmux the user runs is never touched)."""

    def __init__(self, tmp_path: Path, args: list[str]):
        self.socket = f"dcr-shim-init-{os.getpid()}-{time.monotonic_ns()}"
        # The pane stays after the command ends, so its last words and exit status can be read.
        # The shell traps SIGINT (reset to the default in the child), so Ctrl-C ends init, not the shell.
        command = "trap : INT; " + shlex.join([SHIM_BIN, "init", *args]) + '; echo "EXIT=$?"; sleep 60'
        subprocess.run(["tmux", "-L", self.socket, "new-session", "-d", "-x", "200", "-y", "50", "-c", str(tmp_path), command],
                       check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "-L", self.socket, "capture-pane", "-p", "-J", "-S", "-500"],
                              capture_output=True, text=True, check=True).stdout

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        if not wait_until(lambda: text in self.screen(), timeout=timeout):
            raise AssertionError(f"{text!r} never appeared; screen:\n{self.screen()}")
        return self.screen()

    def current_line(self) -> str:
        lines = [line for line in self.screen().splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def answer(self, prompt: str, text: str) -> None:
        """Once `prompt` is the line waiting for input, types `text` and Enter."""
        if not wait_until(lambda: prompt in self.current_line(), timeout=20):
            raise AssertionError(f"not asked {prompt!r}; screen:\n{self.screen()}")
        if text:
            subprocess.run(["tmux", "-L", self.socket, "send-keys", "-l", text], check=True)
        subprocess.run(["tmux", "-L", self.socket, "send-keys", "Enter"], check=True)

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "-L", self.socket, "send-keys", *keys], check=True)

    def exit_status(self, timeout: float = 60.0) -> int:
        screen = self.wait_for("EXIT=", timeout=timeout)
        return int(screen.split("EXIT=")[-1].split()[0])

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def fake_idp():
    idp = FakeIdP()
    yield idp
    idp.stop()


def check_config(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([SHIM_BIN, "check-config", "--config", str(path)], capture_output=True, text=True, timeout=60)


def serve_and_read_metadata(tmp_path: Path, config: Path, port: int) -> dict:
    """`dcr-shim serve` on the written file (the port as a flag: the file says 8080), its RFC 8414 metadata."""
    env = {**os.environ, "DCR_SHIM_DATA_DIR": str(tmp_path / "data")}
    env.pop("STATE_DIRECTORY", None)
    with open(tmp_path / "serve.log", "w") as log:
        proc = subprocess.Popen([SHIM_BIN, "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
                                cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/.well-known/oauth-authorization-server"

        def answered() -> bool:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                return httpx.get(url, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_until(answered, timeout=30), (tmp_path / "serve.log").read_text()
        return httpx.get(url, timeout=5).json()
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_init_generic_oidc_in_a_terminal(tmp_path, fake_idp):
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    output = tmp_path / "dcr-shim.yaml"
    term = Terminal(tmp_path, ["--output", str(output)])
    try:
        screen = term.wait_for("Identity provider (")
        assert "[entra]" in screen  # the default, in brackets
        term.answer("Identity provider (", "oidc")
        term.answer("Issuer URL of the identity provider", fake_idp.base)
        term.answer("Client ID of the application", "static")
        # Refused by the configuration's own issuer rule, then asked again.
        term.answer("Public URL of this shim (issuer)", "http://auth.example.com")
        term.wait_for("error: issuer: must be https")
        term.answer("Public URL of this shim (issuer)", issuer)
        term.answer("only issue tokens (gateway, issue) [gateway]", "issue")
        term.answer("URL of the MCP server", "http://127.0.0.1:9/mcp")
        term.answer("MCP clients to allow", "loopback")
        term.answer("File that will hold the client secret", "")
        screen = term.wait_for("Run dcr-shim doctor now")
        assert f"Redirect URI:   {issuer}/callback" in screen
        assert "Scopes:         openid profile" in screen
        term.keys("Enter")  # N: no doctor
        assert term.exit_status() == 0, term.screen()
    finally:
        term.close()

    text = output.read_text()
    assert text.startswith("# dcr-shim configuration written by `dcr-shim init`")
    assert f'client_secret_file: "{tmp_path / "upstream-client-secret"}"' in text
    assert oct(output.stat().st_mode & 0o777) == "0o600"
    assert leftovers(tmp_path) == []
    # The secret goes where init said; init itself never asked for it.
    (tmp_path / "upstream-client-secret").write_text("fake-secret\n")
    checked = check_config(output)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "configuration OK" in checked.stdout
    metadata = serve_and_read_metadata(tmp_path, output, port)
    assert metadata["issuer"] == issuer
    assert metadata["registration_endpoint"] == issuer + "/register"


def test_init_entra_gateway_in_a_terminal(tmp_path):
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    output = tmp_path / "entra.yaml"
    term = Terminal(tmp_path, ["--output", str(output)])
    try:
        term.answer("Identity provider (", "")  # entra, the default
        term.answer("Entra tenant", "contoso")
        term.wait_for("error: upstream.tenant:")
        term.answer("Entra tenant", "contoso.onmicrosoft.com")
        term.answer("Client ID of the application", ENTRA_CLIENT)
        term.answer("Public URL of this shim (issuer)", issuer)
        term.answer("only issue tokens (gateway, issue) [gateway]", "")
        term.answer("URL of the MCP server behind the shim", "http://127.0.0.1:9/mcp")
        term.answer(f"Scope of the API (Application ID URI / scope name) [api://{ENTRA_CLIENT}/access_as_user]", "")
        term.answer("MCP clients to allow", "")
        term.answer("File that will hold the client secret", "")
        screen = term.wait_for("Run dcr-shim doctor now")
        for expected in [
            f"Redirect URI (platform Web):  {issuer}/callback",
            f"Application ID URI:           api://{ENTRA_CLIENT}",
            f"az ad app update --id {ENTRA_CLIENT} --web-redirect-uris {issuer}/callback",
            f"az ad app update --id {ENTRA_CLIENT} --identifier-uris api://{ENTRA_CLIENT}",
            f"az ad app permission add --id {ENTRA_CLIENT} --api {ENTRA_CLIENT} --api-permissions",
            f"az ad app credential reset --id {ENTRA_CLIENT} --append",
        ]:
            assert expected in screen, expected
        term.keys("Enter")
        assert term.exit_status() == 0, term.screen()
    finally:
        term.close()
    text = output.read_text()
    assert 'tenant: "contoso.onmicrosoft.com"' in text
    assert 'upstream: "http://127.0.0.1:9/mcp"' in text
    assert "access: issued" in text
    (tmp_path / "upstream-client-secret").write_text("entra-secret\n")
    checked = check_config(output)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_init_from_flags_non_interactive(tmp_path, fake_idp):
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    output = tmp_path / "flags.yaml"
    secret = tmp_path / "secret"
    # Missing answers: each listed by its flag, nothing written.
    missing = subprocess.run([SHIM_BIN, "init", "--non-interactive", "--output", str(output), "--preset", "oidc"],
                             capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert missing.returncode != 0
    for flag in ["--upstream-issuer", "--client-id", "--issuer", "--mcp-url"]:
        assert f"error: {flag}: required with --non-interactive" in missing.stdout, missing.stdout
    assert not output.exists()

    args = ["init", "--output", str(output), "--preset", "oidc", "--upstream-issuer", fake_idp.base, "--client-id", "static",
            "--issuer", issuer, "--mode", "gateway", "--mcp-url", "http://127.0.0.1:9/mcp", "--clients", "loopback,vscode",
            "--secret-file", str(secret)]
    # stdin is not a terminal: init says so and runs as --non-interactive.
    run = subprocess.run([SHIM_BIN, *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "stdin is not a terminal: running as --non-interactive" in run.stdout
    assert f"Redirect URI:   {issuer}/callback" in run.stdout
    assert f"MCP clients connect to {issuer}/mcp" in run.stdout
    secret.write_text("fake-secret\n")
    checked = check_config(output)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    metadata = serve_and_read_metadata(tmp_path, output, port)
    assert metadata["issuer"] == issuer

    # An existing file is kept without --force; with it, replaced.
    before = output.read_text()
    again = subprocess.run([SHIM_BIN, *args, "--non-interactive"],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert again.returncode != 0 and "--force" in again.stdout
    assert output.read_text() == before
    forced = subprocess.run([SHIM_BIN, *args, "--non-interactive", "--force"],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert forced.returncode == 0, forced.stdout
    assert leftovers(tmp_path) == []


def test_init_refuses_to_write_what_check_config_refuses(tmp_path):
    """Okta's org authorization server (no /oauth2/) passes the URL check of
    the prompt but not the preset's rule: an error listing it, no file."""
    output = tmp_path / "okta.yaml"
    run = subprocess.run(
        [SHIM_BIN, "init", "--non-interactive", "--output", str(output), "--preset", "okta",
         "--upstream-issuer", "https://example.okta.com", "--client-id", "c", "--issuer", "https://auth.example.com",
         "--mode", "issue", "--mcp-url", "https://mcp.example.com/mcp"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert run.returncode != 0
    assert "error: upstream.issuer: for okta" in run.stdout, run.stdout
    assert "nothing written" in run.stdout
    assert not output.exists()
    assert leftovers(tmp_path) == []


def test_ctrl_c_mid_way_leaves_no_file(tmp_path):
    output = tmp_path / "dcr-shim.yaml"
    term = Terminal(tmp_path, ["--output", str(output)])
    try:
        term.answer("Identity provider (", "oidc")
        term.answer("Issuer URL of the identity provider", "https://idp.example.com")
        term.wait_for("Client ID of the application")
        term.keys("C-c")
        assert term.exit_status() != 0
    finally:
        term.close()
    assert not output.exists()
    assert list(tmp_path.iterdir()) == []


def test_end_of_input_mid_way_leaves_no_file(tmp_path):
    output = tmp_path / "dcr-shim.yaml"
    term = Terminal(tmp_path, ["--output", str(output)])
    try:
        term.answer("Identity provider (", "entra")
        term.wait_for("Entra tenant")
        term.keys("C-d")
        screen = term.wait_for("input ended: nothing written")
        assert term.exit_status() != 0, screen
    finally:
        term.close()
    assert not output.exists()
