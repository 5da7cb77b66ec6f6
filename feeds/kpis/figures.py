"""The figures on the KPI panels (docs/kpis.md, from /work/shared/kpi.md), pure: plain facts in, figures out.

A case's facts (`CaseFacts`) are replayed from its row and its audit trail (`case_facts`): when each step
ran, who ended it and how. Every timed step the case went through is a `StepRun`; its deadline comes from
the taxonomy's limit for the step and the case's urgency, through the working calendar. A figure for a
period counts the events that fall in the period, as things stood at `as_of` = min(now, end of period),
so that last month's report reads the same next month.

No I/O and no clock: `feeds/kpis/load.py` loads the facts and calls these functions.
"""
from __future__ import annotations

import json
import logging
import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from shapely.strtree import STRtree

from feeds.calendar import Limit, LimitUnit, WorkingCalendar
from feeds.cases.machine import OPEN_STEP, RULES, CaseState, Step
from feeds.schemas import ActionKind, ReportChannel
from feeds.store.models import DUTY_FIELDS, TALLY_FIELDS
from feeds.taxonomy import Taxonomy

_log = logging.getLogger(__name__)
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


# ---------------------------------------------------------------------------------------------- values


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


# ---------------------------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class CaseRecord:
    """What the case row and its opening report say."""

    id: str
    category: str
    urgent: bool
    channel: str  # of the first report
    grid: str | None
    reporter: str | None  # of the first report (a patrol unit id, or None for citizens)
    occurred_at: datetime | None  # when the source knew it arose
    reported_at: datetime  # first report
    drill_id: str | None = None


@dataclass(frozen=True)
class TrailEvent:
    """One audit row: the action, who, when, and the fields it changed to (the row's `after`)."""

    action: str
    by: str
    at: datetime
    after: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepRun:
    """One run of a timed step: from when its clock started to when it ended (None: still open).
    `done`: ended by doing the step (verify, register, dispatch, handle, check_pass/fail, close); a run ended
    by a send-back, park, void or a rejection at another step is not done. `by`: who ended it."""

    step: Step
    started_at: datetime
    ended_at: datetime | None = None
    done: bool = False
    by: str | None = None
    department: str | None = None  # handle runs: the department handling
    held_from: datetime | None = None  # handle runs taken over by a reassignment: from then (the clock runs on)

    @property
    def held_since(self) -> datetime:
        """From when the run's holder answers for it: its start, or the reassignment that gave it to them."""
        return self.held_from or self.started_at


@dataclass(frozen=True)
class CaseFacts:
    id: str
    category: str
    urgent: bool
    channel: str
    grid: str | None
    reporter: str | None
    occurred_at: datetime | None
    reported_at: datetime
    drill_id: str | None = None
    verified_at: datetime | None = None  # 核实 decided: verified, rejected or self-handled from `reported`
    rejected_at: datetime | None = None
    reject_reason: str | None = None
    registered_at: datetime | None = None  # 立案, or the moment it was self-handled (自行处置)
    self_handled: bool = False
    dispatched_at: datetime | None = None  # first dispatch
    first_handled_at: datetime | None = None
    closed_at: datetime | None = None
    voided_at: datetime | None = None
    reworks: int = 0
    extensions: tuple[tuple[datetime, float], ...] = ()  # (granted, the case's extension hours from then on)
    runs: tuple[StepRun, ...] = ()
    parked: tuple[tuple[datetime, datetime | None], ...] = ()  # (parked, restored)

    @property
    def finished_at(self) -> datetime | None:
        return self.closed_at or self.rejected_at or self.voided_at

    def registered_by(self, as_of: datetime) -> bool:
        return self.registered_at is not None and self.registered_at <= as_of

    def open_at(self, moment: datetime) -> bool:
        finished = self.finished_at
        return self.reported_at <= moment and (finished is None or finished > moment)


# The replay follows the machine's own rules (feeds.cases.machine.RULES): an action that leads to a state ends the
# open step's run and starts the next state's. The run counts as done unless the action stopped the clock without
# doing the step. Actions that change no state are replayed by name in `case_facts`; audit rows that are no
# command ("report", "merge") and escalation leave every clock alone.
_UNDONE = frozenset({ActionKind.SEND_BACK, ActionKind.PARK, ActionKind.VOID})
_STEP_ENDS: dict[str, tuple[CaseState, bool]] = {  # action -> (state after, the open run is done)
    action: (target, action not in _UNDONE) for action, (_, target) in RULES.items() if target is not None}
_REPLAYED_BY_NAME = frozenset({ActionKind.EXTEND, ActionKind.REASSIGN, ActionKind.RESTORE})
_NO_CLOCK = frozenset({"report", "merge", ActionKind.ESCALATE})
KPI_REPLAY_ACTIONS = frozenset(_STEP_ENDS) | _REPLAYED_BY_NAME | _NO_CLOCK  # tests: every ActionKind is here


def case_facts(record: CaseRecord, trail: Iterable[TrailEvent]) -> CaseFacts:
    """Replay the audit trail (in time order) into the facts the figures need."""
    state = CaseState.REPORTED
    department: str | None = None
    runs: list[StepRun] = []
    current: StepRun | None = StepRun(Step.VERIFY, record.reported_at)
    parked: list[tuple[datetime, datetime | None]] = []
    parked_from = CaseState.REGISTERED
    f: dict[str, Any] = {}
    reworks = 0
    extensions: list[tuple[datetime, float]] = []
    for ev in trail:
        after = ev.after
        if ev.action == "extend":
            extensions.append((ev.at, float(after.get("extended_hours", extensions[-1][1] if extensions else 0.0))))
            continue
        if ev.action == "reassign" and "department" in after:
            moved_to = after["department"]
            if current is not None and current.step is Step.HANDLE and moved_to != current.department:
                # the old department's run ends undone here; the new one holds it from now, on the same clock
                runs.append(StepRun(Step.HANDLE, current.started_at, ev.at, False, ev.by, current.department,
                                    current.held_from))
                current = StepRun(Step.HANDLE, current.started_at, department=moved_to, held_from=ev.at)
            department = moved_to
            continue
        if ev.action == "restore" and state == "parked":
            parked[-1] = (parked[-1][0], ev.at)
            state = CaseState(after.get("state", parked_from))
            step = OPEN_STEP.get(state)
            current = StepRun(step, ev.at, department=department if step is Step.HANDLE else None) if step else None
            continue
        if ev.action not in _STEP_ENDS:
            if ev.action not in KPI_REPLAY_ACTIONS:
                _log.warning("case %s: audit action %r is unknown to the KPI replay; its clocks are left alone",
                             record.id, ev.action)
            continue  # report, merge, escalate, reassign of a person only: the clock is not touched
        target, done = _STEP_ENDS[ev.action]
        if current is not None:
            runs.append(StepRun(current.step, current.started_at, ev.at, done, ev.by, current.department,
                                current.held_from))
        match ev.action:
            case "verify":
                f.setdefault("verified_at", ev.at)
            case "register":
                f.setdefault("registered_at", ev.at)
            case "reject":
                if state is CaseState.REPORTED:
                    f.setdefault("verified_at", ev.at)
                f["rejected_at"] = ev.at
                f["reject_reason"] = after.get("reject_reason")
            case "self_handle":
                if state is CaseState.REPORTED:
                    f.setdefault("verified_at", ev.at)
                f.setdefault("registered_at", ev.at)
                f["self_handled"] = True
                f.setdefault("first_handled_at", ev.at)
            case "dispatch":
                department = after.get("department", department)
                f.setdefault("dispatched_at", ev.at)
            case "send_back":
                department = None
            case "handle":
                f.setdefault("first_handled_at", ev.at)
            case "check_fail":
                reworks += 1
            case "close":
                f["closed_at"] = ev.at
            case "park":
                parked_from = state
                parked.append((ev.at, None))
            case "void":
                f["voided_at"] = ev.at
        state = target
        step = OPEN_STEP.get(state)
        current = StepRun(step, ev.at, department=department if step is Step.HANDLE else None) if step else None
    if current is not None:
        runs.append(current)
    return CaseFacts(id=record.id, category=record.category, urgent=record.urgent, channel=record.channel,
                     grid=record.grid, reporter=record.reporter, occurred_at=record.occurred_at,
                     reported_at=record.reported_at, drill_id=record.drill_id, reworks=reworks,
                     extensions=tuple(extensions), runs=tuple(runs), parked=tuple(parked), **f)


