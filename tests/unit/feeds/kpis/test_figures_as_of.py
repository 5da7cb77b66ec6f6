"""A period's figures are taken as of its end: whatever happens to its cases afterwards (extensions, late
verifications, reassignments, reworks, send-backs, parks, escalations, closing) changes none of them. For
generated cases whose trails run on past a period's end, the tallies computed from the full trails days
later equal those computed at the end from what had happened by then; and hand-made cases for each way a
closed month used to move."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.cases.machine import RULES as MOVES
from feeds.cases.machine import Action, ActionKind, Case, CaseState, act
from feeds.kpis.figures import (
    NO_RATE,
    CaseFacts,
    CaseRecord,
    Holder,
    Patroller,
    Period,
    Rate,
    TrailEvent,
    by_holder,
    case_facts,
    clock_for,
    departments_of,
    duty_tallies,
    figures_of,
    ranking_of,
    tally,
)
from tests.unit.feeds.kpis.test_kpis import RULES, at, case, ev

CST = ZoneInfo("Asia/Shanghai")
NOVEMBER = Period.month(2026, 11, CST)
LATER = datetime(2026, 12, 20, tzinfo=CST)  # the month looked at again, weeks on
CATEGORIES = sorted(RULES.taxonomy.categories)
DEPARTMENTS = ("urban_mgmt", "roads", "water", "police")
PEOPLE = ("P0001", "P0002", "P0003")


# --------------------------------------------------------------------------------------------- generated


@st.composite
def trails(draw: st.DrawFn, case_id: str) -> tuple[CaseRecord, list[TrailEvent]]:
    """A case reported in the last days of November and worked by the real case machine (feeds.cases.machine.act),
    one action after another at generated gaps, often running on into December."""
    reported = datetime(2026, 11, 24, tzinfo=CST) + timedelta(minutes=draw(st.integers(0, 7 * 24 * 60 - 1)))
    channel = draw(st.sampled_from(("patrol", "camera", "citizen", "hotline")))
    reporter = draw(st.sampled_from(PEOPLE)) if channel == "patrol" else None
    occurred = draw(st.none() | st.integers(0, 6 * 60).map(lambda m: reported - timedelta(minutes=m)))
    record = CaseRecord(case_id, draw(st.sampled_from(CATEGORIES)), draw(st.booleans()), channel,
                        draw(st.sampled_from(("G1", "G2", None))), reporter, occurred, reported)
    state = Case(case_id, record.category, record.urgent, CaseState.REPORTED, reported)
    moment = reported
    trail: list[TrailEvent] = []
    for _ in range(draw(st.integers(0, 14))):
        possible = sorted((k for k, (allowed, _) in MOVES.items() if state.state in allowed),
                          key=lambda k: k.value)
        if not possible:
            break
        kind = draw(st.sampled_from(possible))
        if kind is ActionKind.ESCALATE and state.level == "district":
            continue
        moment += timedelta(minutes=draw(st.sampled_from((1, 10, 45, 90, 240, 600, 1500, 3000))))
        department = draw(st.sampled_from(DEPARTMENTS)) if kind in (ActionKind.DISPATCH, ActionKind.REASSIGN) else None
        action = Action(kind, draw(st.sampled_from((*PEOPLE, *DEPARTMENTS, "DS01"))), "why", state.version,
                        department=department,
                        reject_reason=draw(st.sampled_from(("untrue", "out_of_scope", "duplicate")))
                        if kind is ActionKind.REJECT else None,
                        hours=float(draw(st.sampled_from((2, 8, 24)))) if kind is ActionKind.EXTEND else None)
        state, audit = act(state, action, moment)
        trail.append(TrailEvent(audit.action, audit.by, moment, audit.after))
    return record, trail


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[CaseRecord, list[TrailEvent]]]:
    return [draw(trails(f"C{i}")) for i in range(draw(st.integers(1, 12)))]


def facts_as_of(history: list[tuple[CaseRecord, list[TrailEvent]]], moment: datetime | None) -> list[CaseFacts]:
    """The cases as the centre knew them at `moment` (None: everything that ever happened)."""
    return [case_facts(record, [e for e in trail if moment is None or e.at <= moment])
            for record, trail in history if moment is None or record.reported_at <= moment]


def everything(cases: list[CaseFacts], period: Period, now: datetime) -> tuple[object, ...]:
    """Every figure of the period: the area tally with its figures and scores, per-grid tallies, duty
    tallies per holder and grid, departments and the patrollers' ranking."""
    clock = clock_for(RULES.calendar, cases, now)
    counts = tally(RULES, clock, cases, period, now)
    duties = duty_tallies(RULES, clock, cases, period, now)
    holders = by_holder(duties)
    figures = figures_of(counts, period, grids=("G1", "G2"))
    people = [Patroller(p, p, frozenset({p}), frozenset({"G1"} if p == "P0001" else {"G2"})) for p in PEOPLE]
    ranked = [(r.rank, r.person.id, r.figures.score.exact) for r in ranking_of(people, holders, lambda _p: NO_RATE)]
    return (counts, {k: v for k, v in duties.items() if any(v.counts)}, figures, figures.score.exact,
            departments_of(holders), ranked)


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.integers(0, 9))
def test_no_later_event_moves_a_closed_periods_figures(history, day) -> None:
    """November, and one of its last days, at their end and again weeks later."""
    for period in (NOVEMBER, Period.dates(date(2026, 11, 21 + day), date(2026, 11, 21 + day), CST)):
        at_end = everything(facts_as_of(history, period.end), period, period.end)
        assert everything(facts_as_of(history, None), period, LATER) == at_end


