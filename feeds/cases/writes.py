"""Cases in the database: opened by new reports, moved by commands, each change with its audit row.

Runs inside the ingest's transaction: a command is applied with an optimistic version check
(UPDATE … WHERE version = the version the actor saw), so a concurrent change is refused, not overwritten.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import cos, hypot, radians
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from feeds.bus.verdicts import Outcome, Verdict
from feeds.cases.machine import (
    OPEN_STEP,
    Action,
    AuditEntry,
    Case,
    CaseState,
    IllegalAction,
    VersionConflict,
    act,
)
from feeds.categories import ALERT_CLASSES
from feeds.clock import ms
from feeds.schemas import CameraAlert, CaseCommand, IncidentReport, Rejection
from feeds.store.engine import tuples
from feeds.store.models import ASSETS, AUDIT, CASE_REPORTS, CASES
from feeds.taxonomy import Taxonomy

_CASE_FIELDS = ("state", "level", "department", "assignee", "version", "step_started_at", "extended_hours",
                "reworks", "parked_from", "reject_reason")


@dataclass(frozen=True)
class CaseChanges:
    views: dict[str, dict[str, Any]]  # case id -> what screens show of it now
    applied: set[str]  # ids of the commands that changed a case
    refused: list[Rejection]
    replayed: int  # commands already applied before (ignored)
    verdicts: list[Verdict]  # one per command, for the screen that sent it


def to_case(row: Any) -> Case:
    m = row._mapping
    return Case(id=m["id"], category=m["category"], urgent=m["urgent"], state=CaseState(m["state"]),
                step_started_at=m["step_started_at"], version=m["version"], level=m["level"],
                department=m["department"], assignee=m["assignee"], extended_hours=m["extended_hours"],
                reworks=m["reworks"], parked_from=CaseState(m["parked_from"]) if m["parked_from"] else None,
                reject_reason=m["reject_reason"])


def case_view(m: Mapping[Any, Any]) -> dict[str, Any]:
    """What screens show of a case, from its row's columns."""
    return {"id": m["id"], "category": m["category"], "urgent": m["urgent"], "state": m["state"],
            "version": m["version"], "level": m["level"], "department": m["department"], "assignee": m["assignee"],
            "lat": m["lat"], "lon": m["lon"], "grid": m["grid_code"], "step_started": ms(m["step_started_at"]),
            "extended_hours": m["extended_hours"], "text": m["description"], "channel": m["channel"],
            "reported": ms(m["reported_at"]), "reworks": m["reworks"], "drill": m["drill_id"]}


def _audit_row(entry: AuditEntry, command_id: str | None) -> dict[str, Any]:
    return {"case_id": entry.case_id, "command_id": command_id, "action": entry.action, "by": entry.by,
            "reason": entry.reason, "at": entry.at, "before": json.dumps(entry.before, ensure_ascii=False),
            "after": json.dumps(entry.after, ensure_ascii=False)}


MERGE_RADIUS_M = 50.0
MERGE_WINDOW = timedelta(hours=24)
_OPEN = [state.value for state in OPEN_STEP]


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance on the ground, flat-earth (exact to well under 1% over a district)."""
    x = (lon2 - lon1) * 111_320 * cos(radians((lat1 + lat2) / 2))
    y = (lat2 - lat1) * 110_540
    return hypot(x, y)


@dataclass(frozen=True)
class Sighting:
    """What opens a case or joins one: a field report, or a camera's AI alert (视频发现, to be confirmed)."""

    id: str
    category: str
    urgent: bool
    channel: str
    by: str
    lat: float
    lon: float
    grid_code: str | None
    description: str
    occurred_at: datetime | None
    ts: datetime
    drill_id: str | None


def sighting_of_report(r: IncidentReport) -> Sighting:
    return Sighting(r.id, r.category, r.urgent, r.channel.value, r.reporter_id or r.channel.value, r.lat, r.lon,
                    r.grid_code, r.description, r.occurred_at, r.ts, r.drill_id)


