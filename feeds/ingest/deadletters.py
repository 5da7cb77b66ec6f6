"""Dead letters: what the ingest refused, kept with its reason, for an operator to read, fix and re-drive.

    python -m feeds.ingest.deadletters list [--all] [--limit N]
    python -m feeds.ingest.deadletters show ID
    python -m feeds.ingest.deadletters redrive ID [--payload JSON | --payload-file FILE]

Re-driving publishes the (fixed) payload on its channel again; it goes through the whole pipeline, so a
payload that is still wrong comes back as a new dead letter with its reason.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from feeds.bus.channels import Bus
from feeds.bus.connect import redis_client
from feeds.schemas import CHANNEL_PREFIX
from feeds.store.models import DEAD_LETTERS


@dataclass(frozen=True)
class DeadLetterView:
    id: int
    channel: str
    stage: str
    reason: str
    payload: str
    received_at: datetime
    redriven_at: datetime | None


def list_dead_letters(conn: Connection, *, limit: int = 100, include_redriven: bool = False) -> list[DeadLetterView]:
    """Newest first; by default only those not yet re-driven."""
    query = select(DEAD_LETTERS).order_by(DEAD_LETTERS.c.id.desc()).limit(limit)
    if not include_redriven:
        query = query.where(DEAD_LETTERS.c.redriven_at.is_(None))
    return [DeadLetterView(**row._mapping) for row in conn.execute(query)]


def get_dead_letter(conn: Connection, letter_id: int) -> DeadLetterView | None:
    row = conn.execute(select(DEAD_LETTERS).where(DEAD_LETTERS.c.id == letter_id)).one_or_none()
    return DeadLetterView(**row._mapping) if row else None


def redrive(conn: Connection, bus: Bus, letter_id: int, now: datetime, payload: str | None = None) -> DeadLetterView:
    """Publish the payload (or a fixed one) on the letter's channel again and mark the letter re-driven."""
    letter = get_dead_letter(conn, letter_id)
    if letter is None:
        raise LookupError(f"no dead letter {letter_id}")
    if letter.redriven_at is not None:
        raise ValueError(f"dead letter {letter_id} was already re-driven at {letter.redriven_at.isoformat()}")
    if not letter.channel.startswith(CHANNEL_PREFIX):
        raise ValueError(f"dead letter {letter_id} was refused by the {letter.channel} adapter before it reached the "
                         f"bus: fix it at its source (the sending device, or its registration) and let it send again")
    bus.publish(letter.channel, (payload if payload is not None else letter.payload).encode())
    conn.execute(update(DEAD_LETTERS).where(DEAD_LETTERS.c.id == letter_id).values(redriven_at=now))
    return get_dead_letter(conn, letter_id)  # type: ignore[return-value]


def _print(letter: DeadLetterView, full: bool = False) -> None:
    state = f"re-driven {letter.redriven_at:%Y-%m-%d %H:%M:%S}" if letter.redriven_at else "waiting"
    print(f"#{letter.id}  {letter.received_at:%Y-%m-%d %H:%M:%S}Z  {letter.channel}  [{letter.stage}]  {state}")
    print(f"    reason:  {letter.reason}")
    payload = letter.payload if full or len(letter.payload) <= 200 else letter.payload[:200] + "…"
    print(f"    payload: {payload}")


def main(argv: list[str] | None = None) -> int:

    from feeds.bus.channels import producer_bus
    from feeds.clock import utcnow
    from feeds.settings import Settings
    from feeds.store.engine import make_engine

    parser = argparse.ArgumentParser(prog="python -m feeds.ingest.deadletters", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="dead letters, newest first")
    listing.add_argument("--all", action="store_true", help="include those already re-driven")
    listing.add_argument("--limit", type=int, default=50)
    commands.add_parser("show", help="one dead letter with its whole payload").add_argument("id", type=int)
    again = commands.add_parser("redrive", help="publish it again, as it was or fixed")
    again.add_argument("id", type=int)
    fixed = again.add_mutually_exclusive_group()
    fixed.add_argument("--payload", help="the fixed payload (JSON)")
    fixed.add_argument("--payload-file", type=Path, help="a file holding the fixed payload")
    args = parser.parse_args(argv)

    settings = Settings()
    engine = make_engine(settings.db_url)
    with engine.begin() as conn:
        if args.command == "list":
            letters = list_dead_letters(conn, limit=args.limit, include_redriven=args.all)
            for letter in letters:
                _print(letter)
            print(f"{len(letters)} dead letter(s)" + ("" if args.all else " waiting"))
        elif args.command == "show":
            shown = get_dead_letter(conn, args.id)
            if shown is None:
                print(f"no dead letter {args.id}", file=sys.stderr)
                return 1
            _print(shown, full=True)
        else:
            if not settings.redis_url:
                print("CC_REDIS_URL (or REDIS_URL) must point at the Redis server of the ingest", file=sys.stderr)
                return 2
            payload = args.payload_file.read_text() if args.payload_file else args.payload
            bus = producer_bus(redis_client(settings.redis_url), settings.bus, settings.stream_maxlen,
                               settings.stream_replicas)
            try:
                letter = redrive(conn, bus, args.id, utcnow(), payload)
            except (LookupError, ValueError) as err:
                print(err, file=sys.stderr)
                return 1
            print(f"re-driven on {letter.channel}; watch for a new dead letter if it is still refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
