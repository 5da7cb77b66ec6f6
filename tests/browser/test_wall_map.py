"""The wall's map and right column in real Chromium: grid colours and case markers by light, the grid card,
the urgent queue's countdowns, layer toggles, the language switch, off-duty patrols, a patrol's trail."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from dashboard.security.access import Role
from feeds.bus.channels import publish_messages
from simulators.furnishings import build_furnishings
from tests import factories
from tests.browser.conftest import SEED, sign_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser
RGB = {"red": (0xEF, 0x44, 0x44), "amber": (0xF5, 0x9E, 0x0B), "green": (0x22, 0xC5, 0x5E)}
MINUTE = 60_000


def _js(driver, script, *args):
    return driver.execute_script("return " + script, *args)


def _open(browser_factory, stack, path="", width=1920, height=1080):
    driver = browser_factory(width, height)
    sign_in(driver, stack, Role.KIOSK, path)
    wait_until(lambda: _js(driver, "!!(window.cc && cc.live && cc.live.seq !== null && cc.live.territoryAt !== null)"),
               30,
               "the wall to load its snapshot")
    return driver


@pytest.fixture(scope="module")
def wall(stack, browser_factory):
    return _open(browser_factory, stack)


def _grids(stack):
    return stack.district.grid_areas()


def _inside(grid):
    p = grid.geometry.representative_point()
    return p.y, p.x  # lat, lon


def _settled(driver):
    """Reload the page's live state from the server (dropping cases injected before) and wait until it holds
    the server's latest state (no delta of an earlier test still on its way)."""
    driver.execute_script("cc.onDelta({seq: cc.live.seq + 1000, at: Date.now(), patrols: {}, incidents: [], "
                          "alerts: [], counts: {}, cases: {}})")  # a gap: the page reloads the snapshot

    def same():
        health = _js(driver, "fetch('/api/health').then(r => r.json())")
        return _js(driver, "cc.live.seq") == health["seq"]
    wait_until(same, 10, "the page to catch up with the server")


def _case(cid, grid, lat, lon, *, deadline_in_ms, amber_in_ms, drill=None, category="env.garbage", state="dispatched"):
    return {"id": cid, "category": category, "urgent": False, "state": state, "version": 2, "level": "grid",
            "department": "sanitation", "assignee": None, "lat": lat, "lon": lon, "grid": grid.code,
            "step_started": 0, "extended_hours": 0, "text": "测试", "channel": "patrol", "reported": 0, "reworks": 0,
            "drill": drill, "deadline_in": deadline_in_ms, "amber_in": amber_in_ms}


INJECT = """
    const now = Date.now(), cases = {};
    for (const c of arguments[0]) {
      cases[c.id] = Object.assign({}, c, {deadline: now + c.deadline_in, amber: now + c.amber_in});
    }
    cc.onDelta({seq: cc.live.seq + 1, at: now, patrols: {}, incidents: [], alerts: [], counts: {}, cases: cases});
"""


def _inject(driver, cases):
    """Cases as a delta would bring them: a page-side view of the live state (the next real delta reloads it)."""
    _settled(driver)
    driver.execute_script(INJECT, cases)


PIXEL = """
    const [layer, id] = arguments, map = cc.maps['wall-map'], glyphs = cc.live[layer], ll = glyphs.get(id);
    if (!ll) return null;
    const p = map.latLngToContainerPoint(ll), dpr = window.devicePixelRatio || 1;
    const px = glyphs.canvas.getContext('2d').getImageData(Math.round(p.x * dpr), Math.round(p.y * dpr), 1, 1).data;
    return [px[0], px[1], px[2], px[3]];
"""


def _colour_of(driver, layer, id_):
    px = driver.execute_script(PIXEL, layer, id_)
    return None if px is None or px[3] < 200 else tuple(px[:3])


def _grid_fill(driver, code):
    return _js(driver, "cc.live.layers.grids.byCode[arguments[0]].options.fillColor", code)


def _press(driver, selector):
    """Click a button of a panel that is redrawn every second (retrying when it was redrawn under us)."""
    def pressed():
        try:
            driver.find_element(By.CSS_SELECTOR, selector).click()
            return True
        except StaleElementReferenceException:
            return False
    wait_until(pressed, 5, f"a click on {selector}")


