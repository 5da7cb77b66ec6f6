"""Who could take a case, for the dispatcher reassigning it by click (pure).

Three kinds of suggestion, in the order a dispatcher reads them: the case grid's own grid worker (网格员,
who answers for the grid), the nearest patrols on duty (by distance, with how many open cases they hold
and how long ago their phone was last heard from), and the department the routing table sends the case's
category to. Inputs are what the live state already holds (open case views, each unit's latest fix) and
the people register; nothing here reads a clock or a database.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from feeds.cases.writes import metres
from feeds.ingest.state import ON_DUTY_S

ON_DUTY_MS = int(ON_DUTY_S * 1000)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str
    area_code: str | None
    unit_id: str | None


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "grid_worker", "patrol" or "department"
    target: str  # a person id, or a department code
    name: str
    distance_m: float | None = None  # from the case, for people whose unit is on duty
    load: int | None = None  # open cases assigned to them now
    seen_s: float | None = None  # seconds since their unit's last fix


def loads(open_cases: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """Open cases held by each assignee."""
    return Counter(c["assignee"] for c in open_cases if c.get("assignee"))


def suggestions(case: Mapping[str, Any], people: Iterable[Person], patrols: Mapping[str, Mapping[str, Any]],
                open_cases: Sequence[Mapping[str, Any]], department: tuple[str, str] | None, now_ms: int, *,
                nearest: int = 3, on_duty_ms: int = ON_DUTY_MS) -> list[Suggestion]:
    """The grid worker of the case's grid, the `nearest` patrols on duty, then the routing table's
    department (code, name). Whoever the case is already with is left out: the person, or the department
    when no person holds it."""
    held = loads(open_cases)
    current = case.get("assignee")

    def about(p: Person) -> tuple[float | None, float | None]:
        fix = patrols.get(p.unit_id) if p.unit_id else None
        if fix is None or now_ms - fix["fix"] > on_duty_ms:
            return None, None
        return metres(case["lat"], case["lon"], fix["lat"], fix["lon"]), max(0.0, (now_ms - fix["fix"]) / 1000)

    out: list[Suggestion] = []
    everyone = list(people)
    own = [p for p in everyone if p.role == "grid_worker" and p.area_code == case.get("grid") and p.id != current]
    for p in own:
        distance, seen = about(p)
        out.append(Suggestion("grid_worker", p.id, p.name, distance, held[p.id], seen))
    taken = {p.id for p in own} | {current}
    near = []
    for p in everyone:
        if p.id in taken or not p.unit_id:
            continue
        distance, seen = about(p)
        if distance is not None:
            near.append((distance, p.id, p, seen))
    for distance, _, p, seen in sorted(near)[:nearest]:
        out.append(Suggestion("patrol", p.id, p.name, distance, held[p.id], seen))
    if department is not None and not (department[0] == case.get("department") and not current):
        code, name = department
        out.append(Suggestion("department", code, name, load=sum(1 for c in open_cases if c.get("department") == code)))
    return out
