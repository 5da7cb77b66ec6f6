"""A case's file for the dispatcher: the timeline comes from the audit trail (commands sent through the real
pipeline), told in words; the detail and the map focus as component trees."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from dashboard.layouts.dispatch import case_header, case_trail, focus_marker, focus_viewport, no_case
from dashboard.views.queue import Names
from dashboard.views.trail import changes, trail_rows, who
from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import MemorySnapshotStore
from feeds.calendar import WorkingCalendar
from feeds.cases.reads import (
    TrailEntry,
    actor_names,
    case_file,
    ended_case_views,
    grid_names,
    open_case_views,
)
from feeds.ingest.pipeline import Ingest
from feeds.store.models import Area, Person
from feeds.taxonomy import load as load_taxonomy
from tests import factories
from tests.components import shown_texts, walk
from tests.factories import ZONE, send

NAMES = Names(categories={"env.garbage": "暴露垃圾"}, grids={"D01-S01-C01-G001": "云阳社区第1网格"},
              departments={"sanitation": "环卫", "urban_mgmt": "城管执法"},
              people={"GW-P0001": "彭梅立", "P0001": "彭梅立", "DS03": "沈萍"})





def test_who_acted_reads_as_a_name_a_department_a_channel_or_the_system():
    assert who("DS03", NAMES) == "沈萍 (DS03)"
    assert who("sanitation", NAMES) == "环卫"
    assert who("hotline", NAMES) == "12345热线" and who("hotline", NAMES, "en") == "Hotline"
    assert who("system", NAMES) == "系统"
    assert who("somebody", NAMES) == "somebody"


def test_changes_read_before_to_after_in_words_leaving_out_bookkeeping():
    before = {"state": "registered", "department": None, "version": 3, "step_started_at": "2026-11-21T01:00:00+00:00"}
    after = {"state": "dispatched", "department": "sanitation", "version": 4,
             "step_started_at": "2026-11-21T02:00:00+00:00"}
    assert changes(before, after, NAMES) == ["状态:待派遣 → 处置中", "部门:— → 环卫"]
    assert changes(before, after, NAMES, "en") == ["state: To dispatch → Being handled", "department: — → 环卫"]
    assert changes({"level": "grid"}, {"level": "community"}, NAMES) == ["层级:网格 → 社区"]
    assert changes({}, {"state": "reported", "version": 1}, NAMES) == ["状态:待核实"]  # opened
    assert changes({"extended_hours": 0.0}, {"extended_hours": 4.0}, NAMES) == ["延期:0 小时 → 4 小时"]
    assert changes({}, {"report": "r-9"}, NAMES) == ["并入上报:r-9"]


def test_trail_rows_tell_who_what_when_why_in_the_command_centres_zone():
    entry = TrailEntry("escalate", "system", "逾期 19 小时 未完成,自动升级至社区",
                       datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC), {"level": "grid"}, {"level": "community"})
    [row] = trail_rows([entry], NAMES, "zh", ZONE)
    assert (row.when, row.what, row.who, row.why, row.changes) == (
        "11-23 09:02:03", "升级", "系统", "逾期 19 小时 未完成,自动升级至社区", ["层级:网格 → 社区"])


@pytest.fixture
def ingest(engine):
    return Ingest(engine, MemorySnapshotStore(), RecordingPusher())


def test_the_timeline_is_the_audit_trail_of_commands_sent_through_the_pipeline(ingest, engine):
    with engine.begin() as conn:
        conn.execute(insert(Area), [{"code": "D01-S01-C01-G001", "level": "grid", "parent_code": None,
                                     "name": "云阳社区第1网格", "households": 300, "population": 900,
                                     "geometry": "{}"}])
        conn.execute(insert(Person), [{"id": "DS03", "name": "沈萍", "role": "dispatcher", "area_code": None,
                                       "department": None, "unit_id": None}])
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    report = factories.incident("东门垃圾满溢", at=t0, urgent=True)
    duplicate = factories.incident("东门垃圾桶满了", at=t0 + timedelta(minutes=2), channel="hotline", reporter_id=None,
                                   address="云阳社区东门", media_url="https://12345.example.gov.cn/media/1.jpg")
    send(ingest, report)
    send(ingest, duplicate)
    send(ingest, factories.command(report.id, "verify", 1, by="P0001", reason="现场核实属实"),
         factories.command(report.id, "register", 2, by="DS03", reason="予以立案"),
         factories.command(report.id, "dispatch", 3, by="DS03", reason="派环卫", department="sanitation"))
    send(ingest, factories.command(report.id, "send_back", 4, by="sanitation", reason="非本部门职责"))
    taxonomy, calendar = load_taxonomy(), WorkingCalendar()
    with engine.connect() as conn:
        file = case_file(conn, report.id, taxonomy, calendar)
        names = Names({"env.garbage": "暴露垃圾"}, grid_names(conn), taxonomy.departments, actor_names(conn))
        assert case_file(conn, "NO-SUCH-CASE", taxonomy, calendar) is None
        queue = open_case_views(conn, taxonomy, calendar)
    assert [e.action for e in file.trail] == ["report", "merge", "verify", "register", "dispatch", "send_back"]
    assert [(r.report_id, r.merged) for r in file.reports] == [(report.id, False), (duplicate.id, True)]
    assert file.reports[1].text == "东门垃圾桶满了"
    assert file.view["state"] == "registered" and file.view["deadline"] > file.view["amber"]
    assert [v["id"] for v in queue] == [report.id]  # the duplicate was merged, not opened

    rows = trail_rows(file.trail, names, "zh", ZONE)
    assert [(r.what, r.who) for r in rows] == [
        ("上报立项", "P0001"), ("重复上报并入", "12345热线"), ("核实", "P0001"), ("立案", "沈萍 (DS03)"),
        ("派遣", "沈萍 (DS03)"), ("回退", "环卫")]
    assert rows[4].changes == ["状态:待派遣 → 处置中", "部门:— → 环卫"] and rows[4].why == "派环卫"
    assert rows[5].changes == ["状态:处置中 → 待派遣", "部门:环卫 → —"]

    trail = _div(case_trail(file, "zh", names, ZONE))
    page = shown_texts(trail)
    assert page[0] == "上报记录 2 条" and "全程记录" in page and "非本部门职责" in page
    assert "云阳社区东门" in page and "查看照片 ↗" in page  # the hotline's address and its photo
    [photo] = [c for c in walk(trail) if getattr(c, "className", None) == "report-media"]
    assert photo.href == "https://12345.example.gov.cn/media/1.jpg" and photo.rel == "noopener noreferrer"
    header = shown_texts(_div(case_header(file, int(datetime.now(UTC).timestamp() * 1000), "zh", names, ZONE)))
    assert header[:3] == ["暴露垃圾", "紧急", "待派遣"] and header[3].startswith(("剩余", "超时"))
    assert "云阳社区第1网格" in header and "东门垃圾满溢" in header


def test_cases_that_ended_today_are_listed_with_when_they_ended(ingest, engine):
    report = factories.incident()
    send(ingest, report)
    send(ingest, factories.command(report.id, "reject", 1, reject_reason="untrue", reason="现场无此情况"))
    with engine.connect() as conn:
        [ended] = ended_case_views(conn, datetime.now(UTC) - timedelta(hours=1))
        assert ended_case_views(conn, datetime.now(UTC) + timedelta(minutes=1)) == []
        assert open_case_views(conn, load_taxonomy(), WorkingCalendar()) == []
    assert (ended["id"], ended["state"], ended["deadline"]) == (report.id, "rejected", None) and ended["ended"] > 0


def test_drill_cases_stay_out_of_the_console(ingest, engine):
    drill = factories.incident(drill_id="drill-1")
    send(ingest, drill)
    with engine.connect() as conn:
        assert open_case_views(conn, load_taxonomy(), WorkingCalendar()) == []
        assert case_file(conn, drill.id, load_taxonomy(), WorkingCalendar()) is None


def _div(children):
    from dash import html
    return html.Div(children)


def test_the_map_focuses_on_the_selected_case_with_its_marker():
    view = {"lat": 30.69, "lon": 111.28, "deadline": 1, "amber": 0}
    assert focus_viewport(view) == {"center": [30.69, 111.28], "zoom": 17, "transition": "flyTo"}
    ring, dot = focus_marker(view, now_ms=2)
    assert ring.center == dot.center == [30.69, 111.28] and dot.fillColor == "#ef4444"


def test_with_no_case_chosen_the_detail_says_what_to_do():
    assert shown_texts(_div(no_case("zh"))) == ["在左侧队列中选择一件案件"]
    assert "X-1" in shown_texts(_div(no_case("en", "X-1")))[0]
