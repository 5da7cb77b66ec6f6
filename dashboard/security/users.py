"""People who sign in, and the command that manages them.

    python -m dashboard.security.users add NAME --role dispatcher [--display-name 张三]   (password: prompt or stdin)
    python -m dashboard.security.users list
    python -m dashboard.security.users disable NAME      /  enable NAME
    python -m dashboard.security.users set-password NAME
"""
from __future__ import annotations

import argparse
import getpass
import hashlib
import re
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.security.access import USER_ROLES, Role
from feeds.store.models import UserRow, UserSessionRow

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
MIN_PASSWORD = 8


class UserError(ValueError):
    """Bad input for an account: the message says what is wrong."""


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: Role
    password_hash: str
    created_at: datetime
    disabled: bool

    def password_is(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


def _account(row: Any) -> Account:
    return Account(row.username, row.display_name, Role(row.role), row.password_hash, row.created_at,
                   row.disabled)


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        raise UserError(f"not a user name: {username[:80]!r} (2–64 of a-z 0-9 . _ -, starting with a letter "
                        "or digit)")
    return username


def check_role(role: str) -> Role:
    if role not in {r.value for r in USER_ROLES}:
        raise UserError(f"not a role: {role[:40]!r} (one of {', '.join(USER_ROLES)})")
    return Role(role)


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def hash_password(password: str, method: str) -> str:
    return generate_password_hash(check_password(password), method=method)


def find_user(conn: Connection, username: str) -> Account | None:
    row = conn.execute(select(UserRow.__table__).where(UserRow.username == username)).first()
    return _account(row) if row is not None else None


def _hashed(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(conn: Connection, username: str, now: datetime, forget_after: timedelta) -> str:
    """A new session of a person who signed in: its id (for the cookie). Sessions that started longer ago
    than `forget_after` (ended by then in any case) are forgotten."""
    session_id = secrets.token_urlsafe(24)
    conn.execute(delete(UserSessionRow).where(UserSessionRow.started_at < now - forget_after))
    conn.execute(UserSessionRow.__table__.insert().values(id_hash=_hashed(session_id), username=username,
                                                          started_at=now, ended_at=None))
    return session_id


def session_open(conn: Connection, session_id: str, username: str) -> bool:
    """Whether this is a session of this person that nobody ended."""
    row = conn.execute(select(UserSessionRow.username, UserSessionRow.ended_at)
                       .where(UserSessionRow.id_hash == _hashed(session_id))).first()
    return row is not None and row.username == username and row.ended_at is None


def end_session(conn: Connection, session_id: str, now: datetime) -> None:
    conn.execute(update(UserSessionRow).where(UserSessionRow.id_hash == _hashed(session_id),
                                              UserSessionRow.ended_at.is_(None)).values(ended_at=now))


def list_users(conn: Connection) -> list[Account]:
    return [_account(r) for r in conn.execute(select(UserRow.__table__).order_by(UserRow.username))]


def add_user(conn: Connection, username: str, role: str, password: str, *, method: str,
             display_name: str | None = None, now: datetime | None = None) -> Account:
    check_username(username)
    check_role(role)
    if find_user(conn, username) is not None:
        raise UserError(f"user {username!r} exists already")
    account = Account(username, (display_name or "").strip()[:100] or username, Role(role),
                      hash_password(password, method), now or datetime.now(UTC), False)
    conn.execute(UserRow.__table__.insert().values(
        username=account.username, display_name=account.display_name, role=account.role.value,
        password_hash=account.password_hash, created_at=account.created_at, disabled=False))
    return account


def _update(conn: Connection, username: str, **values: object) -> None:
    if conn.execute(update(UserRow).where(UserRow.username == username).values(**values)).rowcount != 1:
        raise UserError(f"no user {username[:80]!r}")


def set_disabled(conn: Connection, username: str, disabled: bool = True) -> None:
    """A disabled user cannot sign in, and a session already open ends at its next request."""
    _update(conn, username, disabled=disabled)


def set_password(conn: Connection, username: str, password: str, *, method: str) -> None:
    """A new password also ends the sessions signed in with the old one."""
    _update(conn, username, password_hash=hash_password(password, method))


def _read_password(stdin: Callable[[], str] | None = None) -> str:
    if stdin is None and sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise UserError("the two passwords differ")
        return first
    return (stdin or sys.stdin.readline)().rstrip("\r\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.security.users",
                                     description="manage the people who sign in to the screens")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a user (password from a prompt, or one line on stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, help=f"one of {', '.join(USER_ROLES)}")
    add.add_argument("--display-name", help="the name shown on screens and in the audit (default: NAME)")
    commands.add_parser("list", help="list users with role and state")
    for name, text in (("disable", "stop a user signing in (open sessions end)"),
                       ("enable", "let a disabled user sign in again"),
                       ("set-password", "set a new password (open sessions end)")):
        commands.add_parser(name, help=text).add_argument("name")
    args = parser.parse_args(argv)

    from feeds.settings import Settings
    from feeds.store.engine import administer

    settings = Settings()

    def act(conn: Connection) -> None:
        if args.command == "add":
            check_username(args.name)
            check_role(args.role)
            account = add_user(conn, args.name, args.role, _read_password(),
                               method=settings.password_hash_method, display_name=args.display_name)
            print(f"added {account.username} ({account.role})")
        elif args.command == "list":
            for a in list_users(conn):
                state = "disabled" if a.disabled else "active"
                print(f"{a.username:<20} {a.role:<11} {state:<9} {a.created_at:%Y-%m-%d} {a.display_name}")
        elif args.command in ("disable", "enable"):
            set_disabled(conn, args.name, args.command == "disable")
            print(f"{args.command}d {args.name}")
        else:
            set_password(conn, args.name, _read_password(), method=settings.password_hash_method)
            print(f"new password set for {args.name}")

    return administer(settings.db_url, act, UserError)

if __name__ == "__main__":
    sys.exit(main())
