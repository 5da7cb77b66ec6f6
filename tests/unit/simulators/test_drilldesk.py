"""The drill desk's state machine and the drill clock, on an injected clock."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from feeds.calendar import WorkingCalendar
from feeds.drills.control import DrillClock, DrillControl, DrillState, DrillStatus, InjectedEvent
from feeds.schemas import IncidentReport
from feeds.taxonomy import load as load_taxonomy
from simulators.drilldesk import DrillDesk
from simulators.geography import build_district
from simulators.scenarios import load

T0 = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)  # Monday 15:00 in Beijing


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def district():
    return build_district(5, 12)


@pytest.fixture
def desk(district):
    taxonomy = load_taxonomy()
    return DrillDesk(district, {"market-fire": load("market-fire", taxonomy)}, seed=5, taxonomy=taxonomy,
                     calendar=WorkingCalendar(), problems_per_day=0, make_id=lambda sc, now: f"{sc.id}-1")


def control(action: str, **fields) -> DrillControl:
    return DrillControl(action=action, by="trainer", **fields)


def test_the_drill_clock_runs_at_its_speed_stands_still_when_paused_and_maps_back():
    clock = DrillClock.starting(T0, 10.0)
    assert clock.simulated(s(6)) == s(60)
    paused = clock.changed(s(6), 0.0)
    assert paused.simulated(s(100)) == s(60)
    resumed = paused.changed(s(100), 2.0)
    assert resumed.simulated(s(110)) == s(80)
    assert resumed.wall(s(80)) == s(110) and resumed.wall(s(30)) == s(3)
    assert DrillClock.from_json(resumed.to_json()) == resumed


def test_start_pause_resume_speed_stop(desk):
    assert desk.obey(control("pause"), s(0)) == "no drill is running"
    assert desk.obey(control("start", scenario="market-fire", speed=10), s(0)) is None
    status = desk.status
    assert (status.id, status.state, status.speed, status.started_by) == ("market-fire-1", DrillState.RUNNING, 10,
                                                                          "trainer")
    desk.tick(s(36))  # 6 drill minutes of 120
    assert desk.status.elapsed_ms == 360_000 and desk.status.progress == pytest.approx(0.05)
    assert desk.obey(control("start", scenario="market-fire"),
                     s(37)) == "drill market-fire-1 is still running: stop it first"
    assert desk.obey(control("pause"), s(36)) is None and desk.status.state is DrillState.PAUSED
    assert desk.tick(s(500)) == [] and desk.status.elapsed_ms == 360_000  # the clock stood still
    assert desk.obey(control("pause"), s(501)) == "the drill is not running"
    assert desk.obey(control("resume"), s(500)) is None
    assert desk.obey(control("speed", speed=60), s(500)) is None
    desk.tick(s(501))
    assert desk.status.elapsed_ms == 420_000 and desk.status.speed == 60
    assert desk.obey(control("stop"), s(502)) is None
    ended = desk.status
    assert (ended.state, ended.ended_by, ended.ended_at) == (DrillState.ENDED, "trainer",
                                                             int(s(502).timestamp() * 1000))
    assert desk.tick(s(600)) == []
    assert DrillStatus.from_dict(ended.to_dict()) == ended


def test_the_drill_ends_by_itself_with_its_scenario(desk):
    desk.obey(control("start", scenario="market-fire", speed=60), s(0))
    desk.tick(s(60))
    assert desk.status.state is DrillState.RUNNING
    desk.tick(s(121))  # 121 drill minutes: past its 120
    assert desk.status.state is DrillState.ENDED and desk.status.ended_by == "system" and desk.status.progress == 1.0


def test_every_message_is_tagged_stamped_in_wall_time_and_an_injected_event_comes_out(desk):
    desk.obey(control("start", scenario="market-fire", speed=30, staff=False), s(0))
    event = InjectedEvent(category="facility.power", where="centre", report="hotline", count=2, text="{place}电线垂落")
    assert desk.obey(control("inject", event=event), s(2)) is None and desk.status.injected == 1
    messages = desk.tick(s(12))  # 6 drill minutes
    assert messages and {m.drill_id for m in messages} == {"market-fire-1"}
    assert all(m.ts <= s(12) for m in messages)
    power = [m for m in messages if isinstance(m, IncidentReport) and m.category == "facility.power"]
    assert len(power) == 2 and all(m.channel == "hotline" for m in power)


def test_a_control_for_another_drill_or_an_unknown_scenario_is_refused(desk):
    assert desk.obey(control("start", scenario="nowhere"), s(0)) == "no scenario 'nowhere'"
    desk.obey(control("start", scenario="market-fire"), s(0))
    assert "is not the one running" in desk.obey(control("stop", drill_id="other"), s(1))
    bad = InjectedEvent(category="no.such")
    assert desk.obey(control("inject", event=bad), s(1)) == "an event with a known category is needed"


def _desk(district) -> DrillDesk:
    taxonomy = load_taxonomy()
    return DrillDesk(district, {"market-fire": load("market-fire", taxonomy)}, seed=5, taxonomy=taxonomy,
                     calendar=WorkingCalendar(), problems_per_day=0, make_id=lambda sc, now: f"{sc.id}-1")


def _reported(messages) -> list[tuple]:  # what, where and by whom (the spot in the grid is drawn at random)
    return sorted((m.category, m.grid_code, m.channel) for m in messages
                  if isinstance(m, IncidentReport) and m.channel in ("hotline", "citizen"))


def test_a_drill_is_carried_on_by_another_desk_where_the_first_left_it(district):
    first, second = _desk(district), _desk(district)
    first.obey(control("start", scenario="market-fire", speed=60, staff=False), s(0))
    event = InjectedEvent(category="facility.power", where="centre", report="hotline", count=2, text="{place}电线垂落")
    first.obey(control("inject", event=event), s(70))  # at drill minute 70, said at 72
    said = [m for t in (20, 40, 60) for m in first.tick(s(t))]  # drill minutes 0–60
    kept = DrillStatus.from_dict(json.loads(json.dumps(first.status.to_dict())))  # as Redis keeps it
    assert kept == first.status and kept.injections[0][1]["text"] == "{place}电线垂落"

    assert second.carry_on(kept, s(63)) is None  # the first desk stopped; the second took the lease
    carried = second.status
    assert (carried.id, carried.state, carried.clock, carried.carried) == (kept.id, DrillState.RUNNING, kept.clock, 1)
    assert carried.note == "carried on by another drill desk at drill minute 60"
    after = second.tick(s(100))  # drill minutes 60–100
    alone = first.tick(s(100))  # the same minutes, had the first desk gone on
    assert not {m.id for m in after} & {m.id for m in said}  # no id the first desk gave is given again
    assert {m.drill_id for m in after} == {kept.id}
    assert _reported(after) == _reported(alone) != []  # the scenario's reports of those minutes, the injected too
    assert any(r[0] == "facility.power" for r in _reported(after))
    assert min(m.ts for m in after) > s(60)  # nothing of the minutes the first desk said is said again


def test_a_paused_drill_is_carried_on_paused_and_one_of_a_scenario_not_offered_is_not(district):
    first, second = _desk(district), _desk(district)
    first.obey(control("start", scenario="market-fire", speed=10), s(0))
    first.tick(s(30))
    first.obey(control("pause"), s(30))
    assert second.carry_on(first.status, s(40)) is None
    assert second.status.state is DrillState.PAUSED and second.tick(s(50)) == []
    assert second.obey(control("resume"), s(50)) is None
    assert second.status.elapsed_ms == 300_000  # 5 drill minutes: the pause stood still
    assert second.tick(s(56)) and second.status.elapsed_ms == 360_000
    other = DrillStatus.from_dict({**first.status.to_dict(), "scenario": "typhoon-night"})
    assert second.carry_on(other, s(60)) == "this drill desk does not offer scenario 'typhoon-night'"


@pytest.mark.parametrize("start", [datetime(2026, 12, 6, 5, 0, tzinfo=UTC),  # Sunday 13:00 in Beijing
                                   datetime(2026, 11, 2, 4, 30, tzinfo=UTC),  # Monday 12:30, the lunch break
                                   datetime(2026, 11, 2, 15, 0, tzinfo=UTC)])  # Monday 23:00
def test_a_drill_turns_every_grid_worker_out_at_any_hour(desk, district, start):
    """A drill is run when the trainers choose, not on the grid workers' shifts: its patrols walk and report."""
    assert desk.obey(control("start", scenario="market-fire", speed=60), start) is None
    desk.tick(start + timedelta(seconds=1))
    later = desk.tick(start + timedelta(seconds=11))  # ten drill minutes on
    fixes = [m for m in later if m.kind == "patrol_position"]
    assert len({f.unit_id for f in fixes}) >= 0.9 * len(district.grid_areas())  # a few phones may be offline
    assert all(f.drill_id == "market-fire-1" for f in fixes)
