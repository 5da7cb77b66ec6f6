"""The adapters' administration: `python -m feeds.adapters.devices` (which phone is which patrol unit) and
`python -m feeds.adapters.apikeys` (the keys systems post reports with); bad input is a clear error and
changes nothing."""
from __future__ import annotations

import pytest

from feeds.adapters import apikeys, devices
from feeds.adapters.apikeys import find_key
from feeds.adapters.devices import DeviceDirectory
from feeds.store.engine import make_engine, migrate


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cc.sqlite'}"
    migrate(url)
    monkeypatch.setenv("CC_DATABASE_URL", url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def run(capsys, cli, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_register_list_and_retire_a_phone(db, capsys):
    assert run(capsys, devices, "add", "861001000719969", "--unit", "P0001", "--note", "张伟的手机") == \
        (0, "registered 861001000719969 → unit P0001\n", "")
    assert run(capsys, devices, "list")[1].split()[:3] == ["861001000719969", "P0001", "—"]
    directory = DeviceDirectory(db, refresh_s=0)
    assert directory.unit_of("861001000719969") == "P0001"
    assert run(capsys, devices, "retire", "861001000719969")[:2] == (0, "retired 861001000719969\n")
    assert directory.unit_of("861001000719969") is None and directory.is_retired("861001000719969")
    assert run(capsys, devices, "list")[1] == ""
    assert "retired" in run(capsys, devices, "list", "--all")[1]
    assert run(capsys, devices, "add", "861001000719969", "--unit", "P0002")[0] == 0  # a retired phone, again
    assert directory.unit_of("861001000719969") == "P0002"


@pytest.mark.parametrize(("argv", "error"), [
    (("add", "861001000719969", "--unit", "P 1"), "unit id 'P 1' must be 1–64 letters"),
    (("add", " padded", "--unit", "P0001"), "a device id is 1–100 printable characters"),
    (("add", "x", "--unit", "P0001", "--person", "nobody"), "no person with id 'nobody'"),
    (("retire", "never-added"), "no registered device 'never-added'"),
])
def test_a_bad_device_command_says_why_and_changes_nothing(db, capsys, argv, error):
    code, out, err = run(capsys, devices, *argv)
    assert code == 2 and out == "" and err.startswith(f"error: {error}")
    assert run(capsys, devices, "list", "--all")[1] == ""


def test_issue_list_and_revoke_a_key(db, capsys):
    code, out, _ = run(capsys, apikeys, "issue", "--owner", "12345 热线", "--channel", "hotline", "--per-minute", "120")
    key = out.splitlines()[1]
    assert code == 0 and out.startswith("key 1 for 12345 热线 (hotline, 120/min):") and key.startswith("o311_")
    with db.connect() as conn:
        assert find_key(conn, key).owner == "12345 热线"
        assert find_key(conn, key + "x") is None
    listed = run(capsys, apikeys, "list")[1]
    assert key[:12] in listed and key not in listed  # a key is shown once, then only its first characters
    assert run(capsys, apikeys, "revoke", "1")[:2] == (0, "revoked key 1\n")
    with db.connect() as conn:
        assert find_key(conn, key) is None
    assert run(capsys, apikeys, "revoke", "1")[2] == "error: no key 1 in use\n"
    assert run(capsys, apikeys, "issue", "--owner", " ", "--channel", "citizen")[2].startswith(
        "error: the owner is 1–100 printable characters")
