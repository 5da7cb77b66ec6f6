"""The trainer console's presenters and layout, the after-action report (HTML, XLSX) and the control a form
makes: pure, no services."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from dashboard import ids
from dashboard.callbacks.drill import control_of
from dashboard.http.drillreport import report_html, report_xlsx
from dashboard.layouts.drill import drill_banner, drill_page
from dashboard.views.drill import drill_clock, drill_figures, past_rows, score_rows, status_view
from feeds.clock import ms
from feeds.drills.control import DrillClock, DrillRecord, DrillState, DrillStatus, ScenarioInfo
from feeds.drills.reads import DrillFile
from feeds.drills.score import DrillCase, Step, drill_score
from tests.components import by_id

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
TARGETS = {"dispatch_min": 5, "arrive_min": 15, "close_min": 120}


def status(**changes) -> DrillStatus:
    base = DrillStatus(id="market-fire-1", scenario="market-fire", zh="农贸市场火灾", en="Fire at a farmers' market",
                       state=DrillState.RUNNING, speed=10, started_at=ms(T0), started_by="trainer", duration_min=120,
                       starts_at="15:00", targets=TARGETS, clock=DrillClock.starting(T0, 10), elapsed_ms=600_000,
                       progress=600_000 / 7_200_000, updated_at=ms(T0 + timedelta(minutes=1)))
    return base.but(**changes)


def test_the_drill_clock_is_the_scenarios_time_of_day_and_carries_on_at_its_speed():
    assert drill_clock("21:00", 3 * 3600_000 + 65_000) == "00:01:05"
    view = status_view(status(), ms(T0 + timedelta(minutes=1, seconds=3)), "zh", "Asia/Shanghai")
    assert (view.clock, view.elapsed, view.speed, view.state_label) == ("15:10:30", "T+00:10:30", "10×", "进行中")
    assert view.progress_text == "8.8%" and (view.can_pause, view.can_resume, view.can_start) == (True, False, False)
    paused = status_view(status(state=DrillState.PAUSED), ms(T0 + timedelta(hours=1)), "en", "Asia/Shanghai")
    assert paused.elapsed == "T+00:10:00" and paused.state_label == "Paused" and paused.can_resume
    none = status_view(None, 0, "zh", "Asia/Shanghai")
    assert none.can_start and not none.can_stop and none.title == "当前无演练"


def _file() -> DrillFile:
    cases = [DrillCase("c1", T0, 30.69, 111.28), DrillCase("c2", T0, 30.70, 111.29)]
    steps = [Step("c1", "dispatch", "DS01", T0 + timedelta(minutes=3), "fire"),
             Step("c1", "close", "DS01", T0 + timedelta(minutes=60)),
             Step("c2", "escalate", "system", T0 + timedelta(minutes=20))]
    record = DrillRecord("market-fire-1", "market-fire", "农贸市场火灾", "Fire", TARGETS, T0, "trainer",
                         T0 + timedelta(hours=1), "trainer", DrillClock.starting(T0, 1), 120, "15:00")
    return DrillFile(record, None, drill_score(cases, steps, [], {}, TARGETS),
                     {"c1": "市场起火", "c2": '<script>alert(1)</script>'})


def test_the_score_rows_are_the_total_then_each_dispatcher_then_each_team():
    rows = score_rows(_file().score, "zh", {"DS01": "王芳", "fire": "消防"})
    assert [(r.group, r.who, r.cases, r.overdue) for r in rows] == [
        ("total", "全部", 2, 1), ("dispatcher", "王芳", 1, 0), ("team", "消防", 1, 0)]
    assert rows[0].measures[0] == ("3.0 分钟", "50.0%", "1 / 2") and rows[0].met == (False, False, False)
    assert rows[1].met == (True, False, True)
    figures = {f.key: f.value for f in drill_figures(None, _file().score, "zh")}
    assert figures == {"cases": "2", "open": "—", "overdue": "1", "closure": "—", "on_time": "—",
                       "dispatch": "3.0 分钟"}


def test_the_report_escapes_field_text_and_the_workbook_holds_the_same_numbers():
    html = report_html(_file(), "zh", {}, "Asia/Shanghai")
    assert "应急演练评估报告" in html and "<script>alert" not in html and "&lt;script&gt;" in html
    assert "50.0%" in html and "3.0 分钟" in html
    book = load_workbook(io.BytesIO(report_xlsx(_file(), "en", {}, "Asia/Shanghai")))
    score = book.worksheets[1]
    assert [c.value for c in score[2]][:4] == ["All", 2, 1, "50.0% (1 / 2)"]
    assert [row[0].value for row in book.worksheets[2].iter_rows(min_row=2)] == ["c1", "c2"]


@pytest.mark.parametrize("action", ["pause", "resume", "stop"])
def test_a_button_makes_its_control_for_the_drill_shown(action):
    control = control_of(action, "trainer", "market-fire-1", None, None, None, {})
    assert (control.action, control.by, control.drill_id) == (action, "trainer", "market-fire-1")


def test_start_and_inject_take_the_form():
    start = control_of("start", "admin", None, "typhoon-night", 30.0, ["staff"], {})
    assert (start.scenario, start.speed, start.staff) == ("typhoon-night", 30.0, True)
    inject = control_of("inject", "trainer", "d1", None, None, None,
                        {"category": "env.tree", "where": "riverside", "report": "citizen", "count": 3, "text": " "})
    assert inject.event.model_dump() == {"category": "env.tree", "where": "riverside", "report": "citizen", "count": 3,
                                         "urgent": True, "text": None}
    with pytest.raises(ValueError):
        control_of("inject", "trainer", "d1", None, None, None,
                   {"category": "env.tree", "where": "moon", "report": "citizen", "count": 1})


def test_the_console_page_and_the_banner_render():
    page = drill_page([ScenarioInfo("market-fire", "农贸市场火灾", "Fire", 120, "15:00")], {"env.tree": "倒树"}, "zh",
                      status_view(None, 0, "zh", "Asia/Shanghai"))
    assert by_id(page, ids.DRILL_SCENARIO).value == "market-fire"
    assert by_id(page, ids.DRILL_START).disabled  # until the status says the desk may start one
    banner = drill_banner("农贸市场火灾", "zh")
    assert "演练 DRILL" in banner.children[0].children and banner.className == "drill-banner"
    past = past_rows([_file().record], "en", "Asia/Shanghai")[0]
    assert past.report == "/drill/report/market-fire-1?lang=en" and past.wall == "/?drill=market-fire-1&lang=en"