def _click_at(driver, lat, lon):
    x, y = _js(driver, "(() => { const p = cc.maps['wall-map'].latLngToContainerPoint([arguments[0], arguments[1]]);"
                       " return [p.x, p.y]; })()", lat, lon)
    box = driver.find_element(By.ID, "wall-map")
    ActionChains(driver).move_to_element_with_offset(box, x - box.size["width"] / 2,
                                                     y - box.size["height"] / 2).click().perform()


def test_cases_show_by_light_grids_by_overdue_and_drills_not_at_all(stack, wall):
    g1, g2, g3 = _grids(stack)[:3]
    (a, b), (c, d), (e, f) = _inside(g1), _inside(g2), _inside(g3)
    _inject(wall, [_case("K-RED", g1, a, b, deadline_in_ms=-12 * MINUTE, amber_in_ms=-30 * MINUTE),
                   _case("K-AMBER", g2, c, d, deadline_in_ms=20 * MINUTE, amber_in_ms=-MINUTE),
                   _case("K-GREEN", g2, c + 0.0004, d, deadline_in_ms=90 * MINUTE, amber_in_ms=60 * MINUTE),
                   _case("K-DRILL", g3, e, f, deadline_in_ms=-MINUTE, amber_in_ms=-5 * MINUTE, drill="D-1")])
    for cid, light in (("K-RED", "red"), ("K-AMBER", "amber"), ("K-GREEN", "green")):
        wait_until(lambda cid=cid, light=light: _colour_of(wall, "caseMarks", cid) == RGB[light], 5,
                   f"{cid} painted {light}")
    assert not _js(wall, "cc.live.caseMarks.has('K-DRILL')")
    assert _grid_fill(wall, g1.code) == "#ef4444"  # an overdue case: red
    assert _grid_fill(wall, g2.code) == "#2f80d0"  # open, none overdue
    assert _grid_fill(wall, g3.code) == "#0e2a52"  # only a drill's case: as if empty
    wait_until(lambda: wall.find_element(By.ID, "count-overdue").text == "1", 5, "one overdue case counted")
    # drills are neither open nor overdue on the live wall
    assert int(wall.find_element(By.ID, "count-open-cases").text) == _js(
        wall, "Object.values(cc.live.cases).filter(c => !c.drill).length")


def test_the_urgent_queue_puts_the_overdue_first_and_counts_down(stack, wall):
    g1, g2 = _grids(stack)[:2]
    (a, b), (c, d) = _inside(g1), _inside(g2)
    _inject(wall, [_case("Q-LATER", g2, c, d, deadline_in_ms=60 * MINUTE, amber_in_ms=30 * MINUTE),
                   _case("Q-OVER", g1, a, b, deadline_in_ms=-12 * MINUTE, amber_in_ms=-40 * MINUTE,
                         category="facility.streetlight", state="reported"),
                   _case("Q-SOON", g2, c, d, deadline_in_ms=10 * MINUTE, amber_in_ms=-5 * MINUTE)])

    def rows():  # read in one go: the rows are redrawn every second
        return _js(wall,
                   "[...document.querySelectorAll('#wall-queue .queue-item')].map(i => [i.className, i.innerText])")

    wait_until(lambda: len(rows()) >= 3 and "路灯" in rows()[0][1], 5, "the queue")
    first, second, third = rows()[:3]
    assert "light-red" in first[0] and re.search(r"超时 0:1[23]:\d\d", first[1]), first
    assert g1.name in first[1] and "待核实" in first[1]  # grid, step
    assert "light-amber" in second[0] and re.search(r"剩余 0:(09|10):\d\d", second[1]), second
    assert "light-green" in third[0] and re.search(r"剩余 0:(59|60):\d\d", third[1]), third
    before = first[1]
    wait_until(lambda: rows()[0][1] != before, 3, "the countdown to tick")