_FACT_FIELDS = tuple(f.name for f in fields(CaseFacts))
_FACT_MOMENTS = frozenset({"occurred_at", "reported_at", "verified_at", "rejected_at", "registered_at",
                           "dispatched_at", "first_handled_at", "closed_at", "voided_at"})


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def facts_to_json(facts: CaseFacts) -> str:
    """A case's facts as compact JSON (for the cache of feeds/kpis/cache.py); `facts_from_json` gives back an
    equal CaseFacts. Moments keep their microseconds and their UTC offset."""
    out: list[Any] = []
    for name in _FACT_FIELDS:
        value = getattr(facts, name)
        if name in _FACT_MOMENTS:
            value = None if value is None else value.isoformat()
        elif name == "runs":
            value = [[r.step.value, r.started_at.isoformat(), _text(r.ended_at), r.done, r.by, r.department,
                      _text(r.held_from)] for r in value]
        elif name == "extensions":
            value = [[granted.isoformat(), hours] for granted, hours in value]
        elif name == "parked":
            value = [[p.isoformat(), _text(r)] for p, r in value]
        out.append(value)
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def facts_from_json(text: str) -> CaseFacts:
    values = dict(zip(_FACT_FIELDS, json.loads(text), strict=True))
    for name in _FACT_MOMENTS:
        values[name] = _moment(values[name])
    values["runs"] = tuple(StepRun(Step(step), datetime.fromisoformat(start), _moment(end), done, by, dept,
                                   _moment(held))
                           for step, start, end, done, by, dept, held in values["runs"])
    values["extensions"] = tuple((datetime.fromisoformat(granted), hours) for granted, hours in values["extensions"])
    values["parked"] = tuple((datetime.fromisoformat(p), _moment(r)) for p, r in values["parked"])
    return CaseFacts(**values)


def in_scope(cases: Iterable[CaseFacts], drill_id: str | None = None) -> list[CaseFacts]:
    """Live cases (drill_id None) or the cases of one drill: the two never mix."""
    return [c for c in cases if c.drill_id == drill_id]


# ---------------------------------------------------------------------------------------------- clock


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _US


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


# ---------------------------------------------------------------------------------------------- deadlines


def _extended(deadline_with: Callable[[float], datetime], extensions: Sequence[tuple[datetime, float]]) -> datetime:
    """A deadline grown by the extensions (延期) granted while it still ran: each moves it to the limit plus the
    case's extension hours from then on. One granted after the deadline passed does not undo the miss (the
    step was late already), so the deadline never depends on an event after it."""
    deadline = deadline_with(0.0)
    for granted, hours in extensions:
        if granted >= deadline:
            break  # later grants are later still
        deadline = deadline_with(hours)
    return deadline


def run_deadline(rules: KpiRules, clock: WorkingClock, case: CaseFacts, run: StepRun) -> datetime:
    """A step run's deadline: the category's limit for the step and urgency, from the run's start; handle
    runs grow by the extensions granted before their deadline passed (`_extended`)."""
    limit = rules.limit(case.category, run.step, case.urgent)
    if run.step is not Step.HANDLE or not case.extensions:
        return clock.deadline(run.started_at, limit)
    return _extended(lambda hours: clock.deadline(run.started_at, limit, hours), case.extensions)


def handling_deadline(rules: KpiRules, clock: WorkingClock, case: CaseFacts,
                      before: datetime | None = None) -> datetime | None:
    """The case's deadline to be closed (结案期限): from registration (立案) through the limits of the
    dispatch, handle (plus extensions), check and close steps in turn; a self-handled case (自行处置) is
    registered and handled at once, so check and close remain. Time spent parked (挂账) is added, in the
    handle limit's kind of hours. Like an extension, a park counts only when it began before the deadline
    it would move: what happens after a deadline passed never moves it. `before`: counting only the
    extensions and parks that began before that moment. None for a case never registered."""
    if case.registered_at is None:
        return None
    registered_at = case.registered_at
    steps = (Step.CHECK, Step.CLOSE) if case.self_handled else (Step.DISPATCH, Step.HANDLE, Step.CHECK, Step.CLOSE)
    calendar_hours = rules.limit(case.category, Step.HANDLE, case.urgent).unit is LimitUnit.CALENDAR_HOURS

    def chained(hours: float) -> datetime:
        moment = registered_at
        for step in steps:
            moment = clock.deadline(moment, rules.limit(case.category, step, case.urgent),
                                    hours if step is Step.HANDLE else 0.0)
        return moment

    def moved(moment: datetime, parks: Sequence[tuple[datetime, datetime]]) -> datetime:
        for parked_at, restored_at in parks:
            if calendar_hours:
                moment += restored_at - parked_at
            else:
                moment = clock.add_working(moment, clock.working_between(parked_at, restored_at))
        return moment

    if not case.extensions and not case.parked:
        return chained(0.0)
    changes = sorted([(granted, 0, hours, granted) for granted, hours in case.extensions]
                     + [(p, 1, 0.0, r) for p, r in case.parked if r is not None])
    hours = 0.0
    parks: list[tuple[datetime, datetime]] = []
    deadline = chained(0.0)
    for at, kind, more, restored in changes:
        if at >= deadline or (before is not None and at >= before):
            break  # what begins after the deadline passed does not move it
        if kind == 0:
            hours = more
        else:
            parks.append((at, restored))
        deadline = moved(chained(hours), parks)
    return deadline


@dataclass(frozen=True)
class Due:
    """A deadline that fell due: when (the moment it was met, or the deadline when missed) and whether it
    was met."""

    at: datetime
    on_time: bool


def due(deadline: datetime, done_at: datetime | None, ended_at: datetime | None, as_of: datetime) -> Due | None:
    """Whether a deadline has fallen due by `as_of`: done by then (on time when done ≤ deadline), or missed
    (the deadline passed before it was done or before the task ended some other way). None: not yet due,
    or the task ended (sent back, parked, voided) before its deadline."""
    if done_at is not None and done_at <= as_of:
        return Due(done_at, True) if done_at <= deadline else Due(deadline, False)
    stop = ended_at if ended_at is not None and ended_at <= as_of else as_of
    return Due(deadline, False) if deadline < stop else None


