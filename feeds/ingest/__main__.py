"""Entry point: `python -m feeds.ingest` subscribes to every feed channel and runs the pipeline."""
from __future__ import annotations

import json
import logging
import signal
import sys
import threading

import redis
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.engine import Engine

from feeds.bus.channels import Merged, RedisBus, StreamBus
from feeds.bus.push import SocketIOPusher
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.bus.verdicts import RedisVerdicts
from feeds.ingest.pipeline import Bounds, CaseRules, Ingest, settle_heap
from feeds.schemas import FEED_CHANNELS
from feeds.settings import Settings
from feeds.store.engine import make_engine
from feeds.store.models import Area

log = logging.getLogger("feeds.ingest")


def district_bounds(engine: Engine, margin_deg: float = 0.01) -> Bounds | None:
    """The bounding box of the district's areas, with a margin; None while no territory is loaded."""
    with engine.connect() as conn:
        rows = conn.execute(select(Area.geometry).where(Area.level == "district")).scalars().all()
    if not rows:
        return None
    west, south, east, north = shape(json.loads(rows[0])).bounds
    return Bounds(south - margin_deg, west - margin_deg, north + margin_deg, east + margin_deg)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [ingest] %(message)s")
    settings = Settings()
    if not settings.redis_url:
        sys.exit("CC_REDIS_URL (or REDIS_URL) must point at a Redis server")
    try:
        rules = CaseRules(calendar=settings.working_calendar())
    except ValueError as err:
        sys.exit(f"the working calendar in the settings is wrong: {err}")
    client = redis.Redis.from_url(settings.redis_url)
    engine = make_engine(settings.db_url)
    bounds = district_bounds(engine)
    ingest = Ingest(engine, RedisSnapshotStore(client, settings.recent_items), SocketIOPusher(settings.redis_url),
                    window_s=settings.push_window_ms / 1000, bounds=bounds,
                    future_tolerance_s=settings.future_tolerance_s,
                    max_age_s=settings.max_age_days * 86400, rules=rules, verdicts=RedisVerdicts(client))
    settle_heap()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    log.info("listening on %s (pub/sub) and their streams (group consumer %s), pushing every %d ms, "
             "snapshot at seq %d", ", ".join(FEED_CHANNELS), settings.ingest_consumer, settings.push_window_ms,
             ingest.seq)
    subscription = Merged([RedisBus(client).subscribe(FEED_CHANNELS),
                           StreamBus(client).subscribe(FEED_CHANNELS, consumer=settings.ingest_consumer)])
    try:
        ingest.run(subscription, stop, restore_first=True)
    finally:
        subscription.close()
    log.info("stopped: %s", dict(ingest.stats))


if __name__ == "__main__":
    main()
