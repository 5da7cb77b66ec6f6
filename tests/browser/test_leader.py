"""The leader page in real Chromium, over a simulated day written through the real pipeline: the KPI cards
show numbers, and a click on a row drills district → street → community → grid and the breadcrumb goes back."""
from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By

from dashboard.security.access import Role
from tests.browser.conftest import sign_in, simulated_hours
from tests.waiting import wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def leader(stack, browser_factory):
    simulated_hours(stack, "leader", 150)
    driver = browser_factory(1920, 1080)
    sign_in(driver, stack, Role.LEADER, "leader")
    return driver


def _crumbs(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.lv-breadcrumb .crumb')).map(e => e.innerText)")


def _value(driver, key) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, f"#lv-kpi-{key} .lv-kpi-value")
    return found[0].text if found else ""


def _drill_into_first_row(driver, depth: int) -> None:
    """Click the first row of the sub-areas one level down, once they are the current area's (the cards and
    breadcrumb come first, the tables a moment after)."""
    here = _crumbs(driver)[-1]
    name = wait_until(lambda: driver.execute_script(
        "const cell = document.querySelector('#leader-subareas .drill-row .ag-cell.name');"
        "if (!cell || arguments[0].endsWith(cell.innerText)) return null;"
        "cell.click(); return cell.innerText;", here), 60, "a sub-area row to click")
    wait_until(lambda: len(_crumbs(driver)) == depth and name in _crumbs(driver)[-1], 60, f"the drill into {name}")


def test_the_cards_show_figures_with_their_counts(leader):
    wait_until(lambda: re.fullmatch(r"\d[\d,]*", _value(leader, "open")), 60, "the open-cases card")
    assert re.fullmatch(r"\d+\.\d%", _value(leader, "discovery_accuracy"))
    detail = leader.find_element(By.CSS_SELECTOR, "#lv-kpi-discovery_accuracy .lv-kpi-detail").text
    numerator, denominator = (int(x.replace(",", "")) for x in detail.split("/"))
    assert 0 < numerator <= denominator
    assert leader.find_elements(By.CSS_SELECTOR, "#leader-patrollers .ag-row.top-three")
    wait_until(lambda: leader.find_elements(By.CSS_SELECTOR, "#leader-trend-rates svg path.series"), 60,
               "the trend chart")


def test_drill_down_from_the_district_to_a_grid_and_back(leader):
    wait_until(lambda: len(_crumbs(leader)) == 1, 60, "the district breadcrumb")
    district = _crumbs(leader)[0]
    for depth in (2, 3, 4):  # street, community, grid
        _drill_into_first_row(leader, depth)
    wait_until(lambda: leader.find_element(By.ID, "leader-subarea-note").is_displayed(), 60, "the grid level")
    assert not leader.find_element(By.ID, "leader-subareas").is_displayed()
    assert _crumbs(leader)[-1].startswith("网格")
    leader.find_elements(By.CSS_SELECTOR, ".lv-breadcrumb button.crumb")[0].click()
    wait_until(lambda: _crumbs(leader) == [district], 60, "back at the district")