def run_due(rules: KpiRules, clock: WorkingClock, case: CaseFacts, run: StepRun, as_of: datetime) -> Due | None:
    """`due` of a run for its holder. A run taken over (reassigned) after its deadline passed is not due
    again: the miss was the previous holder's."""
    held = run.held_since
    if held > as_of:
        return None
    deadline = run_deadline(rules, clock, case, run)
    if held > deadline:
        return None
    return due(deadline, run.ended_at if run.done else None, run.ended_at, as_of)


# ---------------------------------------------------------------------------------------------- 四率


def discovery_delay(case: CaseFacts) -> timedelta | None:
    return None if case.occurred_at is None else case.reported_at - case.occurred_at


def timely_discovery(rules: KpiRules, case: CaseFacts) -> bool:
    """Found within its category's limit of arising; when nobody knows when it arose: found by a patrol or
    a camera is timely, found by a citizen or the hotline first is late (监督举报 / 漏报)."""
    delay = discovery_delay(case)
    if delay is None:
        return case.channel in FOUND_BY_PATROL
    return delay <= rules.discovery_limit_of(case.category)


def discovery_timeliness(rules: KpiRules, cases: Iterable[CaseFacts], period: Period, now: datetime) -> Rate:
    """发现及时率: registered cases (立案 or self-handled) first reported in the period."""
    as_of = period.as_of(now)
    found = [c for c in cases if c.reported_at in period and c.registered_by(as_of)]
    return Rate(sum(timely_discovery(rules, c) for c in found), len(found))


def accuracy_decision(case: CaseFacts, as_of: datetime) -> tuple[datetime, bool] | None:
    """(when, registered?) for a case decided by `as_of`; None for undecided ones and duplicates."""
    if case.registered_at is not None and case.registered_at <= as_of:
        return case.registered_at, True
    if case.rejected_at is not None and case.rejected_at <= as_of and case.reject_reason in DECISIVE_REJECTIONS:
        return case.rejected_at, False
    return None


def discovery_accuracy(cases: Iterable[CaseFacts], period: Period, now: datetime) -> Rate:
    """发现准确率: reports registered (立案 or self-handled) / reports decided (registered, or rejected as untrue
    or out of scope) in the period. Merged duplicates never opened a case; rejected duplicates are skipped."""
    as_of = period.as_of(now)
    decided = [d for c in cases if (d := accuracy_decision(c, as_of)) is not None and d[0] in period]
    return Rate(sum(registered for _, registered in decided), len(decided))


def accuracy_by_channel(cases: Iterable[CaseFacts], period: Period, now: datetime) -> dict[str, Rate]:
    """Accuracy per source channel; the camera's is the true positives among the AI alerts decided."""
    by: dict[str, list[CaseFacts]] = defaultdict(list)
    for c in cases:
        by[c.channel].append(c)
    return {ch.value: discovery_accuracy(by.get(ch.value, []), period, now) for ch in ReportChannel}


def _runs_due(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], steps: Collection[Step],
              period: Period, now: datetime, who: Callable[[CaseFacts, StepRun], bool] | None = None) -> Rate:
    as_of = period.as_of(now)
    on_time = total = 0
    for c in cases:
        for run in c.runs:
            if run.step in steps and (who is None or who(c, run)):
                d = run_due(rules, clock, c, run, as_of)
                if d is not None and d.at in period:
                    total += 1
                    on_time += d.on_time
    return Rate(on_time, total)


@dataclass(frozen=True)
class Verification:
    """核查及时率 and its two kinds: 核实 (a new report confirmed on site) and 核查 (a handled case checked)."""

    verify: Rate
    check: Rate

    @property
    def both(self) -> Rate:
        return self.verify + self.check


def verification_timeliness(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], period: Period,
                            now: datetime, who: Callable[[CaseFacts, StepRun], bool] | None = None) -> Verification:
    """Verifications falling due in the period (done, or their deadline passed undone) and how many were
    done within their limit. `who` narrows to one person's."""
    cases = list(cases)
    return Verification(_runs_due(rules, clock, cases, (Step.VERIFY,), period, now, who),
                        _runs_due(rules, clock, cases, (Step.CHECK,), period, now, who))


# ---------------------------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class Cells:
    """The unit cells (单元网格, ≈100 m) of the territory: code, grid and polygon (lon/lat), in one STRtree."""

    codes: tuple[str, ...]
    grids: tuple[str, ...]
    tree: STRtree

    @classmethod
    def of(cls, cells: Sequence[tuple[str, str, Any]]) -> Cells:
        """From (cell code, grid code, shapely polygon) triples."""
        return cls(tuple(c for c, _, _ in cells), tuple(g for _, g, _ in cells), STRtree([p for _, _, p in cells]))


@dataclass(frozen=True)
class Track:
    """GPS fixes as arrays (any order): unit id, time (aware datetimes), lon, lat."""

    units: Sequence[str]
    times: Sequence[datetime]
    lons: Sequence[float]
    lats: Sequence[float]


CellVisit = tuple[date, str, str]  # (local day, unit id, cell code)
GridMonth = tuple[str, int, int]  # (grid, year, month)


def cell_visits(cells: Cells, track: Track, zone: ZoneInfo,
                max_gap: timedelta = MAX_TRACK_GAP) -> set[CellVisit]:
    """Which cells each unit visited on each local day: a fix inside (or on the edge of) the cell, or a
    segment between two consecutive fixes of the unit crossing it. Consecutive fixes are joined only when
    they are at most `max_gap` apart and on the same local day (a unit switched off, or a night, is not a
    walk). A segment whose two ends lie in the same cell is taken to stay in it (cells are ≈100 m squares
    cut by grid edges; fixes come seconds apart), which spares testing most segments."""
    return set(cell_pieces(cells, track, zone, max_gap))


