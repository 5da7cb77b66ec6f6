"""A whole stack for browser tests: Redis, a migrated database with a small district, ingest and dashboard."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from dashboard.demo import start_stack
from feeds.bus import RedisBus
from feeds.services import free_port
from feeds.settings import Settings
from simulators.geography import District, build_district

SEED, GRIDS = 3, 12


@dataclass
class LiveStack:
    url: str
    bus: RedisBus
    district: District
    db_url: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, browser_factory) -> Iterator[LiveStack]:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path_factory.mktemp("stack"), port=free_port(), seed=SEED, grids=GRIDS,
                        push_window_ms=20, stale_after_s=3, redis_url=None, database_url=None)
    running = start_stack(settings, simulate=False, quiet=True)
    try:
        yield LiveStack(running.url, RedisBus(redis.Redis.from_url(running.redis_url)), build_district(SEED, GRIDS),
                        running.db_url)
    finally:
        running.stop()
