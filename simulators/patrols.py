"""Grid workers (网格员) walking their grids on shift: a round along the streets that bound the grid and the
lanes through it, with stops, GPS noise, and now and then a phone that goes offline.

Pure and seeded: every patrol draws from its own RNG (and each day's offline spell from one seeded by the
day), so the same seed and the same sequence of `now` values give the same fixes.
"""
from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shapely.geometry import LineString, Polygon

from feeds.calendar import DEFAULT_TIMEZONE
from feeds.schemas import SCHEMA_VERSION, PatrolPosition
from simulators.geography import Area, District, LocalFrame
from simulators.timing import as_utc

SOURCE = "simulator"
ZONE = ZoneInfo(DEFAULT_TIMEZONE)  # the simulated district's shifts are in local time
SPEED_MPS = (1.0, 1.5)
STOP_PROBABILITY = 0.25  # at each corner of the round: a word with a shopkeeper, a look at a building
STOP_S = (30.0, 120.0)
VISIT_PROBABILITY = 0.06  # at a corner: a household visit (入户走访)
VISIT_S = (300.0, 900.0)
ACCURACY_M = (3.0, 8.0)
MAX_NOISE_ACCURACIES = 2.0  # a fix is never further than twice its reported accuracy from the truth
# on duty (local time): the working day on weekdays, a duty round on weekends ("一日双巡" on workdays)
WEEKDAY_SHIFTS = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))
WEEKEND_SHIFTS = ((time(9, 0), time(11, 30)),)
# one grid worker per community keeps the night watch (夜间巡防) as well, every night, from 19:00 until the
# morning round takes over (so a screen always shows somebody on patrol at dawn)
NIGHT_STARTS = time(19, 0)
OFFLINE_PROBABILITY = 0.03  # per patrol and day: the phone is off or out of signal for a while
OFFLINE_MIN = (30.0, 120.0)


def patrol_unit_id(sequence: int) -> str:
    """The unit id of the grid worker of the `sequence`-th grid (1-based, in grid code order)."""
    return f"P{sequence:04d}"


def patrol_units(district: District) -> dict[str, str]:
    """Grid code -> the unit id of its grid worker."""
    return {g.code: patrol_unit_id(n) for n, g in enumerate(district.grid_areas(), start=1)}


def shifts_on(day: date, night_watch: bool = False,
              around_the_clock: bool = False) -> tuple[tuple[datetime, datetime], ...]:
    """The on-duty periods of a local calendar day, as aware datetimes, in order (`around_the_clock`: the
    whole day, as a demo shown in the evening or at the weekend wants its grid workers walking)."""
    periods = WEEKDAY_SHIFTS if day.weekday() < 5 else WEEKEND_SHIFTS
    if around_the_clock:
        periods = ((time(0, 0), time(23, 59, 59)),)
    elif night_watch:
        periods = ((time(0, 0), periods[0][0]), *periods, (NIGHT_STARTS, time(23, 59, 59)))
    return tuple((datetime.combine(day, s, ZONE), datetime.combine(day, e, ZONE)) for s, e in periods)


def on_duty(at: datetime, night_watch: bool = False, around_the_clock: bool = False) -> bool:
    return any(start <= at < end
               for start, end in shifts_on(at.astimezone(ZONE).date(), night_watch, around_the_clock))


def _lane(grid: Polygon, horizontal: bool) -> list[tuple[float, float]]:
    """The lane through the middle of a (local-metres) grid, from one side to the other."""
    x0, y0, x1, y1 = grid.bounds
    cx, cy = grid.centroid.x, grid.centroid.y
    across = LineString([(x0 - 1, cy), (x1 + 1, cy)] if horizontal else [(cx, y0 - 1), (cx, y1 + 1)])
    cut = grid.intersection(across)
    coords = list(cut.coords) if isinstance(cut, LineString) and not cut.is_empty else []
    return [coords[0], coords[-1]] if len(coords) >= 2 else []


