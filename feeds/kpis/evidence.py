"""The evidence behind a figure: every case (or verification, or handling) it counts, whether it counts in the
numerator, and the fact that decided it. Pure, like the figures, and made from the very decisions they tally
(`discovery_items`, `accuracy_items`, `runs_due_items`, `closure_items`, `rework_items`, `open_items`,
`handling_items`, `dispatch_items`): a rate's evidence lists its denominator's items, and those marked counted are
its numerator, always; an average's lists the spans it averages.

Each row's fact is data (the times, the limit, the outcome), not words: the screens and the export say it in
their language (dashboard/views/evidence.py).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from feeds.cases.machine import Step
from feeds.kpis.closure import (
    citizen_first_rate,
    closure_items,
    dispatch_items,
    handling_items,
    open_items,
    rework_items,
)
from feeds.kpis.coverage import Cells, CellVisit
from feeds.kpis.deadlines import run_deadline
from feeds.kpis.facts import CaseFacts
from feeds.kpis.panels import Duty, DutyItem, Holder, Patroller, duty_items
from feeds.kpis.rates import accuracy_items, discovery_delay, discovery_items, runs_due_items
from feeds.kpis.scores import Score, area_case_count_score, area_score, patroller_score
from feeds.kpis.values import KpiRules, Mean, Period, Rate
from feeds.kpis.worktime import WorkingClock

# the figures with evidence, as the leader page's cards name them
FIGURES = ("discovery_timeliness", "discovery_accuracy", "verification", "closure", "on_time_closure", "rework",
           "on_time_handling", "open", "overdue", "average_handling_hours",
           "average_dispatch_hours")  # from the cases' facts; coverage from the cells walked
COUNTS = ("open", "overdue", "holding")  # figures that are a count: every row is in it
MEANS = ("average_handling_hours", "average_dispatch_hours")  # figures that are an average of the rows' spans
WITH_EVIDENCE = (*FIGURES, "coverage", "score")  # the area's score: its parts, each from the cases' facts
# a patroller's figures (the ranking's columns, and the parts of their score) and what each lists
PERSON_FIGURES: dict[str, tuple[Duty, ...]] = {
    "valid_reports": (Duty.REPORT,), "missed": (Duty.REGISTERED,), "verification": (Duty.VERIFY, Duty.CHECK),
    "verify": (Duty.VERIFY,), "check": (Duty.CHECK,), "coverage": (), "score": ()}
# a department's figures (the departments table's columns) and what each lists
DEPARTMENT_FIGURES: dict[str, tuple[Duty, ...]] = {
    "on_time_handling": (Duty.HANDLING,), "rework": (Duty.FIRST_HANDLED,), "average_handling_hours": (Duty.HANDLED,),
    "holding": (Duty.HOLDING,)}
HOLDERS = {"person": PERSON_FIGURES, "department": DEPARTMENT_FIGURES}  # whose evidence: what it may be of


@dataclass(frozen=True)
class Evidence:
    """One item a figure counts: a case (or one of its verifications or handlings), whether it is in the
    numerator, when it fell in the period, and what decided it (`fact` names the kind, `facts` the values).
    Coverage counts cell-days: its row is a grid's day, `whole` its cells and `part` those visited."""

    case_id: str  # "" for a grid's day of coverage
    grid: str | None
    category: str
    channel: str
    counted: bool
    at: datetime
    fact: str
    facts: dict[str, Any] = field(default_factory=dict)
    whole: int = 1  # what the row puts in the denominator
    part: int | None = None  # what it puts in the numerator (None: all of `whole` when counted, else none)

    @property
    def numerator(self) -> int:
        return self.part if self.part is not None else (self.whole if self.counted else 0)


def mean_of(rows: Iterable[Evidence]) -> Mean:
    """An average's figure from its rows: their spans (whole microseconds) added, over how many there are."""
    spans = [r.facts["span_us"] for r in rows]
    return Mean.of_microseconds(sum(spans), len(spans))


