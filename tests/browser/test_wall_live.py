"""The wall screen in real Chromium: what is published on Redis shows on the page, pushed."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from dashboard.security.access import Role
from feeds.bus.channels import publish_messages
from tests import factories
from tests.browser.conftest import WALL_LOADED, sign_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def wall(stack, browser_factory):
    driver = browser_factory(1920, 1080)
    sign_in(driver, stack, Role.KIOSK)
    wait_until(lambda: driver.execute_script(WALL_LOADED), 30, "the wall to load its snapshot")
    wait_until(lambda: driver.find_element(By.ID, "wall-connection").text == "实时连接", 10, "the connection")
    return driver


def _js(driver, script):
    return driver.execute_script("return " + script)


PAINTED_AT = """
    const map = cc.maps['wall-map'], dots = cc.live.patrolDots, ll = dots.get(arguments[0]);
    if (!ll) return null;
    const p = map.latLngToContainerPoint(ll), dpr = window.devicePixelRatio || 1;
    const px = dots.canvas.getContext('2d').getImageData(Math.round(p.x * dpr), Math.round(p.y * dpr), 1, 1).data;
    return [ll.lat, ll.lng, px[0], px[1], px[2], px[3]];
"""


def _painted(driver, unit):
    """(lat, lon) of the unit's dot when it is painted in the patrol colour at its place, else None."""
    found = driver.execute_script(PAINTED_AT, unit)
    if not found:
        return None
    lat, lon, r, g, b, a = found
    return (lat, lon) if (r, g, b) == (0x38, 0xBD, 0xF8) and a > 200 else None


def test_a_fix_published_on_redis_moves_a_marker_on_the_wall(stack, wall):
    lat, lon = stack.district.centre
    publish_messages(stack.bus, [factories.position("T-1", lat=lat, lon=lon)])
    assert wait_until(lambda: _painted(wall, "T-1"), 10, "the new patrol dot") == (
        pytest.approx(lat), pytest.approx(lon))

    publish_messages(stack.bus, [factories.position("T-1", lat=lat + 0.001, lon=lon)])
    wait_until(lambda: _painted(wall, "T-1") == (pytest.approx(lat + 0.001), pytest.approx(lon)), 10,
               "the dot to move")
    assert _js(wall, "cc.live.latencies.length") > 0  # publish → paint was measured in the page


def test_a_new_incident_appears_in_the_ticker_as_plain_text(stack, wall):
    lat, lon = stack.district.centre
    hostile = '<img src=x onerror="window.__injected=1">东门井盖缺失'
    publish_messages(stack.bus, [factories.incident(hostile, lat=lat, lon=lon, urgent=True)])
    ticker = wall.find_element(By.ID, "wall-ticker")
    wait_until(lambda: "东门井盖缺失" in ticker.text, 10, "the incident in the ticker")
    assert hostile in ticker.text  # shown as the text it is
    assert ticker.find_elements(By.TAG_NAME, "img") == []
    assert _js(wall, "window.__injected === undefined")
    assert "紧急" in ticker.text and "暴露垃圾" in ticker.text  # urgent badge, category label
    wait_until(lambda: _js(wall, "cc.live.caseMarks.size()") >= 1, 5, "the case it opened on the map")


def test_a_rejected_message_is_counted_and_the_feed_goes_on(stack, wall):
    before = _js(wall, "cc.live.counts.rejected")
    stack.bus.publish("cc.patrol_position", b'{"kind": "patrol_position", "unit_id": "T-2"}')
    wait_until(lambda: _js(wall, "cc.live.counts.rejected") == before + 1, 10, "the rejected count to go up")
    lat, lon = stack.district.centre
    publish_messages(stack.bus, [factories.position("T-3", lat=lat, lon=lon)])
    wait_until(lambda: _painted(wall, "T-3"), 10, "the next good fix")


