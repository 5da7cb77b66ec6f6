from datetime import UTC, datetime

from dashboard.layouts.deadletters import dead_letters_page
from feeds.deadletters import DeadLetterView


def _letter(i, reason, payload):
    return DeadLetterView(i, "cc.incident_report", "schema", reason, payload, datetime(2026, 11, 22, 8, 0, i, tzinfo=UTC), None)


def _rows(page):
    table = page.children[2]
    return table.children[1].children


def test_each_dead_letter_shows_its_reason_and_payload_in_beijing_time():
    page = dead_letters_page([_letter(2, "urgent: Input should be a valid boolean", '{"urgent": "maybe"}')])
    [row] = _rows(page)
    cells = [c.children for c in row.children]
    assert cells[:4] == ["11-22 16:00:02", "cc.incident_report", "格式", "urgent: Input should be a valid boolean"]
    assert cells[4].children == '{"urgent": "maybe"}'
    assert "待处理 1 条" in page.children[1].children


def test_a_long_payload_is_cut_and_marked():
    [row] = _rows(dead_letters_page([_letter(1, "x", "a" * 1000)]))
    assert row.children[4].children.children == "a" * 400 + "…"


def test_nothing_waiting_says_so():
    [row] = _rows(dead_letters_page([], lang="en"))
    assert row.children.children == "No dead letters waiting"
