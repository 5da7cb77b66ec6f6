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
    """A card's value, read at once (the cards are drawn again whenever the page is made again)."""
    return driver.execute_script("const v = document.querySelector(arguments[0]); return v ? v.innerText : ''",
                                 f"#lv-kpi-{key} .lv-kpi-value")


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
    # the page made when the server started (before this day was simulated) is shown first, then the new one
    wait_until(lambda: re.fullmatch(r"\d+\.\d%", _value(leader, "discovery_accuracy")), 60, "the day's figures")
    detail = leader.execute_script("return document.querySelector('#lv-kpi-discovery_accuracy .lv-kpi-detail')"
                                   ".innerText")
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


def _evidence_counts(driver) -> tuple[int, int] | None:
    """(numerator, denominator) of the evidence table's rows, through AG Grid's own API (rows are drawn as they
    scroll): a row is one in each, or none in the numerator; a grid's day of coverage its cells visited of all."""
    return driver.execute_script("""
        const api = window.dash_ag_grid && window.dash_ag_grid.getApi('leader-evidence-grid');
        if (!api) return null;
        let hit = 0, all = 0;
        api.forEachNode(n => { all += n.data.whole; hit += n.data.part; });
        return [hit, all];""")


def _open_evidence(driver, figure: str, title: str) -> tuple[int, int]:
    """Click a card, wait for its evidence titled `title` and its rows: (numerator, denominator) of the rows."""
    driver.execute_script("document.getElementById(arguments[0]).click()", f"lv-kpi-{figure}")
    panel = driver.find_element(By.ID, "leader-evidence")
    wait_until(lambda: panel.is_displayed() and title in driver.find_element(By.ID, "leader-evidence-title").text,
               60, "the evidence of " + figure)
    wait_until(lambda: _evidence_counts(driver), 30, "the evidence's rows")
    return _evidence_counts(driver)


def _close_evidence(driver) -> None:
    driver.find_element(By.ID, "leader-evidence-close").click()
    wait_until(lambda: not driver.find_element(By.ID, "leader-evidence").is_displayed(), 10, "the evidence closed")


@pytest.mark.parametrize("figure", ["discovery_timeliness", "discovery_accuracy", "verification", "closure",
                                    "coverage"])
def test_a_click_on_a_rate_lists_the_cases_that_make_it(leader, figure):
    wait_until(lambda: re.fullmatch(r"\d+\.\d%", _value(leader, figure)), 60, "the day's figures")
    def card_says() -> tuple[str, int, int]:  # the cards are drawn again when the page is made again
        label, detail = leader.execute_script(
            "const c = document.getElementById(arguments[0]);"
            "return [c.querySelector('.lv-kpi-label').textContent, c.querySelector('.lv-kpi-detail').textContent]",
            f"lv-kpi-{figure}")
        n, d = (int(x.replace(",", "")) for x in detail.split("/"))
        return label, n, d

    label, numerator, denominator = card_says()
    assert denominator > 0, figure
    hit, rows = _open_evidence(leader, figure, label)
    # the card it was asked from (the page is made again now and then: as read before the click or after it)
    assert (hit, rows) in ((numerator, denominator), card_says()[1:]), (figure, hit, rows, numerator, denominator)
    assert f"计入 {hit:,} / 共 {rows:,}" in leader.find_element(By.ID, "leader-evidence-sum").text
    fact = leader.find_element(By.CSS_SELECTOR, "#leader-evidence-grid .ag-row .ag-cell.fact").text
    if figure == "coverage":  # a grid's day: the cells walked, and those not
        assert re.search(r"\d\d-\d\d 走到", fact), fact
    else:
        first = leader.find_element(By.CSS_SELECTOR, "#leader-evidence-grid .ag-row .case-link")
        assert first.get_attribute("href").split("/dispatch?case=")[1] == first.text  # its timeline and place
        assert re.search(r"\d\d-\d\d \d\d:\d\d", fact), fact  # the times that decided it
    _close_evidence(leader)


def test_a_click_on_the_open_cases_lists_them(leader):
    wait_until(lambda: re.fullmatch(r"\d+\.\d%", _value(leader, "closure")), 60, "the day's figures")
    before = int(_value(leader, "open").replace(",", ""))
    _, rows = _open_evidence(leader, "open", "在办案件")
    # the card it was asked from (the page is made again now and then: as read before the click or after it)
    assert rows > 0 and rows in (before, int(_value(leader, "open").replace(",", ""))), (rows, before)
    assert f"共 {rows:,} 件" in leader.find_element(By.ID, "leader-evidence-sum").text
    _close_evidence(leader)


def _card_read(driver, key) -> tuple[str, str]:
    """A card's value (without its unit) and its small print, read at once."""
    return tuple(driver.execute_script(
        "const c = document.getElementById(arguments[0]);"
        "return c ? [c.querySelector('.lv-kpi-value').firstChild.textContent,"
        "            c.querySelector('.lv-kpi-detail').textContent] : ['', '']",
        f"lv-kpi-{key}"))


