"""A camera's health (online, degraded, offline, disabled) goes the way of every feed: validated, kept, applied
to the live state in order of `since`, pushed, rebuilt from the database after an outage, and replayed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from feeds.bus.push import RecordingPusher
from feeds.bus.screens import ScreenEvent, check, check_snapshot
from feeds.bus.snapshots import MemorySnapshotStore
from feeds.calendar import WorkingCalendar
from feeds.clock import ms
from feeds.ingest.pipeline import Bounds, Ingest
from feeds.ingest.state import apply_delta, batch_delta, empty_snapshot
from feeds.replay.frames import Period
from feeds.replay.reads import replay_chunk, state_at
from feeds.store.models import CameraStatusRow, DeadLetter
from feeds.taxonomy import load as load_taxonomy
from tests import factories

AREA = Bounds(south=30.60, west=111.20, north=30.80, east=111.40)


@pytest.fixture
def ingest(engine):
    factories.camera(engine, "CAM0001")
    factories.camera(engine, "CAM0002")
    return Ingest(engine, MemorySnapshotStore(recent=10), RecordingPusher(), bounds=AREA)


def test_the_newest_health_of_each_camera_wins_within_a_batch_and_against_what_screens_have():
    t = factories.now()
    batch = [factories.status("CAM0001", "offline", at=t), factories.status("CAM0001", "online", at=t - timedelta(1)),
             factories.status("CAM0002", "degraded", at=t - timedelta(minutes=5))]
    delta = batch_delta(1, t, batch, 0, known_health={"CAM0002": ms(t)})  # screens have newer of CAM0002
    assert delta["cameras"] == {"CAM0001": {"state": "offline", "since": ms(t), "detail": "detect: offline"}}
    check(ScreenEvent.DELTA, delta)
    snap = apply_delta(empty_snapshot(), delta, 10)
    assert snap["cameras"]["CAM0001"]["state"] == "offline"
    check_snapshot(snap)


def test_a_health_is_kept_applied_and_pushed_and_a_replayed_or_older_one_changes_nothing(ingest, engine):
    t = factories.now() - timedelta(minutes=5)
    offline = factories.status("CAM0001", "offline", at=t)
    delta = factories.send(ingest, offline)
    assert delta["cameras"] == {"CAM0001": {"state": "offline", "since": ms(t), "detail": "detect: offline"}}
    assert ingest._pusher.pushed[-1] == (ScreenEvent.DELTA, delta)
    assert factories.send(ingest, offline) is None  # the same message again: nothing new
    older = factories.status("CAM0001", "online", at=t - timedelta(minutes=1), detail=None)
    late = factories.send(ingest, older)  # kept (it happened), but the screens keep the newer health
    assert late is not None and late["cameras"] == {}
    assert ingest._snapshots.load()["cameras"]["CAM0001"]["state"] == "offline"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(CameraStatusRow)).scalar_one() == 2
    back = factories.send(ingest, factories.status("CAM0001", "online", at=t + timedelta(minutes=3), detail=None))
    assert back["cameras"]["CAM0001"]["state"] == "online"


def test_the_health_of_a_camera_not_in_the_register_is_refused_with_why(ingest, engine):
    delta = factories.send(ingest, factories.status("CAM9999", "offline"))
    assert delta["cameras"] == {} and delta["counts"]["rejected"] == 1
    with engine.connect() as conn:
        [letter] = conn.execute(select(DeadLetter.__table__)).all()
    assert letter.channel == "cc.camera_status" and letter.stage == "filter"
    assert letter.reason == "camera 'CAM9999' is not in the register of cameras"


def test_a_health_from_the_future_is_refused(ingest, engine):
    ahead = factories.now() + timedelta(minutes=10)
    factories.send(ingest, factories.status("CAM0001", "offline", at=factories.now(), since=ahead))
    with engine.connect() as conn:
        [letter] = conn.execute(select(DeadLetter.__table__)).all()
    assert letter.reason.startswith("since ") and "in the future" in letter.reason


def test_the_state_restored_from_the_database_holds_each_cameras_newest_health(ingest, engine):
    t = factories.now() - timedelta(minutes=10)
    factories.send(ingest, factories.status("CAM0001", "offline", at=t),
                   factories.status("CAM0002", "degraded", at=t + timedelta(minutes=1)))
    factories.send(ingest, factories.status("CAM0001", "online", at=t + timedelta(minutes=2), detail=None))
    before = ingest._snapshots.load()["cameras"]
    ingest._snapshots.replace(empty_snapshot())  # the live state lost (Redis restarted empty)
    ingest.restore()
    assert ingest._snapshots.load()["cameras"] == before
    assert {c: h["state"] for c, h in before.items()} == {"CAM0001": "online", "CAM0002": "degraded"}


def test_a_replay_shows_each_cameras_health_as_it_was(ingest, engine):
    t0 = factories.now() - timedelta(hours=1)
    factories.send(ingest, factories.status("CAM0001", "offline", at=t0 + timedelta(minutes=10)))
    factories.send(ingest, factories.status("CAM0001", "online", at=t0 + timedelta(minutes=40), detail=None))
    taxonomy, calendar = load_taxonomy(), WorkingCalendar()
    with engine.connect() as conn:
        at_20 = state_at(conn, t0 + timedelta(minutes=20), None, taxonomy, calendar)
        at_5 = state_at(conn, t0 + timedelta(minutes=5), None, taxonomy, calendar)
        period, frames, after, done = Period(t0, t0 + timedelta(hours=1)), [], 0, False
        while not done:
            chunk = replay_chunk(conn, period, after, taxonomy, calendar)
            frames, after, done = frames + chunk.frames, chunk.next_after_seq, chunk.done
    assert at_20["cameras"]["CAM0001"]["state"] == "offline" and at_5["cameras"] == {}
    assert [f["cameras"]["CAM0001"]["state"] for f in frames if f["cameras"]] == ["offline", "online"]
    for frame in frames:
        check(ScreenEvent.DELTA, frame)
