"""The people who act on cases: grid workers verify on site (核实) and check the result (核查), dispatchers
register, dispatch and close, departments handle, send back what is not theirs and ask for extensions.

They watch the open cases (as every screen sees them) and act on each open step after a realistic
share of its time limit, counted in working time for limits in working hours or days: most well in time,
a few late. Every act is a case command through the bus, with the version of the case they saw, exactly as
a person at a screen would send it; if someone else changed the case first (a dispatcher, the escalator),
they see the new version and act again on that.

Pure and seeded: when and how a case's step is done depends only on the seed, the case and its step,
not on the order in which cases are looked at.
"""
from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from feeds.calendar import Limit, LimitUnit, WorkingCalendar
from feeds.cases.escalation import OpenStep, step_limit
from feeds.cases.machine import CaseState
from feeds.clock import from_ms
from feeds.schemas import SCHEMA_VERSION, CaseCommand, ReportChannel
from feeds.taxonomy import Taxonomy
from simulators.geography import District
from simulators.incidents import Ledger, Truth
from simulators.patrols import patrol_units

SOURCE = "simulator"
DISPATCHERS = tuple(f"DS{k:02d}" for k in range(1, 7))
LATE = 0.004  # chance a step is done after its limit
WRONG_DEPARTMENT = 0.02  # dispatched to a department that sends it back as not theirs (回退)
EXTEND = 0.003  # a department asks for more time (延期)
REWORK = 0.003  # the check on site fails (返工)
SELF_HANDLE = 0.25  # of true small matters a grid worker found: dealt with on the spot (自行处置)
SELF_HANDLED = frozenset({"env.garbage", "order.vendor", "order.parking"})
RETRY = timedelta(minutes=10)  # a command that changed nothing is sent again after this long
# when each kind of actor gets things done: grid workers on their rounds (weekends too), the centre's
# dispatchers from morning to late evening every day, departments in the office calendar
ON_ROUNDS = WorkingCalendar(periods=((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30))),
                            workdays=frozenset(range(7)))
AT_THE_CENTRE = WorkingCalendar(periods=((time(8, 0), time(22, 0)),), workdays=frozenset(range(7)))
REASONS = {
    "verify": "现场核实，情况属实", "register": "符合立案条件，予以立案", "dispatch": "按职责派遣",
    "send_back": "不属于本单位职责，申请回退", "handle": "已处置完毕，上传处置照片", "extend": "处置难度较大，申请延期",
    "self_handle": "现场已自行处置", "check_pass": "现场核查，处置到位", "check_fail": "现场核查，处置不到位，返工",
    "close": "核查通过，予以结案",
}
REJECT_TEXT = {Truth.UNTRUE: "现场核实，情况不属实", Truth.OUT_OF_SCOPE: "不属于网格化管理事项，予以退回",
               Truth.DUPLICATE: "与已立案件重复"}


@dataclass(frozen=True, slots=True)
class Plan:
    """The next act on a case: when, by whom, what."""

    at: datetime
    by: str
    action: str
    department: str | None = None
    reject_reason: str | None = None
    hours: float | None = None


