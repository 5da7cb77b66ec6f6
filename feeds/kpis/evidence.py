"""The evidence behind a figure: every case (or verification, or handling) it counts, whether it counts in the
numerator, and the fact that decided it. Pure, like the figures, and made from the very decisions they tally
(`discovery_items`, `accuracy_items`, `runs_due_items`, `closure_items`, `rework_items`): a figure's evidence
lists its denominator's items, and those marked counted are its numerator, always.

Each row's fact is data (the times, the limit, the outcome), not words: the screens and the export say it in
their language (dashboard/views/evidence.py).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from feeds.cases.machine import Step
from feeds.kpis.closure import closure_items, rework_items
from feeds.kpis.deadlines import run_deadline
from feeds.kpis.facts import CaseFacts
from feeds.kpis.rates import accuracy_items, discovery_delay, discovery_items, runs_due_items
from feeds.kpis.values import KpiRules, Period, Rate
from feeds.kpis.worktime import WorkingClock

# the figures with evidence, as the leader page's cards name them
FIGURES = ("discovery_timeliness", "discovery_accuracy", "verification", "closure", "on_time_closure", "rework",
           "on_time_handling")


@dataclass(frozen=True)
class Evidence:
    """One item a figure counts: a case (or one of its verifications or handlings), whether it is in the
    numerator, when it fell in the period, and what decided it (`fact` names the kind, `facts` the values)."""

    case_id: str
    grid: str | None
    category: str
    channel: str
    counted: bool
    at: datetime
    fact: str
    facts: dict[str, Any] = field(default_factory=dict)


def rate_of(rows: Iterable[Evidence]) -> Rate:
    return Rate.of(r.counted for r in rows)


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
    else:  # rework
        for c, reworked in rework_items(cases, period, now):
            assert c.first_handled_at is not None
            yield _row(c, reworked, c.first_handled_at, "rework", handled=c.first_handled_at)
