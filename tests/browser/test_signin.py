"""Signing in with a real browser, refusals as a person sees them, and field text rendered inert."""
from __future__ import annotations

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from dashboard import ids
from dashboard.security.access import Role
from feeds.bus.channels import publish_messages
from tests import factories
from tests.browser.conftest import WALL_LOADED, sign_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser
SCRIPTED = ('<img src=x onerror="window.__injected=1;alert(1)"><script>window.__injected=2;alert(2)</script>'
            '<svg onload="window.__injected=3"></svg>北门消防通道堵塞')


def _no_alert(driver) -> bool:
    try:
        driver.switch_to.alert  # noqa: B018 - reading it raises when no alert is open
    except NoAlertPresentException:
        return True
    return False


def test_case_text_with_script_payloads_shows_as_text_on_the_wall_and_creates_no_element(stack, browser_factory):
    driver = browser_factory(1920, 1080)
    sign_in(driver, stack, Role.KIOSK)
    wait_until(lambda: driver.execute_script(WALL_LOADED), 30, "the wall to load its snapshot")
    wait_until(lambda: driver.find_element(By.ID, ids.CONNECTION).text == "实时连接", 10, "the connection")
    lat, lon = stack.district.centre
    publish_messages(stack.bus, [factories.incident(SCRIPTED, lat=lat, lon=lon)])
    ticker = driver.find_element(By.ID, ids.TICKER)
    wait_until(lambda: "北门消防通道堵塞" in ticker.text, 10, "the incident in the ticker")
    assert SCRIPTED in ticker.text
    for tag in ("img", "script", "svg"):
        assert ticker.find_elements(By.TAG_NAME, tag) == [], tag
    assert _no_alert(driver)
    assert driver.execute_script("return window.__injected === undefined")


def test_a_dispatcher_signs_in_sees_the_wall_and_is_refused_the_dead_letters(stack, browser_factory):
    driver = browser_factory(1920, 1080)
    driver.get(stack.url)
    assert "/login" in driver.current_url and driver.find_element(By.ID, ids.LOGIN_FORM)
    driver.find_element(By.ID, ids.LOGIN_USERNAME).send_keys("dispatcher")
    driver.find_element(By.ID, ids.LOGIN_PASSWORD).send_keys("not the password")
    driver.find_element(By.ID, ids.LOGIN_SUBMIT).click()
    said = wait_until(lambda: driver.find_elements(By.ID, ids.LOGIN_ERROR), 15, "the sign-in page again, saying why")
    assert said[0].text == "用户名或密码错误"  # (the form posts and the page loads anew: waited for, not assumed)
    sign_in(driver, stack, Role.DISPATCHER)
    assert driver.current_url == stack.url  # on the wall
    driver.get(stack.url + "dead-letters")
    assert "无权访问此页面" in driver.find_element(By.TAG_NAME, "body").text
    assert driver.find_elements(By.ID, "dead-letters-table") == []
    driver.get(stack.url + "logout")
    driver.get(stack.url)
    assert "/login" in driver.current_url


def test_the_kiosk_sees_the_wall_but_not_the_dispatch_console(stack, browser_factory):
    driver = browser_factory(1920, 1080)
    sign_in(driver, stack, Role.KIOSK)
    assert driver.current_url == stack.url  # on the wall, and the token is gone from the address bar
    driver.get(stack.url + "dispatch?lang=en")
    assert "You may not open this page" in driver.find_element(By.TAG_NAME, "body").text
