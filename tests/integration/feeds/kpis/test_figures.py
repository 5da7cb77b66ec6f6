"""KPI figures read from a real database (SQLite and PostgreSQL), written the way the ingest writes them:
reports open cases, commands move them, fixes are stored as they arrive. Answers computed by hand."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import box, mapping
from sqlalchemy import insert, select

from feeds.calendar import WorkingCalendar
from feeds.cases.writes import apply_commands, open_cases, sighting_of_report
from feeds.kpis.figures import Grade, KpiRules, Period, Rate
from feeds.kpis.load import area_panel, departments_panel, load_cases, patroller_ranking
from feeds.store.models import Area, CaseReport, CaseRow, Person
from feeds.store.writes import write_batch
from feeds.taxonomy import load
from tests import factories
from tests.oracles import area_table

CST = ZoneInfo("Asia/Shanghai")
MON = date(2026, 11, 23)
WEEK = Period.dates(MON, MON + timedelta(days=6), CST)
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=CST)  # the Monday after: the week's figures are as of its end
RULES = KpiRules(load(), WorkingCalendar())
LON, LAT = 111.0, 30.0


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(MON + timedelta(days=day), datetime.min.time(), CST).replace(hour=hh, minute=mm)


def _area(code: str, level: str, parent: str | None, west: float, east: float) -> dict:
    return {"code": code, "level": level, "parent_code": parent, "name": code, "households": 0, "population": 0,
            "geometry": json.dumps(mapping(box(LON + west, LAT, LON + east, LAT + 0.001)))}


def _territory(conn) -> None:
    """District D > street S > community C > grids G1, G2, each of two cells 0.001° wide."""
    rows = [_area("D", "district", None, 0, 0.004), _area("S", "street", "D", 0, 0.004),
            _area("C", "community", "S", 0, 0.004), _area("G1", "grid", "C", 0, 0.002),
            _area("G2", "grid", "C", 0.002, 0.004)]
    rows += [_area(f"{g}-U0{k}", "cell", g, x, x + 0.001)
             for g, k, x in (("G1", 1, 0), ("G1", 2, 0.001), ("G2", 1, 0.002), ("G2", 2, 0.003))]
    for row in rows:
        conn.execute(insert(Area.__table__), row)
    conn.execute(insert(Person.__table__), [
        {"id": "GW-P0001", "name": "王伟", "role": "grid_worker", "area_code": "G1", "department": None,
         "unit_id": "P0001"},
        {"id": "GW-P0002", "name": "李娜", "role": "grid_worker", "area_code": "G2", "department": None,
         "unit_id": "P0002"},
        {"id": "DS01", "name": "张敏", "role": "dispatcher", "area_code": "D", "department": None, "unit_id": None},
    ])


def _report(conn, case_id: str, when: datetime, grid: str, x: float, **fields) -> None:
    base = {"id": case_id, "category": "order.vendor", "grid_code": grid, "lat": LAT + 0.0005, "lon": LON + x,
            "channel": "patrol", "reporter_id": None}
    report = factories.incident(at=when, **{**base, **fields})
    write_batch(conn, [report], [], when)
    open_cases(conn, [sighting_of_report(report)])


def _act(conn, case_id: str, action: str, when: datetime, by: str = "DS01", **fields) -> None:
    version = conn.execute(select(CaseRow.version).where(CaseRow.id == case_id)).scalar_one()
    changes = apply_commands(conn, [factories.command(case_id, action, version, by=by, at=when, **fields)], when)
    assert changes.applied, changes.refused


def _scenario(conn) -> None:
    _territory(conn)
    # A: G1, found by P0001 15 min after it arose; the whole loop on time
    _report(conn, "A", at(0, 9), "G1", 0.0005, reporter_id="P0001", occurred_at=at(0, 8, 45))
    _report(conn, "dup", at(0, 9, 5), "G1", 0.0005, channel="citizen")  # merged into A: counts in neither
    _act(conn, "A", "verify", at(0, 9, 20), by="P0001")
    _act(conn, "A", "register", at(0, 9, 30))
    _act(conn, "A", "dispatch", at(0, 9, 40), department="urban_mgmt")
    _act(conn, "A", "handle", at(0, 11), by="urban_mgmt")
    _act(conn, "A", "check_pass", at(0, 11, 30), by="P0001")
    _act(conn, "A", "close", at(0, 11, 40))
    # B: G1, a citizen's report; verified late, handled late, reworked, not closed
    _report(conn, "B", at(0, 10), "G1", 0.0015, channel="citizen")
    _act(conn, "B", "verify", at(0, 11, 30), by="P0001")  # due 11:00
    _act(conn, "B", "register", at(0, 11, 40))
    _act(conn, "B", "dispatch", at(0, 11, 50), department="urban_mgmt")
    _act(conn, "B", "handle", at(1, 16), by="urban_mgmt")  # due Monday 17:50
    _act(conn, "B", "check_fail", at(1, 16, 30), by="P0001")
    _act(conn, "B", "handle", at(2, 9), by="urban_mgmt")  # rework due Wednesday 11:00
    _act(conn, "B", "check_pass", at(2, 9, 30), by="P0001")
    # C: G2, P0002's report found untrue on site
    _report(conn, "C", at(0, 9), "G2", 0.0035, reporter_id="P0002")
    _act(conn, "C", "reject", at(0, 9, 30), by="P0002", reject_reason="untrue")
    # E, F: G2, camera alerts; E registered (and left waiting for dispatch), F out of scope
    _report(conn, "E", at(1, 9), "G2", 0.0025, channel="camera", reporter_id="CAM0001", occurred_at=at(1, 8))
    _act(conn, "E", "verify", at(1, 9, 10), by="P0002")
    _act(conn, "E", "register", at(1, 9, 20))
    _report(conn, "F", at(1, 9, 30), "G2", 0.0035, channel="camera", reporter_id="CAM0001")
    _act(conn, "F", "reject", at(1, 10, 30), by="P0002", reject_reason="out_of_scope")  # verify due 10:30
    # H: G1, handled on the spot by P0001
    _report(conn, "H", at(2, 10), "G1", 0.0005, reporter_id="P0001", occurred_at=at(2, 9))
    _act(conn, "H", "self_handle", at(2, 10, 10), by="P0001")
    _act(conn, "H", "check_pass", at(2, 11), by="P0001")
    _act(conn, "H", "close", at(2, 11, 10))
    # a drill in G1: its report rejected; it must not touch the live figures
    _report(conn, "X", at(0, 9), "G1", 0.0015, reporter_id="P0001", drill_id="DR1")
    _act(conn, "X", "reject", at(0, 9, 30), by="P0001", reject_reason="untrue")
    # a case closed before the week: never loaded
    _report(conn, "old", at(-7, 9), "G1", 0.0005, reporter_id="P0001")
    _act(conn, "old", "self_handle", at(-7, 9, 30), by="P0001")
    _act(conn, "old", "check_pass", at(-7, 10), by="P0001")
    _act(conn, "old", "close", at(-7, 10, 30))
    # fixes: P0001 Monday walks from G1-U01 to G2-U01 (crossing G1-U02); P0002 Tuesday in G2-U02; a drill fix
    y = LAT + 0.0005
    fixes = [factories.position("P0001", lat=y, lon=LON + 0.0005, at=at(0, 9)),
             factories.position("P0001", lat=y, lon=LON + 0.0025, at=at(0, 9, 1)),
             factories.position("P0002", lat=y, lon=LON + 0.0035, at=at(1, 9)),
             factories.position("P0001", lat=y, lon=LON + 0.0005, at=at(2, 9), drill_id="DR1")]
    for fix in fixes:  # each received as it is taken (a fix received much later would not count)
        write_batch(conn, [fix], [], fix.fix_at)


@pytest.fixture
def district(engine):
    with engine.begin() as conn:
        _scenario(conn)
    return engine


def test_the_scenario_was_written_as_the_ingest_writes(district):
    with district.connect() as conn:
        assert conn.execute(select(CaseReport.case_id).where(CaseReport.report_id != CaseReport.case_id)).all() \
            == [("A",)]
        assert {c.id for c in load_cases(conn, WEEK, NOW)} == {"A", "B", "C", "E", "F", "H"}


def test_the_district_panel(district):
    with district.connect() as conn:
        d = area_panel(conn, RULES, "D", WEEK, NOW)
    assert d.discovery_timeliness == Rate(3, 4)  # A, E, H in time; B found by a citizen
    assert d.discovery_accuracy == Rate(4, 6)  # A B E H registered; C untrue, F out of scope
    assert d.accuracy_by_channel["patrol"] == Rate(2, 3)
    assert d.accuracy_by_channel["camera"] == Rate(1, 2)
    assert d.accuracy_by_channel["citizen"] == Rate(1, 1)
    assert d.accuracy_by_channel["hotline"].value is None
    assert d.coverage == Rate(4, 28)  # Monday three cells, Tuesday one, of four cells × seven days
    assert d.verification.verify == Rate(5, 6)  # B's 核实 late
    assert d.verification.check == Rate(4, 4)  # A, B twice, H
    assert d.closure == Rate(2, 4) and d.on_time_closure == Rate(2, 4)  # A, H closed early; B, E not closed
    assert d.rework == Rate(1, 3)
    assert d.on_time_handling == Rate(2, 3)  # B's first handling late
    assert d.open == 2 and d.overdue == 2  # B waiting to close since Wed 09:30, E to be dispatched since Tue 09:20
    assert d.average_handling_hours.value == pytest.approx((80 / 60 + (45 + 10 / 60)) / 2)
    assert d.average_dispatch_hours.value == pytest.approx(10 / 60)
    assert d.citizen_first == Rate(1, 4)
    assert d.case_count_score == pytest.approx((75 + 90) / 2)  # G1: three cases, G2: one
    assert d.score.value == pytest.approx(7.5 + 16.5 + 15 + 20) and d.score.grade is Grade.D


def test_grids_communities_and_a_drill(district):
    with district.connect() as conn:
        grids = area_table(conn, RULES, "grid", WEEK, NOW)
        community = area_panel(conn, RULES, "C", WEEK, NOW)
        g1 = area_panel(conn, RULES, "G1", WEEK, NOW)
        drill = area_panel(conn, RULES, "D", WEEK, NOW, drill_id="DR1")
    assert grids["G1"] == g1
    assert g1.discovery_accuracy == Rate(3, 3) and g1.coverage == Rate(2, 14) and g1.closure == Rate(2, 3)
    assert grids["G2"].discovery_accuracy == Rate(1, 3) and grids["G2"].coverage == Rate(2, 14)
    assert community.discovery_accuracy == Rate(4, 6) and community.coverage == Rate(4, 28)
    assert drill.discovery_accuracy == Rate(0, 1) and drill.coverage == Rate(1, 28)
    assert drill.closure.value is None


def test_departments_and_the_patroller_ranking(district):
    with district.connect() as conn:
        departments = departments_panel(conn, RULES, WEEK, NOW)
        ranked = patroller_ranking(conn, RULES, WEEK, NOW)
    assert departments["urban_mgmt"].on_time_handling == Rate(2, 3)
    assert departments["urban_mgmt"].rework == Rate(1, 2)
    first, second = ranked
    assert (first.person.id, first.rank, first.top_three) == ("GW-P0001", 1, True)
    # valid 2/2 × 40 + (1 − 1/3) × 20 + 核实 2/3 × 20 + 核查 4/4 × 20
    assert first.figures.score.value == pytest.approx(40 + 40 / 3 + 40 / 3 + 20)
    assert first.figures.score.grade is Grade.B and first.figures.coverage == Rate(2, 14)
    # valid 0/1, missed 0/1, 核实 3/3, no 核查: (0 + 20 + 20) / 80%
    assert (second.person.id, second.rank) == ("GW-P0002", 2)
    assert second.figures.score.value == pytest.approx(50) and second.figures.score.grade is Grade.D
