"""The dispatcher's queue, pure: lights, countdowns in words, filter, search and order, and the rows."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dash import html

from dashboard.layouts.dispatch import queue_dots, queue_records, queue_summary
from dashboard.views.queue import Names, QueueFilter, countdown, light, select_cases, span
from tests.components import shown_texts
from tests.factories import ZONE

NOW = 1_800_000_000_000
MIN = 60_000
NAMES = Names(categories={"env.garbage": "暴露垃圾", "facility.manhole": "井盖缺失"},
              grids={"G1": "云阳社区第1网格", "G2": "锦坪社区第5网格"},
              departments={"sanitation": "环卫", "water": "水务"}, people={"GW-P0001": "彭梅立"})


def case(cid: str, *, left_min: float | None = 120, amber_min: float | None = None, **fields) -> dict:
    deadline = None if left_min is None else NOW + int(left_min * MIN)
    amber = None if deadline is None else deadline - int((amber_min if amber_min is not None else 20) * MIN)
    return {"id": cid, "category": "env.garbage", "urgent": False, "state": "reported", "version": 1,
            "level": "grid", "department": None, "assignee": None, "lat": 30.69, "lon": 111.28, "grid": "G1",
            "step_started": NOW - 10 * MIN, "extended_hours": 0.0, "text": "解放路口暴露垃圾", "channel": "patrol",
            "reported": NOW - 10 * MIN, "reworks": 0, "drill": None, "deadline": deadline, "amber": amber, **fields}


@pytest.mark.parametrize("left, expected", [(30, "green"), (10, "amber"), (0, "red"), (-5, "red"), (None, None)])
def test_the_light_is_green_before_amber_amber_until_the_deadline_red_after(left, expected):
    assert light(case("C", left_min=left), NOW) == expected


@pytest.mark.parametrize("ms, zh, en", [
    (45 * MIN, "45分", "45 min"), (125 * MIN, "2时05分", "2h 05m"), ((3 * 24 * 60 + 250) * MIN, "3天4时", "3d 4h"),
    (59_999, "0分", "0 min"),
])
def test_spans_read_in_whole_minutes(ms, zh, en):
    assert (span(ms, "zh"), span(ms, "en")) == (zh, en)


def test_the_countdown_says_time_left_or_time_over():
    assert countdown(case("C", left_min=45), NOW) == "剩余 45分"
    assert countdown(case("C", left_min=0.5), NOW) == "剩余 1分"  # never "0 left" before the deadline
    assert countdown(case("C", left_min=-125), NOW) == "超时 2时05分"
    assert countdown(case("C", left_min=-125), NOW, "en") == "2h 05m over"
    assert countdown(case("C", left_min=None), NOW) == ""


def test_the_queue_puts_red_first_then_the_least_time_left():
    views = [case("green-far", left_min=300), case("amber", left_min=10), case("red-late", left_min=-60),
             case("red-just", left_min=-1), case("no-clock", left_min=None, state="parked"),
             case("green-near", left_min=60)]
    order = [v["id"] for v in select_cases(views, QueueFilter(), NOW, NAMES)]
    assert order == ["red-late", "red-just", "amber", "green-near", "green-far", "no-clock"]


def test_ended_cases_come_latest_first():
    views = [case("a", left_min=None, state="closed", ended=NOW - 5 * MIN),
             case("b", left_min=None, state="closed", ended=NOW - MIN)]
    assert [v["id"] for v in select_cases(views, QueueFilter(), NOW, NAMES)] == ["b", "a"]


def test_each_filter_keeps_only_what_it_names():
    views = [case("dispatched", state="dispatched", department="sanitation"),
             case("manhole", category="facility.manhole"), case("g2", grid="G2"), case("hotline", channel="hotline"),
             case("urgent", urgent=True), case("late", left_min=-3)]
    def pick(**f):
        return {v["id"] for v in select_cases(views, QueueFilter.of(**f), NOW, NAMES)}
    assert pick(states=["dispatched"]) == {"dispatched"}
    assert pick(categories=["facility.manhole"]) == {"manhole"}
    assert pick(grids=["G2"]) == {"g2"}
    assert pick(channels=["hotline"]) == {"hotline"}
    assert pick(urgent=True) == {"urgent"}
    assert pick(overdue=True) == {"late"}
    assert pick() == {v["id"] for v in views}  # nothing chosen: everything
    assert pick(states=["reported"], grids=["G2"]) == {"g2"}  # filters combine


@pytest.mark.parametrize("query, expected", [
    ("井盖", {"manhole"}),  # the category's name
    ("锦坪", {"g2"}),  # the grid's name
    ("环卫", {"dispatched"}),  # the department's name
    ("彭梅立", {"assigned"}), ("gw-p0001", {"assigned"}),  # the assignee, by name or id, any case
    ("东门  积水", {"text"}),  # every word, anywhere in the text
    ("东门 井盖", set()),
    ("C-ID-7", {"C-ID-7"}),
])
def test_the_search_looks_in_id_text_category_grid_department_and_assignee(query, expected):
    views = [case("manhole", category="facility.manhole"), case("g2", grid="G2"),
             case("dispatched", department="sanitation"), case("assigned", assignee="GW-P0001"),
             case("text", text="东门路口积水约20厘米"), case("C-ID-7")]
    assert {v["id"] for v in select_cases(views, QueueFilter.of(search=query), NOW, NAMES)} == expected





def test_a_queue_row_shows_light_countdown_category_grid_step_department_source_and_time():
    late = case("C1", left_min=-65, state="dispatched", department="sanitation", urgent=True, channel="hotline",
                reported=int(datetime(2026, 11, 23, 1, 5, tzinfo=UTC).timestamp() * 1000))
    queue = queue_records([late], NOW, "zh", NAMES, ZONE)
    assert len(queue["head"]) == 7
    [row] = queue["rows"]
    assert row == {"id": "C1", "light": "red", "urgent": True, "clock": "超时 1时05分", "category": "暴露垃圾",
                   "text": "解放路口暴露垃圾", "grid": "云阳社区第1网格", "state": "处置中", "department": "环卫",
                   "source": "12345热线", "reported": "11-23 09:05"}
    assert queue["urgent"] == "紧急"


def test_field_text_stays_text_in_the_row():
    """The record carries the text as it came; the page sets it as textContent (assets/dispatch.js), never
    as HTML."""
    hostile = '<img src=x onerror="alert(1)">'
    [row] = queue_records([case("C", text=hostile)], NOW, "zh", NAMES, ZONE)["rows"]
    assert row["text"] == hostile


def test_an_empty_queue_says_so_and_the_summary_counts_by_light():
    assert queue_records([], NOW, "en", NAMES, ZONE)["empty"] == "No case matches"
    assert queue_records([], NOW, "en", NAMES, ZONE)["rows"] == []
    views = [case("a", left_min=-1), case("b", left_min=5), case("c", left_min=300), case("d", left_min=None)]
    assert shown_texts(html.Div(queue_summary(views, NOW, "zh"))) == ["共 4 件", "超时 1 · 临期 1 · 正常 1"]
    assert shown_texts(html.Div(queue_summary(views, NOW, "en", limit=2)))[0] == "First 2 of 4"
    assert len(queue_records(views, NOW, "en", NAMES, ZONE, limit=2)["rows"]) == 2


def test_the_map_dots_carry_each_case_and_its_light_worst_on_top():
    dots = queue_dots([case("red", left_min=-1), case("green", left_min=300)], NOW)
    assert [(f["properties"]["id"], f["properties"]["light"]) for f in dots["features"]] == [
        ("green", "green"), ("red", "red")]
    assert dots["features"][0]["geometry"]["coordinates"] == [111.28, 30.69]
