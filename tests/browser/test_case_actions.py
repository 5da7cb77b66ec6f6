"""Acting on cases in real Chromium: a dispatcher acts by click and another screen shows it; two dispatchers
on one case (one wins, the other is told); the keyboard and undo; a leader reads but cannot act."""
from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import create_engine, select

from dashboard.security.access import Role
from dashboard.security.users import add_user
from feeds.bus.channels import publish_messages
from feeds.store.models import CaseAudit, CaseRow
from tests import factories
from tests.browser.conftest import sign_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser
SECOND = ("dispatcher2", "dispatcher2-pass")


@pytest.fixture(scope="module")
def db(stack):
    engine = create_engine(stack.db_url)
    with engine.begin() as conn:
        add_user(conn, SECOND[0], "dispatcher", SECOND[1], method="pbkdf2:sha256:1000", display_name="座席员 刘强")
    yield engine
    engine.dispose()


def case_row(db, case_id):
    with db.connect() as conn:
        return conn.execute(select(CaseRow.__table__).where(CaseRow.id == case_id)).first()


def trail(db, case_id):
    with db.connect() as conn:
        return [(r.action, r.by, json.loads(r.after)) for r in conn.execute(
            select(CaseAudit.__table__).where(CaseAudit.case_id == case_id).order_by(CaseAudit.id))]


def new_case(stack, db, text: str, offset: float = 0.0, **fields):
    """A case opened through the pipeline; `offset` (degrees) keeps it apart from the others (a report
    near an open case of its category merges into it)."""
    lat, lon = stack.district.centre
    grid = stack.district.grid_areas()[0].code
    report = factories.incident(text, lat=lat + offset, lon=lon + offset, grid_code=grid, **fields)
    publish_messages(stack.streams, [report])
    wait_until(lambda: case_row(db, report.id) is not None, 15, "the case opened by the ingest")
    return report.id


def open_console(browser_factory, stack, role: Role, case_id: str, credentials=None):
    driver = browser_factory(1920, 1080)
    if credentials:
        driver.get(f"{stack.url}login?next=/dispatch?case={case_id}")
        driver.find_element(By.ID, "login-username").send_keys(credentials[0])
        driver.find_element(By.ID, "login-password").send_keys(credentials[1])
        driver.find_element(By.ID, "login-submit").click()
        wait_until(lambda: "/login" not in driver.current_url, 10, "the second dispatcher signed in")
    else:
        sign_in(driver, stack, role, f"dispatch?case={case_id}" if case_id else "dispatch")
    wait_until(lambda: driver.execute_script("return !!(window.cc && cc.dispatch && cc.dispatch.connected)"), 30,
               "the console's live connection")
    return driver


