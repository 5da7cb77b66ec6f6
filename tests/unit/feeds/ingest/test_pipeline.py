import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from feeds.bus.channels import MemoryBus, publish_messages
from feeds.bus.push import RecordingPusher
from feeds.bus.screens import ScreenEvent
from feeds.bus.snapshots import MemorySnapshotStore
from feeds.ingest.pipeline import Bounds, Ingest, reject_reason
from feeds.schemas import FEED_CHANNELS, channel_for, encode
from feeds.store.models import DeadLetter, IncidentRow, PatrolFix
from tests import factories
from tests.waiting import wait_until

AREA = Bounds(south=30.60, west=111.20, north=30.80, east=111.40)


@pytest.fixture
def ingest(engine):
    return Ingest(engine, MemorySnapshotStore(recent=10), RecordingPusher(), bounds=AREA)


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_accepted_messages_are_persisted_applied_and_pushed(ingest, engine):
    ingest.receive(channel_for("patrol_position"), encode([factories.position("P1"), factories.position("P2")]))
    ingest.receive(channel_for("incident_report"), encode(factories.incident("桥下积水")))
    delta = ingest.flush()
    assert delta is not None and delta["seq"] == 1
    assert set(delta["patrols"]) == {"P1", "P2"}
    assert [i["text"] for i in delta["incidents"]] == ["桥下积水"]
    assert ingest._pusher.pushed == [(ScreenEvent.DELTA, delta)]
    assert _count(engine, PatrolFix) == 2 and _count(engine, IncidentRow) == 1
    assert ingest._snapshots.load()["seq"] == 1


def test_a_malformed_message_is_rejected_with_its_reason_counted_and_kept(ingest, engine):
    ingest.receive("cc.patrol_position", b'{"kind": "patrol_position", "unit_id": "P1"')
    delta = ingest.flush()
    assert delta["counts"]["rejected"] == 1
    with engine.connect() as conn:
        [dead] = conn.execute(select(DeadLetter.__table__)).all()
    assert dead.channel == "cc.patrol_position" and dead.stage == "decode"
    assert dead.reason.startswith("not JSON")
    assert dead.payload == '{"kind": "patrol_position", "unit_id": "P1"'
    assert ingest.stats["rejected"] == 1


def test_a_replayed_message_changes_nothing(ingest, engine):
    fix = factories.position("P1")
    ingest.receive("cc.patrol_position", encode(fix))
    ingest.flush()
    ingest.receive("cc.patrol_position", encode(fix))
    assert ingest.flush() is None  # nothing new: no delta, no push
    assert _count(engine, PatrolFix) == 1
    assert len(ingest._pusher.pushed) == 1
    assert ingest.stats["duplicate"] == 1


def test_a_message_from_the_future_is_filtered_out():
    now = factories.now()
    fix = factories.position(at=now + timedelta(minutes=10))
    assert reject_reason(fix, now, 5.0, None) == f"ts {fix.ts.isoformat()} is 600 s in the future"


def test_a_position_outside_the_district_is_filtered_out():
    far = factories.position(lat=39.9, lon=116.4)  # Beijing, not our district
    assert reject_reason(far, factories.now(), 5.0, AREA) == "position (39.90000, 116.40000) is outside the district"
    assert reject_reason(factories.position(), factories.now(), 5.0, AREA) is None


def test_filtered_messages_become_dead_letters(ingest, engine):
    ingest.receive("cc.camera_alert", encode(factories.alert(lat=10.0, lon=10.0)))
    ingest.flush()
    with engine.connect() as conn:
        dead = conn.execute(select(DeadLetter.__table__)).one()
    assert dead.stage == "filter" and "outside the district" in dead.reason
    assert json.loads(dead.payload)["camera_id"] == "CAM0001"


