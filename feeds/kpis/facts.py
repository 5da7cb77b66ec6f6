"""A case's facts, replayed from its row and its audit trail: when each timed step ran, who ended it and how."""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, NamedTuple

from feeds.cases.machine import OPEN_STEP, RULES, CaseState, Step
from feeds.schemas import ActionKind

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaseRecord:
    """What the case row and its opening report say."""

    id: str
    category: str
    urgent: bool
    channel: str  # of the first report
    grid: str | None
    reporter: str | None  # of the first report (a patrol unit id, or None for citizens)
    occurred_at: datetime | None  # when the source knew it arose
    reported_at: datetime  # first report
    drill_id: str | None = None


@dataclass(frozen=True)
class TrailEvent:
    """One audit row: the action, who, when, and the fields it changed to (the row's `after`)."""

    action: str
    by: str
    at: datetime
    after: Mapping[str, Any] = field(default_factory=dict)


class StepRun(NamedTuple):
    """One run of a timed step: from when its clock started to when it ended (None: still open).
    `done`: ended by doing the step (verify, register, dispatch, handle, check_pass/fail, close); a run ended
    by a send-back, park, void or a rejection at another step is not done. `by`: who ended it. A named tuple:
    a month of a city's cases holds some 700,000 runs, made a third faster and smaller than a frozen dataclass's."""

    step: Step
    started_at: datetime
    ended_at: datetime | None = None
    done: bool = False
    by: str | None = None
    department: str | None = None  # handle runs: the department handling
    held_from: datetime | None = None  # handle runs taken over by a reassignment: from then (the clock runs on)

    @property
    def held_since(self) -> datetime:
        """From when the run's holder answers for it: its start, or the reassignment that gave it to them."""
        return self.held_from or self.started_at


@dataclass(frozen=True)
class CaseFacts:
    id: str
    category: str
    urgent: bool
    channel: str
    grid: str | None
    reporter: str | None
    occurred_at: datetime | None
    reported_at: datetime
    drill_id: str | None = None
    verified_at: datetime | None = None  # 核实 decided: verified, rejected or self-handled from `reported`
    rejected_at: datetime | None = None
    reject_reason: str | None = None
    registered_at: datetime | None = None  # 立案, or the moment it was self-handled (自行处置)
    self_handled: bool = False
    dispatched_at: datetime | None = None  # first dispatch
    first_handled_at: datetime | None = None
    closed_at: datetime | None = None
    voided_at: datetime | None = None
    reworks: int = 0
    extensions: tuple[tuple[datetime, float], ...] = ()  # (granted, the case's extension hours from then on)
    runs: tuple[StepRun, ...] = ()
    parked: tuple[tuple[datetime, datetime | None], ...] = ()  # (parked, restored)

    @property
    def finished_at(self) -> datetime | None:
        return self.closed_at or self.rejected_at or self.voided_at

    def registered_by(self, as_of: datetime) -> bool:
        return self.registered_at is not None and self.registered_at <= as_of

    def open_at(self, moment: datetime) -> bool:
        finished = self.finished_at
        return self.reported_at <= moment and (finished is None or finished > moment)


# The replay follows the machine's own rules (feeds.cases.machine.RULES): an action that leads to a state ends the
# open step's run and starts the next state's. The run counts as done unless the action stopped the clock without
# doing the step. Actions that change no state are replayed by name in `case_facts`; audit rows that are no
# command ("report", "merge") and escalation leave every clock alone.
_UNDONE = frozenset({ActionKind.SEND_BACK, ActionKind.PARK, ActionKind.VOID})
_STEP_ENDS: dict[str, tuple[CaseState, bool]] = {  # action -> (state after, the open run is done)
    action: (target, action not in _UNDONE) for action, (_, target) in RULES.items() if target is not None}
_REPLAYED_BY_NAME = frozenset({ActionKind.EXTEND, ActionKind.REASSIGN, ActionKind.RESTORE})
_NO_CLOCK = frozenset({"report", "merge", ActionKind.ESCALATE})
KPI_REPLAY_ACTIONS = frozenset(_STEP_ENDS) | _REPLAYED_BY_NAME | _NO_CLOCK  # tests: every ActionKind is here


