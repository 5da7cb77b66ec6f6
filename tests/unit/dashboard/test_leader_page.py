"""The leader page's presenters and panels as component trees, and the assessment export's two formats."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from dash import html
from openpyxl import load_workbook

from dashboard import ids
from dashboard.layouts.leader import breadcrumb, leader_page
from dashboard.views import leader as lp
from dashboard.views.assessment import Table, to_csv, to_xlsx
from feeds.kpis.figures import (
    NO_RATE,
    AreaFigures,
    DepartmentFigures,
    Mean,
    Patroller,
    PatrollerFigures,
    Period,
    Ranked,
    Rate,
    Verification,
)
from feeds.kpis.load import AreaEntry
from tests.components import walk

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=CST)  # a Wednesday


def figures(**over) -> AreaFigures:
    base = {"discovery_timeliness": NO_RATE, "discovery_accuracy": NO_RATE, "accuracy_by_channel": {},
            "coverage": NO_RATE,
                "verification": Verification(NO_RATE, NO_RATE), "closure": NO_RATE, "on_time_closure": NO_RATE,
                "rework": NO_RATE, "on_time_handling": NO_RATE, "open": 0, "overdue": 0,
            "average_handling_hours": Mean(0, 0),
                "average_dispatch_hours": Mean(0, 0), "citizen_first": NO_RATE, "case_count_score": None}
    return AreaFigures(**{**base, **over})





def _texts(tree) -> list[str]:
    out = []
    for c in walk(tree):
        kids = getattr(c, "children", None)
        if isinstance(kids, str):
            out.append(kids)
        elif isinstance(kids, list):
            out.extend(k for k in kids if isinstance(k, str))
    return out





def _card(cards, key):
    return next(c for c in cards if c.key == key)


# ---------------------------------------------------------------------------------------------- periods


def test_periods_and_the_period_before():
    month = lp.period_for("month", NOW, CST)
    assert month == Period.month(2026, 11, CST)
    assert lp.previous_period("month", month) == Period.month(2026, 10, CST)
    week = lp.period_for("week", NOW, CST)
    assert week == Period.dates(date(2026, 11, 16), date(2026, 11, 22), CST)
    assert lp.previous_period("week", week) == Period.dates(date(2026, 11, 9), date(2026, 11, 15), CST)
    today = lp.period_for("today", NOW, CST)
    assert lp.previous_period("today", today) == Period.dates(date(2026, 11, 17), date(2026, 11, 17), CST)
    custom = lp.period_for("custom", NOW, CST, date(2026, 11, 3), date(2026, 11, 5))
    assert lp.previous_period("custom", custom) == Period.dates(date(2026, 10, 31), date(2026, 11, 2), CST)
    assert lp.previous_period("month", Period.month(2026, 1, CST)) == Period.month(2025, 12, CST)


@pytest.mark.parametrize("kind, first, last, message", [
    ("custom", None, None, "needs a first and a last day"),
    ("custom", date(2026, 11, 5), date(2026, 11, 3), "must end on or after"),
    ("quarter", None, None, "unknown period 'quarter'"),
])
def test_a_bad_period_says_what_is_wrong(kind, first, last, message):
    with pytest.raises(ValueError, match=message):
        lp.period_for(kind, NOW, CST, first, last)


def test_trend_days_and_export_months():
    days = lp.trend_days(NOW, CST)
    assert len(days) == 30 and days[-1] == date(2026, 11, 18) and days[0] == date(2026, 10, 20)
    assert lp.recent_months(NOW, CST, 3) == [date(2026, 11, 1), date(2026, 10, 1), date(2026, 9, 1)]


# ---------------------------------------------------------------------------------------------- KPI cards


def test_nothing_due_is_a_dash_never_zero_or_hundred():
    cards = lp.kpi_cards(figures(), figures(), "zh")
    for key in ("discovery_timeliness", "discovery_accuracy", "coverage", "verification", "closure",
                "on_time_closure", "rework", "on_time_handling", "average_handling_hours", "average_dispatch_hours",
                "score"):
        card = _card(cards, key)
        assert card.value == "—", key
        assert card.change.text == "—" and card.change.tone == "none", key
    assert _card(cards, "closure").detail == "0/0"
    assert _card(cards, "open").value == "0" and _card(cards, "open").change.tone == "flat"
    values = [c["value"] for group in lp.card_panel(cards, "zh") for c in group["cards"]]
    assert values.count("—") == 11 and "0%" not in values and "100.0%" not in values


def test_cards_show_numerator_denominator_and_change():
    now = figures(closure=Rate(3, 4), rework=Rate(1, 10), open=12, overdue=2,
                  verification=Verification(Rate(5, 6), Rate(3, 4)), average_handling_hours=Mean(9.0, 3))
    before = figures(closure=Rate(1, 2), rework=Rate(0, 10), open=15, overdue=2, average_handling_hours=Mean(4.0, 2))
    cards = lp.kpi_cards(now, before, "zh")
    closure = _card(cards, "closure")
    assert (closure.value, closure.detail, closure.change.text, closure.change.tone) == \
        ("75.0%", "3/4", "+25.0 个百分点", "better")
    rework = _card(cards, "rework")
    assert (rework.value, rework.change.text, rework.change.tone) == ("10.0%", "+10.0 个百分点", "worse")
    assert _card(cards, "verification").value == "80.0%" and _card(cards, "verification").detail == "8/10"
    assert (_card(cards, "open").change.text, _card(cards, "open").change.tone) == ("−3", "better")
    assert _card(cards, "overdue").change.tone == "flat"
    hours = _card(cards, "average_handling_hours")
    assert (hours.value, hours.unit, hours.change.text, hours.change.tone) == ("3.0", "小时", "+1.0 小时", "worse")
    english = lp.kpi_cards(now, before, "en")
    assert _card(english, "closure").label == "Closure rate" and _card(english, "closure").change.text == "+25.0 pp"
    panel = lp.card_panel(cards, "zh")
    assert [(g["group"], g["label"], len(g["cards"])) for g in panel] == \
        [("rates", "四率考核", 4), ("closure", "结案与处置", 4), ("load", "在办与时效", 5)]
    card = next(c for g in panel for c in g["cards"] if c["key"] == "closure")
    assert (card["value"], card["detail"], card["change"], card["tone"]) == ("75.0%", "3/4", "+25.0 个百分点", "better")
    assert card["hint"]  # the tooltip says what is counted


# ---------------------------------------------------------------------------------------------- panels

DIRECTORY = {
    "D": AreaEntry("D", "临湾区", "district", None),
    "S": AreaEntry("S", "南明街道", "street", "D"),
    "C": AreaEntry("C", "云阳社区", "community", "S"),
    "G1": AreaEntry("G1", "云阳社区第1网格", "grid", "C"),
    "G2": AreaEntry("G2", "云阳社区第2网格", "grid", "C"),
}


def test_breadcrumb_lets_every_level_above_be_clicked():
    trail = lp.area_trail(DIRECTORY, "C")
    assert [e.code for e in trail] == ["D", "S", "C"]
    crumbs = breadcrumb(trail, "zh")
    buttons = [c for c in crumbs if isinstance(c, html.Button)]
    assert [b.id for b in buttons] == [{"type": ids.LEADER_CRUMB, "code": "D"}, {"type": ids.LEADER_CRUMB, "code": "S"}]
    assert "云阳社区" in _texts(html.Div(crumbs[-1]))
    with pytest.raises(KeyError):
        lp.area_trail(DIRECTORY, "nowhere")


def test_subarea_rows_drill_by_code_and_grids_rank_by_score():
    table = {"G1": figures(closure=Rate(1, 2), on_time_closure=Rate(1, 2), case_count_score=90.0, open=3, overdue=1),
             "G2": figures(closure=Rate(2, 2), on_time_closure=Rate(2, 2), case_count_score=100.0)}
    rows = lp.area_rows(table, DIRECTORY)
    assert [r.code for r in rows] == ["G1", "G2"]
    records = lp.area_records(rows)
    assert [(r["code"], r["closure"], r["closure_detail"], r["open"]) for r in records] == [
        ("G1", "50.0%", "1/2", 3), ("G2", "100.0%", "2/2", 0)]  # a row's id is its code: a click drills into it
    ranked = lp.area_rows(table, DIRECTORY, by_score=True)
    # (18 + 15 + 20) / 90%
    assert [(r.code, r.score, r.grade) for r in ranked] == [("G2", "100.0", "A"), ("G1", "58.9", "D")]
    assert [(r["rank"], r["code"]) for r in lp.area_records(ranked, ranked=True)] == [("1", "G2"), ("2", "G1")]


def test_patroller_ranking_highlights_the_top_three_and_leaves_the_unscored_unranked():
    def person(pid):
        return Patroller(pid, f"巡查员{pid}", frozenset({pid}), frozenset())

    def scored(valid: Rate):
        return PatrollerFigures(valid, NO_RATE, Verification(NO_RATE, NO_RATE), NO_RATE)

    ranked = [Ranked(1, person("P1"), scored(Rate(1, 1)), True), Ranked(2, person("P2"), scored(Rate(1, 2)), True),
              Ranked(4, person("P4"), scored(Rate(0, 1)), False), Ranked(None, person("P5"), scored(NO_RATE), False)]
    rows = lp.patroller_rows(ranked)
    assert [(r.rank, r.score, r.grade) for r in rows] == [("1", "100.0", "A"), ("2", "50.0", "D"), ("4", "0.0", "E"),
                                                           ("—", "—", "—")]
    records = lp.patroller_records(rows)
    assert [r["id"] for r in records if r["top_three"]] == ["P1", "P2"]
    assert records[1]["valid_reports_detail"] == "1/2" and records[3]["valid_reports_detail"] == "0/0"


def test_departments_by_on_time_handling_with_a_dash_when_nothing_was_due():
    rows = lp.department_rows({"water": DepartmentFigures(NO_RATE, NO_RATE, Mean(0, 0), 2),
                               "urban_mgmt": DepartmentFigures(Rate(2, 3), Rate(1, 2), Mean(5.0, 2), 1)},
                              {"urban_mgmt": "城管执法", "water": "水务"}, "zh")
    assert [(r.name, r.on_time_handling, r.on_time_handling_detail) for r in rows] == [
        ("城管执法", "66.7%", "2/3"), ("水务", "—", "0/0")]
    assert rows[0].average_handling == "2.5 小时" and rows[1].average_handling == "—"
    assert lp.department_rows({"water": DepartmentFigures(NO_RATE, NO_RATE, Mean(0, 0), 0)}, {}, "en")[0].name \
        == "Water"
    assert [(r["rank"], r["code"]) for r in lp.department_records(rows)] == [("1", "urban_mgmt"), ("2", "water")]


def test_every_table_of_the_page_is_one_grid_whose_columns_the_rows_fill():
    """Five AG Grids (sub-areas, patrollers, departments, grids, a figure's evidence): each column's field, and
    the numerator / denominator field its rate cells show, is in the rows the callback gives it."""
    import dash_ag_grid as dag

    from dashboard.views.evidence import evidence_rows

    page = leader_page("临湾区", "D", [date(2026, 11, 1)])
    grids = {c.id: c for c in walk(page) if isinstance(c, dag.AgGrid)}
    assert set(grids) == {ids.LEADER_SUBAREAS, ids.LEADER_PATROLLERS, ids.LEADER_DEPARTMENTS, ids.LEADER_GRIDS,
                          ids.LEADER_EVIDENCE_GRID}
    area = lp.area_records(lp.area_rows({"G1": figures()}, DIRECTORY), ranked=True)[0]
    person = lp.patroller_records(lp.patroller_rows([Ranked(None, Patroller("P1", "甲", frozenset(), frozenset()),
                                                            PatrollerFigures(NO_RATE, NO_RATE, Verification(
                                                                NO_RATE, NO_RATE), NO_RATE), False)]))[0]
    department = lp.department_records(lp.department_rows({"water": DepartmentFigures(NO_RATE, NO_RATE, Mean(0, 0),
                                                                                         0)}, {}, "zh"))[0]
    from tests.unit.dashboard.test_evidence_view import CST, NAMES, ROWS

    proof = evidence_rows(ROWS, NAMES, "zh", CST)[0]
    for grid_id, row in ((ids.LEADER_SUBAREAS, area), (ids.LEADER_GRIDS, area), (ids.LEADER_PATROLLERS, person),
                         (ids.LEADER_DEPARTMENTS, department), (ids.LEADER_EVIDENCE_GRID, proof)):
        for col in grids[grid_id].columnDefs:
            assert col["field"] in row, (grid_id, col["field"])
            detail = col.get("cellRendererParams", {}).get("detail")
            assert detail is None or detail in row, (grid_id, detail)
        assert grids[grid_id].getRowId.removeprefix("params.data.") in row


def test_the_page_shell_in_both_languages():
    page = leader_page("临湾区", "D", [date(2026, 11, 1), date(2026, 10, 1)])
    texts = _texts(page)
    assert "领导驾驶舱" in texts and "临湾区" in texts and "导出 CSV" in texts
    store = next(c for c in walk(page) if getattr(c, "id", None) == ids.LEADER_AREA)
    assert store.data == "D"
    month = next(c for c in walk(page) if getattr(c, "id", None) == ids.LEADER_EXPORT_MONTH)
    assert month.value == "2026-11"
    assert "Leader view" in _texts(leader_page("临湾区", "D", [date(2026, 11, 1)], "en"))


def test_trend_charts_leave_a_gap_where_nothing_was_due():
    series = [(date(2026, 11, 17), figures(closure=Rate(1, 2), open=4)), (date(2026, 11, 18), figures(open=5))]
    data = lp.trend_data(series, "zh")
    assert data["days"] == ["2026-11-17", "2026-11-18"] and data["rates"]["title"] == "四率与结案率(%)"
    closure = next(s for s in data["rates"]["series"] if s["label"] == "结案率")
    assert closure["values"] == [50.0, None] and closure["details"] == ["1/2", "0/0"]
    load = lp.trend_data(series, "en")["load"]
    assert [(s["label"], s["values"]) for s in load["series"]] == [("Open cases", [4, 5]), ("Overdue cases", [0, 0])]


# ---------------------------------------------------------------------------------------------- export


def test_csv_and_xlsx_hold_the_same_cells():
    tables = [Table("巡查员考核", ["名次", "姓名", "得分"], [[1, "王伟", 90.0], [None, "李娜", None]], [True, False]),
              Table("部门考核", ["部门", "按期处置率 %"], [["城管执法", 66.7]])]
    text = to_csv(tables, "2026-11 月度考核").decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["2026-11 月度考核"]
    assert rows[2:6] == [["巡查员考核"], ["名次", "姓名", "得分"], ["1", "王伟", "90.0"],
                        ["—", "李娜", "—"]]
    book = load_workbook(io.BytesIO(to_xlsx(tables, "2026-11 月度考核")))
    assert book.sheetnames == ["巡查员考核", "部门考核"]
    sheet = book["巡查员考核"]
    assert [c.value for c in sheet[3]] == [1, "王伟", 90] and [c.value for c in sheet[4]] == ["—", "李娜", "—"]
    assert sheet["A3"].fill.fgColor.rgb.endswith("FFF3C4") and not sheet["A4"].fill.fgColor.rgb.endswith("FFF3C4")
    assert [c.value for c in book["部门考核"][3]] == ["城管执法", 66.7]
