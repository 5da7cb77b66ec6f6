"""A replay from the database: the rows of a period read for feeds/replay/frames.py. Reads only.

The live situation is replayed from the rows without a drill id, a drill from the rows with its id: the
two never mix. Nothing here writes, and nothing reads the live state in Redis.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.engine import Connection

from feeds.calendar import WorkingCalendar
from feeds.cases.reads import open_case_views
from feeds.clock import from_ms, ms
from feeds.ingest.state import ON_DUTY_S, Snapshot
from feeds.replay.frames import RECENT, CaseStep, Chunk, Period, case_steps, frames_between, snapshot_at
from feeds.store.models import (
    ALERTS,
    AUDIT,
    CASES,
    DEAD_LETTERS,
    FIXES,
    HEALTH,
    INCIDENTS,
)
from feeds.taxonomy import Taxonomy

ENDING_ACTIONS = ("close", "reject", "void")


def _scope(table: Any, drill_id: str | None) -> Any:
    return table.c.drill_id.is_(None) if drill_id is None else table.c.drill_id == drill_id


def _steps(conn: Connection, cases: Sequence[Any], before: datetime, taxonomy: Taxonomy,
           calendar: WorkingCalendar) -> list[CaseStep]:
    """Every step of these cases written before `before`, each case rebuilt from its row and audit trail."""
    if not cases:
        return []
    trail: dict[str, list[dict[str, Any]]] = {}
    ids = [c.id for c in cases]
    for start in range(0, len(ids), 500):  # bounded IN lists
        rows = conn.execute(select(AUDIT.c.case_id, AUDIT.c.action, AUDIT.c.at, AUDIT.c.after)
                            .where(AUDIT.c.case_id.in_(ids[start:start + 500]), AUDIT.c.at < before)
                            .order_by(AUDIT.c.id))
        for r in rows:
            trail.setdefault(r.case_id, []).append({"action": r.action, "at": r.at, "after": json.loads(r.after)})
    out: list[CaseStep] = []
    for case in cases:
        out.extend(case_steps(case._mapping, trail.get(case.id, []), taxonomy, calendar))
    return out


def replay_start(conn: Connection, period: Period, taxonomy: Taxonomy, calendar: WorkingCalendar,
                 recent: int = RECENT) -> Snapshot:
    """The screen's state at the start of the period."""
    return state_at(conn, period.start, period.drill_id, taxonomy, calendar, recent)


def state_at(conn: Connection, at: datetime, drill_id: str | None, taxonomy: Taxonomy,
             calendar: WorkingCalendar, recent: int = RECENT) -> Snapshot:
    """What a screen of the live situation (or of one drill) showed at `at`, rebuilt from the rows."""
    fixes, incidents, alerts = _shown_before(conn, at, drill_id, recent)
    health = _health_before(conn, at, drill_id)
    ended = exists().where(AUDIT.c.case_id == CASES.c.id, AUDIT.c.action.in_(ENDING_ACTIONS), AUDIT.c.at < at)
    open_then = conn.execute(select(CASES).where(CASES.c.reported_at < at, _scope(CASES, drill_id), ~ended)).all()
    steps = _steps(conn, open_then, at, taxonomy, calendar)
    return snapshot_at(at, fixes, incidents, alerts, steps, recent, health)


def state_now(conn: Connection, now: datetime, drill_id: str | None, taxonomy: Taxonomy,
              calendar: WorkingCalendar, recent: int = RECENT) -> Snapshot:
    """The live state (or one drill's) as the database holds it now: what the ingest writes to Redis when the
    state kept there was lost or may be behind (after an outage, at start). The open cases are read as they
    are, with their step clocks, exactly as the ingest pushes them."""
    fixes, incidents, alerts = _shown_before(conn, now + timedelta(seconds=1), drill_id, recent)
    snap = snapshot_at(now + timedelta(seconds=1), fixes, incidents, alerts, [], recent,
                       _health_before(conn, now + timedelta(seconds=1), drill_id))
    snap["at"] = ms(now)
    snap["cases"] = {v["id"]: v for v in open_case_views(conn, taxonomy, calendar, drill_id=drill_id)}
    return snap


