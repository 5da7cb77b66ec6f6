"""Working time per case: the calendar's working seconds, counted once for all the cases a figure reads."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from feeds.calendar import Limit, LimitUnit, WorkingCalendar
from feeds.kpis.facts import CaseFacts

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _US


def _moment(us: int) -> datetime:
    """The aware UTC datetime of `_us`'s count."""
    return _EPOCH + timedelta(microseconds=us)


class WorkingClock:
    """WorkingCalendar.deadline, answered by bisection over precomputed working periods (exactly the same
    answers, a hundred times faster for thousands of cases); beyond its span it asks the calendar."""

    def __init__(self, calendar: WorkingCalendar, first: date, last: date) -> None:
        self.calendar = calendar
        self._hours_per_day = calendar.hours_per_day
        self._deadlines: dict[tuple[datetime, Limit, float], datetime] = {}
        self._begins: list[int] = []
        self._ends: list[int] = []
        self._worked_before: list[int] = []  # working µs from the first period to each period's begin
        self._worked_by_end: list[int] = []
        worked = 0
        day = first
        while day <= last:
            if calendar.is_workday(day):
                for s, e in calendar.periods:
                    b = _us(datetime.combine(day, s, calendar.zone))
                    end = _us(datetime.combine(day, e, calendar.zone))
                    self._begins.append(b)
                    self._ends.append(end)
                    self._worked_before.append(worked)
                    worked += end - b
                    self._worked_by_end.append(worked)
            day += timedelta(days=1)

    def add_working(self, start: datetime, worked: timedelta) -> datetime:
        t = _us(start)
        i = bisect_right(self._ends, t)  # the first period ending after `start`
        if i < len(self._ends) and t >= self._begins[0]:
            target = self._worked_before[i] + max(0, t - self._begins[i]) + worked // _US
            j = bisect_left(self._worked_by_end, target, lo=i)
            if j < len(self._ends):
                return _EPOCH + timedelta(microseconds=self._begins[j] + target - self._worked_before[j])
        return self.calendar.add_working(start, worked)

    def deadline(self, start: datetime, limit: Limit, extra_hours: float = 0.0) -> datetime:
        """The deadline of a step started at `start`, its limit grown by `extra_hours` of its own kind of
        hours (working or calendar), as the escalation counts extensions."""
        if limit.unit is LimitUnit.CALENDAR_HOURS:
            return start + timedelta(hours=limit.amount + extra_hours)
        key = (start, limit, extra_hours)
        found = self._deadlines.get(key)
        if found is None:  # the same step's deadline is asked for by several figures
            hours = limit.amount * (self._hours_per_day if limit.unit is LimitUnit.WORKING_DAYS else 1)
            found = self._deadlines[key] = self.add_working(start, timedelta(hours=hours + extra_hours))
        return found

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        return self.calendar.working_between(start, end)


def clock_for(calendar: WorkingCalendar, cases: Sequence[CaseFacts], now: datetime) -> WorkingClock:
    """A clock spanning every deadline these cases can have (from their first report to well after now)."""
    first = min((c.reported_at for c in cases), default=now).astimezone(calendar.zone).date()
    return WorkingClock(calendar, first - timedelta(days=1), now.astimezone(calendar.zone).date() + timedelta(days=120))