@dataclass(frozen=True, slots=True)
class Route:
    """A closed walk in local metres: corners and the distance along the walk at which each is reached.
    Round the streets that bound the grid, then through it along its middle lanes, so that every ≈100 m
    cell of the grid is walked through on each round."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    along: tuple[float, ...]  # along[0] == 0, along[-1] == length; corner k at along[k]

    @classmethod
    def through(cls, grid: Area, frame: LocalFrame) -> Route:
        local = frame.project(grid.geometry)
        assert isinstance(local, Polygon)
        ring = list(local.exterior.coords)
        points = [*ring, *_lane(local, True), *_lane(local, False), ring[0]]
        return cls.of(points)

    @classmethod
    def of(cls, points: list[tuple[float, float]]) -> Route:
        along = [0.0]
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            along.append(along[-1] + math.hypot(x1 - x0, y1 - y0))
        return cls(tuple(p[0] for p in points), tuple(p[1] for p in points), tuple(along))

    @property
    def length(self) -> float:
        return self.along[-1]

    def next_corner(self, at: float) -> float:
        """The distance along the walk of the first corner strictly ahead of `at`."""
        return self.along[bisect.bisect_right(self.along, at)]

    def point(self, at: float) -> tuple[float, float]:
        at %= self.length
        k = min(bisect.bisect_right(self.along, at) - 1, len(self.along) - 2)
        span = self.along[k + 1] - self.along[k]
        f = (at - self.along[k]) / span if span else 0.0
        return self.xs[k] + f * (self.xs[k + 1] - self.xs[k]), self.ys[k] + f * (self.ys[k + 1] - self.ys[k])


@dataclass
class Patrol:
    """One grid worker: where on the route, how fast, how long the current stop still lasts."""

    unit_id: str
    grid_code: str
    route: Route
    speed_mps: float
    rng: random.Random
    at_m: float
    seed: int
    night_watch: bool = False
    pause_s: float = 0.0
    _offline: dict[date, tuple[datetime, datetime] | None] = field(default_factory=dict, repr=False)

    @property
    def moving(self) -> bool:
        return self.pause_s <= 0.0

    def walk(self, dt_s: float) -> list[tuple[float, float]]:
        """Walk for dt_s seconds, stopping now and then at a corner. Returns the path: where it started,
        every corner passed, where it ended (local metres)."""
        path = [self.true_position()]
        while dt_s > 0.0:
            if self.pause_s > 0.0:
                used = min(self.pause_s, dt_s)
                self.pause_s -= used
                dt_s -= used
                continue
            corner = self.route.next_corner(self.at_m)
            to_corner = corner - self.at_m
            if self.speed_mps * dt_s < to_corner:
                self.at_m += self.speed_mps * dt_s
                break
            dt_s -= to_corner / self.speed_mps
            self.at_m = corner % self.route.length
            path.append(self.true_position())
            draw = self.rng.random()
            if draw < VISIT_PROBABILITY:
                self.pause_s = self.rng.uniform(*VISIT_S)
            elif draw < VISIT_PROBABILITY + STOP_PROBABILITY:
                self.pause_s = self.rng.uniform(*STOP_S)
        path.append(self.true_position())
        return path

    def true_position(self) -> tuple[float, float]:
        """(x, y) in local metres, without GPS noise."""
        return self.route.point(self.at_m)

    def offline_spell(self, day: date) -> tuple[datetime, datetime] | None:
        """When this patrol's phone is off on a local day, if it is (seeded by the day, not by history)."""
        if day not in self._offline:
            rng = random.Random(f"{self.seed}:offline:{self.unit_id}:{day.isoformat()}")
            spell = None
            shifts = shifts_on(day)
            if rng.random() < OFFLINE_PROBABILITY:
                start, end = rng.choice(shifts)
                begin = start + (end - start) * rng.random()
                spell = (begin, begin + timedelta(minutes=rng.uniform(*OFFLINE_MIN)))
            self._offline[day] = spell
        return self._offline[day]

    def reporting(self, at: datetime, duty: bool | None = None, around_the_clock: bool = False) -> bool:
        """On duty (`duty`: on a day shift, or at any hour `around_the_clock`, when the caller knows it
        already), with a phone that sends fixes."""
        if duty is None or (self.night_watch and not around_the_clock):
            duty = on_duty(at, self.night_watch, around_the_clock)
        if not duty:
            return False
        spell = self.offline_spell(at.astimezone(ZONE).date())
        return spell is None or not spell[0] <= at < spell[1]

    def fix(self) -> tuple[float, float, float]:
        """A noisy GPS reading in local metres: (x, y, accuracy_m)."""
        accuracy = self.rng.uniform(*ACCURACY_M)
        dx, dy = self.rng.gauss(0.0, accuracy / 2), self.rng.gauss(0.0, accuracy / 2)
        limit = MAX_NOISE_ACCURACIES * accuracy
        if (r := math.hypot(dx, dy)) > limit:
            dx, dy = dx * limit / r, dy * limit / r
        x, y = self.true_position()
        return x + dx, y + dy, accuracy