def _shown_before(conn: Connection, at: datetime, drill_id: str | None, recent: int) -> tuple[list[Any], ...]:
    """The fixes of the units on duty before `at`, and the newest incidents and alerts."""
    fixes = conn.execute(select(FIXES).where(
        FIXES.c.fix_at > at - timedelta(seconds=ON_DUTY_S), FIXES.c.fix_at < at, _scope(FIXES, drill_id)))
    incidents = conn.execute(select(INCIDENTS).where(INCIDENTS.c.sent_at < at, _scope(INCIDENTS, drill_id))
                             .order_by(INCIDENTS.c.sent_at.desc(), INCIDENTS.c.id.desc()).limit(recent))
    alerts = conn.execute(select(ALERTS).where(ALERTS.c.sent_at < at, _scope(ALERTS, drill_id))
                          .order_by(ALERTS.c.sent_at.desc(), ALERTS.c.id.desc()).limit(recent))
    return [r._mapping for r in fixes], [r._mapping for r in incidents], [r._mapping for r in alerts]


def _health_before(conn: Connection, at: datetime, drill_id: str | None) -> list[Any]:
    """Each camera's newest health said before `at` (ties on `since` all read; the last wins)."""
    newest = (select(HEALTH.c.camera_id, func.max(HEALTH.c.since).label("since"))
              .where(HEALTH.c.since < at, _scope(HEALTH, drill_id)).group_by(HEALTH.c.camera_id).subquery())
    rows = conn.execute(select(HEALTH).join(newest, and_(HEALTH.c.camera_id == newest.c.camera_id,
                                                          HEALTH.c.since == newest.c.since))
                        .where(_scope(HEALTH, drill_id)).order_by(HEALTH.c.received_at, HEALTH.c.id))
    return [r._mapping for r in rows]


def replay_chunk(conn: Connection, period: Period, after_seq: int, taxonomy: Taxonomy, calendar: WorkingCalendar,
                 *, limit: int = 300, max_items: int = 20_000) -> Chunk:
    """The frames after `after_seq`: at most `limit` (one per second of replayed time that had events) and
    about `max_items` views, read from the window those frames cover."""
    start = from_ms(period.frame_start(after_seq))
    until_ms = period.frame_start(after_seq + limit)
    until = from_ms(until_ms)
    drill_id = period.drill_id
    fixes = conn.execute(select(FIXES).where(FIXES.c.fix_at >= start, FIXES.c.fix_at < until,
                                             _scope(FIXES, drill_id)))
    incidents = conn.execute(select(INCIDENTS).where(INCIDENTS.c.sent_at >= start, INCIDENTS.c.sent_at < until,
                                                     _scope(INCIDENTS, drill_id)))
    alerts = conn.execute(select(ALERTS).where(ALERTS.c.sent_at >= start, ALERTS.c.sent_at < until,
                                               _scope(ALERTS, drill_id)))
    health = conn.execute(select(HEALTH).where(HEALTH.c.since >= start, HEALTH.c.since < until,
                                               _scope(HEALTH, drill_id)))
    touched = exists().where(AUDIT.c.case_id == CASES.c.id, and_(AUDIT.c.at >= start, AUDIT.c.at < until))
    cases = conn.execute(select(CASES).where(_scope(CASES, drill_id), touched)).all()
    steps = _steps(conn, cases, until, taxonomy, calendar)
    rejected: list[datetime] = []
    if drill_id is None:  # refused input belongs to the live situation (a drill's is refused the same way)
        rejected = list(conn.execute(select(DEAD_LETTERS.c.received_at).where(
            DEAD_LETTERS.c.received_at >= start, DEAD_LETTERS.c.received_at < until)).scalars())
    return frames_between(period, after_seq, until_ms, [r._mapping for r in fixes], [r._mapping for r in incidents],
                          [r._mapping for r in alerts], steps, rejected, limit=limit, max_items=max_items,
                          health=[r._mapping for r in health])
