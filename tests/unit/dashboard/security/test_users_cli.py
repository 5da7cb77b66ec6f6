"""`python -m dashboard.security.users`: add, list, disable, enable, set-password; bad input is a clear error."""
from __future__ import annotations

import io

import pytest

from dashboard.security import users
from feeds.store.engine import make_engine, migrate


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cc.sqlite'}"
    migrate(url)
    monkeypatch.setenv("CC_DATABASE_URL", url)
    monkeypatch.setenv("CC_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def run(monkeypatch, capsys, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = users.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_disable_enable_and_set_password(db, monkeypatch, capsys):
    assert run(monkeypatch, capsys, "add", "wang", "--role", "dispatcher", "--display-name", "王芳",
               stdin="first password\n")[:2] == (0, "added wang (dispatcher)\n")
    with db.connect() as conn:
        account = users.find_user(conn, "wang")
    assert account.display_name == "王芳" and account.password_is("first password")
    assert not account.password_hash.count("first password")  # only a salted hash is stored
    code, out, _ = run(monkeypatch, capsys, "list")
    assert code == 0 and out.split()[:3] == ["wang", "dispatcher", "active"]
    assert run(monkeypatch, capsys, "disable", "wang")[0] == 0
    assert run(monkeypatch, capsys, "list")[1].split()[2] == "disabled"
    assert run(monkeypatch, capsys, "enable", "wang")[0] == 0
    assert run(monkeypatch, capsys, "set-password", "wang", stdin="second password\n")[0] == 0
    with db.connect() as conn:
        account = users.find_user(conn, "wang")
    assert not account.disabled and account.password_is("second password")
    assert not account.password_is("first password")


@pytest.mark.parametrize("argv, stdin, error", [
    (("add", "Wang Fang", "--role", "dispatcher"), "long enough pw\n", "not a user name"),
    (("add", "wang", "--role", "kiosk"), "long enough pw\n", "not a role: 'kiosk'"),
    (("add", "wang", "--role", "boss"), "long enough pw\n", "not a role: 'boss'"),
    (("add", "wang", "--role", "leader"), "short\n", "at least 8 characters"),
    (("disable", "nobody"), "", "no user 'nobody'"),
    (("set-password", "nobody"), "long enough pw\n", "no user 'nobody'"),
])
def test_bad_input_is_a_clear_error(db, monkeypatch, capsys, argv, stdin, error):
    code, out, err = run(monkeypatch, capsys, *argv, stdin=stdin)
    assert code == 2 and out == "" and err.startswith("error: ") and error in err


def test_a_user_name_is_added_once(db, monkeypatch, capsys):
    assert run(monkeypatch, capsys, "add", "li", "--role", "leader", stdin="long enough pw\n")[0] == 0
    code, _, err = run(monkeypatch, capsys, "add", "li", "--role", "admin", stdin="long enough pw\n")
    assert code == 2 and "exists already" in err
