"""Drills in real Chromium: a trainer starts a drill from the console, sees its clock and progress move, and
stops it; the wall opened in the drill shows the banner and the drill's cases only; the dispatcher console
opened in the drill lists the drill's cases only."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from dashboard import ids
from dashboard.access import Role
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


def test_a_trainer_starts_a_drill_sees_it_run_and_stops_it(trainer):
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
    _click(trainer, ids.DRILL_STOP)
    wait_until(lambda: "已结束" in _text(trainer, ids.DRILL_STATUS), 30, "the drill to end")
    assert "trainer" in _text(trainer, ids.DRILL_STATUS)
    wait_until(lambda: drill_id in _text(trainer, ids.DRILL_PAST), 20, "the drill among past drills")
    assert trainer.find_element(By.ID, ids.DRILL_START).is_enabled()
