"""The leader page's loaders and the monthly assessment export against the hand-computed scenario of
test_figures (SQLite and PostgreSQL): one load gives the same figures as the panel loaders, a drill's data
never enters, and the CSV and XLSX carry the numbers worked out by hand."""
from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from dashboard.views.assessment import assessment_tables, to_csv, to_xlsx
from feeds.kpis.figures import NO_RATE, Period, Rate
from feeds.kpis.load import (
    area_directory,
    area_panel,
    daily_series,
    departments_in,
    departments_panel,
    leader_figures,
    monthly_assessment,
    patroller_ranking,
    same_point,
)
from tests.integration.feeds.kpis.test_figures import CST, MON, NOW, RULES, WEEK, _scenario
from tests.oracles import area_table

pytestmark = pytest.mark.integration
LAST_WEEK = Period.dates(MON - timedelta(days=7), MON - timedelta(days=1), CST)


@pytest.fixture
def district(engine):
    with engine.begin() as conn:
        _scenario(conn)
    return engine


def test_one_load_gives_the_figures_of_the_panel_loaders(district):
    with district.connect() as conn:
        view = leader_figures(conn, RULES, "D", WEEK, LAST_WEEK, NOW)
        assert view.current == area_panel(conn, RULES, "D", WEEK, NOW)
        # the week before as it stood at the same point in it (like the wall's board compares)
        assert view.previous == area_panel(conn, RULES, "D", LAST_WEEK, same_point(WEEK, LAST_WEEK, NOW))
        assert view.children == {"S": area_table(conn, RULES, "street", WEEK, NOW)["S"]}
        assert view.grids == area_table(conn, RULES, "grid", WEEK, NOW)
        assert view.patrollers == patroller_ranking(conn, RULES, WEEK, NOW)
        assert view.departments == departments_panel(conn, RULES, WEEK, NOW)
        community = leader_figures(conn, RULES, "C", WEEK, LAST_WEEK, NOW)
        assert community.current == area_panel(conn, RULES, "C", WEEK, NOW)
        assert set(community.children) == {"G1", "G2"}
        grid = leader_figures(conn, RULES, "G2", WEEK, LAST_WEEK, NOW)
        assert grid.children == {} and set(grid.grids) == {"G2"}
        assert [r.person.id for r in grid.patrollers] == ["GW-P0002"]
        assert grid.departments == departments_in(conn, RULES, "G2", WEEK, NOW) == {}
    assert view.previous.closure == Rate(1, 1)  # the week before: only the old case, closed early
    assert view.current.discovery_accuracy.numerator == 4 and view.current.discovery_accuracy.denominator == 6

PATROLLED_DAYS = {MON, MON + timedelta(days=1)}  # the days of the scenario's live fixes (Wednesday's is a drill's)


def test_each_day_of_a_series_is_that_day_s_panel(district):
    with district.connect() as conn:
        series = daily_series(conn, RULES, "D", MON + timedelta(days=6), 7, NOW)
        assert [d for d, _ in series] == [MON + timedelta(days=k) for k in range(7)]
        for day, figures in series:
            panel = area_panel(conn, RULES, "D", Period.dates(day, day, CST), NOW)
            if day in PATROLLED_DAYS:
                assert figures == panel, day
            else:  # no unit sent a position that day: coverage cannot be told, a gap in the trend
                assert figures == replace(panel, coverage=NO_RATE) and str(figures.coverage) == "—", day
    assert [d for d, f in series if f.coverage.denominator] == sorted(PATROLLED_DAYS)
    monday = series[0][1]
    # A, B registered; C untrue
    assert (monday.discovery_accuracy.numerator, monday.discovery_accuracy.denominator) == (2, 3)


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8").lstrip("\ufeff"))))


