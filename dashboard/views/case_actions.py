"""What a dispatcher may do to a case, pure: the actions its step allows (in the order a dispatcher uses
them), what each asks for, the command a confirmed form becomes, and the undo of the steps that have one.

The command carries the version of the case the dispatcher saw when opening the form: if anyone changed the
case since, the ingest refuses it as a conflict instead of overwriting (feeds/cases/machine.py). No I/O here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from feeds.cases.machine import LEVELS, REJECT_REASONS, RULES, ActionKind, CaseState
from feeds.schemas import CaseCommand

A = ActionKind
UNDO_S = 10  # how long a step that can be undone offers it
COMMAND_SOURCE = "dashboard"
DEFAULT_EXTEND_HOURS = 24.0

# in the order they are used: the step's own action first, then what moves a case sideways, the rest last
ORDER: tuple[ActionKind, ...] = (
    A.VERIFY, A.REGISTER, A.DISPATCH, A.HANDLE, A.CHECK_PASS, A.CLOSE, A.RESTORE,
    A.REASSIGN, A.EXTEND, A.SEND_BACK, A.CHECK_FAIL, A.SELF_HANDLE, A.ESCALATE, A.PARK, A.REJECT, A.VOID,
)
STEP_ACTION: dict[CaseState, ActionKind] = {  # the action that finishes each open step
    CaseState.REPORTED: A.VERIFY, CaseState.VERIFIED: A.REGISTER, CaseState.REGISTERED: A.DISPATCH,
    CaseState.DISPATCHED: A.HANDLE, CaseState.HANDLED: A.CHECK_PASS, CaseState.CHECKED: A.CLOSE,
    CaseState.PARKED: A.RESTORE,
}
DESTRUCTIVE = frozenset({A.REJECT, A.VOID})
# what each action asks for besides a reason
FIELDS: dict[ActionKind, tuple[str, ...]] = {
    A.REASSIGN: ("target",),
    A.DISPATCH: ("department", "assignee"),
    A.EXTEND: ("hours",),
    A.REJECT: ("reject_reason",),
}


class FormError(ValueError):
    """The form cannot become a command; `key` names the UI string that says why."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(detail or key)
        self.key = key


@dataclass(frozen=True)
class Seen:
    """The case as the dispatcher saw it when choosing an action: what the command is checked against."""

    case_id: str
    version: int
    state: str
    level: str
    department: str | None
    assignee: str | None
    drill: str | None
    category: str

    @classmethod
    def of(cls, view: dict[str, Any]) -> Seen:
        return cls(view["id"], view["version"], view["state"], view.get("level") or "grid", view.get("department"),
                   view.get("assignee"), view.get("drill"), view["category"])

    def data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Seen:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


def available(seen: Seen) -> list[ActionKind]:
    """The actions the case's state allows, in ORDER (escalation stops at the district)."""
    state = CaseState(seen.state)
    return [a for a in ORDER if state in RULES[a][0]
            and not (a is A.ESCALATE and seen.level == LEVELS[-1])]


def primary(seen: Seen) -> ActionKind | None:
    """The action that finishes the open step, when the state allows it."""
    action = STEP_ACTION.get(CaseState(seen.state))
    return action if action is not None and action in available(seen) else None


@dataclass(frozen=True)
class Form:
    """What the dispatcher filled in. `target` is "person:<id>" or "department:<code>" (a suggestion)."""

    action: str
    reason: str | None = None
    target: str | None = None
    department: str | None = None
    assignee: str | None = None
    hours: float | None = None
    reject_reason: str | None = None


def _target(target: str | None) -> tuple[str | None, str | None]:
    """(department, assignee) of a chosen suggestion."""
    if not target or ":" not in target:
        return None, None
    kind, _, code = target.partition(":")
    if kind == "department" and code:
        return code, None
    if kind == "person" and code:
        return None, code
    return None, None


def command_for(form: Form, seen: Seen, by: str, command_id: str, now: datetime) -> CaseCommand:
    """The command a confirmed form becomes, or FormError naming what is missing."""
    try:
        action = ActionKind(form.action)
    except ValueError:
        raise FormError("act_unknown", form.action) from None
    if action not in available(seen):
        raise FormError("act_not_now")
    reason = (form.reason or "").strip()
    if not reason:
        raise FormError("act_need_reason")
    department, assignee, hours, reject_reason = None, None, None, None
    match action:
        case A.REASSIGN:
            department, assignee = _target(form.target)
            if department is None and assignee is None:
                raise FormError("act_need_target")
            if (department or seen.department) == seen.department and assignee == seen.assignee:
                raise FormError("act_same_target")
        case A.DISPATCH:
            department, assignee = form.department, form.assignee or None
            if not department:
                raise FormError("act_need_department")
        case A.EXTEND:
            hours = form.hours
            if hours is None or not 0 < hours <= 720:
                raise FormError("act_need_hours")
        case A.REJECT:
            reject_reason = form.reject_reason
            if reject_reason not in REJECT_REASONS:
                raise FormError("act_need_reject_reason")
    return _command(command_id, seen, action, by, reason, now, department=department, assignee=assignee,
                    hours=hours, reject_reason=reject_reason)


def _command(command_id: str, seen: Seen, action: ActionKind, by: str, reason: str, now: datetime,
             version: int | None = None, **fields: Any) -> CaseCommand:
    try:
        return CaseCommand(schema_version=1, id=command_id, source=COMMAND_SOURCE, ts=now, drill_id=seen.drill,
                           kind="case_command", case_id=seen.case_id, action=action.value, by=by, reason=reason[:500],
                           expected_version=version or seen.version, **{
                               k: fields.get(k) for k in ("department", "assignee", "hours", "reject_reason")})
    except ValidationError as err:
        raise FormError("act_invalid", str(err.errors()[0]["msg"])) from err


def undoable(form: Form, seen: Seen) -> bool:
    """Whether the step can be taken back exactly: a reassignment (to where it was), a dispatch (sent back
    while it had no department), a parking (restored). Verifying, closing, escalating and the rest cannot."""
    match form.action:
        case A.REASSIGN:
            department, _ = _target(form.target)
            had = seen.department is not None or seen.assignee is not None
            return had and (seen.department is not None or department is None)
        case A.DISPATCH:
            return seen.department is None and seen.assignee is None
        case A.PARK:
            return True
    return False


def undo_command(form: Form, seen: Seen, version_after: int, by: str, reason: str, command_id: str,
                 now: datetime) -> CaseCommand | None:
    """The command that takes the step back, expecting the case as the step left it (version_after): if
    anyone acted on it since, the undo is refused as a conflict like any other command."""
    if not undoable(form, seen):
        return None
    after = Seen(seen.case_id, version_after, seen.state, seen.level, seen.department, seen.assignee, seen.drill,
                 seen.category)
    match form.action:
        case A.REASSIGN:
            return _command(command_id, after, A.REASSIGN, by, reason, now, department=seen.department,
                            assignee=seen.assignee)
        case A.DISPATCH:
            return _command(command_id, after, A.SEND_BACK, by, reason, now)
        case A.PARK:
            return _command(command_id, after, A.RESTORE, by, reason, now)
    return None
