"""Simulated time: random arrivals at a rate, and a clock that may run faster than the wall clock."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


def as_utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("simulated time must carry a zone")
    return t.astimezone(UTC)


@dataclass
class PoissonArrivals:
    """Events at `rate_per_hour` on average, exponential gaps drawn from the RNG; the first gap starts at the
    first time asked about."""

    rate_per_hour: float
    rng: random.Random
    _next: datetime | None = field(default=None, init=False)

    def until(self, now: datetime) -> list[datetime]:
        """The arrival times up to and including `now` not returned before, oldest first."""
        if self.rate_per_hour <= 0:
            return []
        if self._next is None:
            self._next = now + self._gap()
        due = []
        while self._next <= now:
            due.append(self._next)
            self._next += self._gap()
        return due

    def _gap(self) -> timedelta:
        return timedelta(seconds=self.rng.expovariate(self.rate_per_hour / 3600.0))


@dataclass(frozen=True, slots=True)
class SimClock:
    """Simulated time runs `speed` times as fast as the wall clock from a common origin."""

    origin: datetime
    speed: float = 1.0

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be positive")

    def simulated(self, wall: datetime) -> datetime:
        return self.origin + (wall - self.origin) * self.speed

    def wall(self, simulated: datetime) -> datetime:
        return self.origin + (simulated - self.origin) / self.speed
