"""The action panel's rules, pure: which actions each step offers, the command a form becomes, and undo."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from dashboard.layouts.case_actions import action_buttons, suggestion_label, target_options
from dashboard.views.case_actions import (
    Form,
    FormError,
    Seen,
    available,
    command_for,
    primary,
    undo_command,
    undoable,
)
from feeds.cases.machine import Action, ActionKind, Case, CaseState, act
from feeds.cases.suggestions import Suggestion
from tests.components import shown_texts

A = ActionKind
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def seen(state: str = "dispatched", **fields) -> Seen:
    base = {"case_id": "C-1", "version": 4, "state": state, "level": "grid", "department": "sanitation",
            "assignee": "W07",
                "drill": None, "category": "env.garbage"}
    return Seen(**{**base, **fields})


# every open state → what the panel offers, in order (written out from the case loop, not computed)
OFFERED = {
    "reported": [A.VERIFY, A.REASSIGN, A.SELF_HANDLE, A.ESCALATE, A.REJECT, A.VOID],
    "verified": [A.REGISTER, A.REASSIGN, A.SELF_HANDLE, A.ESCALATE, A.REJECT, A.VOID],
    "registered": [A.DISPATCH, A.REASSIGN, A.ESCALATE, A.PARK, A.VOID],
    "dispatched": [A.HANDLE, A.REASSIGN, A.EXTEND, A.SEND_BACK, A.ESCALATE, A.PARK, A.VOID],
    "handled": [A.CHECK_PASS, A.REASSIGN, A.CHECK_FAIL, A.ESCALATE, A.VOID],
    "checked": [A.CLOSE, A.ESCALATE, A.VOID],
    "parked": [A.RESTORE, A.ESCALATE, A.VOID],
    "closed": [],
    "rejected": [],
    "void": [],
}


@pytest.mark.parametrize("state", sorted(OFFERED))
def test_each_step_offers_its_own_action_first_then_the_rest(state):
    case = seen(state)
    assert available(case) == OFFERED[state]
    assert primary(case) == (OFFERED[state][0] if OFFERED[state] else None)


def test_a_case_at_the_district_cannot_be_escalated_further():
    assert A.ESCALATE not in available(seen(level="district"))
    assert A.ESCALATE in available(seen(level="street"))


def test_buttons_are_numbered_for_the_keyboard_and_mark_the_main_and_the_destructive_ones():
    tree = action_buttons("C-1", OFFERED["reported"], A.VERIFY, "reassign", "zh", "grid")
    buttons = list(tree)
    assert [getattr(b, "data-action") for b in buttons] == [a.value for a in OFFERED["reported"]]
    assert all(getattr(b, "data-case") == "C-1" for b in buttons)
    assert "act-main" in buttons[0].className and "act-chosen" in buttons[1].className
    assert "act-danger" in buttons[4].className and "act-danger" in buttons[5].className
    texts = [x for b in buttons for x in shown_texts(b)]
    assert "1" in texts and "核实" in texts and "升级至社区" in texts


@pytest.mark.parametrize(("form", "fields"), [
    (Form("reassign", "原处置人不在岗", target="person:W09"), {"department": None, "assignee": "W09"}),
    (Form("reassign", "非本部门职责", target="department:gardens"), {"department": "gardens", "assignee": None}),
    (Form("extend", "等待配件", hours=24), {"hours": 24.0}),
    (Form("escalate", "涉及多部门"), {}),
    (Form("send_back", "非本部门职责"), {}),
    (Form("handle", "部门反馈已处置"), {}),
    (Form("void", "误报"), {}),
])
def test_a_confirmed_form_becomes_the_command_stamped_with_the_version_seen(form, fields):
    command = command_for(form, seen(), "dispatcher", "ui-1", NOW)
    assert (command.case_id, command.action, command.by, command.expected_version, command.source) == (
        "C-1", form.action, "dispatcher", 4, "dashboard")
    assert command.reason == form.reason and command.drill_id is None
    for name, value in fields.items():
        assert getattr(command, name) == value


def test_dispatch_takes_a_department_and_an_optional_person_and_reject_a_reason():
    registered = seen("registered", department=None, assignee=None)
    command = command_for(Form("dispatch", "按职责派遣", department="sanitation", assignee="W09"), registered, "d", "1",
                          NOW)
    assert (command.department, command.assignee) == ("sanitation", "W09")
    rejected = command_for(Form("reject", "重复上报", reject_reason="duplicate"), seen("verified"), "d", "2", NOW)
    assert rejected.reject_reason == "duplicate"


def test_a_drill_case_is_acted_on_inside_its_drill():
    command = command_for(Form("escalate", "演练"), seen(drill="typhoon-1"), "dispatcher", "ui-2", NOW)
    assert command.drill_id == "typhoon-1"


@pytest.mark.parametrize(("form", "state", "key"), [
    (Form("reassign", "  "), "dispatched", "act_need_reason"),
    (Form("reassign", "x"), "dispatched", "act_need_target"),
    (Form("reassign", "x", target="person:W07"), "dispatched", "act_same_target"),
    (Form("dispatch", "x"), "registered", "act_need_department"),
    (Form("extend", "x"), "dispatched", "act_need_hours"),
    (Form("extend", "x", hours=0), "dispatched", "act_need_hours"),
    (Form("extend", "x", hours=721), "dispatched", "act_need_hours"),
    (Form("reject", "x", reject_reason="boring"), "verified", "act_need_reject_reason"),
    (Form("close", "x"), "dispatched", "act_not_now"),
    (Form("fly", "x"), "dispatched", "act_unknown"),
])
def test_an_incomplete_or_impossible_form_says_what_is_missing(form, state, key):
    with pytest.raises(FormError) as err:
        command_for(form, seen(state), "dispatcher", "ui-3", NOW)
    assert err.value.key == key


def test_reassigning_to_the_department_it_is_with_takes_it_off_the_person_unless_nobody_holds_it():
    command = command_for(Form("reassign", "x", target="department:sanitation"), seen(), "d", "ui-9", NOW)
    assert (command.department, command.assignee) == ("sanitation", None)
    with pytest.raises(FormError, match="act_same_target"):
        command_for(Form("reassign", "x", target="department:sanitation"), seen(assignee=None), "d", "ui-10", NOW)


def _case(s: Seen) -> Case:
    return Case(s.case_id, s.category, False, CaseState(s.state), NOW, s.version, s.level, s.department, s.assignee,
                parked_from=None)


def _apply(case: Case, command) -> Case:
    after, _ = act(case, Action(A(command.action), command.by, command.reason, command.expected_version,
                                command.department, command.assignee, command.reject_reason, command.hours), NOW)
    return after


@pytest.mark.parametrize(("form", "before"), [
    (Form("reassign", "就近", target="person:W09"), seen()),
    (Form("reassign", "非本部门职责", target="department:gardens"), seen()),
    (Form("reassign", "就近", target="person:W09"), seen(department=None)),
    (Form("dispatch", "按职责派遣", department="sanitation", assignee="W09"),
     seen("registered", department=None, assignee=None)),
    (Form("park", "暂不具备处置条件"), seen()),
])
def test_undo_puts_the_case_back_as_it_was(form, before):
    assert undoable(form, before)
    case = _case(before)
    after = _apply(case, command_for(form, before, "dispatcher", "ui-4", NOW))
    undo = undo_command(form, before, after.version, "dispatcher", "撤销", "ui-5", NOW)
    assert undo is not None and undo.expected_version == after.version
    back = _apply(after, undo)
    fields = ("state", "department", "assignee", "level", "extended_hours", "parked_from")
    assert {f: getattr(back, f) for f in fields} == {f: getattr(case, f) for f in fields}


@pytest.mark.parametrize(("form", "before"), [
    (Form("extend", "x", hours=4), seen()),
    (Form("escalate", "x"), seen()),
    (Form("verify", "x"), seen("reported")),
    (Form("reassign", "x", target="department:gardens"), seen(department=None)),  # no way back to no department
    (Form("reassign", "x", target="person:W09"), seen("reported", department=None, assignee=None)),
    (Form("dispatch", "x", department="gardens"), seen("registered", department="sanitation", assignee=None)),
])
def test_steps_that_cannot_be_taken_back_exactly_offer_no_undo(form, before):
    assert not undoable(form, before)
    assert undo_command(form, before, before.version + 1, "d", "撤销", "ui-6", NOW) is None


def test_an_undo_after_someone_else_acted_is_a_conflict_not_an_overwrite():
    before = seen()
    form = Form("reassign", "就近", target="person:W09")
    after = _apply(_case(before), command_for(form, before, "dispatcher", "ui-7", NOW))
    meanwhile = replace(after, version=after.version + 1)  # another dispatcher acted in between
    undo = undo_command(form, before, after.version, "dispatcher", "撤销", "ui-8", NOW)
    with pytest.raises(ValueError, match="changed by someone else"):
        _apply(meanwhile, undo)


def test_suggestions_read_as_a_dispatcher_speaks():
    found = [Suggestion("grid_worker", "W07", "张三", 320.4, 2, 12.2),
             Suggestion("patrol", "P09", "李四", None, 0, None),
             Suggestion("department", "sanitation", "环卫所", load=5)]
    assert suggestion_label(found[0], "zh") == "张三 · 本网格网格员 · 320 米 · 在办 2 件 · 12 秒前定位"
    assert suggestion_label(found[1], "zh") == "李四 · 就近巡查员 · 不在岗 · 在办 0 件"
    assert suggestion_label(found[2], "en") == "环卫所 · department · 5 open"
    assert [o["value"] for o in target_options(found, "zh")] == ["person:W07", "person:P09", "department:sanitation"]
