"""The dispatcher console in real Chromium: filter, search, select a case (detail, timeline, map focus), and a
case published on Redis appears in the queue without a reload."""
from __future__ import annotations

import http.server
import struct
import threading
import zlib

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashboard.security.access import Role
from devstack.services import free_port
from feeds.bus.channels import publish_messages
from tests import factories
from tests.browser.conftest import sign_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser


def _queue_ids(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#dispatch-queue tr[data-case]')).map(r => r.dataset.case)")


@pytest.fixture(scope="module")
def cases(stack):
    """Three live cases and one drill case, opened through the real pipeline before the page loads."""
    lat, lon = stack.district.centre
    grid = stack.district.grid_areas()[0].code
    made = {
        "manhole": factories.incident("东门井盖缺失", category="facility.manhole", urgent=True, lat=lat, lon=lon,
                                      grid_code=grid, channel="hotline", reporter_id=None),
        "garbage": factories.incident("西街垃圾满溢", lat=lat + 0.002, lon=lon + 0.002, grid_code=grid),
        "hostile": factories.incident('<img src=x onerror="window.__injected=1">南巷占道', category="order.vendor",
                                      lat=lat - 0.002, lon=lon - 0.002, grid_code=grid),
        "drill": factories.incident("演练:北门积水", category="env.waterlogging", drill_id="drill-t",
                                    lat=lat, lon=lon + 0.004, grid_code=grid),
    }
    publish_messages(stack.bus, list(made.values()))
    return made


@pytest.fixture(scope="module")
def console(stack, cases, browser_factory):
    driver = browser_factory(1920, 1080)
    sign_in(driver, stack, Role.DISPATCHER, "dispatch")
    wait_until(lambda: driver.execute_script("return !!(window.cc && cc.dispatch && cc.dispatch.connected)"), 30,
               "the console's live connection")
    wait_until(lambda: {cases[k].id for k in ("manhole", "garbage", "hostile")} <= set(_queue_ids(driver)), 30,
               "the open cases in the queue")
    return driver


def test_the_queue_lists_live_cases_as_text_and_leaves_drills_out(console, cases):
    ids = _queue_ids(console)
    assert cases["drill"].id not in ids
    queue = console.find_element(By.ID, "dispatch-queue")
    assert '<img src=x onerror="window.__injected=1">南巷占道' in queue.text
    assert queue.find_elements(By.TAG_NAME, "img") == []
    assert console.execute_script("return window.__injected === undefined")
    assert "井盖缺失" in queue.text and "紧急" in queue.text and "12345热线" in queue.text and "剩余" in queue.text


def test_filters_and_search_narrow_the_queue(console, cases):
    urgent = console.find_element(By.XPATH, "//div[@id='dispatch-flags']//label[contains(., '仅紧急')]")
    urgent.click()
    wait_until(lambda: _queue_ids(console) == [cases["manhole"].id], 15, "only the urgent case")
    urgent.click()
    wait_until(lambda: len(_queue_ids(console)) >= 3, 15, "every case again")

    hotline = console.find_element(By.XPATH, "//div[@id='dispatch-sources']//label[contains(., '12345热线')]")
    hotline.click()
    wait_until(lambda: _queue_ids(console) == [cases["manhole"].id], 15, "only the hotline case")
    hotline.click()

    search = console.find_element(By.ID, "dispatch-search")
    search.send_keys("垃圾 西街")
    wait_until(lambda: _queue_ids(console) == [cases["garbage"].id], 15, "the searched case")
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys(Keys.DELETE)
    wait_until(lambda: len(_queue_ids(console)) >= 3, 15, "every case after clearing the search")


def test_selecting_a_case_shows_its_detail_and_timeline_and_focuses_the_map(console, cases):
    case = cases["manhole"]
    console.find_element(By.CSS_SELECTOR, f"#dispatch-queue tr[data-case='{case.id}']").click()
    detail = console.find_element(By.ID, "dispatch-detail")
    wait_until(lambda: case.id in detail.text, 15, "the case's detail")
    assert "井盖缺失" in detail.text and "东门井盖缺失" in detail.text and "待核实" in detail.text
    trail = console.find_element(By.ID, "dispatch-trail")
    wait_until(lambda: "全程记录" in trail.text and "上报立项" in trail.text, 15, "the timeline")
    assert "状态:待核实" in trail.text
    focused = ("var m = cc.maps['dispatch-map'], c = m.getCenter();"
               "return [c.lat, c.lng, m.getZoom()];")
    wait_until(lambda: (lambda c: abs(c[0] - case.lat) < 1e-4 and abs(c[1] - case.lon) < 1e-4 and c[2] >= 16)(
        console.execute_script(focused)), 15, "the map on the case")


def test_a_newly_published_case_and_a_change_appear_without_reload(stack, console, cases):
    console.execute_script("window.__sameDocument = true")
    lat, lon = stack.district.centre
    fresh = factories.incident("新上报:桥下积水", category="env.waterlogging", lat=lat + 0.003, lon=lon)
    publish_messages(stack.bus, [fresh])
    wait_until(lambda: fresh.id in _queue_ids(console), 15, "the new case in the queue")

    case = cases["manhole"]  # selected above: its detail follows a pushed change
    publish_messages(stack.bus, [factories.command(case.id, "verify", 1, by="dispatcher-7", reason="电话回访属实")])
    trail = console.find_element(By.ID, "dispatch-trail")
    wait_until(lambda: "电话回访属实" in trail.text, 15, "the change in the timeline")
    assert "状态:待核实 → 待立案" in trail.text
    row = console.find_element(By.CSS_SELECTOR, f"#dispatch-queue tr[data-case='{case.id}']")
    wait_until(lambda: "待立案" in row.text, 15, "the queue row's new step")
    assert console.execute_script("return window.__sameDocument === true")  # no reload


def test_a_clicked_case_shows_its_header_at_once_then_its_detail(console, cases):
    """In the same task as the click, from the queue's own record: its category, state and grid; then the
    server's detail takes the place back (the preview hidden, the detail shown)."""
    case = cases["garbage"]
    shown = console.execute_script(
        "document.querySelector(\"#dispatch-queue tr[data-case='\" + arguments[0] + \"']\").click();"
        "const p = document.getElementById('dispatch-preview');"
        "return [p.hidden, p.innerText, document.getElementById('dispatch-detail').hidden];", case.id)
    assert shown[0] is False and "暴露垃圾" in shown[1] and "西街垃圾满溢" in shown[1] and shown[2] is True
    detail = console.find_element(By.ID, "dispatch-detail")
    wait_until(lambda: detail.is_displayed() and case.id in detail.text, 15, "the case's detail")
    assert not console.find_element(By.ID, "dispatch-preview").is_displayed()


def _png() -> bytes:
    """A real 4×3 picture (PNG), as an NVR's snapshot endpoint would serve one."""
    rows = b"".join(b"\x00" + b"\x80\x40\x20" * 4 for _ in range(3))
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 3, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def nvr():
    """A snapshot server on loopback (a trusted media host in the test stack's settings)."""
    picture = _png()

    class Snapshots(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(picture)))
            self.end_headers()
            self.wfile.write(picture)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Snapshots)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_trusted_hosts_picture_is_shown_an_unreachable_one_left_as_a_link_and_an_outsiders_never_loaded(
        stack, console, nvr):
    lat, lon = stack.district.centre
    closed = free_port()
    made = {
        "shown": factories.incident("北门积水", category="env.waterlogging", lat=lat + 0.006, lon=lon,
                                    media_url=f"{nvr}/api/events/e1/snapshot.jpg"),
        "away": factories.incident("南门积水", category="env.waterlogging", lat=lat - 0.006, lon=lon,
                                   media_url=f"http://127.0.0.1:{closed}/api/events/e2/snapshot.jpg"),
        "outside": factories.incident("东门积水", category="env.waterlogging", lat=lat, lon=lon + 0.008,
                                      media_url="http://localhost:9/tracker.png"),
    }
    publish_messages(stack.bus, list(made.values()))
    wait_until(lambda: {m.id for m in made.values()} <= set(_queue_ids(console)), 15, "the three cases")
    trail = console.find_element(By.ID, "dispatch-trail")
    photo = ("const i = document.querySelector('#dispatch-trail img.report-photo');"
             "return i ? [i.getAttribute('src'), i.complete, i.naturalWidth, i.classList.contains('unreachable'),"
             " getComputedStyle(i).display] : null;")
    for key, expected in (("shown", (f"{nvr}/api/events/e1/snapshot.jpg", True, 4, False)),
                          ("away", (f"http://127.0.0.1:{closed}/api/events/e2/snapshot.jpg", True, 0, True)),
                          ("outside", None)):
        case = made[key]
        console.find_element(By.CSS_SELECTOR, f"#dispatch-queue tr[data-case='{case.id}']").click()
        wait_until(lambda: case.id in console.find_element(By.ID, "dispatch-detail").text  # noqa: B023
                   and "全程记录" in trail.text, 15, "the case's reports")
        if expected is None:
            assert console.execute_script(photo) is None  # an outsider's URL: never fetched by this screen
        else:
            got = wait_until(lambda: (lambda p: p if p and p[1] and p[3] == expected[3] else None)(  # noqa: B023
                console.execute_script(photo)), 10, f"the {key} picture settled")
            assert tuple(got[:4]) == expected and (got[4] == "none") == expected[3]
        link = trail.find_element(By.CSS_SELECTOR, "a.report-media")
        assert link.get_attribute("href") == case.media_url and link.text == "查看照片 ↗"
