"""The ingest against a real Redis server: pub/sub in, database and snapshot out."""
import threading

import pytest
from sqlalchemy import func, select

from feeds.bus.channels import RedisBus, publish_messages
from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.ingest.pipeline import Ingest
from feeds.ingest.state import apply_delta
from feeds.schemas import FEED_CHANNELS
from feeds.store.models import DeadLetter, PatrolFix
from tests import factories
from tests.waiting import wait_until


@pytest.fixture
def running(engine, redis_client):
    store = RedisSnapshotStore(redis_client, recent=10)
    pusher = RecordingPusher()
    ingest = Ingest(engine, store, pusher, window_s=0.01)
    bus = RedisBus(redis_client)
    subscription = bus.subscribe(FEED_CHANNELS)
    stop = threading.Event()
    loop = threading.Thread(target=ingest.run, args=(subscription, stop), daemon=True)
    loop.start()
    yield bus, ingest, store, pusher
    stop.set()
    loop.join(5)
    subscription.close()


def test_a_published_fix_reaches_the_database_and_the_snapshot(running, engine):
    bus, _ingest, store, _ = running
    publish_messages(bus, [factories.position("P0042", lat=30.70, lon=111.29)])
    snap = wait_until(lambda: store.load()["patrols"].get("P0042") and store.load(), 5, "the fix in the snapshot")
    assert snap["patrols"]["P0042"]["lat"] == 30.70
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PatrolFix)).scalar_one() == 1


def test_bad_input_on_the_wire_is_kept_and_the_loop_goes_on(running, engine):
    bus, _ingest, store, _pusher = running
    bus.publish("cc.camera_alert", b'{"kind": "camera_alert", "camera_id": "CAM9", "confidence": 7}')
    publish_messages(bus, [factories.alert("CAM0007")])
    wait_until(lambda: store.load()["alerts"], 5, "the good alert")
    with engine.connect() as conn:
        dead = conn.execute(select(DeadLetter.__table__)).one()
    assert "confidence: Input should be less than or equal to 1" in dead.reason
    assert store.load()["counts"]["rejected"] == 1
    assert store.load()["alerts"][0]["camera"] == "CAM0007"


def test_snapshot_at_n_plus_deltas_equals_the_snapshot_at_m(running):
    bus, _ingest, store, pusher = running
    publish_messages(bus, [factories.position(f"P{i}") for i in range(5)] + [factories.incident()])
    wait_until(lambda: store.load()["seq"] >= 1, 5, "a first delta")
    at_n = store.load()
    n = at_n["seq"]
    for round_ in range(6):
        publish_messages(bus, [factories.position(f"P{i}", lat=30.69 + round_ / 1000) for i in range(3, 8)]
                         + [factories.incident(str(round_)), factories.alert()])
        wait_until(lambda r=round_: any(i["text"] == str(r) for i in store.load()["incidents"]), 5, "the round")
    at_m = store.load()
    wait_until(lambda: pusher.pushed and pusher.pushed[-1][1]["seq"] >= at_m["seq"], 5,
               "the push that follows the save")
    caught_up = at_n
    for _, delta in pusher.pushed:
        if n < delta["seq"] <= at_m["seq"]:
            caught_up = apply_delta(caught_up, delta, recent=store.recent)
    assert caught_up == at_m
    assert at_m["seq"] > n


def test_a_duplicated_message_changes_nothing(running, engine):
    bus, ingest, store, _pusher = running
    fix = factories.position("P7")
    publish_messages(bus, [fix])
    wait_until(lambda: store.load()["seq"] == 1, 5, "the first copy")
    publish_messages(bus, [fix, factories.position("P8")])
    wait_until(lambda: "P8" in store.load()["patrols"], 5, "the next batch")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PatrolFix)).scalar_one() == 2
    assert store.load()["counts"]["fixes"] == 2
    assert ingest.stats["duplicate"] == 1