def sightings_of_alerts(conn: Connection, alerts: list[CameraAlert], taxonomy: Taxonomy) -> list[Sighting]:
    """Alerts of the classes the taxonomy maps to a category, in the grid of their camera."""
    if not alerts:
        return []
    grids: dict[str, str | None] = dict(list(tuples(conn.execute(select(ASSETS.c.id, ASSETS.c.grid_code).where(
        ASSETS.c.id.in_({a.camera_id for a in alerts}))))))
    out = []
    for a in alerts:
        kind = taxonomy.alert_classes.get(a.alert_class)
        if kind is None:
            continue
        label = ALERT_CLASSES[a.alert_class].zh if a.alert_class in ALERT_CLASSES else a.alert_class
        text = f"摄像头{a.camera_id}AI识别：{label}（置信度{a.confidence:.2f}），待核实"
        out.append(Sighting(a.id, kind.category, kind.urgent, "camera", a.camera_id, a.lat, a.lon,
                            grids.get(a.camera_id), text, a.started_at, a.ts, a.drill_id))
    return out


def _open_duplicate(conn: Connection, r: Sighting, opened: list[dict[str, Any]]) -> str | None:
    """The open case this sighting repeats: same category, within 50 m, reported in the last 24 hours."""
    dlat, dlon = MERGE_RADIUS_M / 110_540, MERGE_RADIUS_M / (111_320 * cos(radians(r.lat)))
    candidates = [(c["id"], c["lat"], c["lon"]) for c in opened
                  if c["category"] == r.category and c["drill_id"] == r.drill_id]
    candidates += conn.execute(select(CASES.c.id, CASES.c.lat, CASES.c.lon).where(
        CASES.c.category == r.category, CASES.c.state.in_(_OPEN), CASES.c.reported_at >= r.ts - MERGE_WINDOW,
        CASES.c.lat.between(r.lat - dlat, r.lat + dlat), CASES.c.lon.between(r.lon - dlon, r.lon + dlon),
        CASES.c.drill_id.is_(None) if r.drill_id is None else CASES.c.drill_id == r.drill_id)).all()
    near = [(metres(r.lat, r.lon, lat, lon), cid) for cid, lat, lon in candidates]
    near = [(d, cid) for d, cid in near if d <= MERGE_RADIUS_M]
    return min(near)[1] if near else None


def open_cases(conn: Connection, sightings: list[Sighting]) -> dict[str, dict[str, Any]]:
    """A new case per new report or camera alert, waiting for verification (核实), with its first audit row;
    one that repeats an open case nearby is merged into it instead (a duplicate: counted neither way in
    accuracy)."""
    opened: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    for r in sightings:
        link = {"report_id": r.id, "channel": r.channel, "reported_at": r.ts}
        duplicate_of = _open_duplicate(conn, r, opened)
        if duplicate_of:
            links.append({**link, "case_id": duplicate_of, "merged": True})
            audit.append({"case_id": duplicate_of, "command_id": None, "action": "merge", "by": r.by,
                          "reason": r.description[:500], "at": r.ts, "before": "{}",
                          "after": json.dumps({"report": r.id})})
            continue
        opened.append({
            "id": r.id, "category": r.category, "urgent": r.urgent, "state": CaseState.REPORTED.value,
            "level": "grid", "department": None, "assignee": None, "version": 1, "step_started_at": r.ts,
            "extended_hours": 0.0, "reworks": 0, "parked_from": None, "reject_reason": None,
            "channel": r.channel, "lat": r.lat, "lon": r.lon, "grid_code": r.grid_code,
            "description": r.description, "occurred_at": r.occurred_at, "reported_at": r.ts,
            "drill_id": r.drill_id, "last_command": None})
        links.append({**link, "case_id": r.id, "merged": False})
        audit.append({"case_id": r.id, "command_id": None, "action": "report", "by": r.by,
                      "reason": r.description[:500], "at": r.ts, "before": "{}",
                      "after": json.dumps({"state": "reported", "version": 1})})
    if opened:
        conn.execute(CASES.insert(), opened)
    if links:
        conn.execute(CASE_REPORTS.insert(), links)
        conn.execute(AUDIT.insert(), audit)
    return {row["id"]: case_view(row) for row in opened}


