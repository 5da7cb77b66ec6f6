"""How a drill went (演练评估), pure: for each case of the drill, the minutes from its first report to
dispatch, to arrival on site (GPS-confirmed: a fix within ARRIVE_M of the case), and to closure, and
whether it ran overdue; then the same per dispatcher and per team (the department it was dispatched to),
against the scenario's targets.

Arrival counts the unit of the person the case was dispatched or reassigned to when that person carries
one; otherwise any unit of the drill. Only fixes from the moment someone was sent count (the dispatch,
or the report for a case handled on the spot). A case ran overdue when the escalator raised it (it does
so as soon as an open step passes its deadline).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import mean

from feeds.cases.escalation import SYSTEM
from feeds.cases.writes import metres
from feeds.kpis.figures import Rate

ARRIVE_M = 50.0
MEASURES = ("dispatch", "arrive", "close")  # the scenario targets are <measure>_min


@dataclass(frozen=True)
class DrillCase:
    id: str
    reported_at: datetime
    lat: float
    lon: float


@dataclass(frozen=True)
class Step:
    """One audit row of a drill case: who did what when, and whom it went to."""

    case_id: str
    action: str
    by: str
    at: datetime
    department: str | None = None
    assignee: str | None = None


@dataclass(frozen=True)
class Fix:
    unit_id: str
    lat: float
    lon: float
    at: datetime


@dataclass(frozen=True)
class CaseScore:
    case_id: str
    dispatcher: str | None  # who dispatched it (or handled it on the spot)
    team: str | None  # the department it was sent to
    minutes: dict[str, float | None]  # measure -> minutes from the first report, None: not (yet) done
    overdue: bool


@dataclass(frozen=True)
class Tally:
    """A group of cases (the whole drill, one dispatcher's, one team's) against the targets."""

    cases: int
    overdue: int
    mean_minutes: dict[str, float | None]  # over the cases where the measure was done
    within: dict[str, Rate]  # cases done within target / cases of the group


@dataclass(frozen=True)
class DrillScore:
    targets: dict[str, float]
    total: Tally
    by_dispatcher: dict[str, Tally]
    by_team: dict[str, Tally]
    cases: list[CaseScore]


def _minutes(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start) / timedelta(minutes=1)


def score_case(case: DrillCase, steps: Sequence[Step], fixes: Sequence[Fix], unit_of: Mapping[str, str]) -> CaseScore:
    """`steps` in time order; `fixes` of the drill in time order; `unit_of` maps people to their units."""
    sent = next((s for s in steps if s.action in ("dispatch", "self_handle")), None)
    closed = next((s.at for s in steps if s.action == "close"), None)
    movers = [s for s in steps if s.action in ("dispatch", "reassign") and s.assignee]
    unit = unit_of.get(movers[-1].assignee) if movers else None  # type: ignore[arg-type]
    arrived = None
    if sent is not None:
        arrived = next((f.at for f in fixes if f.at >= sent.at and (unit is None or f.unit_id == unit)
                        and metres(case.lat, case.lon, f.lat, f.lon) <= ARRIVE_M), None)
    return CaseScore(
        case.id, sent.by if sent else None, sent.department if sent else None,
        {"dispatch": _minutes(case.reported_at, sent.at if sent else None),
         "arrive": _minutes(case.reported_at, arrived), "close": _minutes(case.reported_at, closed)},
        any(s.action == "escalate" and s.by == SYSTEM for s in steps))


def tally(scores: Sequence[CaseScore], targets: Mapping[str, float]) -> Tally:
    done = {m: [s.minutes[m] for s in scores if s.minutes[m] is not None] for m in MEASURES}
    return Tally(
        len(scores), sum(s.overdue for s in scores),
        {m: (mean(v) if v else None) for m, v in done.items()},  # type: ignore[type-var]
        {m: Rate(len([v for v in done[m] if v <= targets[f"{m}_min"]]), len(scores))  # type: ignore[operator]
         for m in MEASURES if f"{m}_min" in targets})


def drill_score(cases: Iterable[DrillCase], steps: Iterable[Step], fixes: Iterable[Fix], unit_of: Mapping[str, str],
                targets: Mapping[str, float]) -> DrillScore:
    by_case: dict[str, list[Step]] = {}
    for s in sorted(steps, key=lambda s: s.at):
        by_case.setdefault(s.case_id, []).append(s)
    track = sorted(fixes, key=lambda f: f.at)
    scores = [score_case(c, by_case.get(c.id, []), track, unit_of) for c in sorted(cases, key=lambda c: c.reported_at)]

    def grouped(key: str) -> dict[str, Tally]:
        groups: dict[str, list[CaseScore]] = {}
        for s in scores:
            name = getattr(s, key)
            if name is not None:
                groups.setdefault(name, []).append(s)
        return {name: tally(group, targets) for name, group in sorted(groups.items())}

    return DrillScore(dict(targets), tally(scores, targets), grouped("dispatcher"), grouped("team"), scores)
