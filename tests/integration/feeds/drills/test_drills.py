"""Drills against a real Redis server and database: a drill started from the console's controls runs through
the real ingest and stays apart from the live state and figures, and stopping it leaves the live data as it
was; and a tiny drill with known answers scored from what the database holds."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from feeds.bus.channels import RedisBus, publish_messages
from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import MemorySnapshotStore, RedisSnapshotStore
from feeds.calendar import WorkingCalendar
from feeds.clock import ms
from feeds.drills.control import (
    DrillClock,
    DrillControl,
    DrillDeskClient,
    DrillState,
    DrillStatus,
    drill_record,
    record_start,
)
from feeds.drills.reads import load_score
from feeds.ingest.pipeline import Ingest
from feeds.kpis.figures import Rate
from feeds.schemas import FEED_CHANNELS
from feeds.store.models import CaseRow, PatrolFix
from feeds.taxonomy import load as load_taxonomy
from simulators.drilldesk import DrillDesk, StatusBoard, serve
from simulators.geography import build_district
from simulators.scenarios import load
from tests import factories
from tests.factories import send
from tests.waiting import wait_until

CASES = CaseRow.__table__


@pytest.fixture
def ingest_loop(engine, redis_client):
    store = RedisSnapshotStore(redis_client, recent=10)
    ingest = Ingest(engine, store, RecordingPusher(), window_s=0.01)
    subscription = RedisBus(redis_client).subscribe(FEED_CHANNELS)
    stop = threading.Event()
    loop = threading.Thread(target=ingest.run, args=(subscription, stop), daemon=True)
    loop.start()
    store.ingest = ingest  # type: ignore[attr-defined]
    yield store
    stop.set()
    loop.join(5)
    subscription.close()


def run_desk(engine, redis_client, pusher) -> tuple[threading.Thread, threading.Event]:
    """A drill desk's loop on a thread, as `python -m simulators.drilldesk` runs it once it holds the lease."""
    taxonomy = load_taxonomy()
    desk = DrillDesk(build_district(5, 12), {"market-fire": load("market-fire", taxonomy)}, seed=5, taxonomy=taxonomy,
                     calendar=WorkingCalendar(), problems_per_day=0)
    stop = threading.Event()
    loop = threading.Thread(target=serve, args=(desk, redis_client, RedisBus(redis_client),
                                                RedisSnapshotStore(redis_client),
                                                engine, StatusBoard(redis_client, pusher), stop),
                            kwargs={"interval_s": 0.05}, daemon=True)
    loop.start()
    return loop, stop


@pytest.fixture
def desk_loop(engine, redis_client):
    pusher = RecordingPusher()
    loop, stop = run_desk(engine, redis_client, pusher)
    yield DrillDeskClient(redis_client), pusher
    stop.set()
    loop.join(5)


def _live_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(CASES).where(CASES.c.drill_id.is_(None)).order_by(CASES.c.id))]


def test_a_drill_runs_through_the_ingest_apart_from_live_and_stopping_it_leaves_live_data_untouched(
        engine, redis_client, ingest_loop, desk_loop):
    client, pusher = desk_loop
    live_report = factories.incident("实时:井盖缺失")
    publish_messages(RedisBus(redis_client), [live_report])
    wait_until(lambda: live_report.id in ingest_loop.load()["cases"], 10, "the live case")
    live_before, rows_before = ingest_loop.load(), _live_rows(engine)

    client.send(DrillControl(action="start", by="trainer", scenario="market-fire", speed=60))
    status = wait_until(client.status, 10, "the drill to start")
    drill = status.id
    wait_until(lambda: ingest_loop.for_drill(drill).load()["cases"], 30, "the drill's first cases through the ingest")
    with engine.connect() as conn:
        assert drill_record(conn, drill).started_by == "trainer"
    assert ingest_loop.load() == live_before  # the live snapshot never saw the drill
    client.send(DrillControl(action="stop", by="trainer", drill_id=drill))
    wait_until(lambda: client.status().state is DrillState.ENDED, 10, "the drill to end")
    with engine.connect() as conn:
        record = drill_record(conn, drill)
        drill_cases = conn.execute(select(CASES.c.id).where(CASES.c.drill_id == drill)).all()
    assert record.ended_by == "trainer" and record.ended_at is not None
    assert drill_cases and live_report.id not in {c.id for c in drill_cases}
    assert ingest_loop.load() == live_before and _live_rows(engine) == rows_before  # live data untouched
    assert {room for _, room in zip(pusher.pushed, pusher.rooms, strict=True)} == {f"drill:{drill}"}


def _drill_messages(engine, drill: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(PatrolFix).where(PatrolFix.drill_id == drill)).scalar_one()


