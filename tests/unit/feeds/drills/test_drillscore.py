"""Scoring a drill on a tiny scenario with known answers."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from feeds.drills.score import DrillCase, Fix, Step, drill_score, score_case
from feeds.kpis.figures import Rate

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 23, 15, 0, tzinfo=CST)
TARGETS = {"dispatch_min": 5, "arrive_min": 15, "close_min": 120}
FIRE = DrillCase("fire", T0, 30.6900, 111.2800)        # the market fire
LANE = DrillCase("lane", T0 + timedelta(minutes=8), 30.6950, 111.2850)  # the blocked fire lane
UNIT_OF = {"GW-1": "U1", "GW-2": "U2"}


def m(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


STEPS = [
    Step("fire", "verify", "DS01", m(1)),
    Step("fire", "register", "DS01", m(2)),
    Step("fire", "dispatch", "DS01", m(3), "fire", "GW-1"),     # dispatched at 3 min: within 5
    Step("fire", "handle", "GW-1", m(40)),
    Step("fire", "check_pass", "GW-1", m(50)),
    Step("fire", "close", "DS01", m(60)),                        # closed at 60: within 120
    Step("lane", "verify", "DS02", m(12)),
    Step("lane", "register", "DS02", m(14)),
    Step("lane", "escalate", "system", m(16)),                   # ran overdue
    Step("lane", "dispatch", "DS02", m(18), "city_mgmt", None),  # 10 min after its report: late
]
FIXES = [
    Fix("U2", 30.6900, 111.2800, m(5)),       # at the fire, but not the unit sent there
    Fix("U1", 30.6910, 111.2800, m(10)),      # 110 m off: not there yet
    Fix("U1", 30.69035, 111.2800, m(12)),     # 39 m: arrived at 12 min
    Fix("U2", 30.6950, 111.2850, m(7)),       # at the lane before anyone was sent: does not count
    # anyone's unit counts for the lane (sent to a department): 22 min after its report
    Fix("U2", 30.6951, 111.2850, m(30)),
]


def test_one_case_minutes_from_its_first_report():
    fire = score_case(FIRE, [s for s in STEPS if s.case_id == "fire"], FIXES, UNIT_OF)
    assert fire.minutes == {"dispatch": 3.0, "arrive": 12.0, "close": 60.0}
    assert (fire.dispatcher, fire.team, fire.overdue) == ("DS01", "fire", False)


def test_the_drill_against_its_targets_in_total_per_dispatcher_and_per_team():
    score = drill_score([LANE, FIRE], STEPS, FIXES, UNIT_OF, TARGETS)
    lane = score.cases[1]
    assert lane.minutes == {"dispatch": 10.0, "arrive": 22.0, "close": None} and lane.overdue
    total = score.total
    assert (total.cases, total.overdue) == (2, 1)
    assert total.mean_minutes == {"dispatch": 6.5, "arrive": 17.0, "close": 60.0}
    assert total.within == {"dispatch": Rate(1, 2), "arrive": Rate(1, 2), "close": Rate(1, 2)}
    assert set(score.by_dispatcher) == {"DS01", "DS02"}
    assert score.by_dispatcher["DS02"].within["dispatch"] == Rate(0, 1)
    assert score.by_team["fire"].mean_minutes["close"] == 60.0
    assert score.by_team["city_mgmt"].mean_minutes["close"] is None


def test_a_case_nobody_was_sent_to_has_no_times_and_misses_every_target():
    score = drill_score([FIRE], [], FIXES, UNIT_OF, TARGETS)
    assert score.cases[0].minutes == {"dispatch": None, "arrive": None, "close": None}
    assert score.total.within["dispatch"] == Rate(0, 1)
    assert score.by_dispatcher == {} and score.total.mean_minutes["dispatch"] is None


def test_a_drill_with_no_cases_has_no_rates():
    total = drill_score([], [], [], {}, TARGETS).total
    assert total.cases == 0 and str(total.within["close"]) == "—"
