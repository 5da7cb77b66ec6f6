"""The working calendar: turns a step's time limit into a deadline, and says how much of it is used.

Limits come in working hours, working days or calendar hours. The default calendar is Mon–Fri
08:30–12:00 and 14:00–18:00 (7.5 working hours a day) in the command centre's zone, without China's public
holidays and with its make-up working days (调休) as the State Council announces them each year (the
`chinesecalendar` package's tables: `official_days`); a site adds or takes back days in its settings. One working
day is one day's working hours, so "2 working days" from Friday 16:00 ends on Tuesday 16:00. Pure: no clock, no
I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

from chinese_calendar import constants as official

DEFAULT_TIMEZONE = "Asia/Shanghai"  # the site's zone unless its settings name another (CC_TIMEZONE)


class LimitUnit(StrEnum):
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    CALENDAR_HOURS = "calendar_hours"


AMBER_SHARE = 0.8  # share of a limit used when the light turns from green to amber


class Light(StrEnum):
    """Traffic light of an open step: green while ≤ 80% of the limit is used, amber to 100%, red beyond."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True)
class Limit:
    amount: float
    unit: LimitUnit

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError(f"a time limit must be positive, not {self.amount}")


@dataclass(frozen=True)
class WorkingCalendar:
    periods: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(14, 0), time(18, 0)))
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)  # weekend days worked (调休)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))

    def __post_init__(self) -> None:
        for start, end in self.periods:
            if not start < end:
                raise ValueError(f"working period {start}–{end} ends before it starts")
        if list(self.periods) != sorted(self.periods):
            raise ValueError("working periods must be in order")

    @property
    def hours_per_day(self) -> float:
        return sum((_seconds(e) - _seconds(s)) for s, e in self.periods) / 3600

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() in self.workdays and day not in self.holidays

    def _periods_from(self, moment: datetime):  # type: ignore[no-untyped-def]
        """Working periods (start, end) as aware datetimes, from the one containing `moment` on."""
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(3660):  # ten years of days: a calendar with no working time at all is refused
            if self.is_workday(day):
                for s, e in self.periods:
                    start = datetime.combine(day, s, self.zone)
                    end = datetime.combine(day, e, self.zone)
                    if end > local:
                        yield max(start, local), end
            day += timedelta(days=1)
        raise ValueError("the calendar has no working time in the next ten years")

    def add_working(self, start: datetime, worked: timedelta) -> datetime:
        """The moment when `worked` working time has passed since `start`."""
        left = worked
        for begin, end in self._periods_from(start):
            span = end - begin
            if left <= span:
                return (begin + left).astimezone(start.tzinfo)
            left -= span
        raise AssertionError("unreachable")

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in [start, end)."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        for begin, stop in self._periods_from(start):
            if begin >= end:
                break
            total += min(stop, end) - begin
        return total

    def deadline(self, start: datetime, limit: Limit) -> datetime:
        if limit.unit is LimitUnit.CALENDAR_HOURS:
            return start + timedelta(hours=limit.amount)
        hours = limit.amount * (self.hours_per_day if limit.unit is LimitUnit.WORKING_DAYS else 1)
        return self.add_working(start, timedelta(hours=hours))

    def amber_at(self, start: datetime, limit: Limit) -> datetime:
        """The moment the light turns amber: 80% of the limit used."""
        return self.deadline(start, Limit(limit.amount * AMBER_SHARE, limit.unit))

    def step_clock(self, start: datetime, limit: Limit) -> tuple[datetime, datetime]:
        """(amber, deadline) in one walk of the calendar: the deadline is the rest of the limit after amber."""
        amber = self.amber_at(start, limit)
        if limit.unit is LimitUnit.CALENDAR_HOURS:
            return amber, start + timedelta(hours=limit.amount)
        hours = limit.amount * (self.hours_per_day if limit.unit is LimitUnit.WORKING_DAYS else 1)
        return amber, self.add_working(amber, timedelta(hours=hours * (1 - AMBER_SHARE)))

    def used(self, start: datetime, limit: Limit, now: datetime) -> float:
        """The share of the limit used by `now` (1.0 at the deadline)."""
        if limit.unit is LimitUnit.CALENDAR_HOURS:
            return (now - start) / timedelta(hours=limit.amount)
        hours = limit.amount * (self.hours_per_day if limit.unit is LimitUnit.WORKING_DAYS else 1)
        return self.working_between(start, now) / timedelta(hours=hours)

    def light(self, start: datetime, limit: Limit, now: datetime) -> Light:
        share = self.used(start, limit, now)
        return Light.GREEN if share <= AMBER_SHARE else Light.AMBER if share <= 1.0 else Light.RED


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


@cache
def official_days() -> tuple[frozenset[date], frozenset[date], int]:
    """China's public holidays (weekend days inside a holiday included) and make-up working days, as announced
    by the State Council, and the last year they are known for (later years: weekends only, until the package
    is updated or the site's settings name them)."""
    holidays, makeup = frozenset(official.holidays), frozenset(official.workdays)
    return holidays, makeup, max(d.year for d in holidays | makeup)


def parse_calendar(periods: str, workdays: str, holidays: str, makeup_days: str, zone: str,
                   official_calendar: bool = False) -> WorkingCalendar:
    """A calendar from settings text: periods "08:30-12:00,14:00-18:00", workdays "1-5" (Monday = 1) or
    "1,2,3,4,5,6", holidays and make-up working days as comma-separated ISO dates. With `official_calendar`,
    China's official holidays and make-up working days too; the site's own days win over them (a holiday it
    names is not worked even if the official calendar makes it up; a day it names worked is worked)."""
    def dates(text: str, what: str) -> frozenset[date]:
        try:
            return frozenset(date.fromisoformat(d.strip()) for d in text.split(",") if d.strip())
        except ValueError as err:
            raise ValueError(f"{what}: {err}") from err

    try:
        spans = tuple((time.fromisoformat(a.strip()), time.fromisoformat(b.strip()))
                      for a, b in (p.split("-") for p in periods.split(",") if p.strip()))
    except ValueError as err:
        raise ValueError(f"working periods {periods!r}: expected e.g. 08:30-12:00,14:00-18:00") from err
    days: set[int] = set()
    for part in workdays.split(","):
        first, _, last = part.strip().partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise ValueError(f"workdays {workdays!r}: expected e.g. 1-5 (Monday = 1)")
        days.update(range(int(first) - 1, int(last or first)))
    if not spans or not days or not days <= set(range(7)):
        raise ValueError(f"a working calendar needs working periods and weekdays 1–7, not {periods!r} / {workdays!r}")
    off, worked = dates(holidays, "holidays"), dates(makeup_days, "make-up working days")
    if off & worked:
        raise ValueError(f"days both holidays and make-up working days: {', '.join(map(str, sorted(off & worked)))}")
    if official_calendar:
        official_off, official_worked, _ = official_days()
        off, worked = (official_off - worked) | off, (official_worked - off) | worked
    return WorkingCalendar(periods=spans, workdays=frozenset(days), holidays=off, extra_workdays=worked,
                           zone=ZoneInfo(zone))