def apply_commands(conn: Connection, commands: list[CaseCommand], at: datetime) -> CaseChanges:
    """Apply commands in arrival order. Refused ones (illegal, stale version, unknown case) come back with why.

    Reads every case involved in one query, applies the commands in memory, then writes each changed case
    once, guarded by the version it had when read (a concurrent writer makes that update miss: its
    commands are refused, nothing is overwritten), and all audit rows in one insert."""
    if not commands:
        return CaseChanges({}, set(), [], 0, [])
    ids = [c.id for c in commands]
    known = set(conn.execute(select(AUDIT.c.command_id).where(AUDIT.c.command_id.in_(ids))).scalars())
    rows = {r.id: r for r in conn.execute(select(CASES).where(CASES.c.id.in_({c.case_id for c in commands})))}
    read_version = {cid: r.version for cid, r in rows.items()}
    current: dict[str, Case] = {cid: to_case(r) for cid, r in rows.items()}
    done: dict[str, list[tuple[CaseCommand, AuditEntry]]] = {}
    refused: list[Rejection] = []
    verdicts: list[Verdict] = []

    def refuse(cmd: CaseCommand, reason: str, outcome: Outcome = Outcome.REFUSED) -> None:
        refused.append(_refusal(cmd, reason))
        verdicts.append(Verdict(cmd.id, cmd.case_id, outcome, reason))

    replayed = 0
    for cmd in commands:
        if cmd.id in known:
            replayed += 1
            verdicts.append(Verdict(cmd.id, cmd.case_id, Outcome.REPLAYED, "already applied"))
            continue
        case = current.get(cmd.case_id)
        if case is None:
            refuse(cmd, f"no case {cmd.case_id}")
            continue
        try:
            action = Action(cmd.action, cmd.by, cmd.reason, cmd.expected_version, cmd.department,
                            cmd.assignee, cmd.reject_reason, cmd.hours)
            current[case.id], entry = act(case, action, at)
        except VersionConflict as err:
            refuse(cmd, str(err), Outcome.CONFLICT)
            continue
        except IllegalAction as err:
            refuse(cmd, str(err))
            continue
        known.add(cmd.id)
        done.setdefault(case.id, []).append((cmd, entry))
    views: dict[str, dict[str, Any]] = {}
    applied: set[str] = set()
    audit_rows: list[dict[str, Any]] = []
    values = {cid: {**_values(current[cid]), "last_command": steps[-1][0].id} for cid, steps in done.items()}
    params = [{"b_id": cid, "b_read": read_version[cid], **{f"v_{k}": v for k, v in values[cid].items()}}
              for cid in done]
    guarded = (update(CASES).where(CASES.c.id == bindparam("b_id"), CASES.c.version == bindparam("b_read"))
               .values({k: bindparam(f"v_{k}") for k in (*_CASE_FIELDS, "last_command")}))
    written = set(done)
    if params and conn.execute(guarded, params).rowcount != len(params):
        # another writer changed some of these cases first: ours landed where our last command is recorded
        last = {cid: steps[-1][0].id for cid, steps in done.items()}
        found = tuples(conn.execute(select(CASES.c.id, CASES.c.last_command).where(CASES.c.id.in_(list(done)))))
        written = {cid for cid, command_id in found if last[cid] == command_id}
    for case_id, steps in done.items():
        if case_id not in written:
            for cmd, _ in steps:
                refuse(cmd, f"case {case_id} was changed by someone else meanwhile", Outcome.CONFLICT)
            continue
        audit_rows.extend(_audit_row(entry, cmd.id) for cmd, entry in steps)
        applied.update(cmd.id for cmd, _ in steps)
        first_version = read_version[case_id]
        verdicts.extend(Verdict(cmd.id, case_id, Outcome.APPLIED, version=first_version + n)
                        for n, (cmd, _) in enumerate(steps, start=1))
        views[case_id] = case_view({**rows[case_id]._mapping, **values[case_id]})
    if audit_rows:
        conn.execute(AUDIT.insert(), audit_rows)
    return CaseChanges(views, applied, refused, replayed, verdicts)


def _values(case: Case) -> dict[str, Any]:
    return {f: (v.value if isinstance(v := getattr(case, f), CaseState) else v) for f in _CASE_FIELDS}


def _refusal(cmd: CaseCommand, reason: str) -> Rejection:
    return Rejection("cc.case_command", cmd.model_dump_json(), reason, "refused")