@settings(max_examples=300, deadline=None)
@given(histories(), st.integers(1, 200))
def test_a_running_periods_figures_are_those_of_what_has_happened(history, hours) -> None:
    """While a period runs, its figures now are the figures of what has happened by now."""
    now = datetime(2026, 11, 24, tzinfo=CST) + timedelta(hours=hours)
    assert everything(facts_as_of(history, None), NOVEMBER, now) == everything(facts_as_of(history, now), NOVEMBER, now)


# --------------------------------------------------------------------------------------------- by hand


def _handled_late(*later: TrailEvent) -> CaseFacts:
    """order.vendor, normal: registered Monday 23 Nov 09:10; dispatched 09:20 to urban_mgmt (handle limit 4
    working hours: due Mon 14:50; the case's closing deadline Tue)."""
    return case([ev("verify", at(0, 9, 5), by="P0001"), ev("register", at(0, 9, 10)),
                 ev("dispatch", at(0, 9, 20), department="urban_mgmt"), *later], reported=at(0, 9))


def test_an_extension_granted_after_the_deadline_passed_does_not_undo_the_miss() -> None:
    day = Period.dates(date(2026, 11, 23), date(2026, 11, 23), CST)
    clock = clock_for(RULES.calendar, [], LATER)
    late = _handled_late(ev("extend", at(0, 16), extended_hours=8.0), ev("handle", at(0, 17), by="urban_mgmt"))
    before = _handled_late(ev("extend", at(0, 14), extended_hours=8.0), ev("handle", at(0, 17), by="urban_mgmt"))
    # granted at 16:00, after the 14:50 deadline: handled at 17:00 is late, and Monday's figure says so
    assert tally(RULES, clock, [late], day, LATER).rate("handled_on_time", "handling_due") == Rate(0, 1)
    assert tally(RULES, clock, [_handled_late()], day, day.end).rate("handled_on_time", "handling_due") == Rate(0, 1)
    # granted at 14:00, before it: the deadline moves 8 working hours, and 17:00 is on time (counted when done)
    assert tally(RULES, clock, [before], day, LATER).rate("handled_on_time", "handling_due") == Rate(1, 1)


