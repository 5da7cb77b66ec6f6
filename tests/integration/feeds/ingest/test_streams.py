"""The durable way in: Redis Streams with a consumer group, acknowledged after the database commit."""
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from feeds.bus.channels import INGEST_GROUP, Merged, RedisBus, StreamBus, publish_messages, stream_for
from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.ingest.pipeline import Ingest
from feeds.schemas import FEED_CHANNELS, channel_for
from feeds.store.models import IncidentRow, PatrolFix
from tests import factories
from tests.waiting import wait_until

POSITIONS = stream_for(channel_for("patrol_position"))


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _pending(redis_client, stream=POSITIONS) -> int:
    return redis_client.xpending(stream, INGEST_GROUP)["pending"]


class Running:
    def __init__(self, ingest, subscription):
        self.ingest, self.subscription, self.stop = ingest, subscription, threading.Event()
        self.thread = threading.Thread(target=ingest.run, args=(subscription, self.stop), daemon=True)
        self.thread.start()

    def halt(self):
        self.stop.set()
        self.thread.join(5)
        assert not self.thread.is_alive()


@pytest.fixture
def start(engine, redis_client):
    running = []

    def _start(subscription, eng=engine):
        r = Running(Ingest(eng, RedisSnapshotStore(redis_client), RecordingPusher(), window_s=0.01), subscription)
        running.append(r)
        return r

    yield _start
    for r in running:
        r.stop.set()
        r.thread.join(5)


def test_stream_entries_are_ingested_then_acknowledged(start, engine, redis_client):
    bus = StreamBus(redis_client)
    run = start(bus.subscribe(FEED_CHANNELS))
    publish_messages(bus, [factories.position(f"P{i}") for i in range(20)])
    wait_until(lambda: _count(engine, PatrolFix) == 20, 5, "20 fixes in the database")
    wait_until(lambda: _pending(redis_client) == 0, 5, "the entries to be acknowledged")
    run.halt()


def test_nothing_is_lost_when_the_ingest_dies_before_committing(start, engine, redis_client):
    bus = StreamBus(redis_client)
    publish_messages(bus, [factories.position(f"P{i}") for i in range(5)] + [factories.incident()])
    crashed = bus.subscribe(FEED_CHANNELS)  # takes the entries and dies before any commit or ack
    assert wait_until(lambda: crashed.get(0.1), 5, "a delivery")
    assert _pending(redis_client) == 1  # delivered (one batch entry of 5 fixes), never acknowledged

    run = start(bus.subscribe(FEED_CHANNELS))  # restarted under the same consumer name
    wait_until(lambda: _count(engine, PatrolFix) == 5 and _count(engine, IncidentRow) == 1, 5, "the catch-up")
    wait_until(lambda: _pending(redis_client) == 0, 5, "acknowledgements after the catch-up")
    run.halt()


def test_entries_stay_pending_while_the_database_is_down(start, engine, redis_client, tmp_path):
    from feeds.store.engine import make_engine

    broken = make_engine(f"sqlite:///{tmp_path / 'unmigrated.sqlite'}")  # every write fails: no tables
    bus = StreamBus(redis_client)
    run = start(bus.subscribe(FEED_CHANNELS), eng=broken)
    publish_messages(bus, [factories.position("P1")])
    wait_until(lambda: _pending(redis_client) == 1, 5, "the delivery")
    run.halt()
    with pytest.raises(OperationalError, match="no such table"):
        run.ingest.flush()  # what the loop kept retrying
    assert run.ingest.stats["accepted"] == 0
    assert _pending(redis_client) == 1  # not acknowledged: it will be read again

    run = start(bus.subscribe(FEED_CHANNELS))  # the database is back
    wait_until(lambda: _count(engine, PatrolFix) == 1 and _pending(redis_client) == 0, 5, "the retry")
    run.halt()


def test_a_replayed_stream_entry_changes_nothing(start, engine, redis_client):
    bus = StreamBus(redis_client)
    fix = factories.position("P1")
    publish_messages(bus, [fix])
    publish_messages(bus, [fix])  # the producer sent it twice
    run = start(bus.subscribe(FEED_CHANNELS))
    wait_until(lambda: run.ingest.stats["duplicate"] + run.ingest.stats["accepted"] == 2, 5, "both copies")
    assert _count(engine, PatrolFix) == 1 and run.ingest.stats["duplicate"] == 1
    run.halt()


