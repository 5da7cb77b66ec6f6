"""What a dispatcher reads of cases, from the database: the queue (open cases, or those ended today), one
case's file (the case, the reports merged into it, its audit trail), and the names that go with codes.

Reads only; every view carries its open step's clock (deadline, amber) like the live view does. Drill cases
stay out of live dispatch; a console opened in a drill (`drill_id`) reads that drill's cases only.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from feeds.calendar import WorkingCalendar
from feeds.cases.escalation import with_clock
from feeds.cases.machine import FINAL, OPEN_STEP, CaseState
from feeds.cases.suggestions import Person as SuggestedPerson
from feeds.cases.writes import case_view
from feeds.clock import ms
from feeds.store.engine import tuples
from feeds.store.models import (
    AUDIT,
    CASE_REPORTS,
    CASES,
    Area,
    Asset,
    CameraAlertRow,
    IncidentRow,
    Person,
    UserRow,
)
from feeds.taxonomy import Taxonomy

OPEN_STATES = tuple(state.value for state in (*OPEN_STEP, CaseState.PARKED))
ENDED_STATES = tuple(state.value for state in FINAL)
ENDING_ACTIONS = ("close", "reject", "void")


@dataclass(frozen=True)
class TrailEntry:
    """One row of a case's audit trail: who did what, when, why, and the fields before → after."""

    action: str
    by: str
    reason: str
    at: datetime
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class ReportLink:
    """A report that belongs to a case: the one that opened it, or a duplicate merged into it."""

    report_id: str
    channel: str
    reported_at: datetime
    merged: bool
    text: str | None  # the report's own words (None for a camera alert, whose case text says what it saw)
    address: str | None = None  # where, in the reporter's words (a hotline or app report)
    media_url: str | None = None  # its photo (a citizen's, or a camera's snapshot)
    clip_url: str | None = None  # a camera's clip of it


@dataclass(frozen=True)
class CaseFile:
    view: dict[str, Any]
    reports: list[ReportLink]
    trail: list[TrailEntry]  # oldest first


def _clocked(taxonomy: Taxonomy, calendar: WorkingCalendar, row: Any) -> dict[str, Any]:
    view = case_view(row._mapping)
    if view["category"] not in taxonomy.categories:  # a category no longer in the taxonomy: no clock
        return {**view, "deadline": None, "amber": None}
    return with_clock(taxonomy, calendar, view)


def _scope(drill_id: str | None) -> Any:
    """Live cases (drill_id None), or the cases of one drill: never both."""
    return CASES.c.drill_id.is_(None) if drill_id is None else CASES.c.drill_id == drill_id


def open_case_views(conn: Connection, taxonomy: Taxonomy, calendar: WorkingCalendar, *,
                    drill_id: str | None = None) -> list[dict[str, Any]]:
    """Every open live case (parked ones included), with its step clock; or those of one drill."""
    rows = conn.execute(select(CASES).where(CASES.c.state.in_(OPEN_STATES), _scope(drill_id)))
    return [_clocked(taxonomy, calendar, row) for row in rows]


def ended_case_views(conn: Connection, since: datetime, *, drill_id: str | None = None) -> list[dict[str, Any]]:
    """Live cases that ended (closed, rejected, void) since `since`, each with `ended` (epoch ms)."""
    ended = (select(AUDIT.c.case_id, AUDIT.c.at).where(AUDIT.c.action.in_(ENDING_ACTIONS), AUDIT.c.at >= since)
             .subquery())
    rows = conn.execute(select(CASES, ended.c.at.label("ended_at")).join(ended, ended.c.case_id == CASES.c.id)
                        .where(CASES.c.state.in_(ENDED_STATES), _scope(drill_id)))
    return [{**case_view(row._mapping), "deadline": None, "amber": None, "ended": ms(row.ended_at)} for row in rows]