def buttons(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#act-buttons [data-action]')).map(b => b.dataset.action)")


def choose(driver, action: str) -> None:
    wait_until(lambda: action in buttons(driver), 15, f"the {action} button")
    driver.find_element(By.CSS_SELECTOR, f"#act-buttons [data-action='{action}']").click()
    wait_until(lambda: driver.find_element(By.ID, "act-form").is_displayed(), 15, f"the {action} form")


def result(driver) -> str:
    return driver.find_element(By.ID, "act-result").text


def test_a_dispatcher_verifies_and_reassigns_by_click_and_another_screen_follows(stack, db, browser_factory):
    case_id = new_case(stack, db, "北街路灯不亮", category="facility.streetlight")
    desk = open_console(browser_factory, stack, Role.DISPATCHER, case_id)
    watcher = open_console(browser_factory, stack, Role.OPERATOR, case_id)
    wait_until(lambda: "待核实" in watcher.find_element(By.ID, "dispatch-detail").text, 15, "the watcher's case")

    choose(desk, "verify")
    desk.find_element(By.CSS_SELECTOR, "#act-quick [data-reason]").click()  # a ready-made reason
    wait_until(lambda: desk.find_element(By.ID, "act-reason").get_attribute("value"), 5, "the reason filled in")
    desk.find_element(By.ID, "act-confirm").click()
    wait_until(lambda: "已执行" in result(desk), 15, "the verdict")
    assert case_row(db, case_id).state == "verified"
    wait_until(lambda: not desk.find_element(By.ID, "act-form").is_displayed(), 15, "the form closed")
    wait_until(lambda: "register" in buttons(desk), 15, "the next step's button")
    wait_until(lambda: "待立案" in watcher.find_element(By.ID, "dispatch-detail").text, 15,
               "the other screen showing the case verified")
    assert trail(db, case_id)[-1][:2] == ("verify", "dispatcher")

    choose(desk, "reassign")
    options = desk.find_elements(By.CSS_SELECTOR, "#act-target label")
    assert options and "本网格网格员" in options[0].text  # the grid's own worker comes first
    options[0].click()
    desk.find_element(By.ID, "act-reason").send_keys("原处置人不在岗")
    desk.find_element(By.ID, "act-confirm").click()
    wait_until(lambda: "改派 →" in result(desk), 15, "the reassignment's verdict")
    assignee = case_row(db, case_id).assignee
    assert assignee and trail(db, case_id)[-1][2] == {"assignee": assignee, "version": 3}
    worker_name = result(desk).split("→")[-1].strip()
    wait_until(lambda: worker_name in watcher.find_element(By.ID, "dispatch-detail").text, 15,
               "the other screen showing who has it now")
    # the timeline names the dispatcher who did it, by name
    wait_until(lambda: "座席员 王芳" in watcher.find_element(By.ID, "dispatch-trail").text, 15, "who did it")


def test_two_dispatchers_on_one_case_one_wins_the_other_is_told_and_nothing_is_lost(stack, db, browser_factory):
    case_id = new_case(stack, db, "东巷垃圾满溢", 0.001)
    first = open_console(browser_factory, stack, Role.DISPATCHER, case_id)
    second = open_console(browser_factory, stack, Role.DISPATCHER, case_id, credentials=SECOND)
    for driver in (first, second):  # both open the same form on version 1
        choose(driver, "reject")
    first.find_element(By.XPATH, "//div[@id='act-reject']//label[contains(., '不属实')]").click()
    first.find_element(By.ID, "act-reason").send_keys("现场核实不属实")
    second.find_element(By.ID, "act-reason").send_keys("网格员现场已处理")
    first.find_element(By.ID, "act-confirm").click()
    wait_until(lambda: "已执行" in result(first), 15, "the first dispatcher's verdict")
    # the second dispatcher still has the form as they opened it; the header above shows the case moved on
    wait_until(lambda: "不予立案" in second.find_element(By.ID, "dispatch-detail").text, 15,
               "the second screen showing the new state")
    assert second.find_element(By.ID, "act-form").is_displayed()
    second.find_element(By.XPATH, "//div[@id='act-reject']//label[contains(., '重复上报')]").click()
    second.find_element(By.ID, "act-confirm").click()
    wait_until(lambda: "未执行" in result(second), 15, "the conflict message")
    text = result(second)
    assert "座席员 王芳" in text and "不予立案" in text, text
    row = case_row(db, case_id)
    assert (row.state, row.reject_reason, row.version) == ("rejected", "untrue", 2)
    assert [a for a, *_ in trail(db, case_id)] == ["report", "reject"]
    wait_until(lambda: buttons(second) == [], 15, "no action left on a rejected case")


def test_the_keyboard_picks_the_next_urgent_case_acts_and_undoes(stack, db, browser_factory):
    case_id = new_case(stack, db, "南门井盖破损", 0.002, category="facility.manhole", urgent=True)
    other = new_case(stack, db, "北门井盖破损", 0.003, category="facility.manhole", urgent=True)
    desk = open_console(browser_factory, stack, Role.DISPATCHER, case_id)
    for action, version in (("verify", 1), ("register", 2)):
        publish_messages(stack.streams, [factories.command(case_id, action, version, by="dispatcher")])
    wait_until(lambda: case_row(db, case_id).state == "registered", 15, "the case registered")
    wait_until(lambda: "dispatch" in buttons(desk), 15, "the dispatch button")
    body = desk.find_element(By.TAG_NAME, "body")
    body.click()
    ActionChains(desk).send_keys("1").perform()  # the step's own action: dispatch
    wait_until(lambda: desk.find_element(By.ID, "act-form").is_displayed(), 15, "the dispatch form")
    assert "派遣" in desk.find_element(By.ID, "act-title").text
    desk.find_element(By.CSS_SELECTOR, "#act-quick [data-reason]").click()
    ActionChains(desk).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
    wait_until(lambda: "已执行" in result(desk), 15, "the dispatch's verdict")
    assert case_row(db, case_id).state == "dispatched"
    undo = desk.find_element(By.ID, "act-undo")
    assert undo.is_displayed() and "撤销" in undo.text
    body.click()
    ActionChains(desk).send_keys("u").perform()
    wait_until(lambda: "已撤销" in result(desk), 15, "the undo")
    row = case_row(db, case_id)
    assert (row.state, row.department) == ("registered", None)
    assert [a for a, *_ in trail(db, case_id)][-2:] == ["dispatch", "send_back"]

    selected = "var r = document.querySelector('#dispatch-queue tr.selected'); return r && r.dataset.case"
    before = desk.execute_script(selected)
    ActionChains(desk).send_keys("n").perform()  # the next case that needs someone now
    wait_until(lambda: desk.execute_script(selected) == other, 15, "the next urgent case selected")
    assert before == case_id


def test_a_leader_reads_the_case_but_is_offered_no_action(stack, db, browser_factory):
    case_id = new_case(stack, db, "西桥护栏损坏", 0.004)
    leader = open_console(browser_factory, stack, Role.LEADER, case_id)
    wait_until(lambda: "只能查看" in leader.find_element(By.ID, "act-buttons").text, 15, "the read-only note")
    assert buttons(leader) == []


def test_a_click_on_a_case_on_the_map_selects_it_and_opens_its_actions(stack, db, browser_factory):
    case_id = new_case(stack, db, "河堤护栏缺失", 0.006)
    desk = open_console(browser_factory, stack, Role.DISPATCHER, "")
    where = """
        var map = cc.maps['dispatch-map'], found = null;
        map.eachLayer(function (l) { if (l.feature && l.feature.properties.id === arguments[0]) found = l; });
        if (!found) return null;
        map.setView(found.getLatLng(), 17, {animate: false});
        var p = map.latLngToContainerPoint(found.getLatLng()), size = map.getSize();
        return [p.x - size.x / 2, p.y - size.y / 2];
    """.replace("arguments[0]", json.dumps(case_id))
    offset = wait_until(lambda: desk.execute_script(where), 15, "the case's dot on the map")
    ActionChains(desk).move_to_element_with_offset(desk.find_element(By.ID, "dispatch-map"), *offset).click().perform()
    wait_until(lambda: "verify" in buttons(desk), 15, "the case's actions after the click on the map")
    assert case_id in desk.find_element(By.ID, "dispatch-detail").text
