"""What the figures are made of: a rate, a mean, a period, the rules they are measured against."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from zoneinfo import ZoneInfo

from feeds.calendar import Limit, WorkingCalendar
from feeds.schemas import ReportChannel
from feeds.taxonomy import Taxonomy

DEFAULT_DISCOVERY_LIMIT = timedelta(hours=2)
MAX_TRACK_GAP = timedelta(minutes=10)  # fixes further apart than this are not joined into a segment
# A fix counts towards coverage when it reached the centre within this long of being taken (received_at −
# fix_at): a day's visits are settled once this has passed after it ended (docs/kpis.md, "Caching").
LATE_FIX_LIMIT = timedelta(hours=1)


FOUND_BY_PATROL = frozenset({ReportChannel.PATROL, ReportChannel.CAMERA})  # the centre's own eyes
FOUND_BY_CITIZENS = frozenset({ReportChannel.CITIZEN, ReportChannel.HOTLINE})  # 监督举报: a miss of the patrols
DECISIVE_REJECTIONS = frozenset({"untrue", "out_of_scope"})  # a duplicate counts in neither side of accuracy


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"




@dataclass(frozen=True)
class Rate:
    """numerator / denominator; no value (shown "—") when nothing was due."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> float | None:
        v = self.value
        return None if v is None else 100 * v

    @property
    def exact_percent(self) -> Fraction | None:
        """The percentage as an exact fraction: what scores and grades are computed from."""
        return Fraction(100 * self.numerator, self.denominator) if self.denominator else None

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.numerator + other.numerator, self.denominator + other.denominator)

    @classmethod
    def of(cls, hits: Iterable[bool]) -> Rate:
        """The rate of a list of decisions: those that count in the numerator among all."""
        numerator = denominator = 0
        for hit in hits:
            numerator += hit
            denominator += 1
        return cls(numerator, denominator)

    def __str__(self) -> str:
        v = self.percent
        return "—" if v is None else f"{v:.1f}%"


NO_RATE = Rate(0, 0)


@dataclass(frozen=True)
class Mean:
    """An average of `count` durations (hours); no value when there were none."""

    total_hours: float
    count: int

    @property
    def value(self) -> float | None:
        return self.total_hours / self.count if self.count else None

    @classmethod
    def of_microseconds(cls, total_us: int, count: int) -> Mean:
        """From a whole number of microseconds: sums of parts added in any order give the same figure."""
        return cls(total_us / 3_600_000_000, count)


@dataclass(frozen=True)
class Period:
    """[start, end) in aware datetimes; days are counted in `zone` (the working calendar's)."""

    start: datetime
    end: datetime
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period needs aware datetimes")
        if not self.start < self.end:
            raise ValueError(f"a period must end after it starts: {self.start} – {self.end}")

    @classmethod
    def dates(cls, first: date, last: date, zone: ZoneInfo) -> Period:
        """Whole local days from `first` to `last`, both included (a custom range)."""
        return cls(datetime.combine(first, time(), zone), datetime.combine(last + timedelta(days=1), time(), zone),
                   zone)

    @classmethod
    def today(cls, now: datetime, zone: ZoneInfo) -> Period:
        day = now.astimezone(zone).date()
        return cls.dates(day, day, zone)

    @classmethod
    def this_week(cls, now: datetime, zone: ZoneInfo) -> Period:
        """Monday to Sunday of the week holding `now`."""
        day = now.astimezone(zone).date()
        monday = day - timedelta(days=day.weekday())
        return cls.dates(monday, monday + timedelta(days=6), zone)

    @classmethod
    def month(cls, year: int, month: int, zone: ZoneInfo) -> Period:
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls.dates(first, following - timedelta(days=1), zone)

    @classmethod
    def this_month(cls, now: datetime, zone: ZoneInfo) -> Period:
        day = now.astimezone(zone).date()
        return cls.month(day.year, day.month, zone)

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= moment < self.end

    def as_of(self, now: datetime) -> datetime:
        """The moment the period's figures are taken at: its end, or now while it runs."""
        return min(now, self.end)

    @cached_property
    def months(self) -> list[tuple[int, int]]:
        """(year, month) of the local calendar months the period touches."""
        return sorted({(d.year, d.month) for d in self.days()})

    def days(self, now: datetime | None = None) -> list[date]:
        """Local days of the period that have begun by `now` (all of them without `now`)."""
        last = self.as_of(now) if now is not None else self.end
        first_day = self.start.astimezone(self.zone).date()
        out = []
        day = first_day
        while datetime.combine(day, time(), self.zone) < last:
            out.append(day)
            day += timedelta(days=1)
        return out


@dataclass(frozen=True)
class KpiRules:
    """What the figures are measured against: limits per category and step, and the working calendar."""

    taxonomy: Taxonomy
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    discovery_limits: Mapping[str, timedelta] = field(default_factory=dict)  # category -> limit
    discovery_limit: timedelta = DEFAULT_DISCOVERY_LIMIT  # for categories not listed

    def discovery_limit_of(self, category: str) -> timedelta:
        return self.discovery_limits.get(category, self.discovery_limit)

    def limit(self, category: str, step: str, urgent: bool) -> Limit:
        return self.taxonomy[category].limit(step, urgent)