def score_evidence(cases: Iterable[CaseFacts], rules: KpiRules, clock: WorkingClock, grids: Collection[str],
                   period: Period, now: datetime) -> list[Evidence]:
    """The area score's items: its four parts (feeds/kpis/scores.area_score), each with its weight and value,
    worked out again from the cases' facts: the citizen-first rate, the grids' case-count score, and closure and
    on-time closure from their own evidence. A part without a value (nothing was due) counts for nothing, and
    the others' weights are scaled back to 100%."""
    cases = list(cases)
    due = closed = on_time = 0
    for _, _, d, done in closure_items(rules, clock, cases, period, now):  # as the closure evidence decides them
        due, closed, on_time = due + 1, closed + done, on_time + d.on_time
    score = area_score(citizen_first_rate(cases, period, now), area_case_count_score(cases, grids, period, now),
                       Rate(closed, due), Rate(on_time, due))
    return _parts(score, period.start, len(grids) * len(period.months))


def _parts(score: Score, start: datetime, grids: int | None = None) -> list[Evidence]:
    """A score's parts as rows: each with its weight and value (`grids`: the grid-months the case-count part
    averages)."""
    return [Evidence("", None, name, "", value is not None, start, "part",
                     {"part": name, "weight": weight, "value": value, "grids": grids if name == "case_count" else None})
            for name, weight, value in score.parts]


def score_of(rows: Iterable[Evidence]) -> Score:
    """The score its parts make (what the card shows, exactly)."""
    return Score(tuple((r.facts["part"], r.facts["weight"], r.facts["value"]) for r in rows))


def rate_of(rows: Iterable[Evidence]) -> Rate:
    numerator = denominator = 0
    for r in rows:
        numerator += r.numerator
        denominator += r.whole
    return Rate(numerator, denominator)


def coverage_evidence(cells: Cells, visits: Iterable[CellVisit], period: Period, now: datetime,
                      grids: Collection[str] | None = None) -> list[Evidence]:
    """发现覆盖率's items: each grid's day (of the days of the period that have begun), its cells visited by any
    patrol's track of all its cells, and the cells missed; `grids`: the area (None: all)."""
    days = period.days(now)
    by_grid: dict[str, list[str]] = defaultdict(list)
    for code, grid in zip(cells.codes, cells.grids, strict=True):
        if grids is None or grid in grids:
            by_grid[grid].append(code)
    seen = {(d, cell) for d, _, cell in visits}
    rows = []
    for day in days:
        start = datetime.combine(day, time(), period.zone)
        for grid in sorted(by_grid):
            mine = by_grid[grid]
            missed = [c for c in mine if (day, c) not in seen]
            visited = len(mine) - len(missed)
            rows.append(Evidence("", grid, "", "", not missed, start, "coverage",
                                 {"day": day, "visited": visited, "cells": len(mine), "missed": missed},
                                 whole=len(mine), part=visited))
    return rows


def evidence(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], period: Period, now: datetime,
             figure: str) -> list[Evidence]:
    """The items of `figure` (one of FIGURES) among these cases for the period, as things stood at
    `period.as_of(now)`, oldest first."""
    if figure not in FIGURES:
        raise ValueError(f"no evidence for {figure!r}: one of {', '.join(FIGURES)}")
    rows = list(_items(rules, clock, list(cases), period, now, figure))
    rows.sort(key=lambda r: (r.at, r.case_id))
    return rows


def _row(c: CaseFacts, counted: bool, at: datetime, fact: str, **facts: Any) -> Evidence:
    return Evidence(c.id, c.grid, c.category, c.channel, counted, at, fact, facts)


