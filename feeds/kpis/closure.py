"""Closure and handling: closure rates, rework, open and overdue counts, handling and dispatch times."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from feeds.cases.machine import Step
from feeds.kpis.deadlines import Due, due, handling_deadline, run_deadline
from feeds.kpis.facts import CaseFacts, StepRun
from feeds.kpis.rates import _runs_due
from feeds.kpis.values import FOUND_BY_CITIZENS, KpiRules, Mean, Period, Rate
from feeds.kpis.worktime import _US, WorkingClock


@dataclass(frozen=True)
class Closure:
    closure: Rate  # 结案率
    on_time: Rate  # 按期结案率


def closure_items(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], period: Period,
                  now: datetime) -> Iterator[tuple[CaseFacts, datetime, Due, bool]]:
    """What 结案率 and 按期结案率 count: each case due to close in the period, its handling deadline, how it fell
    due (on time: closed no later than the deadline), and whether it was closed by `as_of`."""
    as_of = period.as_of(now)
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
        yield c, deadline, d, c.closed_at is not None and c.closed_at <= as_of


def closure(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], period: Period,
            now: datetime) -> Closure:
    """Cases due to close in the period: registered cases whose handling deadline (`handling_deadline`) fell
    in the period, plus those closed in the period before their deadline. Closed: by `as_of`; on time: closed
    no later than the deadline. A voided case is not due, nor one parked (挂账) at `as_of` while its deadline
    still ran (parked after the deadline passed, the miss stands)."""
    items = list(closure_items(rules, clock, cases, period, now))
    return Closure(Rate.of(closed for *_, closed in items), Rate.of(d.on_time for _, _, d, _ in items))


def rework_items(cases: Iterable[CaseFacts], period: Period, now: datetime) -> Iterator[tuple[CaseFacts, bool]]:
    """What 返工率 counts: each case first handled in the period, and whether it was sent back after a failed
    check (by `as_of`)."""
    as_of = period.as_of(now)
    for c in cases:
        if c.first_handled_at is not None and c.first_handled_at in period and c.first_handled_at <= as_of:
            yield c, _reworked(c, as_of)


def rework_rate(cases: Iterable[CaseFacts], period: Period, now: datetime) -> Rate:
    """返工率: cases first handled in the period that were sent back after a failed check (by `as_of`)."""
    return Rate.of(reworked for _, reworked in rework_items(cases, period, now))


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


def open_items(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], period: Period,
               now: datetime) -> Iterator[tuple[CaseFacts, StepRun | None, datetime | None, bool]]:
    """Each case open at `as_of` (reported, not closed, rejected or voided; parked ones included): its open
    step's run and deadline (None between steps), and whether that deadline has passed (red on the map)."""
    as_of = period.as_of(now)
    for c in cases:
        if not c.open_at(as_of):
            continue
        run = next((r for r in c.runs if r.started_at <= as_of and (r.ended_at is None or r.ended_at > as_of)), None)
        deadline = None if run is None else run_deadline(rules, clock, c, run)
        yield c, run, deadline, deadline is not None and deadline < as_of


def open_count(cases: Iterable[CaseFacts], period: Period, now: datetime) -> int:
    """Cases open (reported, not closed, rejected or voided; parked ones included) at `as_of`."""
    as_of = period.as_of(now)
    return sum(c.open_at(as_of) for c in cases)


def overdue_count(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], period: Period,
                  now: datetime) -> int:
    """Open cases whose open step is past its deadline at `as_of` (red on the map)."""
    return sum(overdue for *_, overdue in open_items(rules, clock, cases, period, now))


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


def handling_items(cases: Iterable[CaseFacts], period: Period, now: datetime
                   ) -> Iterator[tuple[CaseFacts, StepRun, int]]:
    """The average handling time's items: each case last handled in the period after a dispatch, that handle
    run, and the microseconds from its first dispatch to it."""
    for c in cases:
        if (span := _handling_span(c, period, now)) is not None:
            yield c, span[0], span[1]


def dispatch_items(cases: Iterable[CaseFacts], period: Period, now: datetime) -> Iterator[tuple[CaseFacts, int]]:
    """The average dispatch time's items: each case first dispatched in the period, and the microseconds from
    its registration to that dispatch."""
    for c in cases:
        if (c.dispatched_at is not None and c.registered_at is not None and c.dispatched_at in period
                and c.dispatched_at <= now):
            yield c, (c.dispatched_at - c.registered_at) // _US


def _handling_spans(cases: Iterable[CaseFacts], period: Period, now: datetime) -> tuple[int, int]:
    spans = [span for _, _, span in handling_items(cases, period, now)]
    return sum(spans), len(spans)


def _dispatch_spans(cases: Iterable[CaseFacts], period: Period, now: datetime) -> tuple[int, int]:
    spans = [span for _, span in dispatch_items(cases, period, now)]
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
