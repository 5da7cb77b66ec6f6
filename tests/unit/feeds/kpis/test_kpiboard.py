"""The wall's KPI board (feeds/kpis/board.py) and how the panel shows it (dashboard/views/kpis.py,
dashboard/layouts/kpi_panel.py), against figures computed by hand."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dash import dcc, html

from dashboard import ids
from dashboard.callbacks.kpis import render
from dashboard.layouts.kpi_panel import kpi_panel
from dashboard.views.kpis import change, percent_text, rows
from feeds.calendar import WorkingCalendar
from feeds.kpis.board import RATES, comparison_periods, kpi_board, same_time_last_month
from feeds.kpis.figures import CaseFacts, CaseRecord, KpiRules, Period, TrailEvent, area_figures, case_facts
from feeds.taxonomy import load
from tests.components import walk, with_class

CST = ZoneInfo("Asia/Shanghai")
RULES = KpiRules(load(), WorkingCalendar())
TUE = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=CST)  # Tuesday 15:00


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=CST)


def case(id: str, reported: datetime, trail: list[tuple], *, channel: str = "patrol", occurred: datetime | None = None,
         drill: str | None = None) -> CaseFacts:
    """order.vendor (核实 within 1 working hour; closed within 8 working hours of 立案)."""
    record = CaseRecord(id, "order.vendor", False, channel, "G1", "P0001", occurred, reported, drill)
    return case_facts(record, [TrailEvent(action, "DS01", when, dict(after)) for action, when, *after in trail])


MON = TUE - timedelta(days=1)
CASES = [
    # today: A found by a patrol 30 min after it arose, the whole loop on time
    case("A", at(TUE, 9), [("verify", at(TUE, 9, 10)), ("register", at(TUE, 9, 20)),
                           ("dispatch", at(TUE, 9, 30), ("department", "urban_mgmt")), ("handle", at(TUE, 10, 30)),
                           ("check_pass", at(TUE, 11)), ("close", at(TUE, 11, 30))], occurred=at(TUE, 8, 30)),
    # B: a citizen's report (late discovery), verified on time
    case("B", at(TUE, 10), [("verify", at(TUE, 10, 30)), ("register", at(TUE, 10, 40))], channel="citizen"),
    # C: rejected as untrue, on time
    case("C", at(TUE, 11), [("reject", at(TUE, 11, 20), ("reject_reason", "untrue"))]),
    # E: reported before work, due 09:30, verified at 10:00 (late); a patrol's, so timely discovery
    case("E", at(TUE, 8), [("verify", at(TUE, 10)), ("register", at(TUE, 10, 10))]),
    # a drill case today: late everywhere if it counted
    case("D", at(TUE, 9), [("verify", at(TUE, 14, 30)), ("register", at(TUE, 14, 40))], channel="citizen",
         drill="drill-1"),
    # yesterday: Y found 3 h after it arose (late), registered 09:40, due Tuesday 10:10, never closed
    case("Y", at(MON, 9), [("verify", at(MON, 9, 30)), ("register", at(MON, 9, 40))], occurred=at(MON, 6)),
    # Y2: yesterday after 15:00, so not in "yesterday to this time"; due Tuesday 17:00
    case("Y2", at(MON, 16), [("verify", at(MON, 16, 20)), ("register", at(MON, 16, 30))], occurred=at(MON, 15, 30)),
]


def board(cases=CASES, now=NOW):
    windows = comparison_periods(now, CST)
    figures = {name: area_figures(RULES, cases, w.period, w.now) for name, w in windows.items()}
    return kpi_board("D01", figures, windows, now, 30)


def test_the_previous_periods_end_at_the_same_point_in_them():
    w = comparison_periods(NOW, CST)
    assert w["today"].period == Period.today(NOW, CST) and w["today"].now == NOW
    assert w["yesterday"].period == Period.today(at(MON, 0), CST) and w["yesterday"].now == at(MON, 15)
    assert w["month"].period == Period.month(2026, 11, CST)
    assert w["last_month"].period == Period.month(2026, 10, CST) and w["last_month"].now == at(date(2026, 10, 24), 15)


@pytest.mark.parametrize(("now", "before"), [
    (datetime(2026, 3, 31, 10, 15, tzinfo=CST), datetime(2026, 2, 28, 10, 15, tzinfo=CST)),
    (datetime(2028, 3, 30, 23, 59, tzinfo=CST), datetime(2028, 2, 29, 23, 59, tzinfo=CST)),
    (datetime(2026, 1, 15, 8, 0, tzinfo=CST), datetime(2025, 12, 15, 8, 0, tzinfo=CST)),
])
def test_last_month_to_the_same_day_is_cut_to_a_shorter_month(now, before):
    assert same_time_last_month(now, CST) == before


def test_the_board_against_figures_computed_by_hand():
    b = board()
    assert b["area"] == "D01" and b["interval_s"] == 30 and b["computed_at"] == "2026-11-24T15:00:00+08:00"
    assert b["computed_ms"] == int(NOW.timestamp() * 1000)
    assert list(b["rates"]) == list(RATES)
    r = b["rates"]
    # A, E timely; B late (a citizen's, no occurrence time) | Y late | + Y late, Y2 timely
    assert r["discovery_timeliness"] == {"today": [2, 3], "yesterday": [0, 1], "month": [3, 5], "last_month": [0, 0]}
    # A, B, E registered, C rejected as untrue | Y | + Y, Y2
    assert r["discovery_accuracy"] == {"today": [3, 4], "yesterday": [1, 1], "month": [5, 6], "last_month": [0, 0]}
    # 核实 of A, B, C on time, E late; 核查 of A on time | Y | + Y, Y2
    assert r["verification_timeliness"] == {"today": [4, 5], "yesterday": [1, 1], "month": [6, 7],
                                            "last_month": [0, 0]}
    # due today: A (closed, on time) and Y (deadline Tuesday 10:10 passed, open); Y2 not yet due
    assert r["closure"] == {"today": [1, 2], "yesterday": [0, 0], "month": [1, 2], "last_month": [0, 0]}
    assert r["on_time_closure"] == r["closure"]
    assert r["coverage"] == {p: [0, 0] for p in ("today", "yesterday", "month", "last_month")}  # no cells here
    assert b["periods"]["yesterday"] == {"start": "2026-11-23T00:00:00+08:00", "as_of": "2026-11-23T15:00:00+08:00"}
    assert json.loads(json.dumps(b)) == b  # JSON as it is


def test_drill_cases_never_enter_the_board():
    assert board([c for c in CASES if c.drill_id is None]) == board()
    drill_only = board([c for c in CASES if c.drill_id is not None])
    assert all(pair == [0, 0] for rate in drill_only["rates"].values() for pair in rate.values())


@pytest.mark.parametrize(("num", "den", "text"), [
    (0, 0, "—"), (0, 7, "0.0"), (7, 7, "100.0"), (12, 15, "80.0"), (2, 3, "66.7"),
    (2_499, 2_500, "99.9"), (99_999, 100_000, "99.9"), (1, 5_000, "0.1"),
])
def test_a_rate_reads_dash_without_a_denominator_and_never_rounds_to_a_false_0_or_100(num, den, text):
    assert percent_text(num, den) == text


@pytest.mark.parametrize(("now", "before", "expected"), [
    ((12, 15), (10, 14), ("▲ 8.6", "better")),
    ((1, 2), (3, 4), ("▼ 25.0", "worse")),
    ((1, 2), (2, 4), ("持平", "same")),
    ((1, 2), (0, 0), ("—", "none")),
    ((0, 0), (1, 2), ("—", "none")),
])
def test_the_change_against_the_previous_period_is_in_points(now, before, expected):
    assert change(now, before) == expected


def test_rows_show_today_and_this_month_with_their_numbers():
    shown = {r.key: r for r in rows(board(), "zh")}
    today, month = shown["discovery_timeliness"].cells
    assert (today.value, today.unit, today.ratio, today.change, today.trend) == ("66.7", "%", "2 / 3", "▲ 66.7",
                                                                                   "better")  # against 0 / 1
    assert (month.value, month.ratio, month.change, month.trend) == ("60.0", "3 / 5", "—", "none")  # October: 0 / 0
    acc_today = shown["discovery_accuracy"].cells[0]
    assert (acc_today.value, acc_today.change, acc_today.trend) == ("75.0", "▼ 25.0", "worse")
    assert acc_today.title.splitlines() == ["发现准确率 · 今日", "3 / 4 = 75.0%", "昨日同时: 1 / 1 = 100.0%",
                                            "▼ 25.0 个百分点"]
    cover = shown["coverage"].cells[0]
    assert (cover.value, cover.unit, cover.ratio) == ("—", "", "0 / 0")
    assert "0 / 0 = — (无应计数(分母为 0))" in cover.title








def test_the_panel_as_a_component_tree():
    panel = kpi_panel("zh", board())
    assert isinstance(panel, html.Section) and panel.id == ids.KPI_PANEL and "panel-left" in panel.className
    assert [c.data for c in walk(panel) if isinstance(c, dcc.Store)] == ["zh", False]  # its language; no links
    rows_ = with_class(panel, "kpi-row")
    assert [getattr(r, "data-rate") for r in rows_] == list(RATES)
    assert [r.children[0].children for r in rows_] == ["发现及时率", "发现准确率", "发现覆盖率", "核查及时率", "结案率",
                                                       "按期结案率"]
    closure_today, closure_month = with_class(rows_[4], "kpi-cell")
    assert [c.children for c in with_class(closure_today, "kpi-num")] == ["50.0"]
    assert [c.children for c in with_class(closure_today, "kpi-ratio")] == ["1 / 2"]
    assert "1 / 2 = 50.0%" in closure_today.title and "kpi-month" in closure_month.className
    assert [c.children for c in with_class(panel, "kpi-time")] == ["统计于 15:00:00"]


def test_the_panel_before_any_board_and_in_english():
    waiting = kpi_panel("en")
    assert all(c.children == "—" for c in with_class(waiting, "kpi-num"))
    assert len(with_class(waiting, "kpi-num")) == 12
    assert [c.children for c in with_class(waiting, "kpi-time")] == ["Computing the figures…"]
    english = render(board(), "en")
    labels = [c.children for tree in english for c in with_class(tree, "kpi-label")]
    assert labels[0] == "Discovery timeliness" and labels[-1] == "On-time closure"
    assert [c.children for tree in english for c in with_class(tree, "kpi-time")] == ["Computed 15:00:00"]
    unknown = render(board(), "fr")  # an unknown language falls back to zh-CN
    assert next(c.children for tree in unknown for c in with_class(tree, "kpi-label")) == "发现及时率"
