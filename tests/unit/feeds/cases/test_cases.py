from datetime import UTC, datetime, timedelta

import pytest

from feeds.cases.machine import (
    FINAL,
    LEVELS,
    RULES,
    Action,
    Case,
    IllegalAction,
    VersionConflict,
    act,
)
from feeds.cases.machine import (
    ActionKind as A,
)
from feeds.cases.machine import (
    CaseState as S,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def new_case(**fields) -> Case:
    return Case(**{"id": "C1", "category": "env.garbage", "urgent": False, "state": S.REPORTED,
                   "step_started_at": T0, **fields})


def do(case: Case, kind: A, minutes: int = 10, **fields):
    action = Action(kind, by="u1", reason=f"{kind.value} it", expected_version=case.version, **fields)
    return act(case, action, T0 + timedelta(minutes=minutes))


def run(case: Case, *steps):
    for step in steps:
        kind, fields = (step, {}) if isinstance(step, A) else step
        case, _ = do(case, kind, **fields)
    return case


def test_the_whole_loop_with_its_audit_trail():
    case, trail = new_case(), []
    for kind, fields in [(A.VERIFY, {}), (A.REGISTER, {}), (A.DISPATCH, {"department": "sanitation"}),
                         (A.HANDLE, {}), (A.CHECK_PASS, {}), (A.CLOSE, {})]:
        case, entry = do(case, kind, minutes=10 * (len(trail) + 1), **fields)
        trail.append(entry)
    assert case.state is S.CLOSED and case.version == 7 and case.open_step is None
    assert [e.action for e in trail] == ["verify", "register", "dispatch", "handle", "check_pass", "close"]
    dispatch = trail[2]
    assert dispatch.before == {"department": None, "state": "registered",
                               "step_started_at": (T0 + timedelta(minutes=20)).isoformat(), "version": 3}
    assert dispatch.after["state"] == "dispatched" and dispatch.after["department"] == "sanitation"
    assert dispatch.after["step_started_at"] == (T0 + timedelta(minutes=30)).isoformat()  # the handle clock starts
    assert all(e.by == "u1" and e.reason for e in trail)


def test_each_state_opens_the_step_whose_clock_runs():
    assert [new_case(state=s).open_step for s in (S.REPORTED, S.VERIFIED, S.REGISTERED, S.DISPATCHED, S.HANDLED,
                                                  S.CHECKED)] == [
        "verify", "register", "dispatch", "handle", "check", "close"]


@pytest.mark.parametrize("start", [S.REPORTED, S.VERIFIED])
@pytest.mark.parametrize("why", ["untrue", "out_of_scope", "duplicate"])
def test_a_report_can_be_rejected_with_a_reason(start, why):
    case, entry = do(new_case(state=start), A.REJECT, reject_reason=why)
    assert case.state is S.REJECTED and case.reject_reason == why and entry.after["reject_reason"] == why


def test_a_rejection_needs_a_known_reason():
    with pytest.raises(IllegalAction, match="a rejection needs one of untrue, out_of_scope, duplicate"):
        do(new_case(), A.REJECT, reject_reason="boring")


def test_sent_back_as_not_ours_and_dispatched_again():
    case = run(new_case(state=S.REGISTERED), (A.DISPATCH, {"department": "water"}), A.SEND_BACK)
    assert case.state is S.REGISTERED and case.department is None
    case = run(case, (A.DISPATCH, {"department": "sanitation", "assignee": "W12"}))
    assert (case.state, case.department, case.assignee) == (S.DISPATCHED, "sanitation", "W12")


def test_a_failed_check_sends_it_back_for_rework():
    case = run(new_case(state=S.HANDLED, department="roads"), A.CHECK_FAIL)
    assert case.state is S.DISPATCHED and case.reworks == 1 and case.department == "roads"
    case = run(case, A.HANDLE, A.CHECK_PASS, A.CLOSE)
    assert case.state is S.CLOSED and case.reworks == 1


def test_self_handled_on_the_spot_still_gets_checked():
    case = run(new_case(), A.SELF_HANDLE)
    assert case.state is S.HANDLED and case.open_step == "check"


def test_an_extension_adds_hours_and_keeps_the_clock():
    case = new_case(state=S.DISPATCHED)
    extended, entry = do(case, A.EXTEND, hours=8)
    assert extended.extended_hours == 8 and extended.step_started_at == case.step_started_at
    assert entry.after == {"extended_hours": 8, "version": 2}
    with pytest.raises(IllegalAction, match="positive number of hours"):
        do(case, A.EXTEND, hours=0)
    with pytest.raises(IllegalAction, match="cannot extend a case that is registered"):
        do(new_case(state=S.REGISTERED), A.EXTEND, hours=4)


def test_parked_and_restored_to_where_it_was():
    parked = run(new_case(state=S.DISPATCHED, department="housing"), A.PARK)
    assert parked.state is S.PARKED and parked.parked_from is S.DISPATCHED and parked.open_step is None
    restored, _ = do(parked, A.RESTORE, minutes=600)
    assert restored.state is S.DISPATCHED and restored.parked_from is None
    assert restored.step_started_at == T0 + timedelta(minutes=600)


def test_escalation_climbs_one_level_at_a_time():
    case = new_case()
    for level in LEVELS[1:]:
        case, entry = do(case, A.ESCALATE)
        assert case.level == level and entry.after["level"] == level and case.state is S.REPORTED
    with pytest.raises(IllegalAction, match="already at the district"):
        do(case, A.ESCALATE)


def test_a_second_dispatcher_on_a_stale_version_gets_a_conflict_with_the_new_state():
    case = new_case(state=S.REGISTERED)
    first = Action(A.DISPATCH, "alice", "routing table", expected_version=1, department="sanitation")
    second = Action(A.DISPATCH, "bob", "nearest crew", expected_version=1, department="urban_mgmt")
    won, _ = act(case, first, T0)
    with pytest.raises(VersionConflict, match="now version 2, dispatched; you acted on version 1"):
        act(won, second, T0)
    assert won.department == "sanitation"


def test_every_change_needs_a_reason():
    with pytest.raises(IllegalAction, match="a reason is required"):
        act(new_case(), Action(A.VERIFY, "u1", "  ", expected_version=1), T0)


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("kind", list(A))
def test_every_action_in_every_state_is_either_done_or_refused_with_a_reason(state, kind):
    case = new_case(state=state, parked_from=S.DISPATCHED if state is S.PARKED else None, department="roads")
    fields = {"department": "roads", "reject_reason": "duplicate", "hours": 2, "assignee": "W1"}
    allowed, target = RULES[kind]
    if state not in allowed:
        with pytest.raises(IllegalAction, match=f"cannot {kind.value} a case that is {state.value}"):
            do(case, kind, **fields)
        return
    after, entry = do(case, kind, **fields)
    assert after.version == case.version + 1 and entry.after["version"] == after.version
    if target is not None:
        assert after.state is target
    if state in FINAL:
        raise AssertionError("a final case changed")