def _duty_seconds(start: datetime, end: datetime, night_watch: bool, around_the_clock: bool = False) -> float:
    """Seconds on duty in [start, end)."""
    total = 0.0
    day = start.astimezone(ZONE).date()
    while datetime.combine(day, time(0), ZONE) < end:
        for s, e in shifts_on(day, night_watch, around_the_clock):
            total += max(0.0, (min(e, end) - max(s, start)).total_seconds())
        day += timedelta(days=1)
    return total


class PatrolFleet:
    """Every grid's worker, advanced together to the time asked for; they walk only while on duty (on their
    shifts, or at any hour `around_the_clock`)."""

    def __init__(self, district: District, seed: int, around_the_clock: bool = False) -> None:
        self.frame = district.frame
        self.around_the_clock = around_the_clock
        self.patrols: list[Patrol] = []
        watched: set[str] = set()  # communities with their night watch
        for grid_code, unit_id in patrol_units(district).items():
            rng = random.Random(f"{seed}:patrol:{unit_id}")
            grid = district.find(grid_code)
            route = Route.through(grid, district.frame)
            night = grid.parent_code not in watched
            watched.add(grid.parent_code or "")
            self.patrols.append(Patrol(unit_id, grid_code, route, rng.uniform(*SPEED_MPS), rng,
                                       rng.uniform(0.0, route.length), seed, night))
        self._last: datetime | None = None
        self._counter = 0
        self.paths: dict[str, list[tuple[float, float]]] = {}  # unit -> what it walked in the last advance

    def advance(self, now: datetime) -> None:
        """Move every patrol on by the time on duty since the last call (the first call only sets the
        clock; time never runs backwards). `paths` then holds what each walked meanwhile."""
        now = as_utc(now)
        day, night = 0.0, 0.0
        if self._last is not None and now > self._last:
            day = _duty_seconds(self._last, now, False, self.around_the_clock)
            night = _duty_seconds(self._last, now, True, self.around_the_clock)
        if self._last is None or now > self._last:
            self._last = now
        self.paths = {}
        for p in self.patrols:
            dt_s = night if p.night_watch else day
            if dt_s > 0:
                self.paths[p.unit_id] = p.walk(dt_s)

    def positions(self, now: datetime, run_id: str, drill_id: str | None = None) -> list[PatrolPosition]:
        """Advance to `now` and report one fix per patrol on duty and online, stamped `now`."""
        self.advance(now)
        now = as_utc(now)
        out = []
        duty = on_duty(now, around_the_clock=self.around_the_clock)
        for patrol in self.patrols:
            if not patrol.reporting(now, duty, self.around_the_clock):
                continue
            x, y, accuracy = patrol.fix()
            lon, lat = self.frame.to_lonlat(x, y)
            self._counter += 1
            out.append(PatrolPosition(
                schema_version=SCHEMA_VERSION, id=f"{run_id}-p{self._counter}", source=SOURCE, ts=now,
                drill_id=drill_id, kind="patrol_position", unit_id=patrol.unit_id, lat=round(lat, 7),
                lon=round(lon, 7), accuracy_m=round(accuracy, 1),
                speed_mps=round(patrol.speed_mps, 2) if patrol.moving else 0.0, fix_at=now,
            ))
        return out