def test_a_gap_in_the_sequence_reloads_the_snapshot(stack, wall):
    before = _js(wall, "cc.live.snapshots")
    wall.execute_script("cc.onDelta({seq: cc.live.seq + 5, at: Date.now(), patrols: {}, incidents: [], "
                        "alerts: [], counts: {}})")
    wait_until(lambda: _js(wall, "cc.live.snapshots") == before + 1, 10, "a snapshot reload")
    health = _js(wall, "fetch('/api/health').then(r => r.json())")
    assert _js(wall, "cc.live.seq") == health["seq"]
    lat, lon = stack.district.centre  # the feed goes on from the reloaded snapshot, with no further reloads
    publish_messages(stack.bus, [factories.position("T-5", lat=lat, lon=lon)])
    wait_until(lambda: _painted(wall, "T-5"), 10, "the next fix after the reload")
    assert _js(wall, "cc.live.snapshots") == before + 1


def test_a_silent_feed_is_shown_as_stale_and_recovers(stack, wall):
    age = wall.find_element(By.ID, "wall-data-age")
    lat, lon = stack.district.centre
    publish_messages(stack.bus, [factories.position("T-4", lat=lat, lon=lon)])
    wait_until(lambda: age.text.endswith("秒前更新"), 10, "a fresh update")
    wait_until(lambda: "stale" in age.get_attribute("class"), 15, "the staleness warning")  # 3 s threshold
    assert age.text.startswith("数据已 ") and age.text.endswith("秒未更新")
    publish_messages(stack.bus, [factories.position("T-4", lat=lat + 0.0005, lon=lon)])
    wait_until(lambda: "stale" not in age.get_attribute("class") and age.text.endswith("秒前更新"), 10,
               "the warning to clear")


def test_the_wall_in_english(stack, browser_factory):
    driver = browser_factory(1920, 1080)
    sign_in(driver, stack, Role.KIOSK, "?lang=en")
    wait_until(lambda: "Grid Governance Command Centre" in driver.find_element(By.TAG_NAME, "body").text, 30,
               "the English title")
    wait_until(lambda: driver.find_element(By.ID, "wall-connection").text == "Live", 10, "the connection")


def test_the_dead_letters_page_lists_what_was_refused_as_plain_text(stack, browser_factory):
    stack.bus.publish("cc.incident_report", b'{"kind": "incident_report", "description": "<b id=injected>x</b>"}')
    driver = browser_factory(1920, 1080)
    sign_in(driver, stack, Role.OPERATOR)

    def listed():
        driver.get(stack.url + "dead-letters")
        wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "#dead-letters-table .ag-row"), 20, "the table")
        first = driver.find_element(By.CSS_SELECTOR, "#dead-letters-table .ag-row[row-index='0']")
        return "<b id=injected>" in first.text and first

    first = wait_until(listed, 20, "the refused payload first on the page")
    assert "Field required" in first.text
    assert driver.find_elements(By.ID, "injected") == []


def test_the_clock_shows_the_command_centres_time_whatever_the_screens_zone(stack, browser_factory):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    driver = browser_factory(1920, 1080)
    driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "America/New_York"})
    sign_in(driver, stack, Role.KIOSK)

    def shown():
        found = driver.find_elements(By.ID, "wall-clock")
        return found and found[0].text and datetime.strptime(found[0].text, "%H:%M:%S").time()

    clock = wait_until(shown, 30, "the clock")
    beijing = datetime.now(ZoneInfo("Asia/Shanghai"))
    delta = datetime.combine(beijing.date(), clock, beijing.tzinfo) - beijing
    assert abs((delta + timedelta(hours=12)) % timedelta(hours=24) - timedelta(hours=12)) < timedelta(seconds=5)
    assert driver.execute_script("return new Date().getTimezoneOffset()") in (240, 300)  # the screen is in New York


def test_a_case_opened_by_a_report_and_rejected_by_a_dispatcher_shows_on_the_wall(stack, wall):
    figure = wall.find_element(By.ID, "count-open-cases")
    wait_until(lambda: figure.text not in ("", "—"), 10, "the open-case figure")
    before = int(figure.text.replace(",", ""))
    lat, lon = stack.district.centre
    report = factories.incident("西门路灯不亮", category="facility.streetlight", lat=lat - 0.002, lon=lon)
    publish_messages(stack.bus, [report])
    wait_until(lambda: figure.text == str(before + 1), 10, "the new case on the wall")
    assert _js(wall, f"cc.live.cases['{report.id}'].state") == "reported"
    publish_messages(stack.bus, [factories.command(report.id, "reject", 1, reject_reason="untrue")])
    wait_until(lambda: figure.text == str(before), 10, "the rejected case to leave the wall")
