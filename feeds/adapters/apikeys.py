"""The keys other systems post reports with (Open311's `api_key`): issued and revoked by an administrator.

    python -m feeds.adapters.apikeys issue --owner "12345 热线" --channel hotline [--per-minute 120]
    python -m feeds.adapters.apikeys list [--all]
    python -m feeds.adapters.apikeys revoke ID

A key is shown once, when issued; only its SHA-256 is kept (a key is 32 random bytes, so a plain hash is as
good as a slow one). Its channel is how its reports reach the centre: `citizen` (an app, a website) or
`hotline` (the 12345 hotline's system).
"""
from __future__ import annotations

import argparse
import hashlib
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from feeds.clock import utcnow
from feeds.schemas import ReportChannel
from feeds.store.models import ApiKey

CHANNELS = (ReportChannel.CITIZEN.value, ReportChannel.HOTLINE.value)
PER_MINUTE = 60


@dataclass(frozen=True)
class Key:
    id: int
    prefix: str
    owner: str
    channel: str
    per_minute: int
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyError(ValueError):
    """A key that cannot be issued or revoked, and why."""


def hashed(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def issue_key(conn: Connection, owner: str, channel: str, now: datetime,
              per_minute: int = PER_MINUTE) -> tuple[str, Key]:
    """A new key (returned once, in full) and what is kept of it."""
    owner = owner.strip()
    if not owner or len(owner) > 100 or not owner.isprintable():
        raise ApiKeyError("the owner is 1–100 printable characters: who the key is for")
    if channel not in CHANNELS:
        raise ApiKeyError(f"the channel is one of {', '.join(CHANNELS)}, not {channel!r}")
    if not 1 <= per_minute <= 100_000:
        raise ApiKeyError(f"the rate limit is 1–100,000 reports a minute, not {per_minute}")
    key = "o311_" + secrets.token_urlsafe(32)
    row = conn.execute(insert(ApiKey).values(key_hash=hashed(key), prefix=key[:12], owner=owner, channel=channel,
                                             per_minute=per_minute, created_at=now).returning(ApiKey.id))
    return key, Key(row.scalar_one(), key[:12], owner, channel, per_minute, now, None)


def revoke_key(conn: Connection, key_id: int, now: datetime) -> None:
    done = conn.execute(update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
                        .values(revoked_at=now))
    if done.rowcount != 1:
        raise ApiKeyError(f"no key {key_id} in use")


def find_key(conn: Connection, key: str) -> Key | None:
    """The key in use that `key` is; None for an unknown or revoked one."""
    row = conn.execute(select(ApiKey.id, ApiKey.prefix, ApiKey.owner, ApiKey.channel, ApiKey.per_minute,
                              ApiKey.created_at, ApiKey.revoked_at)
                       .where(ApiKey.key_hash == hashed(key), ApiKey.revoked_at.is_(None))).first()
    return Key(*row) if row else None


def list_keys(conn: Connection, *, include_revoked: bool = False) -> list[Key]:
    query = select(ApiKey.id, ApiKey.prefix, ApiKey.owner, ApiKey.channel, ApiKey.per_minute, ApiKey.created_at,
                   ApiKey.revoked_at).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return [Key(*row) for row in conn.execute(query)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m feeds.adapters.apikeys",
                                     description="issue and revoke the keys systems post reports with (Open311)")
    commands = parser.add_subparsers(dest="command", required=True)
    issue = commands.add_parser("issue", help="issue a key (printed once)")
    issue.add_argument("--owner", required=True, help="who the key is for, e.g. '12345 热线'")
    issue.add_argument("--channel", required=True, choices=CHANNELS)
    issue.add_argument("--per-minute", type=int, default=PER_MINUTE, help=f"reports a minute (default {PER_MINUTE})")
    commands.add_parser("revoke", help="stop a key working").add_argument("id", type=int)
    listing = commands.add_parser("list", help="the keys in use")
    listing.add_argument("--all", action="store_true", help="with the revoked ones")
    args = parser.parse_args(argv)

    from feeds.settings import Settings
    from feeds.store.engine import administer

    def act(conn: Connection) -> None:
        if args.command == "issue":
            key, kept = issue_key(conn, args.owner, args.channel, utcnow(), args.per_minute)
            print(f"key {kept.id} for {kept.owner} ({kept.channel}, {kept.per_minute}/min):\n{key}\n"
                  "it is shown only now: give it to its owner")
        elif args.command == "revoke":
            revoke_key(conn, args.id, utcnow())
            print(f"revoked key {args.id}")
        else:
            for k in list_keys(conn, include_revoked=args.all):
                state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "in use"
                print(f"{k.id:>4} {k.prefix}…  {k.channel:<8} {k.per_minute:>6}/min  {state:<18} {k.owner}")

    return administer(Settings().db_url, act, ApiKeyError)

if __name__ == "__main__":
    sys.exit(main())
