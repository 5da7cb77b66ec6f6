"""Screenshots of every page at 1920×1080 and 3840×2160, from a running simulated district.

    .venv/bin/python docs/screenshots.py      (writes docs/screenshots/*.png)
    .venv/bin/python docs/screenshots.py replay replay-en      (only the pages named)

Also the dispatcher console (and, signed in as a dispatcher, a case's reassignment form: "dispatch-act") and
the leader page (and what makes a figure: "leader-evidence", "leader-score", "leader-handling", "leader-person",
"leader-department").
The district gets half a day of history first
(open cases with every light), and every grid worker a
position of the day shift whatever the hour here (the simulator's patrols keep Beijing's shifts), so the
wall looks as it does in the daytime. "wall-card" shows a grid's card and a patrol's trail opened.
"replay" plays the last 40 minutes of the live situation at 60× and is shot a few seconds in.
"""
from __future__ import annotations

import base64
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import threading

from bench.latency import Publisher
from devstack.demo import DEMO_USERS, start_stack
from devstack.services import free_port, headless_chromium
from feeds.bus.channels import RedisBus
from feeds.drills.control import DrillControl, DrillDeskClient
from feeds.settings import Settings
from simulators.geography import build_district

OUT = Path(__file__).parent / "screenshots"
PAGES = {"wall": "", "wall-en": "?lang=en", "wall-card": "", "dead-letters": "dead-letters", "kpi-panel": "kpis",
         "kpi-panel-en": "kpis?lang=en", "dispatch": "dispatch", "leader": "leader", "leader-evidence": "leader",
         # opened as the KPI panel's figures open them: the parts of the area score, each case's handling time
         "leader-score": "leader?period=month&evidence=score",
         "leader-handling": "leader?period=month&evidence=average_handling_hours",
         # a click in the rankings: the top patroller's verifications, the first department's handling on time
         "leader-person": "leader?period=month", "leader-department": "leader?period=month"}
SLOW = {"leader": 10, "leader-evidence": 10, "leader-score": 10, "leader-handling": 10, "leader-person": 10,
        "leader-department": 10}  # figures take longer
CLICKED = {"leader-person": ("leader-patrollers", "verification"),
           "leader-department": ("leader-departments", "on_time_handling")}
WHOLE = {"leader"}  # pages that scroll: shot at the top and at the bottom
COLUMN = {"kpi-panel", "kpi-panel-en"}  # pages shot as the wall's left column only (the KPI panel in its place)
# on the "wall-card" shot: the card of a grid in the middle of the district and the trail of one patrol
OPEN_CARD = "cc.selectGrid(cc.territory.grids[Math.floor(cc.territory.grids.length / 2)].code);" \
            "cc.selectUnit(Object.keys(cc.live.patrols).sort()[0]);"
REFUSED = [  # a few refused messages, so the dead-letters page has something to show
    ("cc.patrol_position", b'{"kind": "patrol_position", "unit_id": "P0012", "lat": 91}'),
    ("cc.incident_report",
     b'{"kind": "incident_report", "description": "\xe4\xba\x95\xe7\x9b\x96", "urgent": "maybe"}'),
    ("cc.camera_alert", b"{not json"),
]
SIZES = [(1920, 1080), (3840, 2160)]
REPLAY_SPAN_MIN = 40  # the replay shots: the last 40 minutes (to 2 minutes ago), at 60×


