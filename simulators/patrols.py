"""Grid workers (网格员) walking their grids: one per grid, round the streets that bound it, with GPS noise.

Pure and seeded: every patrol draws from its own RNG, so the same seed and the same sequence of `now`
values give the same fixes.
"""
from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass
from datetime import datetime

from feeds.schemas import SCHEMA_VERSION, PatrolPosition
from simulators.geography import Area, District, LocalFrame
from simulators.timing import as_utc

SOURCE = "simulator"
SPEED_MPS = (1.0, 1.5)
STOP_PROBABILITY = 0.25  # at each street corner of the loop
STOP_S = (30.0, 120.0)
ACCURACY_M = (3.0, 8.0)
MAX_NOISE_ACCURACIES = 2.0  # a fix is never further than twice its reported accuracy from the truth


def patrol_unit_id(sequence: int) -> str:
    """The unit id of the grid worker of the `sequence`-th grid (1-based, in grid code order)."""
    return f"P{sequence:04d}"


def patrol_units(district: District) -> dict[str, str]:
    """Grid code -> the unit id of its grid worker."""
    return {g.code: patrol_unit_id(n) for n, g in enumerate(district.grid_areas(), start=1)}


@dataclass(frozen=True, slots=True)
class Loop:
    """A closed walk in local metres: corners and the distance along the loop at which each is reached."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    along: tuple[float, ...]  # along[0] == 0, along[-1] == length; corner k at along[k]

    @classmethod
    def around(cls, grid: Area, frame: LocalFrame) -> Loop:
        points = [frame.to_xy(lon, lat) for lon, lat in grid.geometry.exterior.coords]
        along = [0.0]
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            along.append(along[-1] + math.hypot(x1 - x0, y1 - y0))
        return cls(tuple(p[0] for p in points), tuple(p[1] for p in points), tuple(along))

    @property
    def length(self) -> float:
        return self.along[-1]

    def next_corner(self, at: float) -> float:
        """The distance along the loop of the first corner strictly ahead of `at`."""
        return self.along[bisect.bisect_right(self.along, at)]

    def point(self, at: float) -> tuple[float, float]:
        at %= self.length
        k = min(bisect.bisect_right(self.along, at) - 1, len(self.along) - 2)
        span = self.along[k + 1] - self.along[k]
        f = (at - self.along[k]) / span if span else 0.0
        return self.xs[k] + f * (self.xs[k + 1] - self.xs[k]), self.ys[k] + f * (self.ys[k + 1] - self.ys[k])


@dataclass
class Patrol:
    """One grid worker: where on the loop, how fast, and how long the current stop still lasts."""

    unit_id: str
    grid_code: str
    loop: Loop
    speed_mps: float
    rng: random.Random
    at_m: float
    pause_s: float = 0.0

    @property
    def moving(self) -> bool:
        return self.pause_s <= 0.0

    def advance(self, dt_s: float) -> None:
        """Walk for dt_s seconds, stopping now and then at a corner."""
        while dt_s > 0.0:
            if self.pause_s > 0.0:
                used = min(self.pause_s, dt_s)
                self.pause_s -= used
                dt_s -= used
                continue
            corner = self.loop.next_corner(self.at_m)
            to_corner = corner - self.at_m
            if self.speed_mps * dt_s < to_corner:
                self.at_m += self.speed_mps * dt_s
                return
            dt_s -= to_corner / self.speed_mps
            self.at_m = corner % self.loop.length
            if self.rng.random() < STOP_PROBABILITY:
                self.pause_s = self.rng.uniform(*STOP_S)

    def true_position(self) -> tuple[float, float]:
        """(x, y) in local metres, without GPS noise."""
        return self.loop.point(self.at_m)

    def fix(self) -> tuple[float, float, float]:
        """A noisy GPS reading in local metres: (x, y, accuracy_m)."""
        accuracy = self.rng.uniform(*ACCURACY_M)
        dx, dy = self.rng.gauss(0.0, accuracy / 2), self.rng.gauss(0.0, accuracy / 2)
        limit = MAX_NOISE_ACCURACIES * accuracy
        if (r := math.hypot(dx, dy)) > limit:
            dx, dy = dx * limit / r, dy * limit / r
        x, y = self.true_position()
        return x + dx, y + dy, accuracy


class PatrolFleet:
    """Every grid's worker, advanced together to the time asked for."""

    def __init__(self, district: District, seed: int) -> None:
        self.frame = district.frame
        self.patrols: list[Patrol] = []
        for grid_code, unit_id in patrol_units(district).items():
            rng = random.Random(f"{seed}:patrol:{unit_id}")
            loop = Loop.around(district.find(grid_code), district.frame)
            self.patrols.append(Patrol(unit_id, grid_code, loop, rng.uniform(*SPEED_MPS), rng,
                                       rng.uniform(0.0, loop.length)))
        self._last: datetime | None = None
        self._counter = 0

    def advance(self, now: datetime) -> None:
        """Move every patrol on to `now` (the first call only sets the clock; time never runs backwards)."""
        now = as_utc(now)
        dt_s = 0.0 if self._last is None else max(0.0, (now - self._last).total_seconds())
        if self._last is None or now > self._last:
            self._last = now
        for patrol in self.patrols:
            patrol.advance(dt_s)

    def positions(self, now: datetime, run_id: str) -> list[PatrolPosition]:
        """Advance to `now` and report one fix per patrol, stamped `now`; ids f"{run_id}-p{n}"."""
        self.advance(now)
        now = as_utc(now)
        out = []
        for patrol in self.patrols:
            x, y, accuracy = patrol.fix()
            lon, lat = self.frame.to_lonlat(x, y)
            self._counter += 1
            out.append(PatrolPosition(
                schema_version=SCHEMA_VERSION, id=f"{run_id}-p{self._counter}", source=SOURCE, ts=now,
                drill_id=None, kind="patrol_position", unit_id=patrol.unit_id, lat=round(lat, 7),
                lon=round(lon, 7), accuracy_m=round(accuracy, 1),
                speed_mps=round(patrol.speed_mps, 2) if patrol.moving else 0.0, fix_at=now,
            ))
        return out