def cell_pieces(cells: Cells, track: Track, zone: ZoneInfo,
                max_gap: timedelta = MAX_TRACK_GAP) -> dict[CellVisit, int]:
    """`cell_visits` with, for each visit, how many pieces of the track make it: fixes inside the cell and
    segments crossing it. A visit holds while one piece is left, so a late fix that bends a segment can
    take back what the straight segment crossed (feeds/kpis/visits.py). Fixes of a unit taken at the same
    moment are ordered by position, so the pieces do not depend on the order the fixes are given in."""
    n = len(track.units)
    if n == 0 or not cells.codes:
        return {}
    unit_names, unit = np.unique(np.asarray(track.units, dtype=object).astype(str), return_inverse=True)
    t = np.fromiter((_us(x) for x in track.times), dtype=np.int64, count=n)
    lon = np.asarray(track.lons, dtype=float)
    lat = np.asarray(track.lats, dtype=float)
    order = np.lexsort((lat, lon, t, unit))
    unit, t, lon, lat = unit[order], t[order], lon[order], lat[order]
    first = datetime.fromtimestamp(int(t.min()) / 1e6, UTC).astimezone(zone).date()
    last = datetime.fromtimestamp(int(t.max()) / 1e6, UTC).astimezone(zone).date()
    days = [first + timedelta(days=k) for k in range((last - first).days + 2)]
    bounds = np.array([_us(datetime.combine(d, time(), zone)) for d in days], dtype=np.int64)
    day = np.searchsorted(bounds, t, side="right") - 1

    points = shapely.points(lon, lat)
    hit_fix, hit_cell = cells.tree.query(points, predicate="intersects")
    cell_of = np.full(n, -1, dtype=np.int64)
    cell_of[hit_fix] = hit_cell  # one of the cells a fix lies in (two only on a shared edge)
    pieces = [np.stack([day[hit_fix], unit[hit_fix], hit_cell], axis=1)]

    joined = ((unit[1:] == unit[:-1]) & (day[1:] == day[:-1]) & (t[1:] - t[:-1] <= max_gap // _US)
              & ((cell_of[1:] != cell_of[:-1]) | (cell_of[1:] < 0)))
    starts = np.nonzero(joined)[0]
    if len(starts):
        coords = np.stack([np.stack([lon[starts], lat[starts]], axis=1),
                           np.stack([lon[starts + 1], lat[starts + 1]], axis=1)], axis=1)
        segments = shapely.linestrings(coords)
        hit_seg, seg_cell = cells.tree.query(segments, predicate="intersects")
        seg_fix = starts[hit_seg]
        pieces.append(np.stack([day[seg_fix], unit[seg_fix], seg_cell], axis=1))
    visited, counts = np.unique(np.concatenate(pieces), axis=0, return_counts=True)
    return {(days[d], str(unit_names[u]), cells.codes[c]): int(k) for (d, u, c), k in zip(visited, counts, strict=True)}


def coverage_by_grid(cells: Cells, visits: Iterable[CellVisit], period: Period, now: datetime,
                     units: Collection[str] | None = None) -> dict[str, Rate]:
    """Per grid: cell-days visited / (cells × days), over the local days of the period that have begun
    (today counts as far as it has gone). `units`: only these patrol units' tracks (one person's)."""
    days = set(period.days(now))
    grid_of = dict(zip(cells.codes, cells.grids, strict=True))
    seen = {(d, cell) for d, unit, cell in visits
            if d in days and cell in grid_of and (units is None or unit in units)}
    visited: dict[str, int] = defaultdict(int)
    for _, cell in seen:
        visited[grid_of[cell]] += 1
    size: dict[str, int] = defaultdict(int)
    for g in cells.grids:
        size[g] += 1
    return {g: Rate(visited.get(g, 0), n * len(days)) for g, n in size.items()}


def coverage(cells: Cells, visits: Iterable[CellVisit], period: Period, now: datetime,
             grids: Collection[str] | None = None, units: Collection[str] | None = None) -> Rate:
    """发现覆盖率: cells visited / cells in the area, per day, averaged over the days of the period that have
    begun. As every day has the same cells, the average of the daily rates is Σ cells visited per day /
    (cells × days). `grids`: the area (None: all); `units`: only these patrol units' tracks."""
    return area_coverage(coverage_by_grid(cells, visits, period, now, units), grids)


def area_coverage(by_grid: Mapping[str, Rate], grids: Collection[str] | None) -> Rate:
    total = NO_RATE
    for rate in (by_grid.values() if grids is None else (r for g in grids if (r := by_grid.get(g)) is not None)):
        total += rate
    return total


# ---------------------------------------------------------------------------------------------- closure


@dataclass(frozen=True)
class Closure:
    closure: Rate  # 结案率
    on_time: Rate  # 按期结案率


def closure(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], period: Period,
            now: datetime) -> Closure:
    """Cases due to close in the period: registered cases whose handling deadline (`handling_deadline`) fell
    in the period, plus those closed in the period before their deadline. Closed: by `as_of`; on time: closed
    no later than the deadline. A voided case is not due, nor one parked (挂账) at `as_of` while its deadline
    still ran (parked after the deadline passed, the miss stands)."""
    as_of = period.as_of(now)
    closed = on_time = total = 0
    for c in cases:
        if not c.registered_by(as_of) or (c.voided_at is not None and c.voided_at <= as_of):
            continue
        parked_at = next((p for p, r in c.parked if p <= as_of and (r is None or r > as_of)), None)
        if parked_at is not None and parked_at < (handling_deadline(rules, clock, c, before=parked_at) or parked_at):
            continue
        deadline = handling_deadline(rules, clock, c)
        assert deadline is not None
        d = due(deadline, c.closed_at, None, as_of)
        if d is None or d.at not in period:
            continue
        total += 1
        closed += c.closed_at is not None and c.closed_at <= as_of
        on_time += d.on_time
    return Closure(Rate(closed, total), Rate(on_time, total))


def rework_rate(cases: Iterable[CaseFacts], period: Period, now: datetime) -> Rate:
    """返工率: cases first handled in the period that were sent back after a failed check (by `as_of`)."""
    as_of = period.as_of(now)
    handled = [c for c in cases if c.first_handled_at is not None and c.first_handled_at in period
               and c.first_handled_at <= as_of]
    return Rate(sum(_reworked(c, as_of) for c in handled), len(handled))


def _reworked(case: CaseFacts, as_of: datetime) -> bool:
    """Sent back after a failed check by `as_of`."""
    return any(r.step is Step.CHECK and r.done and r.ended_at is not None and r.ended_at <= as_of
               and _failed(case, r) for r in case.runs)


def _failed(case: CaseFacts, check: StepRun) -> bool:
    """A done check run followed by a handle run: it failed (返工)."""
    return any(r.step is Step.HANDLE and r.started_at == check.ended_at for r in case.runs)


def on_time_handling(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], period: Period,
                     now: datetime, department: str | None = None) -> Rate:
    """按期处置率: handle runs (each dispatch, each rework) that fell due in the period, done within the
    handle limit plus extensions. `department`: only the runs that department held."""
    who = None if department is None else (lambda _c, run: run.department == department)
    return _runs_due(rules, clock, cases, (Step.HANDLE,), period, now, who)


def open_count(cases: Iterable[CaseFacts], period: Period, now: datetime) -> int:
    """Cases open (reported, not closed, rejected or voided; parked ones included) at `as_of`."""
    as_of = period.as_of(now)
    return sum(c.open_at(as_of) for c in cases)


def overdue_count(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], period: Period,
                  now: datetime) -> int:
    """Open cases whose open step is past its deadline at `as_of` (red on the map)."""
    as_of = period.as_of(now)
    n = 0
    for c in cases:
        if not c.open_at(as_of):
            continue
        for run in c.runs:
            if run.started_at <= as_of and (run.ended_at is None or run.ended_at > as_of):
                n += run_deadline(rules, clock, c, run) < as_of
                break
    return n


def first_handling(case: CaseFacts) -> StepRun | None:
    """The handle run that first handled the case (None: not handled yet, or self-handled first)."""
    run = next((r for r in case.runs if r.step is Step.HANDLE and r.done), None)
    return run if run is not None and run.ended_at == case.first_handled_at else None


def last_handling(case: CaseFacts, as_of: datetime) -> StepRun | None:
    """The last handle run done by `as_of` (a rework handled later does not change what was last then)."""
    last = None
    for r in case.runs:
        if r.step is Step.HANDLE and r.done and r.ended_at is not None and r.ended_at <= as_of:
            last = r
    return last


def _handling_span(case: CaseFacts, period: Period, now: datetime) -> tuple[StepRun, int] | None:
    """For a case last handled (as of the period's `as_of`) in the period: that handle run, and the
    microseconds from first dispatch to it."""
    if case.dispatched_at is None:
        return None
    last = last_handling(case, period.as_of(now))
    if last is None or last.ended_at is None or last.ended_at not in period or last.ended_at < case.dispatched_at:
        return None  # handled only before its first dispatch (self-handled, reworked, then sent back): no span
    return last, (last.ended_at - case.dispatched_at) // _US


def _handling_spans(cases: Iterable[CaseFacts], period: Period, now: datetime) -> tuple[int, int]:
    spans = [span[1] for c in cases if (span := _handling_span(c, period, now)) is not None]
    return sum(spans), len(spans)


