"""Two dashboard processes behind nginx, with the site file a centre deploys (deploy/nginx/cc.conf): a wall
screen served through nginx loses the process its live connection was on (kill -9), reconnects through nginx
to the other, reloads its snapshot and shows the next fix, without reloading the page."""
from __future__ import annotations

import os
import signal
import time

import pytest

from devstack.demo import start_stack
from devstack.services import free_port, spawn, start_nginx, wait_for_http
from feeds.bus.channels import RedisBus, publish_messages
from feeds.bus.connect import redis_client
from feeds.settings import Settings
from simulators.geography import build_district
from tests import factories
from tests.browser.conftest import GRIDS, SEED
from tests.connections import established, only_one_holding
from tests.waiting import wait_until

pytestmark = pytest.mark.browser
BACK_WITHIN_S = 10.0


def test_a_screen_behind_nginx_outlives_its_dashboard_process(tmp_path, browser_factory):
    settings = Settings(data_dir=tmp_path / "stack", port=free_port(), seed=SEED, grids=GRIDS, push_window_ms=20,
                        redis_url=None, database_url=None, password_hash_method="pbkdf2:sha256:1000", proxies=1)
    stack = start_stack(settings, simulate=False, quiet=True)
    second = None
    nginx = None
    try:
        port_b = free_port({settings.port})
        second = spawn("dashboard-b", "dashboard", {**stack.env, "CC_PORT": str(port_b), "CC_PROXIES": "1"},
                       quiet=True)
        wait_for_http(f"http://127.0.0.1:{port_b}/api/health", 60, second)
        nginx, url = start_nginx([settings.port, port_b], tmp_path / "nginx")
        processes = {settings.port: next(c for c in stack.children.items if c.name == "dashboard"), port_b: second}

        wall = browser_factory(1920, 1080)
        wall.get(f"{url}?kiosk={stack.kiosk_token}")
        wait_until(lambda: wall.execute_script("return !!(window.cc && cc.live && cc.live.connected"
                                               " && cc.live.seq !== null)"), 30, "the wall live through nginx")
        wall.execute_script("window.__sameDocument = true")
        on = wait_until(lambda: only_one_holding(list(processes)), 20, "its websocket's process")
        other = next(p for p in processes if p != on)
        snapshots = wall.execute_script("return cc.live.snapshots")

        os.kill(processes[on].process.pid, signal.SIGKILL)
        killed = time.monotonic()
        wait_until(lambda: established(other) and wall.execute_script("return cc.live.connected"), BACK_WITHIN_S,
                   "the wall reconnected to the other process")
        lat, lon = build_district(SEED, GRIDS).centre
        bus = RedisBus(redis_client(stack.redis_url))
        publish_messages(bus, [factories.position("NGX-1", lat=lat, lon=lon)])
        wait_until(lambda: wall.execute_script("return !!cc.live.patrols['NGX-1']"), BACK_WITHIN_S,
                   "a fix after the reconnection on the wall")
        back = time.monotonic() - killed
        assert wall.execute_script("return window.__sameDocument === true")  # the page was not reloaded
        assert wall.execute_script("return cc.live.snapshots") > snapshots  # it caught up by a snapshot
        print(f"the wall showed a new fix {back:.1f} s after its dashboard process was killed")
        assert back <= BACK_WITHIN_S
    finally:
        for child in (nginx, second):
            if child is not None:
                child.stop()
        stack.children.stop()