def _items(rules: KpiRules, clock: WorkingClock, cases: list[CaseFacts], period: Period, now: datetime,
           figure: str) -> Iterator[Evidence]:
    if figure == "discovery_timeliness":
        for c, timely in discovery_items(rules, cases, period, now):
            delay = discovery_delay(c)
            yield _row(c, timely, c.reported_at, "discovery", reported=c.reported_at, occurred=c.occurred_at,
                       limit_h=rules.discovery_limit_of(c.category).total_seconds() / 3600,
                       delay_h=None if delay is None else delay.total_seconds() / 3600, first_by=c.channel)
    elif figure == "discovery_accuracy":
        for c, at, registered in accuracy_items(cases, period, now):
            yield _row(c, registered, at, "decision", reported=c.reported_at,
                       outcome="registered" if registered else c.reject_reason)
    elif figure in ("verification", "on_time_handling"):
        steps = (Step.VERIFY, Step.CHECK) if figure == "verification" else (Step.HANDLE,)
        for c, run, d in runs_due_items(rules, clock, cases, steps, period, now):
            yield _row(c, d.on_time, d.at, "run", step=run.step.value, started=run.started_at,
                       deadline=run_deadline(rules, clock, c, run), done=run.ended_at if run.done else None,
                       department=run.department)
    elif figure in ("closure", "on_time_closure"):
        for c, deadline, d, closed in closure_items(rules, clock, cases, period, now):
            yield _row(c, closed if figure == "closure" else d.on_time, d.at, "closure", deadline=deadline,
                       closed=c.closed_at if closed else None)
    elif figure in COUNTS:
        for c, open_run, step_due, overdue in open_items(rules, clock, cases, period, now):
            if figure == "open" or overdue:
                yield _row(c, True, c.reported_at, "open", reported=c.reported_at,
                           step=None if open_run is None else open_run.step.value,
                           since=None if open_run is None else open_run.started_at, deadline=step_due,
                           overdue=overdue)
    elif figure == "average_handling_hours":
        for c, run, span_us in handling_items(cases, period, now):
            yield _row(c, True, run.ended_at or c.reported_at, "span", kind="handling", start=c.dispatched_at,
                       end=run.ended_at, span_us=span_us, department=run.department)
    elif figure == "average_dispatch_hours":
        for c, span_us in dispatch_items(cases, period, now):
            yield _row(c, True, c.dispatched_at or c.reported_at, "span", kind="dispatch", start=c.registered_at,
                       end=c.dispatched_at, span_us=span_us)
    else:  # rework
        for c, reworked in rework_items(cases, period, now):
            assert c.first_handled_at is not None
            yield _row(c, reworked, c.first_handled_at, "rework", handled=c.first_handled_at)


def person_evidence(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], person: Patroller, period: Period,
                    now: datetime, figure: str) -> list[Evidence]:
    """The items of a patroller's `figure` (one of PERSON_FIGURES but coverage) among these cases, as the
    ranking counts them (feeds/kpis/panels.duty_items): their reports decided, the cases registered in the
    grids they answer for, the verifications they did and those nobody did in time in their grids; their
    score's four parts, each worked out again from those items."""
    if figure not in PERSON_FIGURES or figure == "coverage":
        raise ValueError(f"no evidence of a person's {figure!r}: one of {', '.join(PERSON_FIGURES)} (coverage "
                         "from the cells walked)")
    aliases, grids = person.aliases, person.grids
    maybe = [c for c in cases  # the cases that can hold an item of theirs (a case's items are its own)
             if c.reporter in aliases or c.grid in grids or any(r.by in aliases for r in c.runs)]
    return _person_rows(rules, clock, _theirs(duty_items(rules, clock, maybe, period, now), person), figure, period,
                        now)


def department_evidence(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], department: str,
                        period: Period, now: datetime, figure: str) -> list[Evidence]:
    """The items of a department's `figure` (one of DEPARTMENT_FIGURES) among these cases, as its figures count
    them: its handle runs due, the cases it handled first, those it handled last in the period (their spans)
    and those it holds."""
    if figure not in DEPARTMENT_FIGURES:
        raise ValueError(f"no evidence of a department's {figure!r}: one of {', '.join(DEPARTMENT_FIGURES)}")
    maybe = [c for c in cases if any(r.department == department for r in c.runs)]  # theirs are in handle runs
    mine = [i for i in duty_items(rules, clock, maybe, period, now)
            if i.kind is Holder.DEPARTMENT and i.holder == department]
    return _duty_rows(rules, clock, mine, DEPARTMENT_FIGURES[figure], period, now)