def test_a_verification_not_done_by_the_periods_end_is_the_grids_miss_whoever_does_it_later() -> None:
    """核实 of a report of Sunday 29 Nov 10:00 is due within 2 working hours (Mon 10:30); P0002 does it on
    Tuesday 1 Dec: November's miss stays with G1's patrollers, not P0002's."""
    sunday = datetime(2026, 11, 29, 10, tzinfo=CST)
    done_later = case([ev("verify", datetime(2026, 12, 1, 9, tzinfo=CST), by="P0002")], reported=sunday,
                      reporter=None, channel="citizen")
    never = case([], reported=sunday, reporter=None, channel="citizen")
    clock = clock_for(RULES.calendar, [done_later], LATER)
    for c in (done_later, never):
        holders = by_holder(duty_tallies(RULES, clock, [c], NOVEMBER, LATER))
        assert (Holder.PERSON, "P0002") not in holders
    nov_30 = Period.dates(date(2026, 11, 30), date(2026, 11, 30), CST)
    missed = by_holder(duty_tallies(RULES, clock, [done_later], nov_30, LATER))
    assert missed[(Holder.GRID, "G1")].rate("verify_on_time", "verify_due") == Rate(0, 1)


def test_a_reassignment_moves_the_handling_step_from_its_time_on() -> None:
    """Dispatched to urban_mgmt Monday 09:20 (due 14:50), reassigned to roads on Wednesday, handled Thursday:
    Monday's miss is urban_mgmt's; roads took over a step already late and answers for nothing on Monday."""
    c = _handled_late(ev("reassign", at(2, 10), department="roads"), ev("handle", at(3, 10), by="roads"))
    monday = Period.dates(date(2026, 11, 23), date(2026, 11, 23), CST)
    clock = clock_for(RULES.calendar, [c], LATER)
    departments = departments_of(by_holder(duty_tallies(RULES, clock, [c], monday, LATER)))
    assert departments["urban_mgmt"].on_time_handling == Rate(0, 1) and "roads" not in departments
    whole = departments_of(by_holder(duty_tallies(RULES, clock, [c], NOVEMBER, LATER)))
    assert whole["urban_mgmt"].on_time_handling == Rate(0, 1) and whole["roads"].on_time_handling.denominator == 0
    assert whole["roads"].average_handling_hours.count == 1  # it handled the case last
    # reassigned before the deadline: roads answers for it, urban_mgmt for nothing
    early = _handled_late(ev("reassign", at(0, 11), department="roads"), ev("handle", at(0, 14), by="roads"))
    departments = departments_of(by_holder(duty_tallies(RULES, clock, [early], monday, LATER)))
    assert departments["roads"].on_time_handling == Rate(1, 1) and "urban_mgmt" not in departments


def test_a_rework_handled_next_month_leaves_the_months_handling_figures_alone() -> None:
    """Handled Monday 11:00 and checked; the check fails on Monday 30 Nov and roads handles it again on
    2 Dec: November's average handling time still counts the handling of 23 Nov, by urban_mgmt."""
    c = _handled_late(ev("handle", at(0, 11), by="urban_mgmt"), ev("check_fail", at(7, 10), by="P0001"),
                      ev("reassign", at(7, 11), department="roads"), ev("handle", at(9, 10), by="roads"))
    clock = clock_for(RULES.calendar, [c], LATER)
    at_end = departments_of(by_holder(duty_tallies(RULES, clock, [c], NOVEMBER, NOVEMBER.end)))
    assert departments_of(by_holder(duty_tallies(RULES, clock, [c], NOVEMBER, LATER))) == at_end
    assert at_end["urban_mgmt"].average_handling_hours.count == 1 and at_end["urban_mgmt"].rework == Rate(1, 1)
    assert tally(RULES, clock, [c], NOVEMBER, LATER)["handled"] == 1


def test_a_case_handled_only_before_its_first_dispatch_has_no_handling_time() -> None:
    """Self-handled on the spot, the check fails, handled again, sent back and only then dispatched: no
    handling came after a dispatch, so it adds nothing to the average (it once added a negative time)."""
    c = case([ev("self_handle", at(0, 9, 5), by="P0001"), ev("check_fail", at(0, 9, 30), by="P0001"),
              ev("handle", at(0, 10), by="P0001"), ev("check_fail", at(0, 10, 30), by="P0001"),
              ev("send_back", at(0, 11)), ev("dispatch", at(0, 13), department="urban_mgmt")], reported=at(0, 9))
    clock = clock_for(RULES.calendar, [c], LATER)
    counts = tally(RULES, clock, [c], NOVEMBER, LATER)
    assert (counts["handled"], counts["handling_us"]) == (0, 0)