def _dispatch_spans(cases: Iterable[CaseFacts], period: Period, now: datetime) -> tuple[int, int]:
    spans = [(c.dispatched_at - c.registered_at) // _US for c in cases
             if c.dispatched_at is not None and c.registered_at is not None and c.dispatched_at in period
             and c.dispatched_at <= now]
    return sum(spans), len(spans)


def average_handling_time(cases: Iterable[CaseFacts], period: Period, now: datetime) -> Mean:
    """Average hours from first dispatch to the last handling, over cases last handled in the period
    (self-handled ones, never dispatched, are left out)."""
    return Mean.of_microseconds(*_handling_spans(cases, period, now))


def average_dispatch_time(cases: Iterable[CaseFacts], period: Period, now: datetime) -> Mean:
    """Average hours from registration (立案) to first dispatch, over cases first dispatched in the period."""
    return Mean.of_microseconds(*_dispatch_spans(cases, period, now))


def citizen_first_rate(cases: Iterable[CaseFacts], period: Period, now: datetime) -> Rate:
    """Cases registered in the period whose first report came from a citizen or the hotline / cases
    registered in the period (the missed rate, 漏报率, of the patrols)."""
    as_of = period.as_of(now)
    registered = [c for c in cases if c.registered_at is not None and c.registered_at in period
                  and c.registered_at <= as_of]
    return Rate(sum(c.channel in FOUND_BY_CITIZENS for c in registered), len(registered))


# ---------------------------------------------------------------------------------------------- scores


def grade(score: Fraction | float | None) -> Grade | None:
    """A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, else E."""
    if score is None:
        return None
    for floor, g in ((90, Grade.A), (75, Grade.B), (60, Grade.C), (40, Grade.D)):
        if score >= floor:
            return g
    return Grade.E


@dataclass(frozen=True)
class Score:
    """A composite score 0–100: Σ weight × part over the parts that have a value, scaled back to 100% when
    some part has none (nothing was due); no score when no part has one. Computed exactly (fractions), so a
    score on a grade's boundary gets that grade; only what is shown is rounded, to one decimal."""

    parts: tuple[tuple[str, Fraction, Fraction | None], ...]  # (name, weight, value 0–100 or None)

    @property
    def exact(self) -> Fraction | None:
        have = [(w, v) for _, w, v in self.parts if v is not None]
        weight = sum((w for w, _ in have), Fraction(0))
        return sum((w * v for w, v in have), Fraction(0)) / weight if weight else None

    @property
    def value(self) -> float | None:
        exact = self.exact
        return None if exact is None else float(exact)

    @property
    def shown(self) -> float | None:
        """The score as screens and exports show it: the exact score rounded half up to one decimal."""
        exact = self.exact
        return None if exact is None else math.floor(exact * 10 + Fraction(1, 2)) / 10

    @property
    def grade(self) -> Grade | None:
        return grade(self.exact)


def _pct(rate: Rate) -> Fraction | None:
    return rate.exact_percent


def patroller_score(valid_reports: Rate, missed: Rate, verify_on_time: Rate, check_on_time: Rate) -> Score:
    """Valid-report rate × 40% + (1 − missed rate) × 20% + on-time 核实 × 20% + on-time 核查 × 20%."""
    missed_pct = _pct(missed)
    return Score((("valid_reports", Fraction(40, 100), _pct(valid_reports)),
                  ("not_missed", Fraction(20, 100), None if missed_pct is None else 100 - missed_pct),
                  ("verify_on_time", Fraction(20, 100), _pct(verify_on_time)),
                  ("check_on_time", Fraction(20, 100), _pct(check_on_time))))


def case_count_score(cases: int) -> float:
    """Per grid per month: 0 → 100, < 3 → 90, < 5 → 75, < 7 → 60, < 9 → 40, otherwise 0."""
    for below, score in ((1, 100.0), (3, 90.0), (5, 75.0), (7, 60.0), (9, 40.0)):
        if cases < below:
            return score
    return 0.0


def registered_by_grid_month(cases: Iterable[CaseFacts], period: Period, now: datetime) -> dict[GridMonth, int]:
    """Cases registered in the period (by `as_of`) per grid and local calendar month."""
    as_of = period.as_of(now)
    counts: dict[GridMonth, int] = defaultdict(int)
    for c in cases:
        if c.grid is not None and c.registered_at is not None and c.registered_at in period \
                and c.registered_at <= as_of:
            local = c.registered_at.astimezone(period.zone)
            counts[(c.grid, local.year, local.month)] += 1
    return dict(counts)


def area_case_count_score(cases: Iterable[CaseFacts], grids: Collection[str], period: Period,
                          now: datetime) -> Fraction | None:
    """The case-count score of an area: the mean over its grids and the calendar months the period touches
    of each grid's score for the cases registered there in that month (within the period)."""
    return case_count_score_of(registered_by_grid_month(cases, period, now), grids, period)


def case_count_score_of(registered: Mapping[GridMonth, int], grids: Collection[str],
                        period: Period) -> Fraction | None:
    if not grids:
        return None
    scores = [case_count_score(registered.get((g, y, m), 0)) for g in grids for y, m in period.months]
    return Fraction(int(sum(scores)), len(scores))


def area_score(citizen_first: Rate, case_count: Fraction | None, closure_rate: Rate,
               on_time_closure: Rate) -> Score:
    """(100 − citizen-first rate) × 10% + case-count score × 20% + closure rate × 30% + on-time closure × 40%."""
    citizen_pct = _pct(citizen_first)
    return Score((("not_citizen_first", Fraction(10, 100), None if citizen_pct is None else 100 - citizen_pct),
                  ("case_count", Fraction(20, 100), None if case_count is None else Fraction(case_count)),
                  ("closure", Fraction(30, 100), _pct(closure_rate)),
                  ("on_time_closure", Fraction(40, 100), _pct(on_time_closure))))


# ---------------------------------------------------------------------------------------------- areas


@dataclass(frozen=True)
class Territory:
    """Areas and their parents (district → street → community → grid; cells hang below grids)."""

    parent: Mapping[str, str | None]
    level: Mapping[str, str]

    @cached_property
    def _grids_of(self) -> dict[str, frozenset[str]]:
        under: dict[str, set[str]] = defaultdict(set)
        for g, lvl in self.level.items():
            if lvl == "grid":
                for a in self.chain(g):
                    under[a].add(g)
        return {a: frozenset(gs) for a, gs in under.items()}

    def grids_under(self, code: str) -> frozenset[str]:
        """The grids in an area (a grid is under itself)."""
        return self._grids_of.get(code, frozenset())

    def chain(self, code: str) -> list[str]:
        """The code and its ancestors, nearest first."""
        out = []
        at: str | None = code
        while at is not None and at not in out:
            out.append(at)
            at = self.parent.get(at)
        return out

    def ancestor_at(self, code: str, level: str) -> str | None:
        return next((a for a in self.chain(code) if self.level.get(a) == level), None)

    def at_level(self, level: str) -> list[str]:
        return sorted(c for c, lvl in self.level.items() if lvl == level)


# ---------------------------------------------------------------------------------------------- panels


