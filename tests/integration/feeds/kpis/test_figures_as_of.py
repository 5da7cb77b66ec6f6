"""A month's figures read the same the next month. A district lives through November (simulated: reports,
patrols, the departments' work, escalations); its figures are taken at the month's end. Then December goes
on: the same simulation works November's cases on, and the centre does to them everything that used to move
a closed month (extensions of steps already late, late 核实, department reassignments, failed checks, send-backs,
parks, escalations). Every figure of November — the panels of every area, the tables of every level, the
departments, the ranking, the daily series, the leader page, the monthly assessment and its CSV and XLSX — is
the same on 5 December as on 1 December, from the caches and without them, on SQLite and PostgreSQL."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from dashboard.views.assessment import assessment_tables, period_line, to_csv, to_xlsx
from feeds.bus.snapshots import MemorySnapshotStore
from feeds.ingest.pipeline import CaseRules, Ingest
from feeds.kpis.cache import refresh
from feeds.kpis.figures import Period
from feeds.kpis.load import (
    area_directory,
    area_panel,
    daily_series,
    departments_panel,
    leader_figures,
    load_cells,
    load_territory,
    monthly_assessment,
    patroller_ranking,
)
from feeds.store.models import CaseAudit, CaseRow, Person
from feeds.taxonomy import load as load_taxonomy
from simulators.fast import Clock, Discard, simulate
from simulators.furnishings import build_furnishings, save_furnishings
from simulators.geography import build_district, save_district
from simulators.simulation import Simulation
from tests import factories
from tests.integration.feeds.kpis.test_figures import RULES
from tests.integration.feeds.kpis.test_kpicache import _forget
from tests.oracles import area_table

CST = ZoneInfo("Asia/Shanghai")
NOVEMBER = Period.month(2026, 11, CST)
OCTOBER = Period.month(2026, 10, CST)
END = NOVEMBER.end  # 1 December 00:00, Beijing
LATER = END + timedelta(days=4, hours=10)


def november(engine, now: datetime) -> list[Any]:
    """Every figure of November the screens and the export show, taken at `now` (a moment after the month)."""
    taxonomy = load_taxonomy()
    with engine.connect() as conn:
        level = load_territory(conn).level
        areas = sorted(level)
        out: list[Any] = [(a, area_panel(conn, RULES, a, NOVEMBER, now)) for a in areas]
        out += [(lvl, area_table(conn, RULES, lvl, NOVEMBER, now)) for lvl in ("grid", "community", "street",
                                                                               "district")]
        out += [departments_panel(conn, RULES, NOVEMBER, now), patroller_ranking(conn, RULES, NOVEMBER, now)]
        district = next(a for a in areas if level[a] == "district")
        for a in (district, *(a for a in areas if level[a] == "street")):
            out.append(daily_series(conn, RULES, a, date(2026, 11, 30), 30, now))
            out.append(leader_figures(conn, RULES, a, NOVEMBER, OCTOBER, now))
        assessment = monthly_assessment(conn, RULES, 2026, 11, now)
        directory = area_directory(conn)
    out.append(assessment)
    for lang in ("zh", "en"):
        tables = assessment_tables(assessment, directory, taxonomy.departments, lang)
        title = period_line(assessment, lang)
        out.append(to_csv(tables, title))
        book = load_workbook(io.BytesIO(to_xlsx(tables, title)))
        out.append([[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets])
    return out


def _same(a: list[Any], b: list[Any]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x == y


def _left_late_in_november(engine, snapshots: MemorySnapshotStore, district) -> list[str]:
    """Cases whose steps are late when November ends: reports nobody verified, a gas leak's handling overdue
    since the 30th, one dispatched on the 18th and never handled, a handled case whose check is overdue, a
    registered one never dispatched."""
    clock = Clock(END)
    ingest = Ingest(engine, snapshots, Discard(), clock=clock, rules=CaseRules(load_taxonomy(), RULES.calendar))
    grids = [a.code for a in district.areas if a.level == "grid"]
    lat, lon = district.centre
    opened: list[str] = []

    def on(day: int, hour: int, minute: int, *messages: Any) -> None:
        clock.now = datetime(2026, 11, day, hour, minute, tzinfo=CST)
        for m in messages:
            factories.send(ingest, m)

    def report(k: int, day: int, hour: int, category: str, channel: str = "patrol") -> str:
        m = factories.incident(at=datetime(2026, 11, day, hour, tzinfo=CST), category=category,
                               lat=lat + 0.002 * k, lon=lon + 0.002 * k, grid_code=grids[k % len(grids)],
                               channel=channel, reporter_id=None if channel == "citizen" else "late-P")
        on(day, hour, 0, m)
        opened.append(m.id)
        return m.id

    def act(case_id: str, day: int, hour: int, minute: int, version: int, action: str, **fields: Any) -> None:
        on(day, hour, minute, factories.command(case_id, action, version,
                                                at=datetime(2026, 11, day, hour, minute, tzinfo=CST), **fields))

    def dispatched(k: int, day: int, category: str) -> str:
        case_id = report(k, day, 8, category)
        act(case_id, day, 8, 5, 1, "verify", by="late-P")
        act(case_id, day, 8, 10, 2, "register")
        act(case_id, day, 8, 15, 3, "dispatch", department=RULES.taxonomy.categories[category].department)
        return case_id

    for k in range(3):
        report(k, 30, 9, "env.garbage", channel="citizen")  # 核实 due 11:00, never done in November
    for k in range(3, 6):
        dispatched(k, 30, "safety.gas")  # handling due 12:15
    for k in range(6, 8):
        dispatched(k, 18, "safety.gas")  # closing due on the 18th
    for k in range(8, 10):
        case_id = dispatched(k, 27, "env.garbage")
        act(case_id, 30, 10, 0, 4, "handle", by="sanitation")  # 核查 due 12:00
    for k in range(10, 12):
        case_id = report(k, 30, 9, "safety.gas")
        act(case_id, 30, 9, 5, 1, "verify", by="late-P")
        act(case_id, 30, 9, 10, 2, "register")  # dispatch due 09:25
    return opened


def _later_to_november_cases(engine, snapshots: MemorySnapshotStore, moment: datetime) -> dict[str, int]:
    """On 1 December, to the cases November left open: everything that used to move its figures."""
    with engine.connect() as conn:
        cases = conn.execute(select(CaseRow.id, CaseRow.state, CaseRow.version, CaseRow.department,
                                    CaseRow.level).where(CaseRow.state.notin_(("closed", "rejected", "void")))
                             .order_by(CaseRow.id)).all()
        patroller = conn.execute(select(Person.id).where(Person.role == "grid_worker")
                                 .order_by(Person.id)).scalars().first()
    clock = Clock(moment)
    ingest = Ingest(engine, snapshots, Discard(), clock=clock, rules=CaseRules(load_taxonomy(), RULES.calendar))
    done: dict[str, int] = {}
    departments = sorted(RULES.taxonomy.departments)
    for k, (case_id, state, version, department, level) in enumerate(cases):
        at = moment + timedelta(minutes=k)
        plan: list[dict[str, Any]] = []
        match state:
            case "reported":  # a late 核实
                plan = [{"action": "verify", "by": patroller}]
            case "dispatched":  # an extension after the fact, then another department
                other = next(d for d in departments if d != department)
                plan = [{"action": "extend", "hours": 24.0}, {"action": "reassign", "department": other}]
                if k % 3 == 0:
                    plan.append({"action": "send_back"})
            case "handled":  # the check fails: rework
                plan = [{"action": "check_fail", "by": patroller}]
            case "registered":
                plan = [{"action": "park"}, {"action": "restore"}] if k % 2 else \
                    [{"action": "dispatch", "department": departments[0]}]
        if level != "district" and k % 2 == 0:
            plan.append({"action": "escalate"})
        for step in plan:
            clock.now = at
            factories.send(ingest, factories.command(case_id, version=version, at=at, **step))
            version += 1
            at += timedelta(seconds=10)
            done[step["action"]] = done.get(step["action"], 0) + 1
    return done


@pytest.mark.timeout(900)
def test_no_event_after_november_moves_novembers_figures(engine) -> None:
    district = build_district(7, 8)
    with engine.begin() as conn:
        save_district(conn, district)
        save_furnishings(conn, district, build_furnishings(district, 7), load_taxonomy())
    with engine.connect() as conn:
        cells = load_cells(conn)
    snapshots = MemorySnapshotStore()
    sim = Simulation(district, seed=5, run_id="m", problems_per_day=45)
    simulate(sim, engine, NOVEMBER.start, END, step=timedelta(minutes=10), snapshots=snapshots)
    late = _left_late_in_november(engine, snapshots, district)
    with engine.connect() as conn:
        assert set(conn.execute(select(CaseRow.id).where(CaseRow.id.in_(late))).scalars()) == set(late)

    at_end = november(engine, END)  # from the cases, their trails and the fixes alone
    refresh(engine, RULES, END + timedelta(minutes=5), CST, cells, tally_budget_s=600)
    _same(at_end, november(engine, END))  # the same from the caches the job made at the month's end

    done = _later_to_november_cases(engine, snapshots, END + timedelta(hours=1))
    assert {"verify", "extend", "reassign", "check_fail", "escalate", "park", "restore"} <= set(done), done
    with engine.connect() as conn:  # and the centre took them
        taken = set(conn.execute(select(CaseAudit.action).where(CaseAudit.at >= END + timedelta(hours=1),
                                                                 CaseAudit.at < END + timedelta(hours=3))).scalars())
    assert set(done) <= taken, taken
    simulate(sim, engine, END + timedelta(hours=3), LATER, step=timedelta(minutes=10), snapshots=snapshots)
    refresh(engine, RULES, LATER, CST, cells, tally_budget_s=600)
    _same(at_end, november(engine, LATER))  # from the caches, days later
    _forget(engine)
    _same(at_end, november(engine, LATER))  # and without them
