import random
from datetime import timedelta

import pytest

from feeds.ingest.state import apply_delta, batch_delta, empty_snapshot
from tests import factories


def test_a_delta_holds_the_latest_fix_per_unit_only():
    t0 = factories.now()
    early, late = factories.position("P1", lat=30.60, at=t0), factories.position("P1", lat=30.61,
                                                                                 at=t0 + timedelta(seconds=2))
    delta = batch_delta(1, t0, [late, early], rejected=0)
    assert list(delta["patrols"]) == ["P1"]
    assert delta["patrols"]["P1"]["lat"] == 30.61
    assert delta["counts"]["fixes"] == 2


def test_a_fix_older_than_the_one_on_screen_does_not_move_the_unit_back():
    t0 = factories.now()
    stale = factories.position("P1", at=t0 - timedelta(seconds=30))
    delta = batch_delta(5, t0, [stale], rejected=0, known_fix={"P1": int(t0.timestamp() * 1000)})
    assert delta["patrols"] == {}
    assert delta["counts"]["fixes"] == 1


def test_new_incidents_and_alerts_come_newest_first():
    first, second = factories.incident("一"), factories.incident("二")
    delta = batch_delta(1, factories.now(), [first, factories.alert(), second], rejected=2)
    assert [i["text"] for i in delta["incidents"]] == ["二", "一"]
    assert delta["counts"] == {"fixes": 0, "incidents": 2, "alerts": 1, "rejected": 2}


def test_a_delta_out_of_sequence_is_refused():
    snap = empty_snapshot()
    with pytest.raises(ValueError, match="delta 2 does not follow snapshot 0"):
        apply_delta(snap, batch_delta(2, factories.now(), [], rejected=0), recent=10)


def test_recent_lists_are_capped():
    snap = empty_snapshot()
    for seq in range(1, 8):
        snap = apply_delta(snap, batch_delta(seq, factories.now(), [factories.incident(str(seq))], 0), recent=5)
    assert [i["text"] for i in snap["incidents"]] == ["7", "6", "5", "4", "3"]
    assert snap["counts"]["incidents"] == 7


def test_a_late_screen_catches_up_to_the_same_state():
    """Snapshot at N + deltas N+1..M == the snapshot at M, for a random stream."""
    rng = random.Random(11)
    t = factories.now()
    deltas, snapshots = [], [empty_snapshot()]
    for seq in range(1, 60):
        t += timedelta(milliseconds=rng.randint(10, 500))
        batch = []
        for _ in range(rng.randint(0, 6)):
            choice = rng.random()
            if choice < 0.7:
                batch.append(factories.position(f"P{rng.randint(1, 9)}", lat=30.6 + rng.random() / 100, at=t))
            elif choice < 0.9:
                batch.append(factories.incident(at=t))
            else:
                batch.append(factories.alert(at=t))
        known = {u: p["fix"] for u, p in snapshots[-1]["patrols"].items()}
        delta = batch_delta(seq, t, batch, rng.randint(0, 1), known)
        deltas.append(delta)
        snapshots.append(apply_delta(snapshots[-1], delta, recent=8))
    for n in (0, 1, 17, 42):
        caught_up = snapshots[n]
        for delta in deltas[n:]:
            caught_up = apply_delta(caught_up, delta, recent=8)
        assert caught_up == snapshots[-1]
