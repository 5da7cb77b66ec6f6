"""Replay in real Chromium: a short period in which a case was reported, dispatched and closed is played on
the replay screen at 10×: the case comes onto the map and leaves it, the violet banner and the replayed clock
show, the page opens no socket; a live wall open meanwhile gets nothing from it."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from dashboard import ids
from dashboard.security.access import Role
from feeds.bus.channels import publish_messages
from feeds.store.engine import make_engine
from feeds.store.models import CaseRow
from tests import factories
from tests.browser.conftest import sign_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser


def _js(driver, script, *args):
    return driver.execute_script("return " + script, *args)


def _case(engine, case_id):
    with engine.connect() as conn:
        return conn.execute(select(CaseRow.state, CaseRow.version).where(CaseRow.id == case_id)).first()


def test_a_case_reported_dispatched_and_closed_is_replayed_on_the_map(stack, browser_factory):
    engine = make_engine(stack.db_url)
    live_wall = browser_factory(1920, 1080)
    sign_in(live_wall, stack, Role.KIOSK)
    wait_until(lambda: _js(live_wall, "window.cc && cc.live && cc.live.seq !== null && cc.live.territoryAt !== null"),
               30, "the live wall")

    # the period: a minute ago to just after the close; the report is stamped half a minute ago
    now = datetime.now(UTC)
    start = now - timedelta(seconds=60)
    lat, lon = stack.district.centre
    grid = stack.district.grid_areas()[0].code
    report = factories.incident("回放:北街井盖缺失", category="facility.manhole", lat=lat, lon=lon, grid_code=grid,
                                at=now - timedelta(seconds=30))
    publish_messages(stack.bus, [report, factories.position("R-1", lat=lat, lon=lon + 0.001,
                                                            at=now - timedelta(seconds=29))])
    wait_until(lambda: _case(engine, report.id), 20, "the case in the database")
    publish_messages(stack.bus, [factories.command(report.id, "verify", 1), factories.command(report.id, "register", 2),
                                 factories.command(report.id, "dispatch", 3, department="city_management")])
    wait_until(lambda: _case(engine, report.id) == ("dispatched", 4), 20, "the dispatch")
    publish_messages(stack.bus, [factories.command(report.id, "handle", 4), factories.command(report.id, "check_pass",
                                                                                              5),
                                 factories.command(report.id, "close", 6)])
    wait_until(lambda: _case(engine, report.id) == ("closed", 7), 20, "the close")
    end = datetime.now(UTC) + timedelta(seconds=1)
    wait_until(lambda: _js(live_wall, "!cc.live.cases[arguments[0]]", report.id), 20, "the live wall to settle")
    live_seq, live_snapshots = _js(live_wall, "cc.live.seq"), _js(live_wall, "cc.live.snapshots")

    replay = browser_factory(1920, 1080)
    sign_in(replay, stack, Role.LEADER, "leader")
    replay.get(f"{stack.url}replay?from={int(start.timestamp() * 1000)}&to={int(end.timestamp() * 1000)}&speed=10")
    wait_until(lambda: replay.find_elements(By.ID, ids.DRILL_BANNER), 30, "the replay banner")
    banner = replay.find_element(By.ID, ids.DRILL_BANNER)
    assert "回放" in banner.text and "REPLAY" in banner.text and "replay" in banner.get_attribute("class")
    wait_until(lambda: _js(replay, "cc.replay && cc.replay.state === 'ready' && cc.replay.playing"), 30,
               "the replay to play")
    assert _js(replay, "cc.socket === undefined")  # no live socket on a replay screen

    # the case comes onto the map as reported, then leaves it once closed
    wait_until(lambda: _js(replay, "cc.live.caseMarks.has(arguments[0])", report.id), 20, "the case on the map")
    assert _js(replay, "cc.live.cases[arguments[0]].state", report.id) in ("reported", "verified", "registered",
                                                                          "dispatched")
    wait_until(lambda: _js(replay, "cc.live.patrolDots.has('R-1')"), 5, "the patrol of the period")
    # the wall's clock follows the replayed time, half a minute and more behind the real one
    shown = replay.find_element(By.ID, ids.CLOCK).text
    replayed = _js(replay, "cc.replay.now()")
    assert _js(replay, "Date.now()") - replayed > 5_000
    beijing = datetime.fromtimestamp(replayed / 1000, UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    on_wall = datetime.combine(beijing.date(), datetime.strptime(shown, "%H:%M:%S").time(), beijing.tzinfo)
    assert abs((on_wall - beijing).total_seconds()) < 10  # the title clock shows the replayed time
    assert "10×" in replay.find_element(By.ID, ids.DRILL_BANNER_CLOCK).text
    wait_until(lambda: not _js(replay, "cc.live.caseMarks.has(arguments[0])", report.id), 20, "the case to leave")
    assert _js(replay, "cc.live.cases[arguments[0]] === undefined", report.id)
    wait_until(lambda: _js(replay, "cc.replay.state") == "done", 20, "the end of the replay")
    assert "回放结束" in replay.find_element(By.ID, ids.REPLAY_STATE).text
    figures = _js(replay, "cc.replay.figures")
    assert figures["reports"] >= 1 and figures["ended"] >= 1 and figures["steps"] >= 2

    # the live wall heard nothing of it: no delta, no reload
    assert (_js(live_wall, "cc.live.seq"), _js(live_wall, "cc.live.snapshots")) == (live_seq, live_snapshots)
    engine.dispose()


def test_the_replay_screen_in_english_keeps_its_period_across_the_language_switch(stack, browser_factory):
    driver = browser_factory(1920, 1080)
    sign_in(driver, stack, Role.DISPATCHER, "leader")
    driver.get(f"{stack.url}replay?lang=en&speed=60")
    wait_until(lambda: _js(driver, "window.cc && cc.replay && cc.replay.state === 'ready'"), 30, "the replay")
    assert "REPLAY" in driver.find_element(By.ID, ids.DRILL_BANNER).text
    assert driver.find_element(By.ID, ids.REPLAY_FROM).get_attribute("value")  # the picker shows the period
    links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, ".lang-switch a")]
    assert links and all(("/replay?" in h and "from=" not in h) or "/replay?" in h for h in links)
