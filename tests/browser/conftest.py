"""A whole stack for browser tests: Redis, a migrated database with a small district, ingest and dashboard."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import redis
from selenium.webdriver.common.by import By

from dashboard import ids
from dashboard.security.access import Role
from devstack.demo import DEMO_USERS, start_stack
from devstack.services import free_port
from feeds.bus.channels import RedisBus, StreamBus
from feeds.clock import utcnow
from feeds.settings import Settings
from feeds.store.engine import make_engine
from simulators.fast import simulate
from simulators.geography import District, build_district
from simulators.simulation import Simulation
from tests.waiting import wait_until

SEED, GRIDS = 3, 12

# true once the wall has loaded its snapshot and its territory
WALL_LOADED = "return !!(window.cc && cc.live && cc.live.seq !== null && cc.live.territoryAt !== null)"


@dataclass
class LiveStack:
    url: str
    bus: RedisBus
    streams: StreamBus  # durable: what is published before the ingest listens is still read
    district: District
    db_url: str
    kiosk_token: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, browser_factory) -> Iterator[LiveStack]:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path_factory.mktemp("stack"), port=free_port(), seed=SEED, grids=GRIDS,
                        push_window_ms=20, stale_after_s=3, redis_url=None, database_url=None,
                        password_hash_method="pbkdf2:sha256:1000",  # the demo users, hashed fast for tests
                        media_hosts="127.0.0.1")  # pictures served on loopback are shown inline
    running = start_stack(settings, simulate=False, quiet=True)
    try:
        client = redis.Redis.from_url(running.redis_url)
        yield LiveStack(running.url, RedisBus(client), StreamBus(client), build_district(SEED, GRIDS),
                        running.db_url, running.kiosk_token)
    finally:
        running.stop()


def sign_in(driver, stack: LiveStack, role: Role, path: str = "") -> None:  # type: ignore[no-untyped-def]
    """Sign the browser in as the demo user of `role` (the kiosk by its token), then open `path`."""
    if role is Role.KIOSK:
        driver.get(f"{stack.url}{path}{'&' if '?' in path else '?'}kiosk={stack.kiosk_token}")
        return
    username, _, password, _ = next(u for u in DEMO_USERS if u[1] == role.value)
    driver.get(f"{stack.url}login?next=/{path}")
    driver.find_element(By.ID, ids.LOGIN_USERNAME).send_keys(username)
    driver.find_element(By.ID, ids.LOGIN_PASSWORD).send_keys(password)
    driver.find_element(By.ID, ids.LOGIN_SUBMIT).click()
    wait_until(lambda: "/login" not in driver.current_url, 10, f"{role} to be signed in")


def simulated_hours(stack: LiveStack, run_id: str, problems_per_day: float, hours: float = 20) -> None:
    """The last `hours` of the stack's district, simulated through the real pipeline into its database."""
    engine = make_engine(stack.db_url)
    try:
        end = utcnow()
        simulate(Simulation(stack.district, seed=SEED, run_id=run_id, problems_per_day=problems_per_day), engine,
                 end - timedelta(hours=hours), end, step=timedelta(minutes=2))
    finally:
        engine.dispose()