@dataclass(frozen=True)
class AreaFigures:
    """Everything the panel shows for one area (or the district) over one period."""

    discovery_timeliness: Rate
    discovery_accuracy: Rate
    accuracy_by_channel: Mapping[str, Rate]
    coverage: Rate
    verification: Verification
    closure: Rate
    on_time_closure: Rate
    rework: Rate
    on_time_handling: Rate
    open: int
    overdue: int
    average_handling_hours: Mean
    average_dispatch_hours: Mean
    citizen_first: Rate
    case_count_score: Fraction | None

    @property
    def score(self) -> Score:
        return area_score(self.citizen_first, self.case_count_score, self.closure, self.on_time_closure)


def area_figures(rules: KpiRules, cases: Sequence[CaseFacts], period: Period, now: datetime, *,
                 grids: Collection[str] | None = None, include_ungridded: bool = False,
                 coverage_of_grids: Mapping[str, Rate] | None = None, drill_id: str | None = None,
                 clock: WorkingClock | None = None, counted: Tally | None = None) -> AreaFigures:
    """Every figure for the cases of an area: those in `grids` (None: all), plus those filed under no grid
    when `include_ungridded` (the district's), live (drill_id None) or of one drill. Coverage comes from
    `coverage_by_grid` (no coverage: "—"). `counted`: the tally of further cases of the area already
    counted for this period (the rollup of finished cases), added to that of `cases`."""
    mine = [c for c in in_scope(cases, drill_id)
            if grids is None or c.grid in grids or (include_ungridded and c.grid is None)]
    clock = clock or clock_for(rules.calendar, mine, now)
    counts = tally(rules, clock, mine, period, now)
    return figures_of(counts + counted if counted is not None else counts, period,
                      coverage=area_coverage(coverage_of_grids or {}, grids), grids=grids)


_AT = {name: i for i, name in enumerate(TALLY_FIELDS)}


@dataclass(frozen=True)
class Tally:
    """The countable part of an area's figures over a set of cases: every numerator, denominator, count and
    sum of durations (whole microseconds), and the cases registered per grid and month (for the case-count
    score). Each is a sum over the cases, so the tally of a set of cases is the sum of the tallies of its
    parts: what lets finished cases be counted once and stored (feeds/kpis/cache.py)."""

    counts: tuple[int, ...]  # in the order of TALLY_FIELDS
    registered_in: Mapping[GridMonth, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.counts[_AT[name]]

    def __add__(self, other: Tally) -> Tally:
        merged = dict(self.registered_in)
        for key, n in other.registered_in.items():
            merged[key] = merged.get(key, 0) + n
        return Tally(tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)), merged)

    def rate(self, numerator: str, denominator: str) -> Rate:
        return Rate(self[numerator], self[denominator])

    @staticmethod
    def total(parts: Iterable[Tally]) -> Tally | None:
        """The sum of several tallies in one pass; None for none."""
        parts = list(parts)
        if not parts:
            return None
        registered: dict[GridMonth, int] = defaultdict(int)
        for t in parts:
            for key, n in t.registered_in.items():
                registered[key] += n
        return Tally(tuple(sum(column) for column in zip(*(t.counts for t in parts), strict=True)), dict(registered))


NO_TALLY = Tally((0,) * len(TALLY_FIELDS))


def tally(rules: KpiRules, clock: WorkingClock, cases: Sequence[CaseFacts], period: Period, now: datetime) -> Tally:
    """The tally of these cases for a period, as things stood at `period.as_of(now)`."""
    timely = discovery_timeliness(rules, cases, period, now)
    accuracy = discovery_accuracy(cases, period, now)
    by_channel = accuracy_by_channel(cases, period, now)
    checked = verification_timeliness(rules, clock, cases, period, now)
    shut = closure(rules, clock, cases, period, now)
    rework = rework_rate(cases, period, now)
    handling = on_time_handling(rules, clock, cases, period, now)
    citizen = citizen_first_rate(cases, period, now)
    values = {
        "timely": timely.numerator, "found": timely.denominator,
        "registered_reports": accuracy.numerator, "decided": accuracy.denominator,
        "verify_on_time": checked.verify.numerator, "verify_due": checked.verify.denominator,
        "check_on_time": checked.check.numerator, "check_due": checked.check.denominator,
        "closed": shut.closure.numerator, "on_time_closed": shut.on_time.numerator,
        "due_to_close": shut.closure.denominator,
        "reworked": rework.numerator, "first_handled": rework.denominator,
        "handled_on_time": handling.numerator, "handling_due": handling.denominator,
        "open": open_count(cases, period, now), "overdue": overdue_count(rules, clock, cases, period, now),
        "citizen_first": citizen.numerator, "registered": citizen.denominator,
    }
    values["handling_us"], values["handled"] = _handling_spans(cases, period, now)
    values["dispatch_us"], values["dispatched"] = _dispatch_spans(cases, period, now)
    for ch, rate in by_channel.items():
        values[f"{ch}_registered"], values[f"{ch}_decided"] = rate.numerator, rate.denominator
    return Tally(tuple(values[name] for name in TALLY_FIELDS), registered_by_grid_month(cases, period, now))


def figures_of(counts: Tally, period: Period, *, coverage: Rate = NO_RATE,
               grids: Collection[str] | None = None) -> AreaFigures:
    """An area's figures from the tally of its cases, its coverage and its grids (None: no case-count
    score)."""
    return AreaFigures(
        discovery_timeliness=counts.rate("timely", "found"),
        discovery_accuracy=counts.rate("registered_reports", "decided"),
        accuracy_by_channel={ch.value: counts.rate(f"{ch.value}_registered", f"{ch.value}_decided")
                             for ch in ReportChannel},
        coverage=coverage,
        verification=Verification(counts.rate("verify_on_time", "verify_due"),
                                  counts.rate("check_on_time", "check_due")),
        closure=counts.rate("closed", "due_to_close"),
        on_time_closure=counts.rate("on_time_closed", "due_to_close"),
        rework=counts.rate("reworked", "first_handled"),
        on_time_handling=counts.rate("handled_on_time", "handling_due"),
        open=counts["open"],
        overdue=counts["overdue"],
        average_handling_hours=Mean.of_microseconds(counts["handling_us"], counts["handled"]),
        average_dispatch_hours=Mean.of_microseconds(counts["dispatch_us"], counts["dispatched"]),
        citizen_first=counts.rate("citizen_first", "registered"),
        case_count_score=case_count_score_of(counts.registered_in, grids, period) if grids is not None else None,
    )


class _Ever(Period):
    """A period whose figures are taken at the `now` given rather than at its end: for finished cases every
    event has happened, so counting them at any moment after they finished gives the same answer."""

    def as_of(self, now: datetime) -> datetime:
        return now


END_OF_TIME = datetime(9000, 1, 1, tzinfo=UTC)


