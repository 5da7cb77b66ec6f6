"""Screenshots of every page at 1920×1080 and 3840×2160, from a running simulated district.

    .venv/bin/python docs/screenshots.py      (writes docs/screenshots/*.png)
"""
from __future__ import annotations

import base64
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.demo import DEMO_USERS, start_stack  # noqa: E402
from feeds.services import free_port, headless_chromium  # noqa: E402
from feeds.settings import Settings  # noqa: E402

OUT = Path(__file__).parent / "screenshots"
PAGES = {"wall": "", "wall-en": "?lang=en", "dead-letters": "dead-letters", "kpi-panel": "kpis",
         "kpi-panel-en": "kpis?lang=en"}
COLUMN = {"kpi-panel", "kpi-panel-en"}  # pages shot as the wall's left column only (the KPI panel in its place)
REFUSED = [  # a few refused messages, so the dead-letters page has something to show
    ("cc.patrol_position", b'{"kind": "patrol_position", "unit_id": "P0012", "lat": 91}'),
    ("cc.incident_report", b'{"kind": "incident_report", "description": "\xe4\xba\x95\xe7\x9b\x96", "urgent": "maybe"}'),
    ("cc.camera_alert", b"{not json"),
]
SIZES = [(1920, 1080), (3840, 2160)]


def main() -> None:
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="cc-shots-")), port=free_port(), redis_url=None,
                        database_url=None, patrol_interval_s=1.0)
    stack = start_stack(settings, simulator_args=["--problems-per-10k-day", "1500"],
                        quiet=True)
    try:
        client = redis.Redis.from_url(stack.redis_url)
        for channel, payload in REFUSED:
            client.publish(channel, payload)
        time.sleep(25)  # let the district fill with patrols, incidents and alerts
        driver = headless_chromium()
        try:
            admin = next(u for u in DEMO_USERS if u[1] == "admin")  # sees every page
            driver.get(stack.url + "login")
            driver.find_element("id", "login-username").send_keys(admin[0])
            driver.find_element("id", "login-password").send_keys(admin[2] + "\n")
            for (width, height) in SIZES:
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                       {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
                for name, query in PAGES.items():
                    driver.get(stack.url + query)
                    time.sleep(6)
                    path = OUT / f"{name}-{width}x{height}.png"
                    if name in COLUMN:
                        right = driver.execute_script(
                            "return document.getElementById('wall-kpis').getBoundingClientRect().right")
                        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "clip": {
                            "x": 0, "y": 0, "width": right + height / 60, "height": height, "scale": 1}})
                        path.write_bytes(base64.b64decode(shot["data"]))
                    else:
                        driver.save_screenshot(str(path))
                    print(path)
        finally:
            driver.quit()
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
