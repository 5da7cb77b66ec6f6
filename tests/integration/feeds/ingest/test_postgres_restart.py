"""PostgreSQL crashes (an immediate shutdown, recovered from its write-ahead log at the next start) under a running
ingest process, while reports keep arriving on the streams: the ingest stays up, holds what it could not write
(the stream entries stay unacknowledged), and writes all of it once the database is back. Nothing is lost, nothing
is stored twice, nothing becomes a dead letter."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import redis
from sqlalchemy import func, select

from devstack.postgres import Cluster, postgres_bin
from devstack.services import _die_with_parent, start_redis
from feeds.bus.channels import INGEST_GROUP, StreamBus, publish_messages, stream_for
from feeds.store.engine import make_engine, migrate
from feeds.store.models import DeadLetter, IncidentRow
from tests import factories
from tests.waiting import wait_until


@pytest.fixture
def cluster():
    pg_bin = postgres_bin()
    if pg_bin is None:
        pytest.skip("needs PostgreSQL (apt-get install postgresql)")
    made = Cluster(pg_bin, durable=True)  # fsync on: a crash loses no committed transaction
    made.start()
    yield made
    made.remove()


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _reports(n: int, tag: str, south: float):
    return [factories.incident(f"{tag}{i}", lat=south + i * 0.002, lon=111.20 + i * 0.002) for i in range(n)]


def test_the_ingest_holds_through_a_postgres_crash_and_writes_what_it_held(cluster, tmp_path):
    db_url = cluster.database("cc_restart")
    migrate(db_url)
    server, redis_url = start_redis(workdir=tmp_path / "redis")
    env = {**os.environ, "CC_REDIS_URL": redis_url, "CC_DATABASE_URL": db_url, "CC_PUSH_WINDOW_MS": "20",
           "CC_DATA_DIR": str(tmp_path)}
    log = (tmp_path / "ingest.log").open("wb")
    ingest = subprocess.Popen([sys.executable, "-m", "feeds.ingest"], env=env, stdout=log, stderr=log,
                              preexec_fn=_die_with_parent)
    client = redis.Redis.from_url(redis_url)
    bus = StreamBus(client)
    try:
        wait_until(lambda: client.exists("cc.stream.incident_report"), 30, "the ingest listening")
        publish_messages(bus, _reports(20, "宕机前", 30.60))
        engine = make_engine(db_url)
        wait_until(lambda: _count(engine, IncidentRow) == 20, 20, "20 reports stored")
        engine.dispose()

        cluster.stop(signal.SIGQUIT)  # the database crashes …
        publish_messages(bus, _reports(30, "宕机中", 30.70))  # … while reports keep coming
        time.sleep(3)
        assert ingest.poll() is None, "the ingest exited while the database was away"
        pending = client.xpending(stream_for("cc.incident_report"), INGEST_GROUP)["pending"]
        assert pending >= 1  # held, not acknowledged

        cluster.start()  # … and comes back, recovering from its log
        back = time.monotonic()
        engine = make_engine(db_url)
        wait_until(lambda: _count(engine, IncidentRow) == 50, 30, "what was held written")
        caught_up = time.monotonic() - back
        wait_until(lambda: client.xpending(stream_for("cc.incident_report"), INGEST_GROUP)["pending"] == 0, 10,
                   "every entry acknowledged")
        assert _count(engine, DeadLetter) == 0 and ingest.poll() is None
        print(f"the held reports were written {caught_up:.1f} s after PostgreSQL was back")
        engine.dispose()
    finally:
        ingest.terminate()
        ingest.wait(10)
        print((tmp_path / "ingest.log").read_text(errors="replace")[-3000:])
        server.stop()