def main() -> None:
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="cc-shots-")), port=free_port(), redis_url=None,
                        database_url=None, patrol_interval_s=1.0)
    def history(redis_url: str, db_url: str) -> None:  # before the ingest starts, as the simulator asks
        env = {**os.environ, "CC_REDIS_URL": redis_url, "CC_DATABASE_URL": db_url, "CC_SEED": str(settings.seed),
               "CC_GRIDS": str(settings.grids), "CC_PROBLEMS_PER_10K_DAY": "1500"}
        subprocess.run([sys.executable, "-m", "simulators", "--no-load-district", "--history-days", "0.5",
                        "--history-only"], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    stack = start_stack(settings, simulator_args=["--problems-per-10k-day", "1500"], quiet=True, prepare=history)
    district = build_district(settings.seed, settings.grids)
    day_shift = Publisher(RedisBus(redis.Redis.from_url(stack.redis_url)), district.bounds,
                          len(district.grid_areas()), len(district.grid_areas()))
    threading.Thread(target=day_shift.run, daemon=True).start()
    try:
        client = redis.Redis.from_url(stack.redis_url)
        for channel, payload in REFUSED:
            client.publish(channel, payload)
        drills = DrillDeskClient(client)  # a drill at 30×, for the console and the screens in the drill
        drills.send(DrillControl(action="start", by="trainer", scenario="market-fire", speed=30))
        time.sleep(25)  # let the district fill with patrols, incidents and alerts
        drill = drills.status().id
        PAGES.update({"drill-console": "drill", "drill-console-en": "drill?lang=en", "drill-wall": f"?drill={drill}",
                      "drill-dispatch": f"dispatch?drill={drill}"})
        end = int(time.time() // 60 * 60 - 120) * 1000
        period = f"from={end - REPLAY_SPAN_MIN * 60_000}&to={end}&speed=60"
        PAGES.update({"replay": f"replay?{period}", "replay-en": f"replay?{period}&lang=en"})
        only = set(sys.argv[1:])
        shots = {name: query for name, query in PAGES.items() if not only or name in only}
        driver = headless_chromium()
        try:
            admin = next(u for u in DEMO_USERS if u[1] == "admin")  # sees every page
            driver.get(stack.url + "login")
            driver.find_element("id", "login-username").send_keys(admin[0])
            driver.find_element("id", "login-password").send_keys(admin[2] + "\n")
            for (width, height) in SIZES:
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                       {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
                for name, query in shots.items():
                    driver.get(stack.url + query)
                    time.sleep(SLOW.get(name, 6))
                    if name == "wall-card":
                        driver.execute_script(OPEN_CARD)
                        time.sleep(3)
                    if name == "leader-evidence":  # what makes discovery timeliness: a click on its card
                        driver.execute_script("document.getElementById('lv-kpi-discovery_timeliness').click()")
                        until(driver, "return document.querySelector('#leader-evidence-grid .ag-row')")
                        time.sleep(1)
                    if name in CLICKED:
                        driver.execute_script("document.querySelector('#' + arguments[0] + ' .ag-row[row-index=\"0\"]"
                                              " .ag-cell[col-id=\"' + arguments[1] + '\"]').click()", *CLICKED[name])
                    if name in ("leader-score", "leader-handling", *CLICKED):
                        until(driver, "return document.querySelector('#leader-evidence-grid .ag-row')")
                        time.sleep(1)
                    path = OUT / f"{name}-{width}x{height}.png"
                    if name in COLUMN:
                        right = driver.execute_script(
                            "return document.getElementById('wall-kpis').getBoundingClientRect().right")
                        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "clip": {
                            "x": 0, "y": 0, "width": right + height / 60, "height": height, "scale": 1}})
                        path.write_bytes(base64.b64decode(shot["data"]))
                    elif name in WHOLE:  # the top, and scrolled to the bottom (the page's rem is the window's)
                        driver.save_screenshot(str(path))
                        driver.execute_script("window.scrollTo(0, document.documentElement.scrollHeight)")
                        time.sleep(2)
                        lower = OUT / f"{name}-lower-{width}x{height}.png"
                        driver.save_screenshot(str(lower))
                        print(lower)
                    else:
                        driver.save_screenshot(str(path))
                    print(path)
        finally:
            driver.quit()
        if not only or "dispatch-act" in only:
            shoot_actions(stack.url)
    finally:
        day_shift.stop.set()
        stack.stop()


# the dispatcher console as a dispatcher sees it: a case being handled, its reassignment form open
OPEN_REASSIGN = """
var rows = Array.from(document.querySelectorAll('#dispatch-queue tr[data-case]'));
var row = rows.find(r => r.querySelector('.cell-state').textContent === arguments[0]) || rows[0];
row.click();
"""


def until(driver, script: str, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not driver.execute_script(script) and time.monotonic() < deadline:
        time.sleep(0.2)


def shoot_actions(url: str) -> None:
    driver = headless_chromium()
    try:
        dispatcher = next(u for u in DEMO_USERS if u[1] == "dispatcher")
        driver.get(url + "login")
        driver.find_element("id", "login-username").send_keys(dispatcher[0])
        driver.find_element("id", "login-password").send_keys(dispatcher[2] + "\n")
        for (width, height) in SIZES:
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
            driver.get(url + "dispatch")
            time.sleep(6)
            driver.execute_script(OPEN_REASSIGN, "处置中")
            until(driver, "return !!document.querySelector('#dispatch-detail .detail-state')")
            driver.execute_script("var b = document.querySelector(\"#act-buttons [data-action='reassign']\")"
                                  " || document.querySelector('#act-buttons [data-action]'); b && b.click();")
            until(driver, "var f = document.getElementById('act-form'); return f && !f.hidden")
            driver.execute_script("var l = document.querySelector('#act-target label'); l && l.click();"
                                  "var q = document.querySelector('#act-quick [data-reason]'); q && q.click();")
            time.sleep(1)
            path = OUT / f"dispatch-act-{width}x{height}.png"
            driver.save_screenshot(str(path))
            print(path)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