def test_the_monthly_assessment_export_carries_the_hand_computed_figures(district):
    with district.connect() as conn:
        month = monthly_assessment(conn, RULES, 2026, 11, NOW)
        directory = area_directory(conn)
    tables = assessment_tables(month, directory, RULES.taxonomy.departments, "zh")
    rows = _csv_rows(to_csv(tables, "2026-11"))
    people = rows[rows.index(["巡查员考核"]) + 2:]
    # GW-P0001 in November: valid reports A, H and the old case 3/3 (the drill's rejected report is not
    # counted, or it would be 3/4); missed: B of A B H old, 1/4; 核实 A, H, old on time, B late, 3/4;
    # 核查 A, B twice, H, old, 5/5. 40 + 15 + 15 + 20 = 90 → A.
    assert people[0][:6] == ["1", "王伟", "GW-P0001", "90.0", "A", "是"]
    assert people[0][6:21] == ["100.0", "3", "3", "25.0", "1", "4", "75.0", "3", "4", "100.0", "5", "5",
                               "3.3", "2", "60"]  # coverage: two of G1's two cells on one of 30 days
    # GW-P0002: valid 0/1 (C untrue), missed 0/1, 核实 C E F 3/3, no 核查: (0 + 20 + 20) / 80% = 50 → D
    assert people[1][:6] == ["2", "李娜", "GW-P0002", "50.0", "D", "是"]
    assert people[1][15:18] == ["—", "0", "0"]
    areas = rows[rows.index(["区域考核"]) + 2:]
    g1 = next(r for r in areas if r[1] == "G1")
    # G1: A B H old registered, B citizen-first 1/4; four cases → 75; closure A H old of A B H old 3/4
    # score (75 × 10% + 75 × 20% + 75 × 30% + 75 × 40%) = 75 → B
    assert g1[:11] == ["网格", "G1", "G1", "75.0", "B", "25.0", "1", "4", "75.0", "75.0", "3"]
    depts = rows[rows.index(["部门考核"]) + 2:]
    assert depts[0][:8] == ["urban_mgmt", "城管执法", "66.7", "2", "3", "50.0", "1", "2"]
    book = load_workbook(io.BytesIO(to_xlsx(tables, "2026-11")))
    sheet = book["巡查员考核"]
    assert [c.value for c in sheet[3]][:9] == [1, "王伟", "GW-P0001", 90.0, "A", "是", 100.0, 3, 3]
    for table in tables:  # the same cells in both files
        xlsx = [[c.value for c in row] for row in book[table.name].iter_rows(min_row=3)]
        written = [["—" if c is None else c for c in row] for row in table.rows]
        assert xlsx == written


def test_a_running_period_is_compared_with_the_same_point_of_the_one_before():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    cst = ZoneInfo("Asia/Shanghai")
    today = Period.dates(datetime(2026, 11, 23).date(), datetime(2026, 11, 23).date(), cst)
    yesterday = Period.dates(datetime(2026, 11, 22).date(), datetime(2026, 11, 22).date(), cst)
    at = datetime(2026, 11, 23, 10, 30, tzinfo=cst)
    assert same_point(today, yesterday, at) == datetime(2026, 11, 22, 10, 30, tzinfo=cst)
    later = datetime(2026, 11, 25, 9, 0, tzinfo=cst)  # today is over: all of yesterday
    assert same_point(today, yesterday, later) == later


def test_the_mark_the_leader_page_keeps_its_figures_by_moves_with_any_case_change(district):
    """The leader page answers a period from the page made in the last 30 s only while this mark holds:
    a command on a case or a new report moves it (tests/unit/dashboard/test_leader_recent.py for the keeping)."""
    from dashboard.callbacks.leader import cases_mark
    from tests.integration.feeds.kpis.test_figures import _act, _report, at

    with district.begin() as conn:
        first = cases_mark(conn)
        assert cases_mark(conn) == first
        _act(conn, "E", "dispatch", at(2, 12), department="urban_mgmt")
        dispatched = cases_mark(conn)
        _report(conn, "N", at(2, 12, 30), "G2", 0.0025, channel="citizen")
        assert len({first, dispatched, cases_mark(conn)}) == 3
