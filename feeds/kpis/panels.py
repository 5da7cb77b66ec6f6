"""The panels: an area's figures from its cases, tallies that add up across batches, duties per holder,
departments and patrollers, and the ranking."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from feeds.cases.machine import Step
from feeds.kpis.areas import Territory
from feeds.kpis.closure import (
    _dispatch_spans,
    _handling_span,
    _handling_spans,
    _reworked,
    citizen_first_rate,
    closure,
    first_handling,
    on_time_handling,
    open_count,
    overdue_count,
    rework_rate,
)
from feeds.kpis.coverage import Cells, CellVisit, GridMonth, area_coverage, coverage, coverage_by_grid
from feeds.kpis.deadlines import run_due
from feeds.kpis.facts import CaseFacts, StepRun, in_scope
from feeds.kpis.rates import (
    Verification,
    accuracy_by_channel,
    accuracy_decision,
    discovery_accuracy,
    discovery_timeliness,
    verification_timeliness,
)
from feeds.kpis.scores import (
    Score,
    area_score,
    case_count_score_of,
    patroller_score,
    registered_by_grid_month,
)
from feeds.kpis.values import FOUND_BY_CITIZENS, NO_RATE, KpiRules, Mean, Period, Rate
from feeds.kpis.worktime import WorkingClock, clock_for
from feeds.schemas import ReportChannel
from feeds.store.models import DUTY_FIELDS, TALLY_FIELDS


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


class Duty(StrEnum):
    """What a holder answers for in a case (a duty tally's columns, in pairs: `DUTY_COLUMNS`)."""

    REPORT = "report"  # a person's report decided (numerator: registered)
    REGISTERED = "registered"  # a case registered in a grid (numerator: first reported by citizens)
    VERIFY = "verify"  # a 核实 due (numerator: on time)
    CHECK = "check"  # a 核查 due (numerator: on time)
    HANDLING = "handling"  # a department's handle run due (numerator: on time)
    HOLDING = "holding"  # a case a department holds
    FIRST_HANDLED = "first_handled"  # a case a department handled first (numerator: reworked)
    HANDLED = "handled"  # a case a department handled last in the period (its span, in microseconds)


# per duty: the tally's column its items are counted in, and the one its counted items add to (None: none)
DUTY_COLUMNS: dict[Duty, tuple[str, str | None]] = {
    Duty.REPORT: ("reports_decided", "reports_registered"), Duty.REGISTERED: ("registered", "citizen_first"),
    Duty.VERIFY: ("verify_due", "verify_on_time"), Duty.CHECK: ("check_due", "check_on_time"),
    Duty.HANDLING: ("handling_due", "handled_on_time"), Duty.HOLDING: ("holding", None),
    Duty.FIRST_HANDLED: ("first_handled", "reworked"), Duty.HANDLED: ("handled", None),
}


class DutyItem(NamedTuple):
    """One thing a holder answers for in a case, whether it counts in the numerator, when it fell, and what
    decided it (`run`: the step run it is about; `span_us`: a handling's span)."""

    kind: Holder
    holder: str
    duty: Duty
    case: CaseFacts
    counted: bool
    at: datetime
    run: StepRun | None = None
    span_us: int = 0


def duty_items(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], period: Period,
               now: datetime) -> Iterator[DutyItem]:
    """In one pass over the cases, what each holder answers for: a person's reports decided in the period
    (`discovery_accuracy`) and the verifications they did by `as_of` that fell due in it; per grid, the cases
    registered in it first reported by citizens (`citizen_first_rate`) and the verifications not done by `as_of`
    whose deadline passed in the period (whoever does them later); per department, its handle runs due
    (`on_time_handling`, a reassignment moving them from its time on), the cases it handled first
    (`rework_rate`) and last (`average_handling_time`) and those it holds at `as_of`. The duty tallies count
    these, and the evidence of a person or a department lists them."""
    as_of = period.as_of(now)
    for c in cases:
        grid = c.grid
        if c.reporter is not None:
            decision = accuracy_decision(c, as_of)
            if decision is not None and decision[0] in period:
                yield DutyItem(Holder.PERSON, c.reporter, Duty.REPORT, c, decision[1], decision[0])
        if grid is not None and c.registered_at is not None and c.registered_at in period and c.registered_at <= as_of:
            yield DutyItem(Holder.GRID, grid, Duty.REGISTERED, c, c.channel in FOUND_BY_CITIZENS, c.registered_at)
        for run in c.runs:
            if run.step is Step.VERIFY or run.step is Step.CHECK:
                done = run.done and run.ended_at is not None and run.ended_at <= as_of
                kind, holder = (Holder.PERSON, run.by) if done else (Holder.GRID, grid)
                if holder is None:
                    continue
                d = run_due(rules, clock, c, run, as_of)
                if d is not None and d.at in period:
                    yield DutyItem(kind, holder, Duty.VERIFY if run.step is Step.VERIFY else Duty.CHECK, c,
                                   d.on_time, d.at, run)
            elif run.step is Step.HANDLE and run.department is not None:
                d = run_due(rules, clock, c, run, as_of)
                if d is not None and d.at in period:
                    yield DutyItem(Holder.DEPARTMENT, run.department, Duty.HANDLING, c, d.on_time, d.at, run)
                if run.held_since <= as_of and (run.ended_at is None or run.ended_at > as_of):
                    yield DutyItem(Holder.DEPARTMENT, run.department, Duty.HOLDING, c, True, run.held_since, run)
        first = first_handling(c)
        if first is not None and first.department is not None and first.ended_at is not None \
                and first.ended_at in period and first.ended_at <= as_of:
            yield DutyItem(Holder.DEPARTMENT, first.department, Duty.FIRST_HANDLED, c, _reworked(c, as_of),
                           first.ended_at, first)
        span = _handling_span(c, period, now)
        if span is not None:
            last, span_us = span
            if last.department is not None and last.ended_at is not None:
                yield DutyItem(Holder.DEPARTMENT, last.department, Duty.HANDLED, c, True, last.ended_at, last,
                               span_us)


_DUTY_INDEX = {duty: (_DUTY_AT[whole], None if part is None else _DUTY_AT[part])
               for duty, (whole, part) in DUTY_COLUMNS.items()}
_SPAN_AT = _DUTY_AT["handling_us"]


def duty_tallies(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], period: Period,
                 now: datetime) -> dict[DutyCell, DutyTally]:
    """The `duty_items` of the cases counted per holder and grid of the cases."""
    out: dict[DutyCell, list[int]] = {}
    for item in duty_items(rules, clock, cases, period, now):
        key = (item.kind, item.holder, item.case.grid)
        row = out.get(key)
        if row is None:
            row = out[key] = [0] * len(DUTY_FIELDS)
        whole, part = _DUTY_INDEX[item.duty]
        row[whole] += 1
        if part is not None and item.counted:
            row[part] += 1
        if item.duty is Duty.HANDLED:
            row[_SPAN_AT] += item.span_us
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
