"""The four rates of patrol assessment (四率): discovery timeliness and accuracy, verification timeliness."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from feeds.cases.machine import Step
from feeds.kpis.deadlines import Due, run_due
from feeds.kpis.facts import CaseFacts, StepRun
from feeds.kpis.values import DECISIVE_REJECTIONS, FOUND_BY_PATROL, KpiRules, Period, Rate
from feeds.kpis.worktime import WorkingClock
from feeds.schemas import ReportChannel


def discovery_delay(case: CaseFacts) -> timedelta | None:
    return None if case.occurred_at is None else case.reported_at - case.occurred_at


def timely_discovery(rules: KpiRules, case: CaseFacts) -> bool:
    """Found within its category's limit of arising; when nobody knows when it arose: found by a patrol or
    a camera is timely, found by a citizen or the hotline first is late (监督举报 / 漏报)."""
    delay = discovery_delay(case)
    if delay is None:
        return case.channel in FOUND_BY_PATROL
    return delay <= rules.discovery_limit_of(case.category)


def discovery_items(rules: KpiRules, cases: Iterable[CaseFacts], period: Period,
                    now: datetime) -> Iterator[tuple[CaseFacts, bool]]:
    """What 发现及时率 counts: each registered case (立案 or self-handled) first reported in the period, and
    whether it was found in time."""
    as_of = period.as_of(now)
    for c in cases:
        if c.reported_at in period and c.registered_by(as_of):
            yield c, timely_discovery(rules, c)


def discovery_timeliness(rules: KpiRules, cases: Iterable[CaseFacts], period: Period, now: datetime) -> Rate:
    """发现及时率: registered cases (立案 or self-handled) first reported in the period."""
    return Rate.of(timely for _, timely in discovery_items(rules, cases, period, now))


def accuracy_decision(case: CaseFacts, as_of: datetime) -> tuple[datetime, bool] | None:
    """(when, registered?) for a case decided by `as_of`; None for undecided ones and duplicates."""
    if case.registered_at is not None and case.registered_at <= as_of:
        return case.registered_at, True
    if case.rejected_at is not None and case.rejected_at <= as_of and case.reject_reason in DECISIVE_REJECTIONS:
        return case.rejected_at, False
    return None


def accuracy_items(cases: Iterable[CaseFacts], period: Period,
                   now: datetime) -> Iterator[tuple[CaseFacts, datetime, bool]]:
    """What 发现准确率 counts: each report decided in the period, when, and whether it was registered."""
    as_of = period.as_of(now)
    for c in cases:
        if (d := accuracy_decision(c, as_of)) is not None and d[0] in period:
            yield c, d[0], d[1]


def discovery_accuracy(cases: Iterable[CaseFacts], period: Period, now: datetime) -> Rate:
    """发现准确率: reports registered (立案 or self-handled) / reports decided (registered, or rejected as untrue
    or out of scope) in the period. Merged duplicates never opened a case; rejected duplicates are skipped."""
    return Rate.of(registered for _, _, registered in accuracy_items(cases, period, now))


def accuracy_by_channel(cases: Iterable[CaseFacts], period: Period, now: datetime) -> dict[str, Rate]:
    """Accuracy per source channel; the camera's is the true positives among the AI alerts decided."""
    by: dict[str, list[CaseFacts]] = defaultdict(list)
    for c in cases:
        by[c.channel].append(c)
    return {ch.value: discovery_accuracy(by.get(ch.value, []), period, now) for ch in ReportChannel}


def runs_due_items(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], steps: Collection[Step],
                   period: Period, now: datetime, who: Callable[[CaseFacts, StepRun], bool] | None = None
                   ) -> Iterator[tuple[CaseFacts, StepRun, Due]]:
    """Each run of these steps that fell due in the period (done, or its deadline passed undone), and how."""
    as_of = period.as_of(now)
    for c in cases:
        for run in c.runs:
            if run.step in steps and (who is None or who(c, run)):
                d = run_due(rules, clock, c, run, as_of)
                if d is not None and d.at in period:
                    yield c, run, d


def _runs_due(rules: KpiRules, clock: WorkingClock, cases: Iterable[CaseFacts], steps: Collection[Step],
              period: Period, now: datetime, who: Callable[[CaseFacts, StepRun], bool] | None = None) -> Rate:
    return Rate.of(d.on_time for _, _, d in runs_due_items(rules, clock, cases, steps, period, now, who))


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