def case_facts(record: CaseRecord, trail: Iterable[TrailEvent]) -> CaseFacts:
    """Replay the audit trail (in time order) into the facts the figures need."""
    state = CaseState.REPORTED
    department: str | None = None
    runs: list[StepRun] = []
    current: StepRun | None = StepRun(Step.VERIFY, record.reported_at)
    parked: list[tuple[datetime, datetime | None]] = []
    parked_from = CaseState.REGISTERED
    f: dict[str, Any] = {}
    reworks = 0
    extensions: list[tuple[datetime, float]] = []
    for ev in trail:
        after = ev.after
        if ev.action == "extend":
            extensions.append((ev.at, float(after.get("extended_hours", extensions[-1][1] if extensions else 0.0))))
            continue
        if ev.action == "reassign" and "department" in after:
            moved_to = after["department"]
            if current is not None and current.step is Step.HANDLE and moved_to != current.department:
                # the old department's run ends undone here; the new one holds it from now, on the same clock
                runs.append(StepRun(Step.HANDLE, current.started_at, ev.at, False, ev.by, current.department,
                                    current.held_from))
                current = StepRun(Step.HANDLE, current.started_at, department=moved_to, held_from=ev.at)
            department = moved_to
            continue
        if ev.action == "restore" and state == "parked":
            parked[-1] = (parked[-1][0], ev.at)
            state = CaseState(after.get("state", parked_from))
            step = OPEN_STEP.get(state)
            current = StepRun(step, ev.at, department=department if step is Step.HANDLE else None) if step else None
            continue
        if ev.action not in _STEP_ENDS:
            if ev.action not in KPI_REPLAY_ACTIONS:
                _log.warning("case %s: audit action %r is unknown to the KPI replay; its clocks are left alone",
                             record.id, ev.action)
            continue  # report, merge, escalate, reassign of a person only: the clock is not touched
        target, done = _STEP_ENDS[ev.action]
        if current is not None:
            runs.append(StepRun(current.step, current.started_at, ev.at, done, ev.by, current.department,
                                current.held_from))
        match ev.action:
            case "verify":
                f.setdefault("verified_at", ev.at)
            case "register":
                f.setdefault("registered_at", ev.at)
            case "reject":
                if state is CaseState.REPORTED:
                    f.setdefault("verified_at", ev.at)
                f["rejected_at"] = ev.at
                f["reject_reason"] = after.get("reject_reason")
            case "self_handle":
                if state is CaseState.REPORTED:
                    f.setdefault("verified_at", ev.at)
                f.setdefault("registered_at", ev.at)
                f["self_handled"] = True
                f.setdefault("first_handled_at", ev.at)
            case "dispatch":
                department = after.get("department", department)
                f.setdefault("dispatched_at", ev.at)
            case "send_back":
                department = None
            case "handle":
                f.setdefault("first_handled_at", ev.at)
            case "check_fail":
                reworks += 1
            case "close":
                f["closed_at"] = ev.at
            case "park":
                parked_from = state
                parked.append((ev.at, None))
            case "void":
                f["voided_at"] = ev.at
        state = target
        step = OPEN_STEP.get(state)
        current = StepRun(step, ev.at, department=department if step is Step.HANDLE else None) if step else None
    if current is not None:
        runs.append(current)
    return CaseFacts(id=record.id, category=record.category, urgent=record.urgent, channel=record.channel,
                     grid=record.grid, reporter=record.reporter, occurred_at=record.occurred_at,
                     reported_at=record.reported_at, drill_id=record.drill_id, reworks=reworks,
                     extensions=tuple(extensions), runs=tuple(runs), parked=tuple(parked), **f)


_FACT_FIELDS = tuple(f.name for f in fields(CaseFacts))
_FACT_MOMENTS = frozenset({"occurred_at", "reported_at", "verified_at", "rejected_at", "registered_at",
                           "dispatched_at", "first_handled_at", "closed_at", "voided_at"})


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def facts_to_json(facts: CaseFacts) -> str:
    """A case's facts as compact JSON (for the cache of feeds/kpis/cache.py); `facts_from_json` gives back an
    equal CaseFacts. Moments keep their microseconds and their UTC offset."""
    out: list[Any] = []
    for name in _FACT_FIELDS:
        value = getattr(facts, name)
        if name in _FACT_MOMENTS:
            value = None if value is None else value.isoformat()
        elif name == "runs":
            value = [[r.step.value, r.started_at.isoformat(), _text(r.ended_at), r.done, r.by, r.department,
                      _text(r.held_from)] for r in value]
        elif name == "extensions":
            value = [[granted.isoformat(), hours] for granted, hours in value]
        elif name == "parked":
            value = [[p.isoformat(), _text(r)] for p, r in value]
        out.append(value)
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


_STEP_OF = {s.value: s for s in Step}  # a dict lookup: calling the enum for each of a month's runs took a fifth of it


def facts_from_json(text: str) -> CaseFacts:
    values = dict(zip(_FACT_FIELDS, json.loads(text), strict=True))
    moment = datetime.fromisoformat
    for name in _FACT_MOMENTS:
        if values[name] is not None:
            values[name] = moment(values[name])
    values["runs"] = tuple(StepRun(_STEP_OF[step], moment(start), None if end is None else moment(end), done, by, dept,
                                   None if held is None else moment(held))
                           for step, start, end, done, by, dept, held in values["runs"])
    values["extensions"] = tuple((moment(granted), hours) for granted, hours in values["extensions"])
    values["parked"] = tuple((moment(p), None if r is None else moment(r)) for p, r in values["parked"])
    return CaseFacts(**values)


def in_scope(cases: Iterable[CaseFacts], drill_id: str | None = None) -> list[CaseFacts]:
    """Live cases (drill_id None) or the cases of one drill: the two never mix."""
    return [c for c in cases if c.drill_id == drill_id]
