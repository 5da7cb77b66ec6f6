"""The leader page opens without waiting for a count: a page made lately is shown at once with its time while
it is made again behind it; the tables answer from the very page the cards were made from. Real database
(SQLite and PostgreSQL), real Redis, the hand-computed district of tests/integration/feeds/kpis."""
from __future__ import annotations

from dataclasses import replace

import pytest

from dashboard.app import build_services
from dashboard.background import Recent
from dashboard.callbacks.leader import STALE_S, cases_mark, page_of
from dashboard.views import leader as lp
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.kpis.load import area_directory
from feeds.settings import Settings
from tests.integration.feeds.kpis.test_figures import NOW, _report, _scenario, at
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def services(engine, redis_client, redis_server, db_url):
    with engine.begin() as conn:
        _scenario(conn)
    made = build_services(Settings(redis_url=redis_server, database_url=db_url), engine,
                          RedisSnapshotStore(redis_client), None, None)
    clock = Clock()
    return replace(made, clock=NOW.timestamp, leader_pages=Recent(clock=clock)), clock


def _week(services):  # type: ignore[no-untyped-def]
    period = lp.period_for("week", NOW, services.zone)
    return period, lp.previous_period("week", period)


def _open(services, shown_on=None):  # type: ignore[no-untyped-def]
    period, previous = _week(services)
    with services.engine.connect() as conn:
        return page_of(services, conn, area_directory(conn), "D", period, previous, NOW, "zh", shown_on)


def test_a_page_made_lately_is_shown_at_once_with_its_time_and_made_again_behind_it(services):
    services, clock = services
    mark, first = _open(services)
    assert "数据截至 10:00:00" in first.head[1]
    with services.engine.begin() as conn:  # a new case in the district: the figures move
        _report(conn, "N", at(2, 12, 30), "G2", 0.0025, channel="citizen")
        moved = cases_mark(conn)
    clock.t += 40  # no longer fresh, but lately made
    shown, page = _open(services)
    assert (shown, page) == (mark, first)  # at once, not counted while the leader waits
    period, previous = _week(services)
    key = ("D", period.start, period.end, previous.start, previous.end, "zh")
    wait_until(lambda: services.leader_pages.get(key, moved) is not None, 30, "the page made again behind it")
    again_mark, again = _open(services)
    assert again_mark == moved and again.head[2] != first.head[2]  # the new case counted
    assert _open(services, shown_on=mark) != (mark, first)  # the old page was replaced: tables follow the cards
    assert _open(services, shown_on=moved) == (moved, again)


def test_a_page_older_than_its_stale_time_is_not_shown_but_made_now(services):
    services, clock = services
    mark, first = _open(services)
    with services.engine.begin() as conn:
        _report(conn, "N", at(2, 12, 30), "G2", 0.0025, channel="citizen")
    clock.t += STALE_S + 1
    shown, page = _open(services)
    assert shown != mark and page.head[2] != first.head[2]


def test_the_workbook_downloaded_carries_the_evidence_of_the_area_shown(engine, redis_client, redis_server, db_url):
    """The XLSX download as the page posts it, on the page of grid G1: the month's assessment, then a sheet of
    evidence per figure whose rows are G1's and make G1's figure."""
    import base64
    import io

    from openpyxl import load_workbook

    from dashboard.app import create_app
    from dashboard.i18n import t
    from dashboard.security.users import add_user
    from dashboard.views.evidence import LABELS
    from feeds.kpis.load import area_panel
    from feeds.kpis.values import Period
    from tests.integration.feeds.kpis.test_figures import CST, RULES

    with engine.begin() as conn:
        _scenario(conn)
        add_user(conn, "leader", "leader", "correct horse", method="pbkdf2:sha256:1000", display_name="李")
    settings = Settings(redis_url=redis_server, database_url=db_url, secret_key="k" * 40, kiosk_token="t" * 20,
                        password_hash_method="pbkdf2:sha256:1000")
    app, _ = create_app(settings, engine=engine, snapshots=RedisSnapshotStore(redis_client), async_mode="threading",
                        clock=NOW.timestamp)
    c = app.server.test_client()
    assert c.post("/login", data={"username": "leader", "password": "correct horse"}).status_code == 302
    c.get("/leader")  # Dash registers its callbacks at the first request
    answer = c.post("/_dash-update-component", json={
        "output": "leader-download.data", "outputs": {"id": "leader-download", "property": "data"},
        "changedPropIds": ["leader-export-xlsx.n_clicks"],
        "inputs": [{"id": "leader-export-csv", "property": "n_clicks", "value": 0},
                   {"id": "leader-export-xlsx", "property": "n_clicks", "value": 1}],
        "state": [{"id": "leader-export-month", "property": "value", "value": "2026-11"},
                  {"id": "leader-lang", "property": "data", "value": "zh"},
                  {"id": "leader-area", "property": "data", "value": "G1"}]})
    assert answer.status_code == 200, answer.text[:300]
    sent = answer.json["response"]["leader-download"]["data"]
    book = load_workbook(io.BytesIO(base64.b64decode(sent["content"])))
    assert sent["filename"] == "assessment-2026-11.xlsx" and "巡查员考核" in book.sheetnames
    with engine.connect() as conn:
        grid = area_panel(conn, RULES, "G1", Period.month(2026, 11, CST), NOW)
    sheet = book[f"明细-{t(LABELS['closure'], 'zh')}"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert (sum(r[-1] == "是" for r in rows), len(rows)) == (grid.closure.numerator, grid.closure.denominator)
    assert rows and all(r[3] == "G1" for r in rows)
