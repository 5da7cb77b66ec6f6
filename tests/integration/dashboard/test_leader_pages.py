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