def utc_hour(moment: datetime) -> str:
    """The hour a moment falls in, as 'YYYY-MM-DDTHH' in UTC (these strings sort as the hours do)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _finished_days(cases: Iterable[CaseFacts], zone: ZoneInfo) -> dict[tuple[str, date], list[CaseFacts]]:
    """Finished cases by the hour they finished (`utc_hour`) and each local day from their first report to
    their finish."""
    by_day: dict[tuple[str, date], list[CaseFacts]] = defaultdict(list)
    for c in cases:
        finished = c.finished_at
        if finished is None:
            raise ValueError(f"case {c.id} is not finished")
        day = c.reported_at.astimezone(zone).date()
        last = finished.astimezone(zone).date()
        hour = utc_hour(finished)
        while day <= last:
            by_day[(hour, day)].append(c)
            day += timedelta(days=1)
    return by_day


def finished_tallies(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts],
                     zone: ZoneInfo) -> dict[tuple[str, str | None, date], Tally]:
    """For finished cases (closed, rejected, voided): the tally per hour they finished (`utc_hour`), grid
    and local day of the events of each day, counted as things stand once they finished. For any period of
    whole days whose `as_of` is after they finished, the sum of these over the period's days and an area's
    grids is exactly the tally `tally` gives for them: every event a figure counts for a finished case
    happened between its first report and its finish (a missed deadline is counted at the deadline, which
    passed before the run ended), so it falls on one of those days."""
    out = {}
    for (hour, day), group in _finished_days(cases, zone).items():
        by_grid: dict[str | None, list[CaseFacts]] = defaultdict(list)
        for c in group:
            by_grid[c.grid].append(c)
        for grid, mine in by_grid.items():
            out[(hour, grid, day)] = tally(rules, clock, mine, _Ever.dates(day, day, zone), END_OF_TIME)
    return out


def finished_duty_tallies(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts],
                          zone: ZoneInfo) -> dict[tuple[str, date, DutyCell], DutyTally]:
    """`duty_tallies` of finished cases per hour they finished and local day of the events, as
    `finished_tallies` (and exact for the same reason): summed over a period's days, a holder and the grids
    of an area, they are what `duty_tallies` gives for those cases."""
    return {(hour, day, cell): t
            for (hour, day), group in _finished_days(cases, zone).items()
            for cell, t in duty_tallies(rules, clock, group, _Ever.dates(day, day, zone), END_OF_TIME).items()}


def tallies_by_grid(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], period: Period,
                    now: datetime) -> dict[str | None, Tally]:
    """The tally of the cases of each grid (None: filed under no grid)."""
    by_grid: dict[str | None, list[CaseFacts]] = defaultdict(list)
    for c in cases:
        by_grid[c.grid].append(c)
    return {g: tally(rules, clock, mine, period, now) for g, mine in by_grid.items()}


def figures_of_grids(per_grid: Mapping[str | None, Tally], period: Period, grids: Collection[str], *,
                     include_ungridded: bool = False,
                     coverage_of_grids: Mapping[str, Rate] | None = None) -> AreaFigures:
    """An area's figures from the tallies of its grids (and of the cases under no grid when
    `include_ungridded`): a tally of a set of cases is the sum of those of its parts."""
    keys = (*grids, *((None,) if include_ungridded else ()))
    counts = Tally.total(per_grid[g] for g in keys if g in per_grid) or NO_TALLY
    return figures_of(counts, period, coverage=area_coverage(coverage_of_grids or {}, grids), grids=grids)


def figures_by_area(rules: KpiRules, cases: Sequence[CaseFacts], territory: Territory, level: str,
                    period: Period, now: datetime, *, cells: Cells | None = None,
                    visits: Iterable[CellVisit] = (), coverage_of_grids: Mapping[str, Rate] | None = None,
                    counted: Mapping[str | None, Tally] | None = None,
                    drill_id: str | None = None) -> dict[str, AreaFigures]:
    """`area_figures` for every area of a level (grid, community, street, district). Coverage: per grid as
    given, else from the cells and visits. `counted`: per grid (None: no grid), the tally of further cases
    counted already for the period."""
    scoped = in_scope(cases, drill_id)
    clock = clock_for(rules.calendar, scoped, now)
    if coverage_of_grids is not None:
        covered = coverage_of_grids
    else:
        covered = coverage_by_grid(cells, visits, period, now) if cells is not None else {}
    per_grid = sum_by_key(tallies_by_grid(rules, clock, scoped, period, now), counted or {})
    return {code: figures_of_grids(per_grid, period, territory.grids_under(code), include_ungridded=level == "district",
                                   coverage_of_grids=covered)
            for code in territory.at_level(level)}


class Holder(StrEnum):
    """Who a duty tally is kept for: a person (by an id they report or act under), a grid, a department."""

    PERSON = "person"
    GRID = "grid"
    DEPARTMENT = "department"


_DUTY_AT = {name: i for i, name in enumerate(DUTY_FIELDS)}
DutyKey = tuple[Holder, str]  # (kind of holder, its id)
DutyCell = tuple[Holder, str, str | None]  # the same, and the grid of the cases counted (None: no grid)


@dataclass(frozen=True)
class DutyTally:
    """What the figures of a person, a grid's patrollers or a department count, summed over cases: like
    `Tally`, the tally of a set of cases is the sum of the tallies of its parts."""

    counts: tuple[int, ...]  # in the order of DUTY_FIELDS

    def __getitem__(self, name: str) -> int:
        return self.counts[_DUTY_AT[name]]

    def __add__(self, other: DutyTally) -> DutyTally:
        return DutyTally(tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)))

    def rate(self, numerator: str, denominator: str) -> Rate:
        return Rate(self[numerator], self[denominator])

    @staticmethod
    def total(parts: Iterable[DutyTally]) -> DutyTally:
        rows = [t.counts for t in parts]
        return DutyTally(tuple(sum(column) for column in zip(*rows, strict=True))) if rows else NO_DUTIES


NO_DUTIES = DutyTally((0,) * len(DUTY_FIELDS))
K = TypeVar("K")
Summable = TypeVar("Summable", Tally, DutyTally)


def sum_by_key(*parts: Mapping[K, Summable]) -> dict[K, Summable]:
    """Per key, the sum of the tallies of several sets of cases (per grid or per holder: those counted from
    facts, those counted already)."""
    out: dict[K, Summable] = {}
    for part in parts:
        for key, t in part.items():
            out[key] = out[key] + t if key in out else t
    return out


def duty_tallies(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], period: Period,
                 now: datetime) -> dict[DutyCell, DutyTally]:
    """In one pass over the cases, per holder and grid of the cases: a person's reports decided in the
    period (`discovery_accuracy`) and the verifications they did by `as_of` that fell due in it; per grid,
    the cases registered in it first reported by citizens (`citizen_first_rate`) and the verifications not
    done by `as_of` whose deadline passed in the period (whoever does them later); per department, its handle
    runs due (`on_time_handling`, a reassignment moving them from its time on), the cases it handled first
    (`rework_rate`) and last (`average_handling_time`) and those it holds at `as_of`."""
    as_of = period.as_of(now)
    out: dict[DutyCell, list[int]] = {}

    def add(kind: Holder, holder: str, grid: str | None, name: str, n: int = 1) -> None:
        row = out.get((kind, holder, grid))
        if row is None:
            row = out[(kind, holder, grid)] = [0] * len(DUTY_FIELDS)
        row[_DUTY_AT[name]] += n

    for c in cases:
        grid = c.grid
        if c.reporter is not None:
            decision = accuracy_decision(c, as_of)
            if decision is not None and decision[0] in period:
                add(Holder.PERSON, c.reporter, grid, "reports_decided")
                add(Holder.PERSON, c.reporter, grid, "reports_registered", int(decision[1]))
        if grid is not None and c.registered_at is not None and c.registered_at in period and c.registered_at <= as_of:
            add(Holder.GRID, grid, grid, "registered")
            add(Holder.GRID, grid, grid, "citizen_first", int(c.channel in FOUND_BY_CITIZENS))
        for run in c.runs:
            if run.step is Step.VERIFY or run.step is Step.CHECK:
                done = run.done and run.ended_at is not None and run.ended_at <= as_of
                kind, holder = (Holder.PERSON, run.by) if done else (Holder.GRID, grid)
                if holder is None:
                    continue
                d = run_due(rules, clock, c, run, as_of)
                if d is not None and d.at in period:
                    name = run.step.value
                    add(kind, holder, grid, f"{name}_due")
                    add(kind, holder, grid, f"{name}_on_time", int(d.on_time))
            elif run.step is Step.HANDLE and run.department is not None:
                d = run_due(rules, clock, c, run, as_of)
                if d is not None and d.at in period:
                    add(Holder.DEPARTMENT, run.department, grid, "handling_due")
                    add(Holder.DEPARTMENT, run.department, grid, "handled_on_time", int(d.on_time))
                if run.held_since <= as_of and (run.ended_at is None or run.ended_at > as_of):
                    add(Holder.DEPARTMENT, run.department, grid, "holding")
        first = first_handling(c)
        if first is not None and first.department is not None and first.ended_at is not None \
                and first.ended_at in period and first.ended_at <= as_of:
            add(Holder.DEPARTMENT, first.department, grid, "first_handled")
            add(Holder.DEPARTMENT, first.department, grid, "reworked", int(_reworked(c, as_of)))
        span = _handling_span(c, period, now)
        if span is not None and span[0].department is not None:
            add(Holder.DEPARTMENT, span[0].department, grid, "handled")
            add(Holder.DEPARTMENT, span[0].department, grid, "handling_us", span[1])
    return {key: DutyTally(tuple(row)) for key, row in out.items()}


def by_holder(tallies: Mapping[DutyCell, DutyTally],
              grids: Collection[str] | None = None) -> dict[DutyKey, DutyTally]:
    """The duty tallies per holder, summed over the grids of their cases (`grids`: only these; None: all,
    cases under no grid too)."""
    parts: dict[DutyKey, list[DutyTally]] = defaultdict(list)
    for (kind, holder, grid), t in tallies.items():
        if grids is None or grid in grids:
            parts[(kind, holder)].append(t)
    return {key: DutyTally.total(ts) for key, ts in parts.items()}


@dataclass(frozen=True)
class DepartmentFigures:
    on_time_handling: Rate  # 按期处置率
    rework: Rate  # of the cases it handled first
    average_handling_hours: Mean
    open: int  # cases with it at `as_of`, not yet handled


def duties_of(rules: KpiRules, cases: Sequence[CaseFacts], period: Period, now: datetime, *,
              drill_id: str | None = None, counted: Mapping[DutyKey, DutyTally] | None = None,
              clock: WorkingClock | None = None) -> dict[DutyKey, DutyTally]:
    """The duty tallies per holder of these cases (live or of one drill), plus `counted`: those of further
    cases counted already."""
    scoped = in_scope(cases, drill_id)
    clock = clock or clock_for(rules.calendar, scoped, now)
    return sum_by_key(by_holder(duty_tallies(rules, clock, scoped, period, now)), counted or {})


def departments_of(duties: Mapping[DutyKey, DutyTally]) -> dict[str, DepartmentFigures]:
    """Figures per department (职能部门) with anything due, handled or held: its handle runs, the cases it
    handled first (rework) and last (handling time)."""
    return {holder: DepartmentFigures(t.rate("handled_on_time", "handling_due"), t.rate("reworked", "first_handled"),
                                      Mean.of_microseconds(t["handling_us"], t["handled"]), t["holding"])
            for (kind, holder), t in sorted(duties.items())
            if kind is Holder.DEPARTMENT and any(t.counts)}


def department_figures(rules: KpiRules, cases: Sequence[CaseFacts], period: Period, now: datetime, *,
                       drill_id: str | None = None,
                       counted: Mapping[DutyKey, DutyTally] | None = None) -> dict[str, DepartmentFigures]:
    """`departments_of` the cases in the period (and of those `counted`)."""
    return departments_of(duties_of(rules, cases, period, now, drill_id=drill_id, counted=counted))


@dataclass(frozen=True)
class Patroller:
    """A person assessed as a patroller: the ids they act and report under (person id and GPS unit), and
    the grids they answer for (a grid worker: their grid; a community patroller: its grids)."""

    id: str
    name: str
    aliases: frozenset[str]
    grids: frozenset[str]
    tracked: bool = True  # carries a GPS unit; without one (e.g. an outer-net patroller) no coverage exists: "—"


@dataclass(frozen=True)
class PatrollerFigures:
    valid_reports: Rate  # their reports registered / decided
    missed: Rate  # cases first reported by citizens in their grids / registered there
    verification: Verification
    coverage: Rate

    @property
    def score(self) -> Score:
        return patroller_score(self.valid_reports, self.missed, self.verification.verify, self.verification.check)


def patroller_figures(rules: KpiRules, cases: Sequence[CaseFacts], person: Patroller, period: Period,
                      now: datetime, *, cells: Cells | None = None, visits: Iterable[CellVisit] = (),
                      drill_id: str | None = None) -> PatrollerFigures:
    """A patroller's figures. Their verifications: the ones they did, and the ones nobody did before the
    deadline in the grids they answer for."""
    scoped = in_scope(cases, drill_id)
    duties = by_holder(duty_tallies(rules, clock_for(rules.calendar, scoped, now), scoped, period, now))
    covered = coverage(cells, visits, period, now, person.grids, person.aliases) if cells is not None else NO_RATE
    return figures_of_person(person, duties, covered)


def figures_of_person(person: Patroller, duties: Mapping[DutyKey, DutyTally], covered: Rate) -> PatrollerFigures:
    """A patroller's figures from the duty tallies: those of the ids they act under and of their grids. A
    person who carries no GPS unit has no coverage (shown "—", not 0%)."""
    t = DutyTally.total([*(duties[k] for a in person.aliases if (k := (Holder.PERSON, a)) in duties),
                         *(duties[k] for g in person.grids if (k := (Holder.GRID, g)) in duties)])
    return PatrollerFigures(
        valid_reports=t.rate("reports_registered", "reports_decided"),
        missed=t.rate("citizen_first", "registered"),
        verification=Verification(t.rate("verify_on_time", "verify_due"), t.rate("check_on_time", "check_due")),
        coverage=covered if person.tracked else NO_RATE,
    )


@dataclass(frozen=True)
class Ranked:
    rank: int | None  # None: no score (nothing was due)
    person: Patroller
    figures: PatrollerFigures
    top_three: bool


def ranking(scored: Iterable[tuple[Patroller, PatrollerFigures]]) -> list[Ranked]:
    """Patrollers by composite score, best first; equal scores share a rank (1, 2, 2, 4) and ties are listed
    by id; the top three ranks are flagged (more than three people when they tie). No score: listed last,
    unranked."""
    rows = sorted(scored, key=lambda pf: (pf[1].score.exact is None, -(pf[1].score.exact or 0), pf[0].id))
    out: list[Ranked] = []
    previous: Fraction | None = None
    rank = 0
    for position, (person, figures) in enumerate(rows, start=1):
        value = figures.score.exact
        if value is None:
            out.append(Ranked(None, person, figures, False))
            continue
        if previous is None or value != previous:
            rank = position
        previous = value
        out.append(Ranked(rank, person, figures, rank <= 3))
    return out


def ranking_of(people: Iterable[Patroller], duties: Mapping[DutyKey, DutyTally],
               coverage_of: Callable[[Patroller], Rate]) -> list[Ranked]:
    """`ranking` of the patrollers from the duty tallies and their coverage."""
    return ranking((p, figures_of_person(p, duties, coverage_of(p))) for p in people)
