"""Deadlines of open steps, and escalation of overdue cases (逾期升级), pure.

A step's deadline comes from its category's limit for that step and the case's urgency (feeds/taxonomy.py),
the working calendar (feeds/calendar.py), and any extension granted (added in the limit's own kind of
hours). An overdue case goes up one level for each whole limit it is late by: just overdue → community,
twice the limit used → street, three times → district. Escalation is a command like any other, from the
user "system", so it goes through the pipeline and leaves its audit row.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from feeds.calendar import Limit, LimitUnit, WorkingCalendar
from feeds.cases.machine import LEVELS, OPEN_STEP, CaseState
from feeds.clock import from_ms, ms
from feeds.taxonomy import Taxonomy

SYSTEM = "system"
LEVEL_NAMES = {"grid": "网格", "community": "社区", "street": "街道", "district": "区"}


@dataclass(frozen=True)
class OpenStep:
    case_id: str
    category: str
    urgent: bool
    state: str
    level: str
    version: int
    step_started_at: datetime
    extended_hours: float


def step_limit(taxonomy: Taxonomy, calendar: WorkingCalendar, case: OpenStep) -> Limit | None:
    """The open step's limit, with any extension granted to the handle step added to it."""
    step = OPEN_STEP.get(CaseState(case.state))
    if step is None:
        return None
    limit = taxonomy[case.category].limit(step, case.urgent)
    if not case.extended_hours or step != "handle":
        return limit
    if limit.unit is LimitUnit.CALENDAR_HOURS:
        return Limit(limit.amount + case.extended_hours, LimitUnit.CALENDAR_HOURS)
    hours = limit.amount * (calendar.hours_per_day if limit.unit is LimitUnit.WORKING_DAYS else 1)
    return Limit(hours + case.extended_hours, LimitUnit.WORKING_HOURS)


def deadline(taxonomy: Taxonomy, calendar: WorkingCalendar, case: OpenStep) -> datetime | None:
    limit = step_limit(taxonomy, calendar, case)
    return None if limit is None else calendar.deadline(case.step_started_at, limit)


def with_clock(taxonomy: Taxonomy, calendar: WorkingCalendar, view: dict[str, Any]) -> dict[str, Any]:
    """A case view with its open step's clock: `deadline` and `amber` (when the light turns amber) in epoch
    ms, None for a case with no open step. A screen colours the case and counts down from these alone:
    green before `amber`, amber to `deadline`, red after."""
    case = OpenStep(view["id"], view["category"], view["urgent"], view["state"], view["level"], view["version"],
                    from_ms(view["step_started"]), view["extended_hours"])
    limit = step_limit(taxonomy, calendar, case)
    if limit is None:
        return {**view, "deadline": None, "amber": None}
    amber, due = calendar.step_clock(case.step_started_at, limit)
    return {**view, "deadline": ms(due), "amber": ms(amber)}


def due_level(taxonomy: Taxonomy, calendar: WorkingCalendar, case: OpenStep, now: datetime) -> str:
    """The level an open case should be at now: one up for each whole limit it is late by."""
    limit = step_limit(taxonomy, calendar, case)
    if limit is None:
        return case.level
    used = calendar.used(case.step_started_at, limit, now)
    if used <= 1.0:
        return case.level
    steps_up = min(len(LEVELS) - 1, int(used))  # 1.0–2.0 → one level, 2.0–3.0 → two, …
    return LEVELS[max(LEVELS.index(case.level), min(len(LEVELS) - 1, steps_up))]


def escalations(taxonomy: Taxonomy, calendar: WorkingCalendar, cases: list[OpenStep],
                now: datetime) -> list[tuple[OpenStep, str]]:
    """(case, reason) for every case that should go up one level now."""
    out = []
    for case in cases:
        target = due_level(taxonomy, calendar, case, now)
        if LEVELS.index(target) > LEVELS.index(case.level):
            late = now - (deadline(taxonomy, calendar, case) or now)
            up = LEVELS[LEVELS.index(case.level) + 1]
            out.append((case, f"逾期 {_span(late)} 未完成,自动升级至{LEVEL_NAMES[up]}"))
    return out


def _span(late: timedelta) -> str:
    minutes = int(late.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} 分钟"
    hours, rest = divmod(minutes, 60)
    return f"{hours} 小时" + (f" {rest} 分" if rest else "")
