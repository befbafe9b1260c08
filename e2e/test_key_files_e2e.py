"""Key files under data_dir, through the real binary: without data_dir the
keys go to a state directory (here systemd's $STATE_DIRECTORY), never the
working directory, with mode 0600, and serve says where; a key file open to
others, or one that holds no key, stops the start and is left as it is
(a new key would end every token made with the old one)."""
from __future__ import annotations

import os
import stat

import pytest

from .kit.fake_idp import FakeIdP
from .kit.harness import FlowError, Shim
from .kit.idp import free_port


@pytest.fixture(scope="module")
def fake():
    idp = FakeIdP()
    yield idp
    idp.stop()


class StateDirectoryShim(Shim):
    """A shim whose configuration does not set data_dir."""

    def config(self) -> dict:
        config = super().config()
        del config["data_dir"]
        return config


def make_shim(fake, workdir, cls=Shim) -> Shim:
    port = free_port()
    return cls(workdir, port, fake.as_idp(f"http://127.0.0.1:{port}/callback"), "http://127.0.0.1:9/mcp",
               extra={"listen": {"host": "127.0.0.1", "port": port}})


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_without_data_dir_keys_go_to_the_state_directory_0600_and_the_log_says_where(fake, tmp_path, monkeypatch):
    state = tmp_path / "state"
    monkeypatch.setenv("STATE_DIRECTORY", str(state))
    shim = make_shim(fake, tmp_path / "work", StateDirectoryShim)
    shim.start()
    try:
        keys = [state / "encryption.key", state / "cookie.key"]
        assert all(key.exists() and mode(key) == 0o600 for key in keys), [(k, k.exists()) for k in keys]
        assert not any((shim.workdir / key.name).exists() for key in keys)
        log = shim.log_text()
        assert "keys kept in files" in log and str(state / "cookie.key") in log and "key generated" in log
        for key in keys:
            assert key.read_text().strip() not in log  # where, never what
    finally:
        shim.stop()
    # The next start reads the same keys and generates nothing.
    before = {key.name: key.read_bytes() for key in keys}
    shim.start()
    shim.stop()
    assert {key.name: key.read_bytes() for key in keys} == before
    assert shim.log_text().count("key generated") == 2


def test_a_key_file_open_to_others_or_broken_stops_the_start_and_is_left_as_it_is(fake, tmp_path):
    shim = make_shim(fake, tmp_path / "work")
    shim.start()
    shim.stop()
    data = shim.workdir / "shim-data"
    cookie, encryption = data / "cookie.key", data / "encryption.key"
    original = cookie.read_bytes()

    cookie.chmod(0o644)
    with pytest.raises(FlowError):
        shim.start()
    assert f"chmod 600 {cookie}" in shim.log_text()
    assert cookie.read_bytes() == original and mode(cookie) == 0o644

    cookie.chmod(0o600)
    encryption.write_bytes(b"\xff\xfe not a key")
    with pytest.raises(FlowError):
        shim.start()
    assert f"key file {encryption} does not hold a valid key" in shim.log_text()
    assert encryption.read_bytes() == b"\xff\xfe not a key" and cookie.read_bytes() == original