@pytest.mark.parametrize(("figure", "title"), [("average_handling_hours", "平均处置时长"), ("score", "区域综合得分")])
def test_a_click_on_an_average_or_the_score_lists_what_makes_it(leader, figure, title):
    wait_until(lambda: re.fullmatch(r"\d+\.\d", _card_read(leader, figure)[0]), 60, "the card's figure")
    before = _card_read(leader, figure)
    _, rows = _open_evidence(leader, figure, title)
    said = leader.find_element(By.ID, "leader-evidence-sum").text
    cards = (before, _card_read(leader, figure))  # the page is made again now and then: as before or after
    if figure == "score":  # its four parts, the line saying the card's score
        assert rows == 4 and any(f"综合得分 {value}" in said for value, _ in cards), (said, cards)
    else:  # a row per case averaged, the line saying the card's average
        assert any(rows == int(detail.split()[0].replace(",", "")) and f"平均 {value} 小时" in said
                   for value, detail in cards), (rows, said, cards)
        fact = leader.find_element(By.CSS_SELECTOR, "#leader-evidence-grid .ag-row .ag-cell.fact").text
        assert re.search(r"派遣 \d\d-\d\d \d\d:\d\d → .*处置完成", fact), fact
    _close_evidence(leader)


def _click_cell(driver, table: str, columns: list[str]) -> tuple[str, dict[str, str]]:
    """Click a figure that counts something (not "0/0") in a table of patrollers or departments: of the first of
    `columns` that has one (what a simulated morning holds varies with the hour), in the first row that has one,
    scrolled into view. Returns the column and that row's data as the table holds it."""
    return tuple(wait_until(lambda: driver.execute_script("""
        let api = null;
        try { api = window.dash_ag_grid.getApi(arguments[0]); } catch (e) { return null; }  // not drawn yet
        for (const column of arguments[1]) {
            let found = null;
            api.forEachNodeAfterFilterAndSort(n => {
                const detail = n.data && n.data[column + '_detail'];
                if (!found && detail && !detail.endsWith('/0')) found = n;
            });
            if (!found) continue;  // nothing counted in this column
            api.ensureIndexVisible(found.rowIndex);
            const cell = document.querySelector('#' + arguments[0] + ' .ag-row[row-index="' + found.rowIndex
                                                + '"] .ag-cell[col-id="' + column + '"]');
            if (!cell) return null;  // drawn at the next frame
            cell.click();
            return [column, found.data];
        }
        return null;""", table, columns), 60, f"a figure in {table}"))


TITLES = {"valid_reports": "有效上报率", "verification": "核查及时率", "coverage": "发现覆盖率",
          "on_time_handling": "按期处置率", "rework": "返工率"}


@pytest.mark.parametrize(("table", "columns"), [
    ("leader-patrollers", ["valid_reports", "verification", "coverage"]),
    ("leader-departments", ["on_time_handling", "rework"])])
def test_a_click_on_a_patroller_s_or_a_department_s_figure_lists_what_makes_it(leader, table, columns):
    """The monthly assessment per person and per department: the figure clicked in its row is the evidence's."""
    column, row = _click_cell(leader, table, columns)
    title = TITLES[column]
    panel = leader.find_element(By.ID, "leader-evidence")
    wait_until(lambda: panel.is_displayed() and title in leader.find_element(By.ID, "leader-evidence-title").text
               and row["name"] in leader.find_element(By.ID, "leader-evidence-title").text, 60, "the row's evidence")
    hit, rows = wait_until(lambda: _evidence_counts(leader), 30, "the evidence's rows")
    numerator, denominator = (int(x.replace(",", "")) for x in row[f"{column}_detail"].split("/"))
    fresh = leader.execute_script(  # the tables are made again now and then: as clicked, or as they are now
        "const api = window.dash_ag_grid.getApi(arguments[0]); let d = null;"
        "api.forEachNode(n => { if (n.data[arguments[2]] === arguments[3]) d = n.data[arguments[1] + '_detail']; });"
        "return d;", table, column, "id" if table == "leader-patrollers" else "code",
        row["id" if table == "leader-patrollers" else "code"])
    assert (hit, rows) in ((numerator, denominator), tuple(int(x.replace(",", "")) for x in fresh.split("/"))), (
        row, hit, rows, fresh)
    assert f"计入 {hit:,} / 共 {rows:,}" in leader.find_element(By.ID, "leader-evidence-sum").text
    if column != "coverage":  # a case's row (coverage's are a grid's days)
        first = leader.find_element(By.CSS_SELECTOR, "#leader-evidence-grid .ag-row .case-link")
        assert first.get_attribute("href").split("/dispatch?case=")[1] == first.text  # its timeline and place
    _close_evidence(leader)

