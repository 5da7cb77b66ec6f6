"""Redis goes away and comes back empty under a running ingest process: the ingest stays up, makes its
consumer groups again, restores the live state from the database, beats again, and loses nothing sent
after Redis returns. A real Redis server and a real `python -m feeds.ingest`, no sleeps but waits."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import redis
from sqlalchemy import func, select

from devstack.services import _die_with_parent, free_port, start_redis
from feeds.bus.channels import StreamBus, publish_messages
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.store.engine import make_engine, migrate
from feeds.store.models import CaseRow
from tests import factories
from tests.waiting import wait_until


def _open_cases(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(CaseRow.__table__)
                            .where(CaseRow.state.not_in(("closed", "rejected", "void")))).scalar_one()


def _reports(n: int, tag: str, south: float):
    # apart from each other, so that none is merged into another as a duplicate
    return [factories.incident(f"{tag}{i}", lat=south + i * 0.002, lon=111.20 + i * 0.002) for i in range(n)]


@pytest.fixture
def outage_stack(tmp_path):
    port = free_port()
    (tmp_path / "redis").mkdir()
    server, url = start_redis(port, tmp_path / "redis")
    db_url = f"sqlite:///{tmp_path / 'cc.sqlite'}"
    migrate(db_url)
    env = {**os.environ, "CC_REDIS_URL": url, "CC_DATABASE_URL": db_url, "CC_PUSH_WINDOW_MS": "20",
           "CC_DATA_DIR": str(tmp_path)}
    ingest = subprocess.Popen([sys.executable, "-m", "feeds.ingest"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
    engine = make_engine(db_url)
    state = {"redis": server}
    yield port, url, engine, ingest, state, tmp_path
    ingest.send_signal(signal.SIGTERM)
    ingest.wait(10)
    print(ingest.stderr.read().decode(errors="replace")[-5000:])  # shown when the test fails
    state["redis"].stop()
    engine.dispose()


def test_the_ingest_rides_out_a_redis_restart_and_the_screens_state_comes_back(outage_stack):
    port, url, engine, ingest, state, tmp_path = outage_stack
    client = redis.Redis.from_url(url)
    wait_until(lambda: client.exists("cc.stream.incident_report"), 20, "the ingest's consumer groups")
    publish_messages(StreamBus(client), _reports(40, "停电前", 30.60))
    store = RedisSnapshotStore(client)
    wait_until(lambda: _open_cases(engine) == 40 and len(store.load()["cases"]) == 40, 20, "40 open cases")
    seq_before = store.stored_seq()

    state["redis"].stop()  # Redis goes away …
    wait_until(lambda: ingest.poll() is None, 1, "the ingest to be alive")
    time.sleep(3)  # … for a while: the ingest's reads, beats and pushes fail meanwhile
    assert ingest.poll() is None, "the ingest exited while Redis was away"
    state["redis"], _ = start_redis(port, tmp_path / "redis")  # … and comes back empty
    back = time.monotonic()

    client = redis.Redis.from_url(url)
    heard: list[bytes] = []
    listener = client.pubsub(ignore_subscribe_messages=True)
    listener.subscribe("flask-socketio")  # what every dashboard process hears from the ingest
    wait_until(lambda: (store.stored_seq() or 0) > seq_before and len(store.load()["cases"]) == 40, 10,
               "the live state restored from the database")
    restored_after = time.monotonic() - back

    def beating() -> bool:
        message = listener.get_message(timeout=0.1)
        if message is not None:
            heard.append(message["data"])
        return any(b"heartbeat" in m for m in heard)

    wait_until(beating, 5, "the ingest's heartbeat")
    publish_messages(StreamBus(client), _reports(10, "恢复后", 30.70))  # the consumer groups were made again
    wait_until(lambda: _open_cases(engine) == 50 and len(store.load()["cases"]) == 50, 10, "nothing lost after")
    assert ingest.poll() is None
    assert restored_after < 5.0, f"the live state came back {restored_after:.1f} s after Redis"
    listener.close()


def test_a_replaced_snapshot_reads_back_as_it_was_written(redis_client):
    """What the ingest writes when it restores: the whole snapshot in place of the old one."""
    from feeds.ingest.state import batch_delta

    store = RedisSnapshotStore(redis_client, recent=3)
    store.save(batch_delta(1, factories.now(), [factories.position("OLD"), factories.incident("旧")], 0))
    snap = RedisSnapshotStore(redis_client, recent=3)
    fresh = {"seq": 9, "at": 123, "patrols": {"P1": {"unit": "P1", "fix": 1}},
             "incidents": [{"id": f"i{n}"} for n in range(5)], "alerts": [],
             "counts": {"fixes": 4, "incidents": 0, "alerts": 0, "rejected": 2}, "cases": {"c1": {"id": "c1"}},
             "cameras": {"CAM0001": {"state": "offline", "since": 5, "detail": None}}}
    snap.replace(fresh)
    assert snap.load() == {**fresh, "incidents": fresh["incidents"][:3]}  # newest first, `recent` of them
    assert snap.stored_seq() == 9
