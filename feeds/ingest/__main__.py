"""Entry point: `python -m feeds.ingest` subscribes to every feed channel and runs the pipeline.

Run two (each with its own CC_INGEST_CONSUMER) and one is active while the other stands by: the active one
holds the ingest lease (feeds/bus/lease.py). When it stops renewing it (killed, paused, cut off), the standby
takes the lease, fences the database against it, takes over the stream entries it held unacknowledged, and
goes on from the live state at its seq (or restores it from the database when Redis is behind). A clean stop
gives the lease up at once.
"""
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
from sqlalchemy.exc import SQLAlchemyError

from feeds.bus.channels import Merged, RedisBus, StreamBus, claim_pending
from feeds.bus.connect import redis_client
from feeds.bus.lease import Lease, OneActive
from feeds.bus.push import SocketIOPusher
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.bus.verdicts import RedisVerdicts
from feeds.ingest.pipeline import ROLE, Bounds, CaseRules, Ingest, settle_heap
from feeds.schemas import FEED_CHANNELS
from feeds.settings import Settings
from feeds.store.engine import make_engine
from feeds.store.models import Area
from feeds.store.writes import fence_state

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
    client = redis_client(settings.redis_url)
    engine = make_engine(settings.db_url)
    lease = Lease(client, ROLE, settings.ingest_consumer, settings.lease_ttl_s)

    def floor() -> int:  # the newest epoch the database has seen
        with engine.connect() as conn:
            return fence_state(conn, ROLE)[0]

    one = OneActive(lease, floor=floor, retried=(redis.RedisError, SQLAlchemyError))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, one.halt)
    settle_heap()
    one.run(lambda stop: serve(settings, client, engine, rules, lease, stop))
    log.info("stopped")


def serve(settings: Settings, client: redis.Redis, engine: Engine, rules: CaseRules, lease: Lease,
          stop: threading.Event) -> None:
    """The active ingest: take over from the one before, then run the pipeline until stopped or fenced."""
    ingest = Ingest(engine, RedisSnapshotStore(client, settings.recent_items, lease=lease),
                    SocketIOPusher(settings.redis_url or ""), window_s=settings.push_window_ms / 1000,
                    bounds=district_bounds(engine), future_tolerance_s=settings.future_tolerance_s,
                    max_age_s=settings.max_age_days * 86400, rules=rules, verdicts=RedisVerdicts(client),
                    lease=lease)
    ingest.take_over()
    claim_pending(client, FEED_CHANNELS, settings.ingest_consumer)
    log.info("listening on %s (pub/sub) and their streams (group consumer %s), pushing every %d ms, "
             "snapshot at seq %d", ", ".join(FEED_CHANNELS), settings.ingest_consumer, settings.push_window_ms,
             ingest.seq)
    subscription = Merged([RedisBus(client).subscribe(FEED_CHANNELS),
                           StreamBus(client).subscribe(FEED_CHANNELS, consumer=settings.ingest_consumer)])
    watch = threading.Thread(target=watch_backlog, args=(client, subscription, stop), daemon=True, name="backlog")
    watch.start()
    try:
        ingest.run(subscription, stop)
    finally:
        subscription.close()
        watch.join(2)
        log.info("served: %s", dict(ingest.stats))


BACKLOG_KEY = "cc:ingest:backlog"  # what waits in the active ingest, every second (for operators and benchmarks)
BEHIND_S = 5.0  # the oldest payload waiting longer than this: the ingest is behind, and says so


def watch_backlog(client: redis.Redis, subscription: Merged, stop: threading.Event, every_s: float = 1.0,
                  behind_s: float = BEHIND_S) -> None:
    """Every second, put what waits between the bus and the pipeline in Redis (payloads, bytes, the oldest's
    wait in ms; gone 10 s after the ingest stops), and log when the ingest falls behind and when it caught up."""
    behind = False
    while not stop.wait(every_s):
        backlog = subscription.backlog()
        try:
            client.hset(BACKLOG_KEY, mapping={"payloads": backlog.payloads, "bytes": backlog.bytes,
                                              "oldest_ms": round(backlog.oldest_s * 1000)})
            client.expire(BACKLOG_KEY, 10)
        except redis.RedisError:
            pass  # the pipeline says when Redis is away
        if not behind and backlog.oldest_s > behind_s:
            behind = True
            log.warning("behind: %d payloads (%.1f MB) waiting, the oldest for %.1f s", backlog.payloads,
                        backlog.bytes / 2**20, backlog.oldest_s)
        elif behind and backlog.oldest_s <= min(1.0, behind_s):
            behind = False
            log.warning("caught up: %d payloads waiting", backlog.payloads)


if __name__ == "__main__":
    main()