class CaseWorkers:
    """Everyone who acts on cases, simulated. `due(now, cases)` returns the commands to send now."""

    def __init__(self, district: District, seed: int, taxonomy: Taxonomy, calendar: WorkingCalendar,
                 ledger: Ledger, run_id: str, drill_id: str | None = None) -> None:
        self._seed = seed
        self._taxonomy = taxonomy
        self._calendar = calendar
        self._ledger = ledger
        self._workers = {grid: f"GW-{unit}" for grid, unit in patrol_units(district).items()}
        self._departments = sorted(taxonomy.departments)
        self.run_id = run_id
        self.drill_id = drill_id
        self._sent: dict[tuple[str, int], datetime] = {}  # (case, version) -> when acted on
        self._plans: dict[tuple[str, int, int], Plan | None] = {}  # (case, version, step start) -> next act
        self._counter = 0

    def plan(self, case: Mapping[str, Any]) -> Plan | None:
        """The next act on one open case, from what a screen shows of it (None: nothing to do)."""
        state = CaseState(case["state"])
        if state not in {CaseState.REPORTED, CaseState.VERIFIED, CaseState.REGISTERED, CaseState.DISPATCHED,
                         CaseState.HANDLED, CaseState.CHECKED} or case["category"] not in self._taxonomy.categories:
            return None
        started = from_ms(case["step_started"])
        rng = random.Random(f"{self._seed}:case:{case['id']}:{state.value}:{case['step_started']}")
        known = self._ledger.get(case["id"])
        truth = known.truth if known else Truth.TRUE
        channel = known.channel if known else None
        worker = self._workers.get(case.get("grid") or "", rng.choice(DISPATCHERS))
        dispatcher = rng.choice(DISPATCHERS)
        category = self._taxonomy[case["category"]]
        share = rng.uniform(1.02, 1.6) if rng.random() < LATE else min(0.95, rng.betavariate(2.0, 3.5))
        match state:
            case CaseState.REPORTED:
                camera = channel is ReportChannel.CAMERA  # its video is reviewed at the centre
                by = dispatcher if camera else worker
                when = self._when(case, started, share, AT_THE_CENTRE if camera else ON_ROUNDS)
                if truth is not Truth.TRUE:
                    return Plan(when, by, "reject", reject_reason=truth.value)
                if (channel is ReportChannel.PATROL and case["category"] in SELF_HANDLED
                        and not case["urgent"] and rng.random() < SELF_HANDLE):
                    return Plan(when, worker, "self_handle")
                return Plan(when, by, "verify")
            case CaseState.VERIFIED:
                return Plan(self._when(case, started, share, AT_THE_CENTRE), dispatcher, "register")
            case CaseState.REGISTERED:
                department = category.department
                if case.get("department") is None and rng.random() < WRONG_DEPARTMENT:
                    department = rng.choice([d for d in self._departments if d != category.department])
                return Plan(self._when(case, started, share, AT_THE_CENTRE), dispatcher, "dispatch",
                            department=department)
            case CaseState.DISPATCHED:
                department = case.get("department") or category.department
                when = self._when(case, started, share, self._calendar)
                if department != category.department:
                    return Plan(started + (when - started) / 4, department, "send_back")
                if not case.get("extended_hours") and rng.random() < EXTEND:
                    hours = self._hours(self._limit(case, started))
                    return Plan(started + (when - started) * 0.7, department, "extend", hours=max(1.0, hours))
                return Plan(when, department, "handle")
            case CaseState.HANDLED:
                return Plan(self._when(case, started, share, ON_ROUNDS), worker,
                            "check_fail" if rng.random() < REWORK else "check_pass")
            case CaseState.CHECKED:
                return Plan(self._when(case, started, share, AT_THE_CENTRE), dispatcher, "close")
        return None

    def _limit(self, case: Mapping[str, Any], started: datetime) -> Limit:
        """The open step's limit, extensions included (as the escalation counts it)."""
        step = OpenStep(case["id"], case["category"], bool(case["urgent"]), case["state"], case.get("level", "grid"),
                        case["version"], started, float(case.get("extended_hours") or 0.0))
        limit = step_limit(self._taxonomy, self._calendar, step)
        assert limit is not None
        return limit

    def _hours(self, limit: Limit) -> float:
        return limit.amount * (self._calendar.hours_per_day if limit.unit is LimitUnit.WORKING_DAYS else 1.0)

    def _when(self, case: Mapping[str, Any], started: datetime, share: float, hours: WorkingCalendar) -> datetime:
        """When a `share` of the step's limit is used (usually a quarter to two thirds, now and then past
        it), counting the limit's working hours in the actor's own `hours`, calendar hours as they come."""
        limit = self._limit(case, started)
        if limit.unit is LimitUnit.CALENDAR_HOURS:
            return started + timedelta(hours=limit.amount * share)
        return hours.add_working(started, timedelta(hours=self._hours(limit) * share))

    def due(self, now: datetime, cases: Mapping[str, Mapping[str, Any]]) -> list[CaseCommand]:
        """Commands for every open case whose next act is due by `now` and was not sent for this version
        (or was sent a while ago and changed nothing)."""
        out = []
        for case in cases.values():
            key = (case["id"], case["version"])
            sent = self._sent.get(key)
            if sent is not None and now - sent < RETRY:
                continue
            step = (case["id"], case["version"], case["step_started"])
            if step not in self._plans:
                self._plans[step] = self.plan(case)
            plan = self._plans[step]
            if plan is None or plan.at > now:
                continue
            self._sent[key] = now
            self._counter += 1
            text = REJECT_TEXT[Truth(plan.reject_reason)] if plan.reject_reason else REASONS[plan.action]
            out.append(CaseCommand(
                schema_version=SCHEMA_VERSION, id=f"{self.run_id}-k{self._counter}", source=SOURCE, ts=now,
                drill_id=self.drill_id, kind="case_command", case_id=case["id"], action=plan.action, by=plan.by,
                reason=text, expected_version=case["version"], department=plan.department, assignee=None,
                reject_reason=plan.reject_reason, hours=plan.hours))
        if len(self._sent) > 20_000:  # forget what is long done
            horizon = now - 10 * RETRY
            self._sent = {k: t for k, t in self._sent.items() if t >= horizon}
        if len(self._plans) > 4 * len(cases) + 1000:
            live = {(c["id"], c["version"], c["step_started"]) for c in cases.values()}
            self._plans = {k: plan for k, plan in self._plans.items() if k in live}
        return out
