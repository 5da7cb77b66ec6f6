"""Drills in real Chromium: a trainer starts a drill from the console, sees its clock and progress move, and
stops it; the wall opened in the drill shows the banner and the drill's cases only; the dispatcher console
opened in the drill lists the drill's cases only."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from dashboard import ids
from dashboard.security.access import Role
from feeds.bus.channels import publish_messages
from tests import factories
from tests.browser.conftest import sign_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser


def _text(driver, id_: str) -> str:
    return driver.execute_script(f"var e = document.getElementById('{id_}'); return e ? e.textContent : ''")


@pytest.fixture(scope="module")
def trainer(stack, browser_factory):
    driver = browser_factory(1920, 1080)
    sign_in(driver, stack, Role.TRAINER, "drill")
    wait_until(lambda: driver.find_elements(By.ID, ids.DRILL_START), 30, "the console")
    return driver


def _click(driver, id_: str) -> None:
    wait_until(lambda: driver.find_element(By.ID, id_).is_enabled(), 20, f"{id_} to be enabled")
    driver.find_element(By.ID, id_).click()


def _screens_in_the_drill(stack, browser_factory, drill_id: str) -> None:
    """While the drill runs: the wall and the dispatcher console opened in it show its banner and its cases only."""
    lat, lon = stack.district.centre
    grid = stack.district.grid_areas()[0].code
    drill_case = factories.incident("演练:体育场东门人群聚集", category="people.crowd", urgent=True, lat=lat, lon=lon,
                                    grid_code=grid, drill_id=drill_id)
    live_case = factories.incident("实时:西街垃圾满溢", lat=lat + 0.002, lon=lon, grid_code=grid)
    publish_messages(stack.bus, [drill_case, live_case])
    wall = browser_factory(1920, 1080)
    sign_in(wall, stack, Role.KIOSK, f"?drill={drill_id}")
    wait_until(lambda: wall.find_elements(By.ID, ids.DRILL_BANNER), 30, "the drill banner")
    banner = wall.find_element(By.ID, ids.DRILL_BANNER).text
    assert "演练" in banner and "DRILL" in banner and "演唱会散场人员聚集" in banner
    wait_until(lambda: "T+" in _text(wall, ids.DRILL_BANNER_CLOCK), 20, "the drill clock on the banner")
    wait_until(lambda: "体育场东门" in _text(wall, ids.TICKER), 30, "the drill's incident on the drill wall")
    assert "西街垃圾满溢" not in _text(wall, ids.TICKER)
    assert wall.execute_script("return !!(cc.live.cases[arguments[0]])", drill_case.id)
    assert not wall.execute_script("return !!(cc.live.cases[arguments[0]])", live_case.id)
    live_wall = browser_factory(1920, 1080)
    sign_in(live_wall, stack, Role.KIOSK, "")
    wait_until(lambda: "西街垃圾满溢" in _text(live_wall, ids.TICKER), 30, "the live incident on the live wall")
    assert "体育场东门" not in _text(live_wall, ids.TICKER) and not live_wall.find_elements(By.ID, ids.DRILL_BANNER)
    desk = browser_factory(1920, 1080)
    sign_in(desk, stack, Role.DISPATCHER, f"dispatch?drill={drill_id}")
    rows = "return Array.from(document.querySelectorAll('#dispatch-queue tr[data-case]')).map(r => r.dataset.case)"
    wait_until(lambda: drill_case.id in desk.execute_script(rows), 30, "the drill's case in the drill's queue")
    assert live_case.id not in desk.execute_script(rows)
    assert desk.find_elements(By.ID, ids.DRILL_BANNER)


def test_a_trainer_starts_a_drill_sees_it_run_and_stops_it(trainer, stack, browser_factory):
    _click(trainer, ids.DRILL_START)
    wait_until(lambda: "进行中" in _text(trainer, ids.DRILL_STATUS), 30, "the drill to run")
    drill_id = trainer.execute_script("return document.querySelector('.dr-id').textContent")
    assert drill_id.startswith("crowd-after-concert-")
    # at 10× the drill clock moves 10 s a second: progress and elapsed time go up
    first = _text(trainer, ids.DRILL_STATUS)
    wait_until(lambda: _text(trainer, ids.DRILL_STATUS) != first, 10, "the drill clock to move")
    width = trainer.execute_script(f"return document.getElementById('{ids.DRILL_PROGRESS}').style.width")
    assert width.endswith("%")
    assert "T+00:" in _text(trainer, ids.DRILL_STATUS)
    _screens_in_the_drill(stack, browser_factory, drill_id)
    _click(trainer, ids.DRILL_STOP)
    wait_until(lambda: "已结束" in _text(trainer, ids.DRILL_STATUS), 30, "the drill to end")
    assert "trainer" in _text(trainer, ids.DRILL_STATUS)
    wait_until(lambda: f"/drill/report/{drill_id}" in trainer.find_element(By.ID,
                                                                           ids.DRILL_PAST).get_attribute("innerHTML"),
               20, "the drill among past drills, with its report")
    assert trainer.find_element(By.ID, ids.DRILL_START).is_enabled()