def test_the_loop_goes_on_after_bad_input(engine):
    bus = MemoryBus()
    pusher = RecordingPusher()
    ingest = Ingest(engine, MemorySnapshotStore(), pusher, window_s=0.0)
    subscription = bus.subscribe(FEED_CHANNELS)
    stop = threading.Event()
    loop = threading.Thread(target=ingest.run, args=(subscription, stop))
    loop.start()
    try:
        bus.publish("cc.incident_report", b"[1, 2, 3]")
        bus.publish("cc.incident_report", b"\x00\x01")
        publish_messages(bus, [factories.incident("路灯不亮")])
        wait_until(lambda: any(d["incidents"] for _, d in pusher.pushed), 5, "the good incident")
    finally:
        stop.set()
        loop.join(5)
    assert not loop.is_alive()
    assert ingest.stats["rejected"] == 4  # three items of a list that are not objects, one non-JSON payload
    assert [i["text"] for _, d in pusher.pushed for i in d["incidents"]] == ["路灯不亮"]


def test_sequence_numbers_continue_from_the_stored_snapshot(engine):
    store = MemorySnapshotStore()
    first = Ingest(engine, store, RecordingPusher())
    first.receive("cc.patrol_position", encode(factories.position()))
    first.flush()
    second = Ingest(engine, store, RecordingPusher())  # e.g. after a restart
    second.receive("cc.patrol_position", encode(factories.position()))
    assert second.flush()["seq"] == 2


POISON_TRIGGERS = {
    "sqlite": ["""CREATE TRIGGER refuse_poison BEFORE INSERT ON incident_reports
                  WHEN NEW.description LIKE '%POISON%' BEGIN SELECT RAISE(ABORT, 'poisoned report'); END"""],
    "postgresql": ["""CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN
                        IF strpos(NEW.description, 'POISON') > 0 THEN RAISE EXCEPTION 'poisoned report'; END IF;
                        RETURN NEW; END $$ LANGUAGE plpgsql""",
                   """CREATE TRIGGER refuse_poison BEFORE INSERT ON incident_reports
                      FOR EACH ROW EXECUTE FUNCTION refuse_poison()"""],
}


def test_a_message_the_database_refuses_is_dead_lettered_and_the_rest_of_its_batch_lands(ingest, engine):
    with engine.begin() as conn:
        for statement in POISON_TRIGGERS[engine.dialect.name]:
            conn.exec_driver_sql(statement)
    batch = [factories.incident("桥下积水"), factories.incident("POISON"), factories.incident("路灯不亮")]
    ingest.receive("cc.incident_report", encode(batch))
    ingest.receive("cc.patrol_position", encode(factories.position("P1")))
    delta = ingest.flush()
    assert sorted(i["text"] for i in delta["incidents"]) == ["桥下积水", "路灯不亮"]
    assert "P1" in delta["patrols"] and delta["counts"]["rejected"] == 1
    with engine.connect() as conn:
        dead = conn.execute(select(DeadLetter.__table__)).one()
    assert dead.stage == "persist" and "poisoned report" in dead.reason
    assert json.loads(dead.payload)["description"] == "POISON"
    ingest.receive("cc.incident_report", encode(factories.incident("下一条")))  # the ingest goes on
    assert [i["text"] for i in ingest.flush()["incidents"]] == ["下一条"]


def test_garbage_with_nul_bytes_is_kept_as_a_dead_letter_on_every_database(ingest, engine):
    ingest.receive("cc.incident_report", b"\x00\x01garbage")
    assert ingest.flush()["counts"]["rejected"] == 1
    with engine.connect() as conn:
        dead = conn.execute(select(DeadLetter.__table__)).one()
    assert dead.payload == "\\x00\x01garbage"


def test_a_stored_fix_reads_back_exactly(ingest, engine):
    from datetime import timezone

    t = datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    fix = factories.position("P1", lat=30.691234, lon=111.285678, at=t.astimezone(UTC))
    ingest.receive("cc.patrol_position", encode(fix))
    ingest.flush()
    with engine.connect() as conn:
        row = conn.execute(select(PatrolFix.__table__)).one()
    assert (row.unit_id, row.lat, row.lon, row.accuracy_m, row.speed_mps) == ("P1", 30.691234, 111.285678, 5.0, 1.2)
    assert row.fix_at == t and row.sent_at == t and row.fix_at.tzinfo == UTC
    assert row.received_at.tzinfo == UTC


