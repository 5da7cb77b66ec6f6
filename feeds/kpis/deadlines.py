"""When each step run was due, and whether it was done on time, as things stood at `as_of`."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from feeds.calendar import LimitUnit
from feeds.cases.machine import Step
from feeds.kpis.facts import CaseFacts, StepRun
from feeds.kpis.values import KpiRules
from feeds.kpis.worktime import WorkingClock


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