def case_file(conn: Connection, case_id: str, taxonomy: Taxonomy, calendar: WorkingCalendar, *,
              drill_id: str | None = None) -> CaseFile | None:
    """The case as it is, its reports and its whole audit trail; None when there is no such live case (or no
    such case in the drill `drill_id`)."""
    row = conn.execute(select(CASES).where(CASES.c.id == case_id, _scope(drill_id))).first()
    if row is None:
        return None
    view = _clocked(taxonomy, calendar, row) if row.state not in ENDED_STATES else {
        **case_view(row._mapping), "deadline": None, "amber": None}
    incidents, alerts = IncidentRow.__table__, CameraAlertRow.__table__
    links = conn.execute(
        select(CASE_REPORTS, incidents.c.description, incidents.c.address, incidents.c.media_url,
               alerts.c.snapshot_url, alerts.c.clip_url)
        .join(incidents, incidents.c.id == CASE_REPORTS.c.report_id, isouter=True)
        .join(alerts, alerts.c.id == CASE_REPORTS.c.report_id, isouter=True)
        .where(CASE_REPORTS.c.case_id == case_id).order_by(CASE_REPORTS.c.reported_at, CASE_REPORTS.c.report_id))
    reports = [ReportLink(r.report_id, r.channel, r.reported_at, r.merged, r.description, r.address,
                          r.media_url or r.snapshot_url, r.clip_url) for r in links]
    trail = [TrailEntry(a.action, a.by, a.reason, a.at, json.loads(a.before), json.loads(a.after))
             for a in conn.execute(select(AUDIT).where(AUDIT.c.case_id == case_id).order_by(AUDIT.c.id))]
    return CaseFile(view, reports, trail)


def grid_names(conn: Connection) -> dict[str, str]:
    """Grid code -> its name (网格名称)."""
    areas = Area.__table__
    return dict(conn.execute(select(areas.c.code, areas.c.name).where(areas.c.level == "grid")).all())


def actor_names(conn: Connection) -> dict[str, str]:
    """Who acts on cases, by the id they act under -> a name: people by their id and by the GPS unit they
    carry, cameras by their id (a camera alert opens a case in the camera's name)."""
    people, assets = Person.__table__, Asset.__table__
    names: dict[str, str] = {}
    for pid, name, unit in tuples(conn.execute(select(people.c.id, people.c.name, people.c.unit_id))):
        names[pid] = name
        if unit:
            names.setdefault(unit, name)
    names.update(conn.execute(select(assets.c.id, assets.c.name).where(assets.c.kind == "camera")).all())
    users = UserRow.__table__  # the people at the screens, by the user name their commands carry
    for username, display_name in tuples(conn.execute(select(users.c.username, users.c.display_name))):
        names.setdefault(username, display_name)
    return names


# ---- for the action panel: the case as it is now, its last change, who holds open cases, who can take one


def case_now(conn: Connection, case_id: str) -> dict[str, Any] | None:
    """The case's view as it is in the database (a drill's case too: its screens act on it), no clock."""
    row = conn.execute(select(CASES).where(CASES.c.id == case_id)).first()
    return None if row is None else case_view(row._mapping)


def last_change(conn: Connection, case_id: str) -> TrailEntry | None:
    """The newest row of the case's audit trail: who changed it last, how, when."""
    a = conn.execute(select(AUDIT).where(AUDIT.c.case_id == case_id).order_by(AUDIT.c.id.desc()).limit(1)).first()
    return None if a is None else TrailEntry(a.action, a.by, a.reason, a.at, json.loads(a.before), json.loads(a.after))


def open_holders(conn: Connection, drill_id: str | None) -> list[dict[str, Any]]:
    """Who holds each open case of the live situation (or of one drill): assignee and department."""
    scope = CASES.c.drill_id.is_(None) if drill_id is None else CASES.c.drill_id == drill_id
    rows = conn.execute(select(CASES.c.assignee, CASES.c.department).where(CASES.c.state.in_(OPEN_STATES), scope))
    return [{"assignee": assignee, "department": department} for assignee, department in rows]


def field_people(conn: Connection) -> list[SuggestedPerson]:
    """Everyone in the field who can take a case: grid workers and patrollers, with the unit they carry."""
    people = Person.__table__
    rows = tuples(conn.execute(select(people.c.id, people.c.name, people.c.role, people.c.area_code, people.c.unit_id)
                        .where(people.c.unit_id.is_not(None))))
    return [SuggestedPerson(pid, name, role, area, unit) for pid, name, role, area, unit in rows]
