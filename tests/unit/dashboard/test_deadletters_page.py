from datetime import UTC, datetime

import dash_ag_grid as dag

from dashboard.layouts.deadletters import dead_letter_rows, dead_letters_page
from feeds.ingest.deadletters import DeadLetterView
from tests.components import walk
from tests.factories import ZONE


def _letter(i, reason, payload):
    return DeadLetterView(i, "cc.incident_report", "schema", reason, payload, datetime(2026, 11, 22, 8, 0, i,
                                                                                       tzinfo=UTC), None)


def _grid(page) -> dag.AgGrid:
    [grid] = [c for c in walk(page) if isinstance(c, dag.AgGrid)]
    return grid


def test_each_dead_letter_shows_its_reason_and_payload_in_beijing_time():
    page = dead_letters_page([_letter(2, "urgent: Input should be a valid boolean", '{"urgent": "maybe"}')], "zh", ZONE)
    [row] = _grid(page).rowData
    assert row == {"id": "2", "time": "11-22 16:00:02", "channel": "cc.incident_report", "stage": "格式",
                   "reason": "urgent: Input should be a valid boolean", "payload": '{"urgent": "maybe"}'}
    assert "待处理 1 条" in page.children[1].children
    assert [c["field"] for c in _grid(page).columnDefs] == ["time", "channel", "stage", "reason", "payload"]


def test_a_long_payload_is_cut_and_marked():
    [row] = dead_letter_rows([_letter(1, "x", "a" * 1000)], "zh", ZONE)
    assert row["payload"] == "a" * 400 + "…"


def test_nothing_waiting_says_so():
    grid = _grid(dead_letters_page([], "en", ZONE))
    assert grid.rowData == [] and "No dead letters waiting" in grid.dashGridOptions["overlayNoRowsTemplate"]
