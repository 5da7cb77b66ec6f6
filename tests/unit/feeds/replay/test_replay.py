"""Replay, pure: cases rebuilt from their audit trail, frames built from hand-made rows, periods checked."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feeds.calendar import WorkingCalendar
from feeds.clock import ms
from feeds.replay.frames import (
    FRAME_MS,
    Period,
    PeriodError,
    case_steps,
    frames_between,
    on_duty,
    played,
    snapshot_at,
)
from feeds.taxonomy import load

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing: working hours
TAXONOMY, CALENDAR = load(), WorkingCalendar()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fix(unit: str, seconds: float, lat: float = 30.69) -> dict:
    return {"unit_id": unit, "lat": lat, "lon": 111.28, "fix_at": at(seconds), "sent_at": at(seconds),
            "accuracy_m": 5.0}


def incident(rid: str, seconds: float, text: str = "暴露垃圾") -> dict:
    return {"id": rid, "category": "env.garbage", "description": text, "lat": 30.69, "lon": 111.28,
            "grid_code": "G1", "channel": "patrol", "urgent": False, "sent_at": at(seconds)}


def alert(aid: str, seconds: float) -> dict:
    return {"id": aid, "camera_id": "CAM1", "alert_class": "garbage_overflow", "confidence": 0.8, "lat": 30.69,
            "lon": 111.28, "started_at": at(seconds - 1), "sent_at": at(seconds)}


def case_row(cid: str, seconds: float, **now: object) -> dict:
    """A case row as it is now (the replay must not take its mutable fields for the past)."""
    return {"id": cid, "category": "env.garbage", "urgent": False, "state": "closed", "version": 7, "level": "grid",
            "department": "sanitation", "assignee": "W07", "lat": 30.69, "lon": 111.28, "grid_code": "G1",
            "step_started_at": at(900), "extended_hours": 0.0, "description": "暴露垃圾", "channel": "patrol",
            "reported_at": at(seconds), "reworks": 0, "drill_id": None, **now}


def step(action: str, seconds: float, **after: object) -> dict:
    return {"action": action, "at": at(seconds), "after": after}


LOOP = [
    step("report", 10, state="reported", version=1),
    step("merge", 20, report="r-dup"),
    step("verify", 30, state="verified", version=2, step_started_at=at(30).isoformat()),
    step("register", 40, state="registered", version=3, step_started_at=at(40).isoformat()),
    step("dispatch", 50, state="dispatched", version=4, department="sanitation", assignee="W07",
         step_started_at=at(50).isoformat()),
    step("handle", 60, state="handled", version=5, step_started_at=at(60).isoformat()),
    step("check_pass", 70, state="checked", version=6, step_started_at=at(70).isoformat()),
    step("close", 80, state="closed", version=7, step_started_at=at(80).isoformat()),
]


def test_a_case_is_rebuilt_step_by_step_from_its_audit_trail_not_from_its_row():
    steps = case_steps(case_row("c1", 10), LOOP, TAXONOMY, CALENDAR)
    assert [s.at for s in steps] == [ms(at(t)) for t in (10, 30, 40, 50, 60, 70, 80)]  # the merge makes no step
    first = steps[0].view
    assert (first["state"], first["version"], first["department"], first["assignee"]) == ("reported", 1, None, None)
    assert first["step_started"] == ms(at(10)) and first["amber"] < first["deadline"]
    dispatched = steps[3].view
    assert (dispatched["state"], dispatched["version"], dispatched["department"]) == ("dispatched", 4, "sanitation")
    assert dispatched["step_started"] == ms(at(50)) and dispatched["deadline"] > first["deadline"]
    assert steps[-1].view is None  # closed: it leaves the screen


def test_an_unknown_category_has_no_clock_and_a_step_never_goes_back_in_time():
    trail = [step("report", 10, state="reported", version=1), step("escalate", 5, level="community", version=2)]
    steps = case_steps(case_row("c1", 10, category="gone.category"), trail, TAXONOMY, CALENDAR)
    assert [s.at for s in steps] == [ms(at(10)), ms(at(10))]
    assert steps[1].view["level"] == "community" and steps[1].view["deadline"] is None


def test_the_snapshot_holds_units_on_duty_the_newest_items_and_the_cases_open_then():
    steps = case_steps(case_row("c1", 10), LOOP, TAXONOMY, CALENDAR)
    snap = snapshot_at(at(55), [fix("P1", -400), fix("P2", 0, 30.60), fix("P2", 50, 30.61), fix("P3", 60)],
                       [incident("i2", 40), incident("i1", 10)], [alert("a1", 20)], steps, recent=1)
    assert set(snap["patrols"]) == {"P2"} and snap["patrols"]["P2"]["lat"] == 30.61  # P1 off duty, P3 later
    assert [i["id"] for i in snap["incidents"]] == ["i2"] and snap["alerts"][0]["class"] == "garbage_overflow"
    assert snap["cases"]["c1"]["state"] == "dispatched" and snap["seq"] == 0 and snap["at"] == ms(at(55))
    assert "c1" not in snapshot_at(at(81), [], [], [], steps)["cases"]  # closed by then
    assert "c1" not in snapshot_at(at(10), [], [], [], steps)["cases"]  # not reported yet (the period is [from, to))


def test_frames_hold_a_second_each_the_latest_fix_per_unit_and_items_newest_first():
    period = Period(at(0), at(60))
    steps = case_steps(case_row("c1", 10), LOOP, TAXONOMY, CALENDAR)
    chunk = frames_between(period, 0, period.end_ms,
                           [fix("P1", 10.2, 30.60), fix("P1", 10.7, 30.61), fix("P2", 12)],
                           [incident("i1", 10.1), incident("i2", 10.5)], [alert("a1", 30)], steps, [at(12.5)])
    assert [f["seq"] for f in chunk.frames] == [11, 13, 31, 41, 51]  # seconds with events only
    first = chunk.frames[0]
    assert first["patrols"]["P1"]["lat"] == 30.61 and first["counts"]["fixes"] == 2
    assert [i["id"] for i in first["incidents"]] == ["i2", "i1"] and first["cases"]["c1"]["state"] == "reported"
    assert first["at"] == ms(at(10.7))  # the replayed time of its last event
    assert chunk.frames[1]["counts"]["rejected"] == 1
    assert chunk.done and chunk.next_after_seq == period.last_seq == 60
    assert all(a["at"] < b["at"] for a, b in zip(chunk.frames, chunk.frames[1:], strict=False))


def test_frames_come_in_bounded_chunks_that_join_up():
    period = Period(at(0), at(100))
    fixes = [fix(f"P{n % 7}", n * 0.5) for n in range(200)]
    whole = frames_between(period, 0, period.end_ms, fixes, [], [], [])
    parts, after = [], 0
    while True:
        window_end = period.frame_start(after + 30)
        chunk = frames_between(period, after, window_end,
                               [f for f in fixes if period.frame_start(after) <= ms(f["fix_at"]) < window_end],
                               [], [], [], limit=30, max_items=25)
        assert len(chunk.frames) <= 30 and sum(len(f["patrols"]) for f in chunk.frames) <= 25
        parts += chunk.frames
        assert chunk.next_after_seq > after
        after = chunk.next_after_seq
        if chunk.done:
            break
    assert parts == whole.frames


def test_a_later_snapshot_equals_an_earlier_one_with_the_frames_between():
    steps = case_steps(case_row("c1", 10), LOOP, TAXONOMY, CALENDAR)
    fixes = [fix(f"P{n % 5}", n * 1.3, 30.6 + n / 1e4) for n in range(60)]
    incidents = [incident(f"i{n:02}", n * 7.1) for n in range(10)]
    alerts = [alert(f"a{n:02}", n * 11.3) for n in range(6)]
    for a_s, b_s in [(0, 75), (25, 55), (51, 78)]:
        a, b = at(a_s), at(b_s)

        def rows(items, key, end):
            return sorted((r for r in items if r[key] < end), key=lambda r: (r[key], r["id"]), reverse=True)

        start = snapshot_at(a, fixes, rows(incidents, "sent_at", a), rows(alerts, "sent_at", a), steps, recent=4)
        period = Period(a, b)
        chunk = frames_between(period, 0, period.end_ms, fixes, incidents, alerts, steps)
        direct = snapshot_at(b, fixes, rows(incidents, "sent_at", b), rows(alerts, "sent_at", b), steps, recent=4)
        replayed = played(start, chunk.frames, recent=4)
        assert on_duty(replayed, b) == direct["patrols"]
        assert (replayed["incidents"], replayed["alerts"], replayed["cases"]) == (
            direct["incidents"], direct["alerts"], direct["cases"])


@pytest.mark.parametrize(("start", "end", "why"), [
    (at(10), at(10), "must be after"),
    (at(10), at(0), "must be after"),
    (at(0), at(0) + timedelta(days=7, seconds=1), "at most 7 days"),
    (datetime(2026, 11, 23), at(10), "need a zone"),
])
def test_a_period_that_cannot_be_replayed_says_why(start, end, why):
    with pytest.raises(PeriodError, match=why):
        Period(start, end)


def test_frame_numbers_follow_the_replayed_time():
    period = Period(at(0), at(10.5))
    assert period.last_seq == 11 and period.seq_of(ms(at(0))) == 1 and period.seq_of(ms(at(9.99))) == 10
    assert period.frame_start(3) == ms(at(0)) + 3 * FRAME_MS and period.frame_start(99) == period.end_ms
