"""The leader's recent figures: answered from memory while fresh and while no case changed, computed again
otherwise, and the other periods computed ahead in one background thread at a time."""
from __future__ import annotations

import threading

from dashboard.background import Recent


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_value_is_kept_while_fresh_and_while_its_mark_is_the_same():
    clock = Clock()
    recent: Recent[str] = Recent(fresh_s=30.0, clock=clock)
    recent.put(("D", "month"), (7, 100), "figures of the month")
    clock.t += 29
    assert recent.get(("D", "month"), (7, 100)) == "figures of the month"
    assert recent.get(("D", "month"), (8, 100)) is None  # a case changed since
    assert recent.get(("D", "week"), (7, 100)) is None  # never computed
    clock.t += 2
    assert recent.get(("D", "month"), (7, 100)) is None  # older than 30 s


def test_the_latest_value_is_given_whatever_its_mark_while_within_the_time_asked():
    clock = Clock()
    recent: Recent[str] = Recent(fresh_s=30.0, clock=clock)
    recent.put("D", (7, 100), "made at 100")
    clock.t += 45
    assert recent.get("D", (7, 100)) is None and recent.latest("D", 60) == ((7, 100), "made at 100")
    clock.t += 16
    assert recent.latest("D", 60) is None and recent.latest("W", 60) is None


def test_the_oldest_value_makes_room():
    clock = Clock()
    recent: Recent[int] = Recent(clock=clock, size=2)
    for n in range(3):
        clock.t += 1
        recent.put(n, "m", n)
    assert [recent.get(n, "m") for n in range(3)] == [None, 1, 2]


def test_work_ahead_runs_one_at_a_time_in_the_order_asked_and_a_failure_only_logs(caplog):
    """The page made again behind a stale one, then the other periods a leader switches to: queued, not
    dropped (a dropped piece was counted while the leader waited); the same key waiting is asked once."""
    recent: Recent[int] = Recent()
    started, release, done = threading.Event(), threading.Event(), threading.Event()
    order: list[str] = []

    def slow() -> None:
        started.set()
        release.wait(10)
        order.append("again")
        recent.put("month", "m", 1)

    assert recent.ahead(slow, "again") is True
    assert started.wait(10)
    assert recent.ahead(lambda: order.append("others"), "others") is True  # waits for the one running
    assert recent.ahead(lambda: order.append("others twice"), "others") is False  # already waiting
    assert recent.ahead(lambda: 1 / 0) is True  # a failure only logs, and the work after it runs
    assert recent.ahead(done.set) is True
    release.set()
    assert done.wait(10)
    assert order == ["again", "others"] and recent.get("month", "m") == 1
    assert "computing the leader's figures ahead failed" in caplog.text
