"""Which phone is which patrol unit: the registry the OsmAnd adapter looks a device up in.

    python -m feeds.adapters.devices add DEVICE_ID --unit P0001 [--person ID] [--note TEXT]
    python -m feeds.adapters.devices retire DEVICE_ID
    python -m feeds.adapters.devices list [--all]

A device is the id its tracker sends (Traccar Client's "device identifier", OsmAnd's `id`, Traccar's
`uniqueId`). Retiring keeps the row, so a lost phone that reports again is refused, and said so.
"""
from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from feeds.clock import utcnow
from feeds.store.models import Person, TrackerDevice

UNIT_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")  # a unit id as feeds/schemas.py takes it
REFRESH_S = 5.0  # how soon a device added or retired is seen by a running adapter


@dataclass(frozen=True)
class Device:
    device_id: str
    unit_id: str
    person_id: str | None
    note: str
    added_at: datetime
    retired_at: datetime | None


class DeviceError(ValueError):
    """A registry change that cannot be made, and why."""


def add_device(conn: Connection, device_id: str, unit_id: str, now: datetime, *, person_id: str | None = None,
               note: str = "") -> Device:
    """Register a device for a unit (a retired one may be registered again, for the same or another unit)."""
    if not device_id or len(device_id) > 100 or not device_id.isprintable() or device_id.strip() != device_id:
        raise DeviceError("a device id is 1–100 printable characters without spaces around it")
    if not UNIT_ID.match(unit_id):
        raise DeviceError(f"unit id {unit_id!r} must be 1–64 letters, digits or _ . : -")
    if person_id is not None and conn.execute(select(Person.id).where(Person.id == person_id)).first() is None:
        raise DeviceError(f"no person with id {person_id!r}")
    found = conn.execute(select(TrackerDevice.retired_at).where(TrackerDevice.device_id == device_id)).first()
    values = {"unit_id": unit_id, "person_id": person_id, "note": note[:200], "added_at": now, "retired_at": None}
    if found is None:
        conn.execute(insert(TrackerDevice).values(device_id=device_id, **values))
    elif found[0] is not None:
        conn.execute(update(TrackerDevice).where(TrackerDevice.device_id == device_id).values(**values))
    else:
        raise DeviceError(f"device {device_id!r} is already registered; retire it first")
    return Device(device_id, unit_id, person_id, note[:200], now, None)


def retire_device(conn: Connection, device_id: str, now: datetime) -> None:
    done = conn.execute(update(TrackerDevice).where(TrackerDevice.device_id == device_id,
                                                    TrackerDevice.retired_at.is_(None)).values(retired_at=now))
    if done.rowcount != 1:
        raise DeviceError(f"no registered device {device_id!r}")


def list_devices(conn: Connection, *, include_retired: bool = False) -> list[Device]:
    query = select(TrackerDevice.device_id, TrackerDevice.unit_id, TrackerDevice.person_id, TrackerDevice.note,
                   TrackerDevice.added_at, TrackerDevice.retired_at).order_by(TrackerDevice.device_id)
    if not include_retired:
        query = query.where(TrackerDevice.retired_at.is_(None))
    return [Device(*row) for row in conn.execute(query)]


class DeviceDirectory:
    """The registered devices as a running adapter sees them: read whole (a district has a few thousand) and
    read again at most every `refresh_s` seconds, so a request costs no query."""

    def __init__(self, engine: Engine, refresh_s: float = REFRESH_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine, self.refresh_s, self.clock = engine, refresh_s, clock
        self._units: dict[str, str] = {}
        self._retired: set[str] = set()
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def unit_of(self, device_id: str) -> str | None:
        """The unit a device reports for; None when it is not registered or retired."""
        self._fresh()
        return self._units.get(device_id)

    def is_retired(self, device_id: str) -> bool:
        self._fresh()
        return device_id in self._retired

    def _fresh(self) -> None:
        with self._lock:
            if self._read_at is not None and self.clock() - self._read_at < self.refresh_s:
                return
            with self.engine.connect() as conn:
                rows = conn.execute(select(TrackerDevice.device_id, TrackerDevice.unit_id,
                                           TrackerDevice.retired_at)).all()
            self._units = {d: u for d, u, retired in rows if retired is None}
            self._retired = {d for d, _, retired in rows if retired is not None}
            self._read_at = self.clock()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m feeds.adapters.devices",
                                     description="register the phones that report patrol positions")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="register a device for a patrol unit")
    add.add_argument("device_id")
    add.add_argument("--unit", required=True, help="the patrol unit id its fixes are for, e.g. P0001")
    add.add_argument("--person", help="the id of the person who carries it (people.id)")
    add.add_argument("--note", default="")
    commands.add_parser("retire", help="refuse a device from now on (lost, replaced)").add_argument("device_id")
    listing = commands.add_parser("list", help="the registered devices")
    listing.add_argument("--all", action="store_true", help="with the retired ones")
    args = parser.parse_args(argv)

    from feeds.settings import Settings
    from feeds.store.engine import administer

    def act(conn: Connection) -> None:
        if args.command == "add":
            device = add_device(conn, args.device_id, args.unit, utcnow(), person_id=args.person, note=args.note)
            print(f"registered {device.device_id} → unit {device.unit_id}")
        elif args.command == "retire":
            retire_device(conn, args.device_id, utcnow())
            print(f"retired {args.device_id}")
        else:
            for d in list_devices(conn, include_retired=args.all):
                state = f"retired {d.retired_at:%Y-%m-%d}" if d.retired_at else "active"
                print(f"{d.device_id:<24} {d.unit_id:<12} {d.person_id or '—':<12} {state:<18} {d.note}")

    return administer(Settings().db_url, act, DeviceError)

if __name__ == "__main__":
    sys.exit(main())