def test_clicking_a_grid_opens_its_card_with_people_cases_coverage_and_assets(stack, wall):
    grid = _grids(stack)[4]
    lat, lon = _inside(grid)
    _inject(wall, [_case("C-1", grid, lat + 0.0003, lon, deadline_in_ms=-3 * MINUTE, amber_in_ms=-9 * MINUTE)])
    _click_at(wall, lat, lon)
    card = wall.find_element(By.ID, "wall-grid-card")
    wait_until(lambda: "hidden" not in card.get_attribute("class") and "今日巡查覆盖" in card.text, 10, "the card")
    furnishings = build_furnishings(stack.district, SEED)
    worker = next(p for p in furnishings.people if p.role == "grid_worker" and p.area_code == grid.code)
    cameras = sum(1 for a in furnishings.assets if a.kind == "camera" and a.grid_code == grid.code)
    text = card.text
    assert grid.name in text and worker.name in text and "网格员" in text and "网格长" in text
    assert re.search(rf"\b{cameras}\s*摄像头", text) and "井盖" in text and "消火栓" in text and "路灯" in text
    assert re.search(r"超时 0:0[34]:\d\d", text)  # its open case, live
    assert _js(wall, "cc.live.layers.grids.byCode[arguments[0]].options.weight", grid.code) > 2  # outlined
    _press(wall, "#wall-grid-card .grid-card-close")
    wait_until(lambda: "hidden" in card.get_attribute("class"), 5, "the card to close")


def test_layers_can_be_hidden_and_shown_again(wall):
    def pane_shown(pane):
        return _js(wall, "cc.maps['wall-map'].getPane(arguments[0]).style.display !== 'none'", pane)

    boxes = {b.find_element(By.XPATH, "ancestor::label").text.strip(): b
             for b in wall.find_elements(By.CSS_SELECTOR, "#wall-layers input[type=checkbox]")}
    assert set(boxes) == {"网格", "案件", "巡查员", "摄像头", "道路"}
    def drawn(layer):  # its glyphs' canvas is in its own pane, and seen
        return _js(wall, "(() => { const c = cc.live[arguments[0]].canvas;"
                         " return c.parentNode === cc.maps['wall-map'].getPane(cc.live[arguments[0]].options.pane)"
                         " && c.parentNode !== cc.maps['wall-map'].getPane('overlayPane') && c.offsetParent !== null;"
                         " })()", layer)

    assert drawn("caseMarks") and drawn("patrolDots") and drawn("cameraMarks") and drawn("cameraFaults")
    boxes["案件"].click()
    wait_until(lambda: not pane_shown("cc-cases") and not drawn("caseMarks"), 5, "the case layer hidden")
    assert pane_shown("cc-patrols") and pane_shown("cc-grids")
    boxes["道路"].click()
    wait_until(lambda: not pane_shown("cc-roads"), 5, "the roads hidden")
    boxes["案件"].click()
    boxes["道路"].click()
    wait_until(lambda: pane_shown("cc-cases") and pane_shown("cc-roads") and drawn("caseMarks"), 5,
               "both shown again")


def test_the_language_switch_in_the_title_bar(stack, browser_factory):
    driver = _open(browser_factory, stack)
    driver.find_element(By.CSS_SELECTOR, "#wall-lang a[href='/?lang=en']").click()
    wait_until(lambda: "Most urgent" in driver.find_element(By.TAG_NAME, "body").text, 20, "the English wall")
    assert "Patrols on duty" in driver.find_element(By.CLASS_NAME, "counts").text
    driver.find_element(By.CSS_SELECTOR, "#wall-lang a[href='/?lang=zh']").click()
    wait_until(lambda: "紧急待办" in driver.find_element(By.TAG_NAME, "body").text, 20, "back in Chinese")


