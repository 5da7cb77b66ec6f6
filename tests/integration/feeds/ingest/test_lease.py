"""One ingest active, the others standing by, on a real Redis and both databases: the lease and its epochs, the
fence that stops a holder that lost its lease from writing anything, and a take-over that carries the screens
on at the same seq when nothing was lost (and restores, never going back, when something was)."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from feeds.bus.lease import Fenced, Lease, OneActive
from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.ingest.pipeline import ROLE, Ingest
from feeds.store.models import IncidentRow
from feeds.store.writes import fence_batch, fence_state
from tests import factories
from tests.waiting import wait_until


def _lease(client, holder: str, ttl_s: float = 30.0) -> Lease:
    return Lease(client, ROLE, holder, ttl_s)


def _holding(engine, client, holder: str) -> tuple[Lease, Ingest]:
    """An ingest that has just taken the lease (its take-over still to do)."""
    lease = _lease(client, holder)
    assert lease.acquire() is not None
    return lease, Ingest(engine, RedisSnapshotStore(client, lease=lease), RecordingPusher(), lease=lease)


def _reports(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(IncidentRow)).scalar_one()


def _lapse(client) -> None:
    """The holder stopped renewing and its time ran out (as after a kill -9 or a long pause)."""
    client.delete("cc:lease:ingest")


def test_one_holds_the_lease_and_each_taking_has_a_newer_epoch(redis_client):
    a, b = _lease(redis_client, "ingest-a"), _lease(redis_client, "ingest-b")
    assert a.acquire() == 1 and b.acquire() is None and a.acquire() == 1  # taken again by its holder: same
    assert a.renew() and b.holder_now() == "ingest-a"
    _lapse(redis_client)
    assert b.acquire() == 2 and not a.renew() and a.epoch is None
    b.release()
    assert a.acquire(floor=40) == 41  # Redis had lost its count: never below what the store has seen
    assert redis_client.pttl("cc:lease:ingest") > 25_000


def test_a_holder_whose_lease_was_taken_over_writes_nothing(engine, redis_client):
    a, old = _holding(engine, redis_client, "ingest-a")
    old.take_over()
    factories.send(old, factories.incident("接管前"))
    seq = RedisSnapshotStore(redis_client).stored_seq()

    _lapse(redis_client)  # a paused: b takes the lease and fences the database first
    _, new = _holding(engine, redis_client, "ingest-b")
    assert new.take_over() is True and new.seq == seq  # nothing lost: the screens carry on

    a.epoch = 1  # a wakes, still believing it holds epoch 1
    old.receive("cc.incident_report", factories.incident("暂停后醒来").model_dump_json())
    with pytest.raises(Fenced):
        old.flush()
    assert _reports(engine) == 1  # its batch was refused by the database
    with pytest.raises(Fenced):  # and the live state in Redis refuses it too
        old._snapshots.save({**new._snapshots.load(), "seq": seq + 1})  # type: ignore[typeddict-item]
    assert RedisSnapshotStore(redis_client).stored_seq() == seq

    delta = factories.send(new, factories.incident("接管后"))
    assert delta["seq"] == seq + 1 and _reports(engine) == 2
    with engine.connect() as conn:
        assert fence_state(conn, ROLE)[0] == 2


def test_a_renewal_while_the_live_state_is_written_does_not_fence_it_and_a_take_over_does(redis_client):
    """Each renewal touches the lease; the write is fenced on takings only (under load, renewals land inside
    writes: an ingest that took them for a take-over gave up its batch and dropped what it had read)."""
    a, b = _lease(redis_client, "ingest-a"), _lease(redis_client, "ingest-b")
    assert a.acquire() is not None
    store = RedisSnapshotStore(redis_client, lease=a)

    def renewed_meanwhile(p) -> None:
        assert a.renew()  # on another connection, between the WATCH and the EXEC
        p.set("cc:live:probe", "written")
    store._commit(renewed_meanwhile)
    assert redis_client.get("cc:live:probe") == b"written"

    def taken_over_meanwhile(p) -> None:
        _lapse(redis_client)
        assert b.acquire() is not None
        p.set("cc:live:probe", "fenced")
    with pytest.raises(Fenced, match="taken over while ingest-a wrote"):
        store._commit(taken_over_meanwhile)
    assert redis_client.get("cc:live:probe") == b"written"


def test_a_take_over_after_a_commit_the_live_state_missed_restores_it_and_the_seq_moves_on(engine, redis_client):
    _, old = _holding(engine, redis_client, "ingest-a")
    old.take_over()
    factories.send(old, factories.incident("第一件"))
    seq = old.seq
    with engine.begin() as conn:  # a committed a batch, then died before writing it to the live state
        fence_batch(conn, ROLE, 1, seq + 1)
    _lapse(redis_client)
    _, new = _holding(engine, redis_client, "ingest-b")
    assert new.take_over() is False  # behind the database: restored from it
    assert new.seq > seq + 1 and RedisSnapshotStore(redis_client).stored_seq() == new.seq


def test_the_seq_never_goes_back_when_redis_comes_back_empty(engine, redis_client):
    a, first = _holding(engine, redis_client, "ingest-a")
    first.take_over()
    for n in range(5):
        factories.send(first, factories.incident(f"第{n}件", lat=30.60 + n * 0.002))
    seq = first.seq
    redis_client.flushall()  # Redis restarted without its data: the lease, its count and the state gone
    with engine.connect() as conn:
        floor = fence_state(conn, ROLE)[0]
    assert a.acquire(floor) == 2
    again = Ingest(engine, RedisSnapshotStore(redis_client, lease=a), RecordingPusher(), lease=a)
    assert again.take_over() is False and again.seq > seq
    assert len(RedisSnapshotStore(redis_client).load()["cases"]) == 5


def test_a_holder_takes_its_lease_again_when_redis_lost_it_and_nobody_else_took_it(redis_client):
    a, b = _lease(redis_client, "ingest-a"), _lease(redis_client, "ingest-b")
    a.acquire(floor=6)
    redis_client.flushall()  # Redis restarted empty under a live holder
    assert a.renew() and a.holder_now() == "ingest-a" and b.acquire() is None
    assert int(redis_client.get("cc:lease:ingest:epoch")) == 7  # a later taking is newer than a's


def test_one_process_of_a_role_runs_and_a_standby_takes_over_when_it_stops(redis_client):
    """The escalator, the KPI board and the drill desk each run as one active process (feeds.bus.lease.OneActive)."""
    ran: list[str] = []

    def body(name):
        def work(stop):
            ran.append(name)
            stop.wait()
        return work

    first = OneActive(Lease(redis_client, "escalator", "host:1", ttl_s=1.0))
    second = OneActive(Lease(redis_client, "escalator", "host:2", ttl_s=1.0))
    threads = [threading.Thread(target=first.run, args=(body("host:1"),), daemon=True)]
    threads[0].start()
    wait_until(lambda: ran == ["host:1"], 5, "the first active")
    threads.append(threading.Thread(target=second.run, args=(body("host:2"),), daemon=True))
    threads[1].start()
    time.sleep(1.5)  # longer than the lease: the first renews it, the second stands by
    assert ran == ["host:1"]
    first.halt()  # a clean stop gives the lease up at once
    wait_until(lambda: ran == ["host:1", "host:2"], 3, "the standby active")
    second.halt()
    for t in threads:
        t.join(5)
    assert not any(t.is_alive() for t in threads) and redis_client.get("cc:lease:escalator") is None


def test_a_process_told_to_stop_exits_when_its_work_does_not_stop_in_time_and_not_when_it_does(redis_client):
    exits: list[int] = []
    stuck = OneActive(Lease(redis_client, "kpiboard", "host:1", ttl_s=1.0), exit_within_s=0.5, exit=exits.append)
    hang = threading.Event()
    thread = threading.Thread(target=stuck.run, args=(lambda stop: hang.wait(),), daemon=True)  # deaf to stop
    thread.start()
    wait_until(lambda: redis_client.get("cc:lease:kpiboard") is not None, 5, "active")
    stuck.halt()
    wait_until(lambda: exits == [1], 3, "the exit, the work still running")
    hang.set()
    thread.join(5)

    clean = OneActive(Lease(redis_client, "kpiboard", "host:2", ttl_s=1.0), exit_within_s=0.5, exit=exits.append)
    thread = threading.Thread(target=clean.run, args=(lambda stop: stop.wait(),), daemon=True)
    thread.start()
    wait_until(lambda: (redis_client.get("cc:lease:kpiboard") or b"").startswith(b"host:2"), 5, "active")
    clean.halt()
    thread.join(5)
    time.sleep(1.0)
    assert exits == [1]  # it stopped in time: no second exit