def test_a_drill_goes_on_when_its_drill_desk_stops_and_another_takes_over(engine, redis_client, ingest_loop):
    first, stop_first = run_desk(engine, redis_client, RecordingPusher())
    client = DrillDeskClient(redis_client)
    client.send(DrillControl(action="start", by="trainer", scenario="market-fire", speed=60))
    drill = wait_until(client.status, 10, "the drill to start").id
    wait_until(lambda: ingest_loop.for_drill(drill).load()["cases"], 30, "the drill's first cases")
    stop_first.set()  # its machine stopped: the drill left running, nobody ticking it
    first.join(5)
    left = client.status()
    assert left.state is DrillState.RUNNING and left.carried == 0
    fixes = _drill_messages(engine, drill)

    second, stop_second = run_desk(engine, redis_client, RecordingPusher())  # the standby, holding the lease now
    try:
        carried = wait_until(lambda: (st := client.status()).carried == 1 and st, 10, "the drill carried on")
        assert (carried.id, carried.state, carried.started_by) == (drill, DrillState.RUNNING, "trainer")
        assert carried.note.startswith("carried on by another drill desk at drill minute")
        wait_until(lambda: client.status().elapsed_ms > left.elapsed_ms + 60_000, 10, "the drill clock going on")
        wait_until(lambda: _drill_messages(engine, drill) > fixes, 10, "the drill's patrols moving again")
        client.send(DrillControl(action="pause", by="trainer", drill_id=drill))  # the console drives the new desk
        wait_until(lambda: client.status().state is DrillState.PAUSED, 10, "the pause obeyed")
    finally:
        stop_second.set()
        second.join(5)
    with engine.connect() as conn:
        record = drill_record(conn, drill)
    assert record.ended_at is None and record.clock.segments == client.status().clock.segments
    assert ingest_loop.ingest.stats["duplicate"] == 0  # no message of the second desk took an id of the first


T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def m(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(("speed", "minutes", "within"), [
    (1.0, {"dispatch": 3.0, "arrive": 12.0, "close": 60.0}, {"dispatch": Rate(1, 1), "arrive": Rate(1, 1),
                                                             "close": Rate(1, 1)}),
    # at 2× every wall minute is two drill minutes: the same case misses two of its targets
    (2.0, {"dispatch": 6.0, "arrive": 24.0, "close": 120.0}, {"dispatch": Rate(0, 1), "arrive": Rate(0, 1),
                                                              "close": Rate(1, 1)}),
])
def test_a_tiny_drill_scored_from_the_database_gives_the_known_answers(engine, speed, minutes, within):
    drill = f"tiny-{speed:g}"
    clock = {"now": m(0)}
    ingest = Ingest(engine, MemorySnapshotStore(), RecordingPusher(), clock=lambda: clock["now"])
    status = DrillStatus(id=drill, scenario="market-fire", zh="农贸市场火灾", en="Fire", state=DrillState.RUNNING,
                         speed=speed, started_at=ms(m(0)), started_by="trainer", duration_min=120, starts_at="15:00",
                         targets={"dispatch_min": 5, "arrive_min": 15, "close_min": 120},
                         clock=DrillClock.starting(m(0), speed))
    with engine.begin() as conn:
        record_start(conn, status)
    fire = factories.incident("演练:市场起火", at=m(0), category="safety.fire_hazard", urgent=True, drill_id=drill,
                              lat=30.69, lon=111.28)
    live = factories.incident("实时:垃圾", at=m(0))
    send(ingest, fire, live)
    steps = [(1, "verify", {}), (2, "register", {}), (3, "dispatch", {"department": "fire"}), (40, "handle", {}),
             (50, "check_pass", {}), (60, "close", {})]
    timeline = [(at, factories.command(fire.id, action, version, by="DS01", at=m(at), **fields))
                for version, (at, action, fields) in enumerate(steps, start=1)]
    timeline += [(5, factories.position("U9", 30.6910, 111.28, at=m(5), drill_id=drill)),   # 110 m off
                 # a live unit there: not the drill's
                 (8, factories.position("U8", 30.69, 111.28, at=m(8))),
                 (12, factories.position("U9", 30.69035, 111.28, at=m(12), drill_id=drill))]  # 39 m: arrived
    for at, message in sorted(timeline, key=lambda step: step[0]):
        clock["now"] = m(at)
        send(ingest, message)
    with engine.connect() as conn:
        record = drill_record(conn, drill)
        score, descriptions = load_score(conn, record)
    assert [c.case_id for c in score.cases] == [fire.id] and descriptions[fire.id] == "演练:市场起火"
    assert score.cases[0].minutes == pytest.approx(minutes)
    assert score.total.within == within and score.total.overdue == 0
    assert set(score.by_dispatcher) == {"DS01"} and set(score.by_team) == {"fire"}

