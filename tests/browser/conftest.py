"""A whole stack for browser tests: Redis, a migrated database with a small district, ingest and dashboard."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from feeds.bus import RedisBus
from feeds.services import Children, free_port, spawn, start_redis, wait_for_http
from feeds.store import make_engine, migrate
from simulators.geography import District, build_district, save_district


@dataclass
class Stack:
    url: str
    bus: RedisBus
    district: District


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, browser_factory) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    workdir = tmp_path_factory.mktemp("stack")
    children = Children()
    try:
        redis_child, redis_url = start_redis(workdir=workdir)
        children.add(redis_child)
        db_url = f"sqlite:///{workdir / 'cc.sqlite'}"
        migrate(db_url)
        district = build_district(seed=3, grids=12)
        engine = make_engine(db_url)
        with engine.begin() as conn:
            save_district(conn, district)
        engine.dispose()
        port = free_port()
        env = {"CC_REDIS_URL": redis_url, "CC_DATABASE_URL": db_url, "CC_PORT": str(port), "CC_PUSH_WINDOW_MS": "20"}
        children.add(spawn("ingest", "feeds.ingest", env, quiet=True))
        dashboard = children.add(spawn("dashboard", "dashboard", env, quiet=True))
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url + "api/health", 60, dashboard)
        yield Stack(url, RedisBus(redis.Redis.from_url(redis_url)), district)
    finally:
        children.stop()
