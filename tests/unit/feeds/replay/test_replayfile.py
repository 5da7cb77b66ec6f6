"""Replay from the database, on SQLite and PostgreSQL: a seeded stream goes through the real ingest on an
injected clock; the state rebuilt from the rows at any time equals what the live screens were shown then,
and the snapshot at A with the frames A→B equals the snapshot at B. Drill rows never enter a live replay."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from feeds.bus.push import RecordingPusher
from feeds.bus.screens import ScreenEvent, check, check_snapshot
from feeds.bus.snapshots import MemorySnapshotStore
from feeds.calendar import WorkingCalendar
from feeds.ingest.pipeline import Ingest
from feeds.replay.frames import Period, on_duty, played
from feeds.replay.reads import replay_chunk, replay_start, state_at
from feeds.store.models import PatrolFix
from feeds.taxonomy import load
from tests import factories

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Beijing
TAXONOMY, CALENDAR = load(), WorkingCalendar()
NEXT = {"reported": [("verify", {}), ("reject", {"reject_reason": "untrue"})], "verified": [("register", {})],
        "registered": [("dispatch", {"department": "sanitation", "assignee": "W07"})],
        "dispatched": [("handle", {}), ("extend", {"hours": 2.0})], "handled": [("check_pass", {})],
        "checked": [("close", {})]}
RECENT = 30


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def history(engine):
    """20 minutes of a small district through the ingest, one batch every few seconds: fixes, reports,
    alerts and commands on the cases, live and in a drill. Returns the live snapshot after each batch."""
    rng = random.Random(7)
    clock = Clock()
    store = MemorySnapshotStore(recent=RECENT)
    ingest = Ingest(engine, store, RecordingPusher(), clock=clock)
    factories.started_drill(engine, "D1")
    open_cases: dict[str, tuple[str, int, str | None]] = {}  # id -> (state, version, drill)
    shown: list[tuple[datetime, dict]] = []
    n = 0
    while clock.now < T0 + timedelta(minutes=20):
        batch = []
        for _ in range(rng.randint(1, 6)):
            n += 1
            t = clock.now + timedelta(milliseconds=n % 997)  # distinct stamps, within the batch's second
            drill = "D1" if rng.random() < 0.2 else None
            roll = rng.random()
            if roll < 0.55:
                batch.append(factories.position(f"P{rng.randint(1, 8)}", lat=30.69 + rng.random() / 100, at=t,
                                                drill_id=drill))
            elif roll < 0.7:
                batch.append(factories.incident(f"报告{n}", at=t, lat=30.6 + rng.random() / 10, drill_id=drill,
                                                category=rng.choice(["env.garbage", "facility.streetlight"])))
            elif roll < 0.78:
                batch.append(factories.alert(at=t, lat=30.6 + rng.random() / 10, drill_id=drill))
            elif open_cases:
                cid = rng.choice(sorted(open_cases))
                state, version, _ = open_cases[cid]
                action, extra = rng.choice(NEXT[state])
                batch.append(factories.command(cid, action, version, at=t, **extra))
        batch.sort(key=lambda m: m.ts)
        clock.now = max(m.ts for m in batch) + timedelta(milliseconds=5)
        delta = factories.send(ingest, *batch)
        for drill_delta in [delta, *ingest.drill_deltas.values()]:
            for cid, view in (drill_delta or {}).get("cases", {}).items():
                if view is None:
                    open_cases.pop(cid, None)
                else:
                    open_cases[cid] = (view["state"], view["version"], view["drill"])
        shown.append((clock.now + timedelta(milliseconds=1), store.load()))
        clock.now += timedelta(seconds=rng.choice([1, 2, 3, 7]))
    return shown


def _same_as_shown(rebuilt, live, at):
    assert on_duty(rebuilt, at) == on_duty(live, at)
    assert rebuilt["incidents"] == live["incidents"] and rebuilt["alerts"] == live["alerts"]
    assert rebuilt["cases"] == live["cases"]


def test_the_state_rebuilt_from_the_rows_is_what_the_live_screens_showed(history, engine):
    assert sum(len(s["cases"]) for _, s in history) > 50  # the stream did open and move cases
    with engine.connect() as conn:
        for at, live in history[::25] + history[-1:]:
            _same_as_shown(state_at(conn, at, None, TAXONOMY, CALENDAR), live, at)


def test_a_snapshot_and_the_frames_after_it_equal_the_later_snapshot(history, engine):
    with engine.connect() as conn:
        for a, b in [(T0, T0 + timedelta(minutes=20)), (T0 + timedelta(seconds=317), T0 + timedelta(seconds=905))]:
            period = Period(a, b)
            snap, after, chunks = replay_start(conn, period, TAXONOMY, CALENDAR), 0, 0
            while True:
                chunk = replay_chunk(conn, period, after, TAXONOMY, CALENDAR, limit=40, max_items=60)
                snap = played(snap, chunk.frames)
                after, chunks = chunk.next_after_seq, chunks + 1
                if chunk.done:
                    break
            assert chunks > 5
            direct = state_at(conn, b, None, TAXONOMY, CALENDAR)
            check_snapshot(direct)  # a replay speaks the live screens' vocabulary
            for frame in chunk.frames:
                check(ScreenEvent.DELTA, frame)
            assert on_duty(snap, b) == direct["patrols"]
            assert (snap["incidents"], snap["alerts"], snap["cases"]) == (
                direct["incidents"], direct["alerts"], direct["cases"])
        # and what the screens showed at the end is what the replay ends with
        at, live = history[-1]
        _same_as_shown(played(replay_start(conn, Period(T0, at), TAXONOMY, CALENDAR),
                              replay_chunk(conn, Period(T0, at), 0, TAXONOMY, CALENDAR, limit=5000,
                                           max_items=10**6).frames), live, at)


def test_a_drill_replays_its_own_rows_only(history, engine):
    period = Period(T0, T0 + timedelta(minutes=21), "D1")
    with engine.connect() as conn:
        chunk = replay_chunk(conn, period, 0, TAXONOMY, CALENDAR, limit=5000, max_items=10**6)
        live = replay_chunk(conn, Period(T0, period.end), 0, TAXONOMY, CALENDAR, limit=5000, max_items=10**6)
    drill_cases = {cid for f in chunk.frames for cid in f["cases"]}
    live_cases = {cid for f in live.frames for cid in f["cases"]}
    assert drill_cases and live_cases and not drill_cases & live_cases
    assert all(v is None or v["drill"] == "D1" for f in chunk.frames for v in f["cases"].values())
    drill_items = {i["id"] for f in chunk.frames for i in f["incidents"] + f["alerts"]}
    assert drill_items and not drill_items & {i["id"] for f in live.frames for i in f["incidents"] + f["alerts"]}
    with engine.connect() as conn:
        stored = dict(conn.execute(select(PatrolFix.drill_id, func.count()).group_by(PatrolFix.drill_id)).all())
    assert sum(f["counts"]["fixes"] for f in chunk.frames) == stored["D1"]
    assert sum(f["counts"]["fixes"] for f in live.frames) == stored[None]
