"""Every KPI figure against a hand-computed answer (docs/kpis.md)."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import box

from feeds.calendar import Limit, LimitUnit, WorkingCalendar
from feeds.cases.machine import Step
from feeds.kpis.figures import (
    CaseFacts,
    CaseRecord,
    Cells,
    Grade,
    KpiRules,
    Patroller,
    Period,
    Rate,
    StepRun,
    Territory,
    Track,
    TrailEvent,
    WorkingClock,
    accuracy_by_channel,
    area_case_count_score,
    area_figures,
    area_score,
    average_dispatch_time,
    average_handling_time,
    case_count_score,
    case_facts,
    cell_visits,
    clock_for,
    closure,
    coverage,
    department_figures,
    discovery_accuracy,
    discovery_timeliness,
    figures_by_area,
    grade,
    handling_deadline,
    last_handling,
    on_time_handling,
    open_count,
    overdue_count,
    patroller_figures,
    patroller_score,
    ranking,
    rework_rate,
    verification_timeliness,
)
from feeds.taxonomy import load
from tests.oracles import rank_patrollers

CST = ZoneInfo("Asia/Shanghai")
RULES = KpiRules(load(), WorkingCalendar(), discovery_limits={"order.vendor": timedelta(minutes=30)})
MON = date(2026, 11, 23)  # a Monday
WEEK = Period.dates(MON, MON + timedelta(days=6), CST)


def at(day: int, hh: int, mm: int = 0) -> datetime:
    """Day 0 = Monday 2026-11-23, Beijing time."""
    return datetime.combine(MON + timedelta(days=day), datetime.min.time(), CST).replace(hour=hh, minute=mm)


def test_the_kpi_replay_knows_every_action_of_the_case_loop():
    """A new action added to the machine must be given its meaning for the figures, not skipped unnoticed."""
    from feeds.cases.machine import RULES
    from feeds.kpis.figures import KPI_REPLAY_ACTIONS
    from feeds.schemas import ActionKind

    assert set(ActionKind) <= KPI_REPLAY_ACTIONS and set(RULES) == set(ActionKind)


def test_an_audit_action_unknown_to_the_replay_is_logged_and_leaves_the_clocks_alone(caplog):
    known = case([ev("verify", at(0, 10))])
    with caplog.at_level("WARNING", logger="feeds.kpis.facts"):
        odd = case([ev("teleport", at(0, 9, 30)), ev("verify", at(0, 10))])
    assert odd == known and "'teleport' is unknown to the KPI replay" in caplog.text


def ev(action: str, when: datetime, by: str = "DS01", **after: object) -> TrailEvent:
    return TrailEvent(action, by, when, dict(after))


def case(trail: list[TrailEvent] = (), *, id: str = "C1", category: str = "order.vendor", urgent: bool = False,
         channel: str = "patrol", grid: str | None = "G1", reporter: str | None = "P0001",
         occurred: datetime | None = None, reported: datetime | None = None, drill: str | None = None) -> CaseFacts:
    record = CaseRecord(id, category, urgent, channel, grid, reporter, occurred, reported or at(0, 9), drill)
    return case_facts(record, trail)


def full_loop(start: datetime, *, handled_after: timedelta = timedelta(hours=1), checker: str = "P0001",
              **fields: object) -> CaseFacts:
    """Reported at `start`; verified, registered, dispatched at 10-minute steps; handled, checked, closed."""
    m = timedelta(minutes=10)
    handled = start + 3 * m + handled_after
    return case([ev("verify", start + m, by=checker), ev("register", start + 2 * m),
                 ev("dispatch", start + 3 * m, department="urban_mgmt"), ev("handle", handled, by="urban_mgmt"),
                 ev("check_pass", handled + m, by=checker), ev("close", handled + 2 * m)],
                reported=start, **fields)


def clock(*cases: CaseFacts) -> WorkingClock:
    return clock_for(RULES.calendar, list(cases), at(30, 0))


# --------------------------------------------------------------------------------------------- values


def test_a_rate_with_nothing_due_has_no_value_and_shows_a_dash():
    assert Rate(0, 0).value is None and Rate(0, 0).percent is None and str(Rate(0, 0)) == "—"
    assert Rate(0, 4).value == 0.0 and str(Rate(0, 4)) == "0.0%"
    assert Rate(3, 4).value == 0.75 and str(Rate(3, 4)) == "75.0%"
    assert Rate(1, 2) + Rate(2, 3) == Rate(3, 5)


def test_periods_are_local_days():
    now = datetime(2026, 11, 25, 1, 0, tzinfo=CST)  # Wednesday 01:00 Beijing = Tuesday 17:00 UTC
    assert Period.today(now, CST) == Period(at(2, 0), at(3, 0), CST)
    assert Period.this_week(now, CST) == WEEK
    assert Period.this_month(now, CST) == Period(datetime(2026, 11, 1, tzinfo=CST), datetime(2026, 12, 1, tzinfo=CST),
                                                 CST)
    assert Period.month(2026, 12, CST).end == datetime(2027, 1, 1, tzinfo=CST)
    assert WEEK.days(now) == [MON, MON + timedelta(days=1), MON + timedelta(days=2)]  # Wednesday has begun
    assert len(WEEK.days()) == 7 and WEEK.as_of(now) == now and WEEK.as_of(at(9, 0)) == WEEK.end
    with pytest.raises(ValueError):
        Period(at(1, 0), at(0, 0), CST)


# --------------------------------------------------------------------------------------------- clock


def test_the_fast_clock_agrees_with_the_working_calendar():
    calendar = WorkingCalendar(holidays=frozenset({date(2026, 12, 31), date(2027, 1, 1)}),
                               extra_workdays=frozenset({date(2027, 1, 3)}))
    fast = WorkingClock(calendar, date(2026, 12, 1), date(2027, 2, 1))
    rng = random.Random(7)
    limits = [Limit(a, u) for a in (0.25, 1, 2, 4, 7.5, 12) for u in LimitUnit]
    for _ in range(400):
        start = datetime(2026, 12, 1, tzinfo=CST) + timedelta(minutes=rng.randrange(0, 60 * 24 * 45))
        limit = rng.choice(limits)
        assert fast.deadline(start, limit) == calendar.deadline(start, limit), (start, limit)
    # beyond its span it asks the calendar
    late = datetime(2027, 3, 1, 9, tzinfo=CST)
    assert fast.deadline(late, Limit(2, LimitUnit.WORKING_HOURS)) == late + timedelta(hours=2)


# --------------------------------------------------------------------------------------------- facts


def test_the_audit_trail_replays_into_step_runs():
    c = case([ev("verify", at(0, 9, 30), by="P0001"), ev("register", at(0, 10)),
              ev("dispatch", at(0, 10, 15), department="urban_mgmt"), ev("send_back", at(0, 10, 30)),
              ev("dispatch", at(0, 11), department="roads"), ev("extend", at(0, 11, 30), extended_hours=2.0),
              ev("handle", at(0, 15), by="roads"), ev("check_fail", at(0, 16), by="P0001"),
              ev("park", at(0, 16, 30)), ev("restore", at(1, 9), state="dispatched"),
              ev("handle", at(1, 10), by="roads"), ev("check_pass", at(1, 11), by="P0001"),
              ev("close", at(1, 11, 30))])
    assert c.verified_at == at(0, 9, 30) and c.registered_at == at(0, 10)
    assert c.dispatched_at == at(0, 10, 15) and c.first_handled_at == at(0, 15)
    assert last_handling(c, at(1, 12)).ended_at == at(1, 10) and last_handling(c, at(0, 23)).ended_at == at(0, 15)
    assert c.closed_at == at(1, 11, 30) and c.reworks == 1 and c.extensions == ((at(0, 11, 30), 2.0),)
    assert last_handling(c, at(1, 12)).department == "roads" and c.parked == ((at(0, 16, 30), at(1, 9)),)
    assert [(r.step, r.started_at, r.ended_at, r.done) for r in c.runs] == [
        (Step.VERIFY, at(0, 9), at(0, 9, 30), True),
        (Step.REGISTER, at(0, 9, 30), at(0, 10), True),
        (Step.DISPATCH, at(0, 10), at(0, 10, 15), True),
        (Step.HANDLE, at(0, 10, 15), at(0, 10, 30), False),  # sent back: "not ours"
        (Step.DISPATCH, at(0, 10, 30), at(0, 11), True),
        (Step.HANDLE, at(0, 11), at(0, 15), True),
        (Step.CHECK, at(0, 15), at(0, 16), True),  # failed: rework
        (Step.HANDLE, at(0, 16), at(0, 16, 30), False),  # parked: the clock stops
        (Step.HANDLE, at(1, 9), at(1, 10), True),
        (Step.CHECK, at(1, 10), at(1, 11), True),
        (Step.CLOSE, at(1, 11), at(1, 11, 30), True),
    ]
    assert [r.department for r in c.runs if r.step is Step.HANDLE] == ["urban_mgmt", "roads", "roads", "roads"]
    assert c.runs[0].by == "P0001"


def test_a_rejected_and_a_self_handled_case():
    rejected = case([ev("reject", at(0, 9, 20), reject_reason="untrue", state="rejected")])
    assert rejected.verified_at == rejected.rejected_at == at(0, 9, 20) and rejected.reject_reason == "untrue"
    assert rejected.registered_at is None and rejected.finished_at == at(0, 9, 20)
    on_the_spot = case([ev("self_handle", at(0, 9, 5), by="P0001")])
    assert on_the_spot.self_handled and on_the_spot.registered_at == on_the_spot.verified_at == at(0, 9, 5)
    assert [r.step for r in on_the_spot.runs] == [Step.VERIFY, Step.CHECK]
    assert on_the_spot.runs[-1].ended_at is None  # the check is open


# --------------------------------------------------------------------------------------------- deadlines


def test_the_handling_deadline_runs_over_lunch_night_and_weekend():
    # street vending, normal: dispatch 1 wh, handle 4 wh, check 2 wh, close 1 wh = 8 working hours.
    # Registered Friday 11:00: Fri 11–12 (1) + 14–18 (4), Mon 08:30–11:30 (3) → Monday 11:30.
    friday = case([ev("verify", at(4, 10)), ev("register", at(4, 11))], reported=at(4, 9))
    assert handling_deadline(RULES, clock(friday), friday) == at(7, 11, 30)
    # four hours of extension: Mon 11:30–12:00 (0.5) + 14:00–17:30 (3.5) → Monday 17:30
    extended = case([ev("verify", at(4, 10)), ev("register", at(4, 11)), ev("extend", at(4, 15), extended_hours=4.0)],
                    reported=at(4, 9))
    assert handling_deadline(RULES, clock(extended), extended) == at(7, 17, 30)
    # urgent: 0.5 + 2 + 1 + 1 calendar hours, night or not → Friday 23:00 + 4.5 h = Saturday 03:30
    urgent = case([ev("verify", at(4, 22, 30)), ev("register", at(4, 23))], urgent=True, reported=at(4, 22))
    assert handling_deadline(RULES, clock(urgent), urgent) == at(5, 3, 30)
    # self-handled Monday 17:30: check 2 wh + close 1 wh: Mon 17:30–18:00 (0.5), Tue 08:30–11:00 → Tuesday 11:00
    spot = case([ev("self_handle", at(0, 17, 30))], reported=at(0, 17))
    assert handling_deadline(RULES, clock(spot), spot) == at(1, 11)
    # parked Tuesday 09:00 – 14:00 (3 working hours): the deadline moves on by 3 working hours
    parked = case([ev("verify", at(0, 9)), ev("register", at(0, 9)), ev("dispatch", at(0, 9, 30), department="x"),
                   ev("park", at(1, 9)), ev("restore", at(1, 14), state="dispatched")], reported=at(0, 8, 30))
    # without parking: Mon 09:00 + 8 wh = Mon 09:00–12:00 (3), 14:00–18:00 (4), Tue 08:30–09:30 (1)
    assert handling_deadline(RULES, clock(parked), parked) == at(1, 14) + timedelta(minutes=30)  # 09:30 + 3 wh
    assert handling_deadline(RULES, clock(), case()) is None  # not registered


# --------------------------------------------------------------------------------------------- 四率


def test_discovery_timeliness():
    now = at(8, 0)
    cases = [
        full_loop(at(0, 9), id="a", category="env.garbage", occurred=at(0, 7)),  # 2 h: on the limit, timely
        full_loop(at(0, 9), id="b", category="env.garbage", occurred=at(0, 6, 59)),  # 2 h 1 min: late
        full_loop(at(0, 9), id="c", occurred=at(0, 8, 30)),  # street vending: limit 30 min → timely
        full_loop(at(0, 9), id="d", occurred=at(0, 8, 29)),  # 31 min: late
        full_loop(at(0, 9), id="e", channel="patrol"),  # unknown: patrol first → timely
        full_loop(at(0, 9), id="f", channel="camera"),  # camera first → timely
        full_loop(at(0, 9), id="g", channel="citizen"),  # citizen first → late (漏报)
        full_loop(at(0, 9), id="h", channel="hotline"),  # hotline first → late
        case([], id="i", reported=at(0, 9)),  # not registered: not counted
        full_loop(at(-1, 9), id="j"),  # reported before the week
    ]
    assert discovery_timeliness(RULES, cases, WEEK, now) == Rate(4, 8)
    assert discovery_timeliness(RULES, [], WEEK, now).value is None


def test_discovery_accuracy_overall_and_per_channel():
    now = at(8, 0)
    cases = [
        full_loop(at(0, 9), id="a"),
        case([ev("self_handle", at(0, 10))], id="b"),  # self-handled: a true case
        case([ev("reject", at(0, 10), reject_reason="untrue")], id="c"),
        case([ev("verify", at(0, 10)), ev("reject", at(0, 11), reject_reason="out_of_scope")], id="d"),
        case([ev("reject", at(0, 10), reject_reason="duplicate")], id="e"),  # in neither
        case([], id="f"),  # undecided
        full_loop(at(0, 9), id="g", channel="camera"),
        case([ev("reject", at(0, 10), reject_reason="untrue")], id="h", channel="camera"),
        case([ev("reject", at(0, 10), reject_reason="untrue")], id="i", channel="camera"),
        case([ev("reject", at(9, 10), reject_reason="untrue")], id="j", reported=at(9, 9)),  # after the week
    ]
    assert discovery_accuracy(cases, WEEK, now) == Rate(3, 7)
    by = accuracy_by_channel(cases, WEEK, now)
    assert by["patrol"] == Rate(2, 4) and by["camera"] == Rate(1, 3)
    assert by["citizen"] == Rate(0, 0) and by["citizen"].value is None


def test_a_decision_is_counted_in_the_period_it_was_made():
    reported_sunday = case([ev("register", at(7, 9))], reported=at(6, 23))
    assert discovery_accuracy([reported_sunday], WEEK, at(8, 0)) == Rate(0, 0)
    assert discovery_accuracy([reported_sunday], Period.dates(MON + timedelta(days=7), MON + timedelta(days=7), CST),
                              at(8, 0)) == Rate(1, 1)


def test_verification_timeliness_counts_核实_and_核查():
    # street vending: verify 1 wh, check 2 wh
    on_time = case([ev("verify", at(0, 10), by="P0001"), ev("register", at(0, 10)),
                    ev("dispatch", at(0, 10), department="x"), ev("handle", at(0, 11)),
                    ev("check_pass", at(0, 15), by="P0001")], id="a")  # 核实 1 h; 核查 11:00→15:00 = 2 wh
    late = case([ev("verify", at(0, 11, 45), by="P0002"), ev("register", at(0, 12)),
                 ev("dispatch", at(0, 14), department="x"), ev("handle", at(0, 14, 30)),
                 ev("check_fail", at(0, 17), by="P0002"),  # 核查 14:30 + 2 wh = 16:30: late
                 ev("handle", at(1, 9)), ev("check_pass", at(1, 9, 10), by="P0002")],  # second 核查 on time
                id="b", reported=at(0, 10, 30))  # 核实 due 11:30, done 11:45: late
    overdue = case([], id="c", reported=at(1, 9))  # never verified: due Tue 10:00 → late
    not_yet = case([], id="d", reported=at(6, 23))  # Sunday night: due Monday 09:30 of next week
    voided_early = case([ev("void", at(1, 9, 30))], id="e", reported=at(1, 9))  # ended before its deadline
    cases = [on_time, late, overdue, not_yet, voided_early]
    now = at(8, 0)
    v = verification_timeliness(RULES, clock(*cases), cases, WEEK, now)
    assert v.verify == Rate(1, 3) and v.check == Rate(2, 3) and v.both == Rate(3, 6)
    # while the week runs (Tuesday 09:30), the unverified case is not due yet
    v = verification_timeliness(RULES, clock(*cases), cases, WEEK, at(1, 9, 30))
    assert v.verify == Rate(1, 2) and v.check == Rate(2, 3)
    nothing = verification_timeliness(RULES, clock(), [], WEEK, now)
    assert nothing.both.value is None


# --------------------------------------------------------------------------------------------- coverage


def _cells() -> Cells:
    """Two grids of two 0.001° cells each, side by side: G1 = A1 A2, G2 = B1 B2 (x from 0 to 0.004)."""
    return Cells.of([(f"{g}-{n}", g, box(x, 0, x + 0.001, 0.001))
                     for x, g, n in ((0.0, "G1", 1), (0.001, "G1", 2), (0.002, "G2", 1), (0.003, "G2", 2))])


def test_cells_visited_by_fixes_and_by_segments_crossing_them():
    cells = _cells()
    t0 = at(0, 9)
    track = Track(
        units=["P1", "P1", "P1", "P2", "P2", "P3"],
        times=[t0, t0 + timedelta(minutes=5), t0 + timedelta(minutes=30),  # P1: G1-1 → G2-1 (crosses G1-2);
               t0, t0 + timedelta(minutes=5), t0 + timedelta(days=1)],     # 25 min gap, not joined
        lons=[0.0005, 0.0025, 0.0035, 0.0005, 0.0005, 0.0015],
        lats=[0.0005, 0.0005, 0.0005, 0.0005, 0.0005, 0.0005],
    )
    visits = cell_visits(cells, track, CST)
    assert visits == {(MON, "P1", "G1-1"), (MON, "P1", "G1-2"), (MON, "P1", "G2-1"), (MON, "P1", "G2-2"),
                      (MON, "P2", "G1-1"), (MON + timedelta(days=1), "P3", "G1-2")}
    far_apart = Track(["P1", "P1"], [t0, t0 + timedelta(minutes=11)], [0.0005, 0.0035], [0.0005, 0.0005])
    assert {c for _, _, c in cell_visits(cells, far_apart, CST)} == {"G1-1", "G2-2"}  # a gap: no segment
    overnight = Track(["P1", "P1"], [at(0, 23, 58), at(1, 0, 3)], [0.0005, 0.0035], [0.0005, 0.0005])
    assert cell_visits(cells, overnight, CST) == {(MON, "P1", "G1-1"), (MON + timedelta(days=1), "P1", "G2-2")}
    assert cell_visits(cells, Track([], [], [], []), CST) == set()


def test_coverage_is_the_average_over_the_days_of_the_period():
    cells = _cells()
    visits = {(MON, "P1", "G1-1"), (MON, "P2", "G1-1"), (MON, "P1", "G1-2"), (MON, "P1", "G2-1"),
              (MON + timedelta(days=1), "P1", "G1-1"), (MON + timedelta(days=9), "P1", "G1-1")}
    now = at(2, 12)  # Wednesday: three days have begun
    # district: Mon 3 of 4 cells, Tue 1, Wed 0 → 4 / (4 × 3)
    assert coverage(cells, visits, WEEK, now) == Rate(4, 12)
    assert coverage(cells, visits, WEEK, now, grids={"G1"}) == Rate(3, 6)
    assert coverage(cells, visits, WEEK, now, grids={"G1"}, units={"P2"}) == Rate(1, 6)
    assert coverage(cells, visits, WEEK, at(9, 0)) == Rate(4, 28)  # the whole week
    assert coverage(cells, visits, WEEK, now, grids={"nowhere"}).value is None


# --------------------------------------------------------------------------------------------- closure


def test_closure_and_on_time_closure():
    # street vending normal: 8 working hours from registration to the closing deadline
    mon10 = full_loop(at(0, 9, 40), id="a")  # registered 10:00 → due Tue 10:30; closed Mon 11:30: early, on time
    late = case([ev("verify", at(0, 9)), ev("register", at(0, 9)), ev("dispatch", at(0, 9), department="x"),
                 ev("handle", at(2, 9)), ev("check_pass", at(2, 10)), ev("close", at(2, 11))], id="b")
    # registered Mon 09:00 → due Tue 09:30; closed Wed 11:00: late (due in the week at Tue 09:30)
    open_past = case([ev("verify", at(0, 9)), ev("register", at(0, 9))], id="c")  # due Tue 09:30, never closed
    open_future = case([ev("verify", at(4, 17)), ev("register", at(4, 17))], id="d", reported=at(4, 16))
    # registered Fri 17:00 → due Monday of next week 17:30: not due in this week
    voided = case([ev("verify", at(0, 9)), ev("register", at(0, 9)), ev("void", at(3, 9))], id="e")
    rejected = case([ev("reject", at(0, 9, 30), reject_reason="untrue")], id="f")
    parked = case([ev("verify", at(0, 9)), ev("register", at(0, 9)), ev("park", at(0, 10))], id="g")
    cases = [mon10, late, open_past, open_future, voided, rejected, parked]
    shut = closure(RULES, clock(*cases), cases, WEEK, at(9, 0))
    assert shut.closure == Rate(2, 3) and shut.on_time == Rate(1, 3)
    # as of Tuesday 09:00, nothing has passed its deadline; only the early closure is due
    shut = closure(RULES, clock(*cases), cases, WEEK, at(1, 9))
    assert shut.closure == Rate(1, 1) and shut.on_time == Rate(1, 1)
    empty = closure(RULES, clock(), [], WEEK, at(9, 0))
    assert empty.closure.value is None and empty.on_time.value is None


def test_rework_handling_open_overdue_and_averages():
    now = at(1, 12)  # Tuesday noon, during the week
    a = full_loop(at(0, 9), id="a", handled_after=timedelta(hours=2))  # dispatched 09:30, handled 11:30
    b = case([ev("verify", at(0, 9)), ev("register", at(0, 9)), ev("dispatch", at(0, 10), department="roads"),
              ev("handle", at(0, 16, 30)), ev("check_fail", at(0, 17)), ev("handle", at(1, 9))], id="b")
    # handle 4 wh: 10:00 → 16:00 (handled 16:30: late); rework 17:00 → Tue 11:30 (handled 09:00: on time)
    c = case([ev("verify", at(0, 9)), ev("register", at(0, 9, 30)), ev("dispatch", at(0, 9, 30),
                                                                       department="roads")], id="c")
    # handling since 09:30, due 15:30 Monday: overdue and open
    d = case([], id="d", reported=at(1, 11, 30))  # open, verify due 12:30: not yet overdue
    cases = [a, b, c, d]
    k = clock(*cases)
    assert rework_rate(cases, WEEK, now) == Rate(1, 2)
    assert on_time_handling(RULES, k, cases, WEEK, now) == Rate(2, 4)
    assert on_time_handling(RULES, k, cases, WEEK, now, department="roads") == Rate(1, 3)
    assert on_time_handling(RULES, k, cases, WEEK, now, department="urban_mgmt") == Rate(1, 1)
    assert open_count(cases, WEEK, now) == 3  # b (handled, waiting for its check), c, d
    assert overdue_count(RULES, k, cases, WEEK, now) == 2  # c, and b: its check (2 wh from 09:00) was due 11:00
    handling = average_handling_time(cases, WEEK, now)
    assert handling.count == 2 and handling.value == pytest.approx((2 + 23) / 2)  # a: 2 h; b: Mon 10:00 → Tue 09:00
    dispatching = average_dispatch_time(cases, WEEK, now)
    assert dispatching.count == 3 and dispatching.value == pytest.approx((10 / 60 + 1 + 0) / 3)
    assert average_handling_time([], WEEK, now).value is None
    depts = department_figures(RULES, cases, WEEK, now)
    assert depts["roads"].on_time_handling == Rate(1, 3) and depts["roads"].open == 1
    assert depts["roads"].rework == Rate(1, 1)


# --------------------------------------------------------------------------------------------- scores


@pytest.mark.parametrize("score, expected", [
    (100, Grade.A), (90, Grade.A), (89.99, Grade.B), (75, Grade.B), (74.9, Grade.C), (60, Grade.C),
    (59.9, Grade.D), (40, Grade.D), (39.99, Grade.E), (0, Grade.E), (None, None)])
def test_grades(score, expected):
    assert grade(score) == expected


@pytest.mark.parametrize("cases, score", [(0, 100), (1, 90), (2, 90), (3, 75), (4, 75), (5, 60), (6, 60),
                                          (7, 40), (8, 40), (9, 0), (30, 0)])
def test_the_case_count_score_table(cases, score):
    assert case_count_score(cases) == score


def test_patroller_score_weights():
    # 80% valid × 40 + (1 − 25% missed) × 20 + 50% × 20 + 100% × 20 = 32 + 15 + 10 + 20 = 77 → B
    s = patroller_score(Rate(4, 5), Rate(1, 4), Rate(1, 2), Rate(3, 3))
    assert s.value == pytest.approx(77) and s.grade is Grade.B
    # nothing to 核查: the other parts scaled back to 100% (32 + 15 + 10) / 0.8 = 71.25
    assert patroller_score(Rate(4, 5), Rate(1, 4), Rate(1, 2), Rate(0, 0)).value == pytest.approx(71.25)
    assert patroller_score(Rate(0, 0), Rate(0, 0), Rate(0, 0), Rate(0, 0)).value is None


def test_area_score_weights():
    # (100 − 20) × 10% + 90 × 20% + 100 × 30% + 50 × 40% = 8 + 18 + 30 + 20 = 76 → B
    s = area_score(Rate(1, 5), 90.0, Rate(4, 4), Rate(2, 4))
    assert s.value == pytest.approx(76) and s.grade is Grade.B


def test_the_case_count_score_of_an_area_averages_grid_months():
    month = Period.month(2026, 11, CST)
    cases = [full_loop(at(0, 9), id=f"g1-{k}", grid="G1") for k in range(3)]  # 3 → 75
    cases += [full_loop(at(0, 9), id="g2", grid="G2")]  # 1 → 90; G3 none → 100
    assert area_case_count_score(cases, {"G1", "G2", "G3"}, month, at(20, 0)) == pytest.approx((75 + 90 + 100) / 3)
    assert area_case_count_score(cases, set(), month, at(20, 0)) is None


def test_ranking_shares_ranks_and_flags_the_top_three():
    def person(pid: str):
        return Patroller(pid, pid, frozenset({pid}), frozenset())

    def figures(valid: Rate):
        from feeds.kpis.figures import PatrollerFigures, Verification
        return PatrollerFigures(valid, Rate(0, 0), Verification(Rate(0, 0), Rate(0, 0)), Rate(0, 0))

    rows = ranking([(person("e"), figures(Rate(1, 2))), (person("a"), figures(Rate(9, 10))),
                    (person("d"), figures(Rate(0, 0))), (person("b"), figures(Rate(4, 5))),
                    (person("c"), figures(Rate(8, 10))), (person("f"), figures(Rate(1, 10)))])
    assert [(r.person.id, r.rank, r.top_three) for r in rows] == [
        ("a", 1, True), ("b", 2, True), ("c", 2, True), ("e", 4, False), ("f", 5, False), ("d", None, False)]


# --------------------------------------------------------------------------------------------- people, areas, drills


def test_patroller_figures_and_ranking():
    now = at(9, 0)
    gw1 = Patroller("GW-P0001", "王伟", frozenset({"GW-P0001", "P0001"}), frozenset({"G1"}))
    gw2 = Patroller("GW-P0002", "李娜", frozenset({"GW-P0002", "P0002"}), frozenset({"G2"}))
    cases = [
        full_loop(at(0, 9), id="a", grid="G1", reporter="P0001"),  # 核实 + 核查 by P0001 on time
        case([ev("reject", at(0, 9, 20), by="P0001", reject_reason="untrue")], id="b", grid="G1"),
        full_loop(at(0, 9), id="c", grid="G1", channel="citizen", reporter=None),  # a miss in G1
        case([], id="d", grid="G2", reporter="P0002", reported=at(1, 9)),  # nobody verified: counts against G2
        full_loop(at(0, 9), id="e", grid="G2", reporter="P0002", checker="P0002"),
    ]
    f1 = patroller_figures(RULES, cases, gw1, WEEK, now)
    assert f1.valid_reports == Rate(1, 2) and f1.missed == Rate(1, 2)
    # 核实: a, b (reject on the spot), c all by P0001 within 1 wh; 核查: a and c
    assert f1.verification.verify == Rate(3, 3) and f1.verification.check == Rate(2, 2)
    assert f1.score.value == pytest.approx(0.4 * 50 + 0.2 * 50 + 0.2 * 100 + 0.2 * 100)
    f2 = patroller_figures(RULES, cases, gw2, WEEK, now)
    assert f2.valid_reports == Rate(1, 1) and f2.missed == Rate(0, 1)
    assert f2.verification.verify == Rate(1, 2) and f2.verification.check == Rate(1, 1)  # e on time, d missed
    assert f2.score.value == pytest.approx(40 + 20 + 10 + 20)
    rows = rank_patrollers(RULES, cases, [gw1, gw2], WEEK, now)
    assert [(r.person.id, r.rank) for r in rows] == [("GW-P0002", 1), ("GW-P0001", 2)]


def test_figures_per_area_level_and_drills_kept_apart():
    territory = Territory(parent={"D": None, "S1": "D", "C1": "S1", "C2": "S1", "G1": "C1", "G2": "C1", "G3": "C2"},
                          level={"D": "district", "S1": "street", "C1": "community", "C2": "community",
                                 "G1": "grid", "G2": "grid", "G3": "grid"})
    assert territory.grids_under("C1") == {"G1", "G2"} and territory.grids_under("D") == {"G1", "G2", "G3"}
    assert territory.ancestor_at("G3", "street") == "S1"
    now = at(9, 0)
    cases = [full_loop(at(0, 9), id="a", grid="G1"),
             case([ev("reject", at(0, 10), reject_reason="untrue")], id="b", grid="G3"),
             full_loop(at(0, 9), id="c", grid=None),
             full_loop(at(0, 9), id="x1", grid="G1", drill="DR1"),
             case([ev("reject", at(0, 10), reject_reason="untrue")], id="x2", grid="G1", drill="DR1"),
             case([ev("reject", at(0, 10), reject_reason="untrue")], id="x3", grid="G1", drill="DR2")]
    communities = figures_by_area(RULES, cases, territory, "community", WEEK, now)
    assert communities["C1"].discovery_accuracy == Rate(1, 1)
    assert communities["C2"].discovery_accuracy == Rate(0, 1)
    district = figures_by_area(RULES, cases, territory, "district", WEEK, now)["D"]
    assert district.discovery_accuracy == Rate(2, 3)  # the case under no grid counts for the district
    assert district.closure == Rate(2, 2)
    drill = figures_by_area(RULES, cases, territory, "grid", WEEK, now, drill_id="DR1")["G1"]
    assert drill.discovery_accuracy == Rate(1, 2)
    live_g1 = area_figures(RULES, cases, WEEK, now, grids={"G1"})
    assert live_g1.discovery_accuracy == Rate(1, 1) and live_g1.open == 0
    assert area_figures(RULES, cases, WEEK, now, grids={"G1"}, drill_id="DR2").discovery_accuracy == Rate(0, 1)
    # area score of G1 (live): citizen-first 0/1 → 100; one case → 90; closure 1/1; on time 1/1
    assert live_g1.score.value == pytest.approx(10 + 18 + 30 + 40)


def test_a_step_run_is_plain_data():
    run = StepRun(Step.VERIFY, at(0, 9))
    assert run.ended_at is None and not run.done
    assert isinstance(case(), CaseFacts)


def test_a_patroller_without_a_gps_unit_has_no_coverage_not_zero():
    """An outer-net patroller carries no unit: coverage does not exist for them ("—"), in the figures, the
    ranking and what the screens and exports show of it."""
    cells = _cells()
    visits = {(MON, "P1", "G1-1")}
    walker = Patroller("GW-P0001", "王伟", frozenset({"GW-P0001", "P1"}), frozenset({"G1"}))
    outer = Patroller("OUT-01", "赵强", frozenset({"OUT-01"}), frozenset({"G1"}), tracked=False)
    now = at(0, 12)
    assert patroller_figures(RULES, [], walker, WEEK, now, cells=cells, visits=visits).coverage == Rate(1, 2)
    figures = patroller_figures(RULES, [], outer, WEEK, now, cells=cells, visits=visits)
    assert figures.coverage == Rate(0, 0) and str(figures.coverage) == "—"
    ranked = {r.person.id: r.figures.coverage for r in rank_patrollers(RULES, [], [walker, outer], WEEK, now,
                                                                     cells=cells, visits=visits)}
    assert ranked == {"GW-P0001": Rate(1, 2), "OUT-01": Rate(0, 0)}
