"""The evidence behind a figure in words, in both languages: each fact names the times and the limit that
decided it, and the count line is the card's."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dashboard.views.evidence import evidence_rows, evidence_sum, fact_text
from dashboard.views.queue import Names
from feeds.kpis.evidence import Evidence

CST = ZoneInfo("Asia/Shanghai")
NAMES = Names(categories={"env.garbage": "暴露垃圾"}, grids={"G1": "云阳社区第1网格"},
              departments={"urban_mgmt": "城管执法"})


def at(hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, 27, hh, mm, tzinfo=CST)


ROWS = [
    Evidence("A", "G1", "env.garbage", "patrol", True, at(14, 32), "discovery",
             {"reported": at(14, 32), "occurred": at(13, 45), "limit_h": 2.0, "delay_h": 47 / 60,
              "first_by": "patrol"}),
    Evidence("B", "G1", "env.garbage", "citizen", False, at(10), "discovery",
             {"reported": at(10), "occurred": None, "limit_h": 2.0, "delay_h": None, "first_by": "citizen"}),
    Evidence("C", "G1", "env.garbage", "patrol", False, at(9, 30), "decision", {"outcome": "untrue"}),
    Evidence("D", "G1", "env.garbage", "patrol", False, at(16), "run",
             {"step": "check", "deadline": at(16), "done": at(16, 40), "department": None}),
    Evidence("E", None, "env.garbage", "camera", True, at(11), "run",
             {"step": "handle", "deadline": at(17, 50), "done": at(11), "department": "urban_mgmt"}),
    Evidence("F", "G1", "env.garbage", "hotline", False, at(18), "closure", {"deadline": at(18), "closed": None}),
]


def test_each_fact_says_the_times_that_decided_it():
    said = [fact_text(r, NAMES, "zh", CST) for r in ROWS]
    assert said[0] == "发生 11-27 13:45 → 首报 14:32,用时 47 分钟(时限 2 小时)"
    assert said[1] == "首报 11-27 10:00,发生时间不明,首报来自市民"
    assert said[2] == "11-27 09:30 核实不属实"
    assert said[3] == "核查 时限 11-27 16:00,完成 16:40"
    assert said[4] == "城管执法处置 时限 11-27 17:50,完成 11:00"
    assert said[5] == "处置时限 11-27 18:00,结案 未结案"
    assert fact_text(ROWS[3], NAMES, "en", CST) == "check (核查) due 11-27 16:00, done 16:40"
    assert fact_text(ROWS[4], NAMES, "en", CST).startswith("handling by ")


def test_the_rows_and_the_count_line():
    rows = evidence_rows(ROWS, NAMES, "zh", CST)
    assert [r["counted"] for r in rows] == ["是", "否", "否", "否", "是", "否"]
    assert rows[0]["grid"] == "云阳社区第1网格" and rows[4]["grid"] == "—" and rows[0]["category"] == "暴露垃圾"
    assert len({r["key"] for r in rows}) == len(rows)
    assert evidence_sum(ROWS, "zh") == "计入 2 / 共 6 = 33.3%"
    assert evidence_sum([], "en") == "0 of 0 counted = —"


def test_a_grid_s_day_of_coverage_says_the_cells_walked_and_those_not():
    from datetime import date

    day = Evidence("", "G1", "", "", False, at(0), "coverage",
                   {"day": date(2026, 11, 27), "visited": 2, "cells": 9,
                    "missed": [f"G1-U0{n}" for n in range(1, 8)]}, whole=9, part=2)
    assert fact_text(day, NAMES, "zh", CST) == ("11-27 走到 2/9 个单元网格,未到:G1-U01、G1-U02、G1-U03、G1-U04、"
                                                "G1-U05、G1-U06…")
    row = evidence_rows([day], NAMES, "zh", CST)[0]
    assert (row["case"], row["at"], row["counted"], row["part"], row["whole"]) == ("", "11-27", "2/9", 2, 9)
    assert evidence_sum([day, ROWS[0]], "zh") == "计入 3 / 共 10 = 30.0%"


def test_an_open_case_says_its_step_and_deadline_and_a_count_says_how_many():
    late = Evidence("G", "G1", "env.garbage", "patrol", True, at(9), "open",
                    {"reported": at(9), "step": "dispatch", "since": at(9, 30), "deadline": at(10), "overdue": True})
    waiting = Evidence("H", "G1", "env.garbage", "patrol", True, at(9), "open",
                       {"reported": at(9), "step": None, "since": None, "deadline": None, "overdue": False})
    assert fact_text(late, NAMES, "zh", CST) == "派遣超期:时限 11-27 10:00(自 11-27 09:30)"
    assert fact_text(waiting, NAMES, "en", CST) == "reported 11-27 09:00, awaiting its next step"
    assert evidence_sum([late, waiting], "zh", "open") == "共 2 件"


def test_a_long_list_shows_what_was_not_counted_first_and_says_how_much_is_listed(monkeypatch):
    import dashboard.views.evidence as ev

    many = [ROWS[0], ROWS[1]] * 3  # counted, not counted, ...
    assert ev.shown_rows(many, limit=10) == many
    assert [r.counted for r in ev.shown_rows(many, limit=4)] == [False, False, False, True]
    monkeypatch.setattr(ev, "SHOWN_MAX", 4)
    assert evidence_sum(many, "zh") == "计入 3 / 共 6 = 50.0%;列出 4 / 6 条(未计入的在前,全部见月度考核导出)"


def test_an_area_too_big_for_evidence_sheets_is_told_where_to_get_them():
    from dashboard.views.evidence import grids_under, too_big_table
    from feeds.kpis.load import AreaEntry

    directory = {"D": AreaEntry("D", "临湾区", "district", None), "S": AreaEntry("S", "南明街道", "street", "D"),
                 "C": AreaEntry("C", "云阳社区", "community", "S"), "G1": AreaEntry("G1", "第1网格", "grid", "C"),
                 "G2": AreaEntry("G2", "第2网格", "grid", "C"), "G3": AreaEntry("G3", "第3网格", "grid", None)}
    assert (grids_under(directory, "D"), grids_under(directory, "S"), grids_under(directory, "G1")) == (2, 2, 1)
    note = too_big_table("临湾区", 1100, "zh")
    assert note.name == "明细" and "临湾区有 1,100 个网格" in note.rows[0][0]


def test_an_average_lists_each_case_s_span_and_its_line_is_the_card_s_average():
    rows = [Evidence("H", "G1", "env.garbage", "patrol", True, at(11, 30), "span",
                     {"kind": "handling", "start": at(9), "end": at(11, 30), "span_us": 9_000_000_000,
                      "department": "urban_mgmt"}),
            Evidence("K", "G1", "env.garbage", "hotline", True, at(10, 45), "span",
                     {"kind": "dispatch", "start": at(10, 30), "end": at(10, 45), "span_us": 900_000_000})]
    assert fact_text(rows[0], NAMES, "zh", CST) == "派遣 11-27 09:00 → 城管执法处置完成 11:30"
    assert fact_text(rows[0], NAMES, "en", CST) == "dispatched 11-27 09:00 → handled 11:30 by Urban management"
    assert fact_text(rows[1], NAMES, "zh", CST) == "立案 11-27 10:30 → 派遣 10:45"
    assert [r["counted"] for r in evidence_rows(rows, NAMES, "zh", CST)] == ["2.50 小时", "0.25 小时"]
    assert evidence_sum(rows, "zh", "average_handling_hours") == "平均 1.4 小时 = 合计 2.8 小时 / 2 件"
    assert evidence_sum([], "en", "average_dispatch_hours") == "average — = 0.0 h in all / 0 cases"


def test_the_score_lists_its_parts_with_their_weights_and_its_line_is_the_card_s_score():
    from fractions import Fraction

    def part(name, weight, value, grids=None):
        return Evidence("", None, name, "", value is not None, at(0), "part",
                        {"part": name, "weight": Fraction(weight, 100), "value": value, "grids": grids})

    rows = [part("not_citizen_first", 10, Fraction(80)), part("case_count", 20, Fraction(75), grids=4),
            part("closure", 30, None), part("on_time_closure", 40, Fraction(90))]
    shown = evidence_rows(rows, NAMES, "zh", CST)
    assert [r["fact"].split(":")[0] for r in shown] == ["非市民首报(100 − 市民首报率)", "案件数得分", "结案率",
                                                         "按期结案率"]
    assert [r["counted"] for r in shown] == ["8.0", "15.0", "—", "36.0"]
    assert shown[0]["fact"] == "非市民首报(100 − 市民首报率):80.0 分 × 权重 10% = 8.0" and shown[0]["at"] == ""
    assert "4 个网格·月的案件数得分之平均" in shown[1]["fact"]
    assert shown[2]["fact"] == "结案率:本期无应计项,不计入(其余分项的权重按比例折满 100%)"
    assert fact_text(rows[3], NAMES, "en", CST) == "on-time closure rate: 90.0 × weight 40% = 36.0"
    # (8 + 15 + 36) / 70% of the weight = 84.3: closure had nothing due
    assert evidence_sum(rows, "zh", "score") == "综合得分 84.3(等级 B)= 各分项得分 × 权重之和"


def test_a_case_registered_in_a_patroller_s_grid_says_who_reported_it_first():
    missed = Evidence("B", "G1", "env.garbage", "citizen", True, at(11, 40), "registered",
                      {"registered": at(11, 40), "first_by": "citizen"})
    found = Evidence("A", "G1", "env.garbage", "patrol", False, at(9, 30), "registered",
                     {"registered": at(9, 30), "first_by": "patrol"})
    assert fact_text(missed, NAMES, "zh", CST) == "立案 11-27 11:40,首报:市民 → 漏报(市民先报)"
    assert fact_text(found, NAMES, "zh", CST) == "立案 11-27 09:30,首报:巡查 → 非漏报"
    assert fact_text(missed, NAMES, "en", CST) == "registered 11-27 11:40, first reported by citizen → missed " \
                                                  "(citizens first)"
    assert evidence_sum([missed, found], "zh") == "计入 1 / 共 2 = 50.0%"


def test_the_last_column_is_headed_by_what_its_rows_put_in_the_figure():
    from dashboard.layouts.leader import evidence_columns
    from dashboard.views.evidence import counted_heading, evidence_title

    heads = {f: evidence_columns("zh", counted_heading(f))[-1]["headerName"]
             for f in ("closure", "average_handling_hours", "score", "coverage", "open")}
    assert heads == {"closure": "计入", "average_handling_hours": "时长(小时)", "score": "得分贡献",
                     "coverage": "走到/单元", "open": "计入"}
    assert evidence_title("verification", "临湾区", "2026-11", "zh", ("person", "王伟")) == \
        "核查及时率 · 王伟 · 临湾区 · 2026-11"
    assert evidence_title("holding", "临湾区", "2026-11", "en", ("department", "City management")) == \
        "Holding · City management · 临湾区 · 2026-11"


def test_a_click_in_the_rankings_opens_only_a_figure_of_a_row():
    from dashboard.views.evidence import holder_asked

    assert holder_asked("person", {"rowId": "GW-P0001", "colId": "verification"}) == ("GW-P0001", "verification")
    assert holder_asked("department", {"rowId": "urban_mgmt", "colId": "open"}) == ("urban_mgmt", "holding")
    assert holder_asked("department", {"rowId": "urban_mgmt", "colId": "average_handling"}) == (
        "urban_mgmt", "average_handling_hours")
    for cell in (None, "x", {"rowId": "GW-P0001", "colId": "name"}, {"rowId": "", "colId": "score"},
                 {"rowId": 7, "colId": "score"}, {"rowId": "x" * 200, "colId": "score"},
                 {"rowId": "GW-P0001", "colId": ["score"]}):
        assert holder_asked("person", cell) is None, cell
    assert holder_asked("robot", {"rowId": "GW-P0001", "colId": "score"}) is None