def test_patrols_off_duty_are_neither_drawn_nor_counted(stack, wall):
    lat, lon = stack.district.centre
    now = factories.now()
    on_duty_s = _js(wall, "cc.config.onDutyMs") / 1000
    publish_messages(stack.bus, [factories.position("OFF-1", lat=lat, lon=lon, at=now - timedelta(minutes=30))])
    publish_messages(stack.bus, [factories.position("FADING", lat=lat, lon=lon + 0.001,
                                                    at=now - timedelta(seconds=on_duty_s - 3))])
    wait_until(lambda: _colour_of(wall, "patrolDots", "FADING"), 5, "the fading patrol drawn")
    assert not _js(wall, "'OFF-1' in cc.live.patrols")
    def counted():
        return int(wall.find_element(By.ID, "count-patrols").text.replace(",", "").replace("—", "-1"))

    on_duty = wait_until(lambda: counted() == _js(wall, "Object.keys(cc.live.patrols).length") and counted(), 5,
                         "the count of patrols on duty")
    wait_until(lambda: not _js(wall, "cc.live.patrolDots.has('FADING')"), 8, "the fading patrol to drop off")
    wait_until(lambda: counted() == on_duty - 1, 5, "the count to follow")
    assert _colour_of(wall, "patrolDots", "FADING") is None


def test_clicking_a_patrol_draws_its_last_hour_and_the_trail_grows(stack, wall):
    lat, lon = stack.district.centre
    now = factories.now()
    past = [factories.position("TRAIL-1", lat=lat + 0.0002 * k, lon=lon - 0.003,
                               at=now - timedelta(minutes=50 - 10 * k))
            for k in range(4)]
    old = factories.position("TRAIL-1", lat=lat, lon=lon - 0.004, at=now - timedelta(minutes=70))  # before the hour
    for m in [old, *past]:
        publish_messages(stack.bus, [m])
    live = factories.position("TRAIL-1", lat=lat + 0.001, lon=lon - 0.003, at=now)
    publish_messages(stack.bus, [live])
    wait_until(lambda: _colour_of(wall, "patrolDots", "TRAIL-1"), 10, "the patrol on the map")
    _click_at(wall, lat + 0.001, lon - 0.003)
    info = wall.find_element(By.ID, "wall-trail-info")
    wait_until(lambda: "5 个定位点" in info.text, 10, "the trail of the last hour")
    assert "TRAIL-1" in info.text and _js(wall, "cc.live.trail.getLatLngs().length") == 5
    publish_messages(stack.bus, [factories.position("TRAIL-1", lat=lat + 0.0012, lon=lon - 0.003,
                                                    at=factories.now())])
    wait_until(lambda: _js(wall, "cc.live.trail.getLatLngs().length") == 6, 10, "the trail to grow")
    _press(wall, "#wall-trail-info .trail-close")
    wait_until(lambda: _js(wall, "cc.live.trail === null"), 5, "the trail cleared")


def test_a_camera_that_goes_offline_is_drawn_apart_and_counted_until_it_is_back(stack, wall):
    camera = sorted(a.id for a in build_furnishings(stack.district, SEED).assets if a.kind == "camera")[0]
    label = wall.find_element(By.ID, "wall-cameras-off")
    assert "hidden" in label.get_attribute("class")
    at = factories.now() - timedelta(seconds=1)
    publish_messages(stack.bus, [factories.status(camera, "offline", at=at)])
    wait_until(lambda: _js(wall, "cc.live.cameraFaults.keyOf(arguments[0])", camera) == "offline", 10,
               "the camera drawn offline")
    assert not _js(wall, "cc.live.cameraMarks.has(arguments[0])", camera)  # drawn once, above the cases
    wait_until(lambda: _colour_of(wall, "cameraFaults", camera) == (0xCB, 0xD5, 0xE1), 5, "its offline fill")
    wait_until(lambda: label.text == "1 路摄像头离线" and "hidden" not in label.get_attribute("class"), 5,
               "the count beside the legend")
    publish_messages(stack.bus, [factories.status(camera, "online", at=at + timedelta(milliseconds=500),
                                                  detail=None)])
    wait_until(lambda: _js(wall, "cc.live.cameraMarks.keyOf(arguments[0])", camera) == "online", 10,
               "the camera back")
    assert not _js(wall, "cc.live.cameraFaults.has(arguments[0])", camera)
    wait_until(lambda: _colour_of(wall, "cameraMarks", camera) == (0xA7, 0x8B, 0xFA), 5, "its usual fill")
    wait_until(lambda: "hidden" in label.get_attribute("class"), 5, "the count gone")
