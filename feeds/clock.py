"""Time as the centre keeps it: aware UTC datetimes inside, milliseconds since the epoch on the wire and on
the screens (the views' stamps, the drill clock)."""
from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def ms(t: datetime) -> int:
    """A moment as the screens carry it: whole milliseconds since the epoch."""
    return int(t.timestamp() * 1000)


def from_ms(stamp: int) -> datetime:
    """The UTC moment of a millisecond stamp (the inverse of `ms`)."""
    return datetime.fromtimestamp(stamp / 1000, UTC)
