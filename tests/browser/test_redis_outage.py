"""The wall through a Redis outage, in real Chromium on a whole stack: it says 数据中断 while Redis is away, and
within 5 s of Redis returning it is live again, without a reload, showing as many open cases as the
database holds; what was published on streams after Redis returned is all there."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
from selenium.webdriver.common.by import By
from sqlalchemy import func, select

from dashboard.security.access import Role
from devstack.demo import Stack, start_stack
from devstack.services import free_port
from feeds.bus.channels import StreamBus, publish_messages
from feeds.cases.reads import OPEN_STATES
from feeds.settings import Settings
from feeds.store.engine import make_engine
from feeds.store.models import CaseRow
from tests import factories
from tests.browser.conftest import SEED, LiveStack, sign_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def own_stack(tmp_path_factory: pytest.TempPathFactory, browser_factory) -> Iterator[tuple[Stack, Settings]]:  # type: ignore[no-untyped-def]
    """A stack of its own: this test stops its Redis."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("outage"), port=free_port(), seed=SEED, grids=12,
                        push_window_ms=20, stale_after_s=3, redis_url=None, database_url=None,
                        password_hash_method="pbkdf2:sha256:1000")
    running = start_stack(settings, simulate=False, quiet=True)
    try:
        yield running, settings
    finally:
        running.stop()


def _open_in_database(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(CaseRow.__table__).where(
            CaseRow.state.in_(OPEN_STATES), CaseRow.drill_id.is_(None))).scalar_one()


def _reports(n: int, tag: str, south: float):
    lat, lon = factories.CENTRE
    return [factories.incident(f"{tag}{i}", lat=lat - 0.006 + south + i * 0.0015, lon=lon - 0.006 + i * 0.0015)
            for i in range(n)]


def test_the_wall_says_the_feed_is_down_and_comes_back_by_itself(own_stack, browser_factory):
    running, settings = own_stack
    stack = LiveStack(running.url, None, None, None, running.db_url, running.kiosk_token)  # type: ignore[arg-type]
    engine = make_engine(running.db_url)
    driver = browser_factory(1920, 1080)
    sign_in(driver, stack, Role.KIOSK)
    shown = lambda: driver.execute_script("return window.cc && cc.live && cc.live.seq !== null"  # noqa: E731
                                          " ? Object.keys(cc.live.cases).length : -1")
    connection = lambda: "".join(e.text for e in driver.find_elements(By.ID, "wall-connection"))  # noqa: E731
    wait_until(lambda: shown() >= 0 and connection() == "实时连接", 30, "the wall to be live")
    driver.execute_script("window.__sameDocument = true")  # gone if the page reloads
    console = browser_factory(1920, 1080)  # a dispatcher's console says the same of the feed
    sign_in(console, stack, Role.DISPATCHER, "dispatch")
    console_state = lambda: "".join(e.text for e in console.find_elements(By.ID, "dispatch-connection"))  # noqa: E731
    wait_until(lambda: console_state() == "实时连接", 30, "the console to be live")

    publish_messages(StreamBus(redis.Redis.from_url(running.redis_url)), _reports(12, "停电前", 0.0))
    wait_until(lambda: _open_in_database(engine) >= 12 and shown() == _open_in_database(engine), 15,
               "the reports on the wall")

    server = next(c for c in running.children.items if c.name == "redis")
    server.stop()  # Redis goes away: the socket to the dashboard stays up, the feed does not
    wait_until(lambda: connection() == "数据中断", 10, "the wall to say the feed is down")
    wait_until(lambda: console_state() == "数据中断", 5, "the console to say the feed is down")
    time.sleep(2)  # a while without Redis

    running.restart_redis(settings.data_dir)  # the demo does this by itself when its Redis exits
    back = time.monotonic()
    publish_messages(StreamBus(redis.Redis.from_url(running.redis_url)), _reports(6, "恢复后", 0.004))
    wait_until(lambda: connection() == "实时连接", 10, "the wall to be live again")
    live_again = time.monotonic() - back
    wait_until(lambda: _open_in_database(engine) >= 18 and shown() == _open_in_database(engine), 10,
               "the wall to show every open case")
    caught_up = time.monotonic() - back
    print(f"live again {live_again:.1f} s, every open case shown {caught_up:.1f} s after Redis returned")
    assert driver.execute_script("return window.__sameDocument === true"), "the page was reloaded"
    wait_until(lambda: console_state() == "实时连接", 5, "the console to be live again")
    assert live_again < 5.0 and caught_up < 5.0, (live_again, caught_up)
    engine.dispose()