def test_pubsub_and_streams_feed_one_pipeline(start, engine, redis_client):
    merged = Merged([RedisBus(redis_client).subscribe(FEED_CHANNELS), StreamBus(redis_client).subscribe(FEED_CHANNELS)])
    run = start(merged)
    publish_messages(RedisBus(redis_client), [factories.position("FROM-PUBSUB")])
    publish_messages(StreamBus(redis_client), [factories.position("FROM-STREAM")])
    wait_until(lambda: _count(engine, PatrolFix) == 2, 5, "both fixes")
    wait_until(lambda: _pending(redis_client) == 0, 5, "the stream entry acknowledged")
    assert set(RedisSnapshotStore(redis_client).load()["patrols"]) == {"FROM-PUBSUB", "FROM-STREAM"}
    run.halt()
    merged.close()


def test_an_operator_redrives_a_fixed_dead_letter_into_the_running_ingest(start, engine, redis_client, db_url,
                                                                          redis_server, monkeypatch, capsys):
    import json

    from feeds.ingest.deadletters import list_dead_letters, main

    bus = StreamBus(redis_client)
    merged = Merged([RedisBus(redis_client).subscribe(FEED_CHANNELS), bus.subscribe(FEED_CHANNELS)])
    run = start(merged)
    bad = json.loads(factories.incident("井盖缺失").model_dump_json())
    bad["urgent"] = "maybe"
    bus.publish("cc.incident_report", json.dumps(bad).encode())
    wait_until(lambda: run.ingest.stats["rejected"] == 1, 5, "the refusal")
    with engine.connect() as conn:
        [letter] = list_dead_letters(conn)
    assert letter.reason == "urgent: Input should be a valid boolean"

    bad["urgent"] = True
    monkeypatch.setenv("CC_DATABASE_URL", db_url)
    monkeypatch.setenv("CC_REDIS_URL", redis_server)
    assert main(["redrive", str(letter.id), "--payload", json.dumps(bad)]) == 0
    assert "re-driven on cc.incident_report" in capsys.readouterr().out
    wait_until(lambda: _count(engine, IncidentRow) == 1, 5, "the fixed incident in the database")
    with engine.connect() as conn:
        assert list_dead_letters(conn) == []
    run.halt()
    merged.close()


def test_a_poison_entry_is_set_aside_after_five_deliveries_and_acknowledged(start, engine, redis_client):
    """An entry an ingest took and died holding, again and again (e.g. it crashes the process): at the sixth
    delivery it becomes a dead letter and is acknowledged, instead of stopping the ingest at every start."""
    from feeds.ingest.deadletters import list_dead_letters

    bus = StreamBus(redis_client)
    bus.subscribe(FEED_CHANNELS)  # makes the groups
    publish_messages(bus, [factories.position("POISON")])
    redis_client.xreadgroup(INGEST_GROUP, "ingest-1", {POSITIONS: ">"})  # delivered once, never acknowledged
    for _ in range(4):  # four more starts that died holding it
        redis_client.xreadgroup(INGEST_GROUP, "ingest-1", {POSITIONS: "0"})
    assert redis_client.xpending_range(POSITIONS, INGEST_GROUP, "-", "+", 1)[0]["times_delivered"] == 5
    start(bus.subscribe(FEED_CHANNELS))  # the sixth delivery
    wait_until(lambda: _pending(redis_client) == 0, 5, "the entry to be acknowledged")
    with engine.connect() as conn:
        [letter] = list_dead_letters(conn)
    assert letter.stage == "delivery" and letter.reason.startswith("delivered 6 times and never committed")
    assert '"unit_id":"POISON"' in letter.payload and _count(engine, PatrolFix) == 0


def test_a_stream_entry_without_a_payload_becomes_a_dead_letter(start, engine, redis_client):
    from feeds.ingest.deadletters import list_dead_letters

    bus = StreamBus(redis_client)
    start(bus.subscribe(FEED_CHANNELS))
    redis_client.xadd(POSITIONS, {"body": "not where the payload goes"})
    def letters():
        with engine.connect() as conn:
            return list_dead_letters(conn)

    [letter] = wait_until(letters, 5, "the dead letter")
    assert letter.reason == "stream entry without a payload field" and "not where the payload goes" in letter.payload
    wait_until(lambda: _pending(redis_client) == 0, 5, "the entry to be acknowledged")
