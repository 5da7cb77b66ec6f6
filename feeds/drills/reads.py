"""A drill from the database: its record, its own figures, and its score (feeds/drills/score.py's inputs read
from the cases, the audit trail and the GPS fixes that carry the drill's id).

Every time is turned into drill time with the drill's clock before scoring, so a drill run at 10× is
scored in the minutes the scenario's targets speak of. Reads only; live rows are never touched.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Connection

from feeds.drills.control import DrillRecord, drill_record
from feeds.drills.score import DrillCase, DrillScore, Fix, Step, drill_score
from feeds.kpis.figures import AreaFigures, KpiRules, Period
from feeds.kpis.load import area_directory, area_panel
from feeds.store.engine import tuples
from feeds.store.models import AUDIT, CASES, FIXES, PEOPLE


@dataclass(frozen=True)
class DrillFile:
    record: DrillRecord
    figures: AreaFigures | None  # the drill's own KPIs over its period (None: no territory loaded)
    score: DrillScore
    descriptions: dict[str, str]  # case id -> what it was


def drill_period(record: DrillRecord, now: datetime, zone: ZoneInfo) -> Period:
    end = record.ended_at or now
    return Period(record.started_at, max(end, record.started_at) + timedelta(seconds=1), zone)


def load_score(conn: Connection, record: DrillRecord) -> tuple[DrillScore, dict[str, str]]:
    in_drill = CASES.c.drill_id == record.id
    drill_time = record.clock.simulated
    rows = conn.execute(select(CASES.c.id, CASES.c.reported_at, CASES.c.lat, CASES.c.lon, CASES.c.description)
                        .where(in_drill)).all()
    cases = [DrillCase(r.id, drill_time(r.reported_at), r.lat, r.lon) for r in rows]
    steps = []
    for a in conn.execute(select(AUDIT.c.case_id, AUDIT.c.action, AUDIT.c.by, AUDIT.c.at, AUDIT.c.after)
                          .join(CASES, CASES.c.id == AUDIT.c.case_id).where(in_drill).order_by(AUDIT.c.id)):
        after = json.loads(a.after)
        steps.append(Step(a.case_id, a.action, a.by, drill_time(a.at), after.get("department"), after.get("assignee")))
    fixes = [Fix(f.unit_id, f.lat, f.lon, drill_time(f.fix_at)) for f in conn.execute(
        select(FIXES.c.unit_id, FIXES.c.lat, FIXES.c.lon, FIXES.c.fix_at).where(FIXES.c.drill_id == record.id))]
    unit_of = {pid: unit for pid, unit in tuples(conn.execute(select(PEOPLE.c.id, PEOPLE.c.unit_id))) if unit}
    return drill_score(cases, steps, fixes, unit_of, record.targets), {r.id: r.description for r in rows}


def load_drill(conn: Connection, drill_id: str, rules: KpiRules, now: datetime) -> DrillFile | None:
    """The drill's record, figures and score; None when there is no such drill."""
    record = drill_record(conn, drill_id)
    if record is None:
        return None
    districts = [e.code for e in area_directory(conn).values() if e.level == "district"]
    figures = (area_panel(conn, rules, districts[0], drill_period(record, now, rules.calendar.zone), now,
                          drill_id=drill_id,
                          with_coverage=False) if districts else None)
    score, descriptions = load_score(conn, record)
    return DrillFile(record, figures, score, descriptions)
