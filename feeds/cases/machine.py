"""The case loop (闭环), pure: states, actions, what each action may do, and the audit of each change.

report → verify (核实) → register (立案) or reject (untrue / out of scope / duplicate) → dispatch (派遣)
→ handle (处置) → check on site (核查) → close (结案). Branches: send back as "not ours" and re-dispatch
(回退), extend (延期), park and restore (挂账 / 恢复), void (作废), rework after a failed check (返工),
self-handled on the spot (自行处置), escalate a level (grid → community → street → district).

`act(case, action, at)` returns the new case and its audit entry, or raises IllegalAction with the reason;
an action stamped with a stale version raises VersionConflict (never a silent overwrite).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from feeds.schemas import ActionKind


class CaseState(StrEnum):
    REPORTED = "reported"  # 待核实: the verify step is open
    VERIFIED = "verified"  # 待立案: register
    REGISTERED = "registered"  # 待派遣: dispatch
    DISPATCHED = "dispatched"  # 处置中: handle
    HANDLED = "handled"  # 待核查: check
    CHECKED = "checked"  # 待结案: close
    CLOSED = "closed"  # 已结案
    REJECTED = "rejected"  # 不予立案
    PARKED = "parked"  # 挂账
    VOID = "void"  # 作废


class Step(StrEnum):
    """The timed steps of the loop: each has a time limit, and its clock runs while the case waits for it."""

    VERIFY = "verify"  # 核实
    REGISTER = "register"  # 立案
    DISPATCH = "dispatch"  # 派遣
    HANDLE = "handle"  # 处置
    CHECK = "check"  # 核查
    CLOSE = "close"  # 结案


OPEN_STEP: dict[CaseState, Step] = {  # the step whose clock runs in each state
    CaseState.REPORTED: Step.VERIFY,
    CaseState.VERIFIED: Step.REGISTER,
    CaseState.REGISTERED: Step.DISPATCH,
    CaseState.DISPATCHED: Step.HANDLE,
    CaseState.HANDLED: Step.CHECK,
    CaseState.CHECKED: Step.CLOSE,
}
FINAL = frozenset({CaseState.CLOSED, CaseState.REJECTED, CaseState.VOID})
LEVELS = ("grid", "community", "street", "district")


REJECT_REASONS = ("untrue", "out_of_scope", "duplicate")

# action -> the states it may start from and the state it leads to (None: the state does not change)
RULES: dict[ActionKind, tuple[frozenset[CaseState], CaseState | None]] = {
    ActionKind.VERIFY: (frozenset({CaseState.REPORTED}), CaseState.VERIFIED),
    ActionKind.REGISTER: (frozenset({CaseState.VERIFIED}), CaseState.REGISTERED),
    ActionKind.REJECT: (frozenset({CaseState.REPORTED, CaseState.VERIFIED}), CaseState.REJECTED),
    ActionKind.DISPATCH: (frozenset({CaseState.REGISTERED}), CaseState.DISPATCHED),
    ActionKind.SEND_BACK: (frozenset({CaseState.DISPATCHED}), CaseState.REGISTERED),
    ActionKind.HANDLE: (frozenset({CaseState.DISPATCHED}), CaseState.HANDLED),
    ActionKind.SELF_HANDLE: (frozenset({CaseState.REPORTED, CaseState.VERIFIED}), CaseState.HANDLED),
    ActionKind.CHECK_PASS: (frozenset({CaseState.HANDLED}), CaseState.CHECKED),
    ActionKind.CHECK_FAIL: (frozenset({CaseState.HANDLED}), CaseState.DISPATCHED),
    ActionKind.CLOSE: (frozenset({CaseState.CHECKED}), CaseState.CLOSED),
    ActionKind.EXTEND: (frozenset({CaseState.DISPATCHED}), None),
    ActionKind.PARK: (frozenset({CaseState.REGISTERED, CaseState.DISPATCHED}), CaseState.PARKED),
    ActionKind.RESTORE: (frozenset({CaseState.PARKED}), None),  # back to where it was parked from
    ActionKind.VOID: (frozenset(set(CaseState) - FINAL), CaseState.VOID),
    ActionKind.ESCALATE: (frozenset(set(CaseState) - FINAL), None),
    ActionKind.REASSIGN: (frozenset({CaseState.REPORTED, CaseState.VERIFIED, CaseState.REGISTERED,
                                     CaseState.DISPATCHED, CaseState.HANDLED}), None),
}


class IllegalAction(ValueError):
    """The action is not allowed for the case as it is; the message says why."""


class VersionConflict(IllegalAction):
    """Someone changed the case first; the message says what it is now."""


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    urgent: bool
    state: CaseState
    step_started_at: datetime  # when the open step's clock started
    version: int = 1
    level: str = "grid"
    department: str | None = None
    assignee: str | None = None
    extended_hours: float = 0.0  # added to the handle limit by extensions
    reworks: int = 0
    parked_from: CaseState | None = None
    reject_reason: str | None = None

    @property
    def open_step(self) -> str | None:
        return OPEN_STEP.get(self.state)


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    by: str  # who
    reason: str  # why (required: every change is traced)
    expected_version: int  # the version the actor saw
    department: str | None = None  # dispatch, send back, reassign
    assignee: str | None = None
    reject_reason: str | None = None  # one of REJECT_REASONS
    hours: float | None = None  # extend


@dataclass(frozen=True)
class AuditEntry:
    case_id: str
    action: str
    by: str
    reason: str
    at: datetime
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


_CASE_FIELDS = tuple(f.name for f in fields(Case))


def _fields(case: Case) -> dict[str, Any]:
    out = {name: getattr(case, name) for name in _CASE_FIELDS}
    out["step_started_at"] = case.step_started_at.isoformat()
    return {k: (v.value if isinstance(v, StrEnum) else v) for k, v in out.items()}


def act(case: Case, action: Action, at: datetime) -> tuple[Case, AuditEntry]:
    """Apply one action. Raises VersionConflict or IllegalAction with a reason a person can act on."""
    if action.expected_version != case.version:
        raise VersionConflict(f"case {case.id} was changed by someone else: it is now version {case.version}, "
                              f"{case.state.value}; you acted on version {action.expected_version}")
    if not action.reason.strip():
        raise IllegalAction("a reason is required")
    allowed, target = RULES[action.kind]
    if case.state not in allowed:
        raise IllegalAction(f"cannot {action.kind.value} a case that is {case.state.value}")
    changes: dict[str, Any] = {}
    match action.kind:
        case ActionKind.REJECT:
            if action.reject_reason not in REJECT_REASONS:
                raise IllegalAction(f"a rejection needs one of {', '.join(REJECT_REASONS)}")
            changes["reject_reason"] = action.reject_reason
        case ActionKind.DISPATCH:
            if not action.department:
                raise IllegalAction("dispatch needs a department")
            changes.update(department=action.department, assignee=action.assignee)
        case ActionKind.SEND_BACK:
            changes.update(department=None, assignee=None)
        case ActionKind.REASSIGN:
            if not (action.department or action.assignee):
                raise IllegalAction("reassign needs a department or a person")
            changes.update(department=action.department or case.department, assignee=action.assignee)
        case ActionKind.EXTEND:
            if not action.hours or action.hours <= 0:
                raise IllegalAction("an extension needs a positive number of hours")
            changes["extended_hours"] = case.extended_hours + action.hours
        case ActionKind.CHECK_FAIL:
            changes["reworks"] = case.reworks + 1
        case ActionKind.PARK:
            changes["parked_from"] = case.state
        case ActionKind.RESTORE:
            target = case.parked_from or CaseState.REGISTERED  # its clock starts again on restore
            changes["parked_from"] = None
        case ActionKind.ESCALATE:
            index = LEVELS.index(case.level)
            if index == len(LEVELS) - 1:
                raise IllegalAction("the case is already at the district, the highest level")
            changes["level"] = LEVELS[index + 1]
    if target is not None and target is not case.state:
        changes["state"] = target
        changes["step_started_at"] = at  # a new step's clock starts now
    after = replace(case, version=case.version + 1, **changes)
    before_fields, after_fields = _fields(case), _fields(after)
    diff = {k for k in after_fields if after_fields[k] != before_fields[k]}
    audit = AuditEntry(case.id, action.kind.value, action.by, action.reason, at,
                       {k: before_fields[k] for k in sorted(diff)}, {k: after_fields[k] for k in sorted(diff)})
    return after, audit