def test_one_bad_fix_in_a_batch_is_filtered_out_and_the_rest_pass(ingest, engine):
    now = factories.now()
    batch = [factories.position("P1"), factories.position("P2", at=now + timedelta(minutes=10)),
             factories.position("P3", lat=39.9, lon=116.4), factories.position("P4")]
    ingest.receive("cc.patrol_position", encode(batch))
    delta = ingest.flush()
    assert set(delta["patrols"]) == {"P1", "P4"} and delta["counts"]["rejected"] == 2
    with engine.connect() as conn:
        reasons = sorted(conn.execute(select(DeadLetter.reason)).scalars())
    assert "in the future" in reasons[1] and "outside the district" in reasons[0]
    assert _count(engine, PatrolFix) == 2


def test_a_fix_sent_later_than_taken_keeps_both_stamps(ingest, engine):
    taken = datetime(2026, 11, 20, 9, 59, 59, 999999, tzinfo=UTC)
    sent = taken + timedelta(microseconds=1)  # across a minute and an hour boundary
    ingest.receive("cc.patrol_position", encode(factories.position("P1", at=sent, fix_at=taken)))
    delta = ingest.flush()
    with engine.connect() as conn:
        row = conn.execute(select(PatrolFix.__table__)).one()
    assert row.fix_at == taken and row.sent_at == sent
    assert delta["patrols"]["P1"]["fix"] == int(taken.timestamp() * 1000)
    assert delta["patrols"]["P1"]["sent"] == int(sent.timestamp() * 1000)


def test_fixes_wait_for_their_window_and_a_persons_command_goes_out_at_once(engine):
    ingest = Ingest(engine, MemorySnapshotStore(), RecordingPusher(), window_s=60.0)
    assert ingest.flush_due_in() is None
    ingest.receive("cc.patrol_position", encode(factories.position("P1")))
    assert ingest.flush_due_in() == 0.0  # the first batch: no flush yet, its window is long over
    ingest.flush()
    ingest.receive("cc.patrol_position", encode(factories.position("P2")))
    assert ingest.flush_due_in() > 59  # the window from the last flush
    ingest.receive("cc.case_command", encode(factories.command("C-1", "dispatch", 1)))
    assert ingest.flush_due_in() == 0.0  # a dispatcher waits for its verdict
    ingest.flush()
    ingest.receive("cc.patrol_position", encode(factories.position("P3")))
    assert ingest.flush_due_in() > 59  # the next fixes wait again


def test_an_ingest_behind_takes_what_waits_into_one_batch_not_one_payload_per_transaction(engine):
    bus, pusher = MemoryBus(), RecordingPusher()
    ingest = Ingest(engine, MemorySnapshotStore(), pusher, window_s=0.0)  # every batch due at once
    subscription = bus.subscribe(FEED_CHANNELS)
    for n in range(30):  # waiting before the loop reads any: as when the database was slow to commit
        publish_messages(bus, [factories.position(f"P{n}")])
    stop = threading.Event()
    loop = threading.Thread(target=ingest.run, args=(subscription, stop))
    loop.start()
    try:
        wait_until(lambda: sum(len(d["patrols"]) for _, d in pusher.pushed) == 30, 5, "the 30 fixes")
    finally:
        stop.set()
        loop.join(5)
    assert len(pusher.pushed) == 1  # one transaction, one delta
    assert _count(engine, PatrolFix) == 30


def test_a_message_sent_twice_within_one_batch_is_taken_once(ingest, engine):
    report = factories.incident("桥下积水")
    ingest.receive("cc.incident_report", encode([report, factories.incident("路灯不亮", lat=30.75, lon=111.35)]))
    ingest.receive("cc.incident_report", encode(report))  # the producer sent it again, in the same window
    delta = ingest.flush()
    assert [i["text"] for i in delta["incidents"]] == ["路灯不亮", "桥下积水"]  # newest first, each once
    assert len(delta["cases"]) == 2  # one case each
    assert ingest.stats["accepted"] == 2 and ingest.stats["duplicate"] == 1
    assert _count(engine, IncidentRow) == 2