def holders_evidence(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], people: Iterable[Patroller],
                     period: Period, now: datetime
                     ) -> tuple[dict[str, dict[str, list[Evidence]]], dict[str, dict[str, list[Evidence]]]]:
    """In one pass over the cases, the evidence of every figure (but coverage) of each of `people` (by id) and of
    every department with anything to answer for (by code): the monthly assessment's sheets."""
    items = list(duty_items(rules, clock, cases, period, now))
    persons = {p.id: {f: _person_rows(rules, clock, mine, f, period, now) for f in PERSON_FIGURES if f != "coverage"}
               for p in people for mine in (_theirs(items, p),)}
    by_department: dict[str, list[DutyItem]] = defaultdict(list)
    for i in items:
        if i.kind is Holder.DEPARTMENT:
            by_department[i.holder].append(i)
    departments = {code: {f: _duty_rows(rules, clock, mine, duties, period, now)
                          for f, duties in DEPARTMENT_FIGURES.items()}
                   for code, mine in sorted(by_department.items())}
    return persons, departments


def _theirs(items: Iterable[DutyItem], person: Patroller) -> list[DutyItem]:
    """What a patroller answers for: the items of the ids they act under, and of the grids they answer for."""
    return [i for i in items if (i.kind is Holder.PERSON and i.holder in person.aliases)
            or (i.kind is Holder.GRID and i.holder in person.grids)]


def _person_rows(rules: KpiRules, clock: WorkingClock, mine: Sequence[DutyItem], figure: str, period: Period,
                 now: datetime) -> list[Evidence]:
    if figure == "score":
        def rate(duty: Duty) -> Rate:  # from the items themselves: a part needs their count, not their rows
            of = [i.counted for i in mine if i.duty is duty]
            return Rate(sum(of), len(of))
        return _parts(patroller_score(rate(Duty.REPORT), rate(Duty.REGISTERED), rate(Duty.VERIFY), rate(Duty.CHECK)),
                      period.start)
    return _duty_rows(rules, clock, mine, PERSON_FIGURES[figure], period, now)


def _duty_rows(rules: KpiRules, clock: WorkingClock, items: Iterable[DutyItem], duties: Collection[Duty],
               period: Period, now: datetime) -> list[Evidence]:
    rows = [_duty_row(rules, clock, i, period, now) for i in items if i.duty in duties]
    rows.sort(key=lambda r: (r.at, r.case_id))
    return rows


def _duty_row(rules: KpiRules, clock: WorkingClock, item: DutyItem, period: Period, now: datetime) -> Evidence:
    """A holder's item as a row, with the fact that decided it (the same facts as an area's rows of the same
    kind)."""
    c, run, at = item.case, item.run, item.at
    if item.duty is Duty.REPORT:
        return _row(c, item.counted, at, "decision", reported=c.reported_at,
                    outcome="registered" if item.counted else c.reject_reason)
    if item.duty is Duty.REGISTERED:
        return _row(c, item.counted, at, "registered", registered=at, first_by=c.channel)
    assert run is not None
    if item.duty is Duty.FIRST_HANDLED:
        return _row(c, item.counted, at, "rework", handled=at)
    if item.duty is Duty.HANDLED:
        return _row(c, True, at, "span", kind="handling", start=c.dispatched_at, end=run.ended_at,
                    span_us=item.span_us, department=run.department)
    deadline = run_deadline(rules, clock, c, run)
    if item.duty is Duty.HOLDING:
        return _row(c, True, at, "open", reported=c.reported_at, step=run.step.value, since=run.held_since,
                    deadline=deadline, overdue=deadline < period.as_of(now))
    return _row(c, item.counted, at, "run", step=run.step.value, started=run.started_at, deadline=deadline,
                done=run.ended_at if run.done else None, department=run.department)
