"""A patrol's trail: its live fixes of the last while, oldest first, read from the patrol_fixes table."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from feeds.clock import ms
from feeds.store.models import PatrolFix, Person


@dataclass(frozen=True)
class Trail:
    unit: str
    person: str | None  # who carries the unit, when the people table knows
    points: tuple[tuple[float, float, int], ...]  # (lat, lon, fix epoch ms), oldest first


def trail(conn: Connection, unit: str, since: datetime, until: datetime) -> Trail:
    """The unit's live fixes in [since, until]: a range of the (fix_at, unit_id) index, filtered on unit."""
    fixes = PatrolFix.__table__
    rows = conn.execute(select(fixes.c.lat, fixes.c.lon, fixes.c.fix_at)
                        .where(fixes.c.fix_at >= since, fixes.c.fix_at <= until, fixes.c.unit_id == unit,
                               fixes.c.drill_id.is_(None))
                        .order_by(fixes.c.fix_at)).all()
    people = Person.__table__
    person = conn.execute(select(people.c.name).where(people.c.unit_id == unit).limit(1)).scalar()
    return Trail(unit, person, tuple((r.lat, r.lon, ms(r.fix_at)) for r in rows))
