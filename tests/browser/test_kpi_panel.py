"""The KPI panel in real Chromium: the board the producer computed shows at once, a pushed board replaces it,
hover text carries numerator and denominator, and the panel fits its column at 1080 and 2160 lines."""
from __future__ import annotations

import copy
import time

import pytest

from dashboard.security.access import Role
from feeds.bus.push import SocketIOPusher
from feeds.bus.screens import ScreenEvent
from feeds.kpis.board import RATES
from tests.browser.conftest import sign_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

BOARD = "return cc.kpi && cc.kpi.board"


@pytest.fixture(scope="module")
def panel(stack, browser_factory):
    driver = browser_factory(1920, 1080)
    sign_in(driver, stack, Role.KIOSK, "kpis")
    wait_until(lambda: driver.execute_script(BOARD), 30, "the first KPI board")
    return driver


def _redis_url(stack) -> str:
    kw = stack.bus._client.connection_pool.connection_kwargs  # the stack's Redis, where the screens listen
    return f"redis://{kw['host']}:{kw['port']}/{kw.get('db', 0)}"


SHOWN = """
    const cell = document.querySelector(`#wall-kpis [data-rate=${arguments[0]}] .kpi-${arguments[1]}`);
    if (!cell) return null;
    const text = name => cell.querySelector('.' + name).textContent;
    return [text('kpi-num'), text('kpi-ratio'), text('kpi-change'), cell.title,
            cell.querySelector('.kpi-change').className];"""


def _cell(driver, rate: str, period: str) -> list[str]:
    """num, ratio, change, title (the hover text), the change's classes: read at once (the panel re-renders)."""
    return driver.execute_script(SHOWN, rate, period) or ["", "", "", "", ""]


def _shown(driver, rate: str, period: str) -> tuple[str, str, str]:
    return tuple(_cell(driver, rate, period)[:3])


def _pushed(stack, driver, change) -> dict:
    """Push a board (the current one, changed) as the producer does; stamped an hour ahead, so the producer's
    own next board (older) does not replace it on the screen while the test looks."""
    board = copy.deepcopy(driver.execute_script(BOARD))
    board["computed_ms"] = int(time.time() * 1000) + 3_600_000
    change(board["rates"])
    SocketIOPusher(_redis_url(stack)).push(ScreenEvent.KPIS, board)
    return board


def test_the_panel_shows_the_board_the_producer_computed(stack, panel):
    board = panel.execute_script(BOARD)
    assert board["area"] == stack.district.code
    visited, cells = board["rates"]["coverage"]["today"]
    assert cells > 0  # the district's unit cells × today
    value, ratio, _ = _shown(panel, "coverage", "today")
    assert ratio == f"{visited:,} / {cells:,}" and value == f"{100 * visited / cells:.1f}"
    assert _shown(panel, "closure", "today")[0] == "—"  # no case is due in a district without cases
    assert panel.execute_script("return document.querySelector('#wall-kpis .kpi-time').textContent") \
        .startswith("统计于 ")


def test_a_pushed_board_updates_the_panel_and_hover_carries_num_and_den(stack, panel):
    def change(rates):
        rates["discovery_timeliness"]["today"] = [12, 15]
        rates["discovery_timeliness"]["yesterday"] = [10, 14]
        rates["closure"]["month"] = [0, 0]

    _pushed(stack, panel, change)
    wait_until(lambda: _shown(panel, "discovery_timeliness", "today") == ("80.0", "12 / 15", "▲ 8.6"), 10,
               "the pushed board on the panel")
    *_, title, change_class = _cell(panel, "discovery_timeliness", "today")
    assert "kpi-better" in change_class
    assert "12 / 15 = 80.0%" in title and "昨日同时: 10 / 14 = 71.4%" in title
    assert _shown(panel, "closure", "month")[:2] == ("—", "0 / 0")


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_the_panel_fits_its_column_with_the_longest_figures(stack, panel, width, height):
    def longest(rates):
        for key in RATES:
            rates[key] = {"today": [99_999, 100_000], "yesterday": [1, 100_000], "month": [100_000, 100_000],
                          "last_month": [99_999, 100_000]}

    panel.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    _pushed(stack, panel, longest)
    wait_until(lambda: _shown(panel, "on_time_closure", "month")[:2] == ("100.0", "100,000 / 100,000"), 10,
               "the longest figures")
    sizes = panel.execute_script("""
        const p = document.getElementById('wall-kpis'), r = p.getBoundingClientRect();
        const clipped = [...p.querySelectorAll('.kpi-cell *, .kpi-label, .kpi-foot *')]
            .filter(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > r.right).length;
        const num = parseFloat(getComputedStyle(p.querySelector('.kpi-num')).fontSize);
        return [r.width, r.bottom, p.scrollHeight, p.clientHeight, clipped, num, innerWidth, innerHeight];""")
    panel_width, bottom, scroll_h, client_h, clipped, numeral_px, w, h = sizes
    assert panel_width < 0.23 * w and bottom <= h
    assert scroll_h <= client_h and clipped == 0
    assert numeral_px >= 48 * h / 1080  # readable from across the room, scaled with the screen


def test_a_figure_opens_what_makes_it_on_the_leader_page_and_a_kiosk_has_no_way_there(stack, panel, browser_factory):
    from selenium.webdriver.common.by import By

    assert not panel.find_elements(By.CSS_SELECTOR, "#wall-kpis a.kpi-link")  # the kiosk's panel
    driver = browser_factory(1920, 1080)
    sign_in(driver, stack, Role.LEADER, "kpis")
    link = "#wall-kpis [data-rate=closure] a.kpi-link .kpi-month"
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, link), 30, "the figures as links")
    driver.find_element(By.CSS_SELECTOR, link).click()
    wait_until(lambda: "/leader?period=month&evidence=closure" in driver.current_url, 10, "the leader page")
    wait_until(lambda: driver.execute_script(
        "const d = document.getElementById('leader-evidence'), t = document.getElementById('leader-evidence-title');"
        "return !!(d && t && getComputedStyle(d).display !== 'none' && t.textContent.includes('结案率'))"), 60,
        "the evidence of the month's closure rate, opened")
    checked = driver.execute_script("const i = document.querySelector('#leader-period input:checked');"
                                    "return i ? i.value : null")
    assert checked == "month"
