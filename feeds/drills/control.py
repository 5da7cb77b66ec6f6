"""Drills (应急演练): what the trainer's console and the drill desk (`python -m simulators.drilldesk`) say
to each other through Redis, the drill clock, and the drill record in the database.

- Controls (start a scenario at a speed, pause, resume, set the speed, stop, inject an event) are JSON
  pushed on the Redis list `cc:drills:control`; the desk pops and obeys them in order.
- The desk keeps the current drill's status in `cc:drills:status` (and the scenarios it offers in
  `cc:drills:scenarios`), and publishes each change on `cc.drills.status` and as Socket.IO event `drill`
  to the drill's room, so the console and the drill's screens follow it.
- The drill clock runs `speed` times as fast as the wall clock from the start, stands still while paused,
  and keeps every change of pace as a segment, so any wall time of the drill maps to drill time and back
  (the scoring measures minutes of drill time, whatever the speed was).
- Every drill is a row of `drills` (migration 0010): id, scenario, targets, started and ended, by whom,
  and its clock.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import redis
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from feeds.clock import from_ms, ms
from feeds.store.models import DRILLS

CONTROL_KEY = "cc:drills:control"
STATUS_KEY = "cc:drills:status"
SCENARIOS_KEY = "cc:drills:scenarios"
STATUS_CHANNEL = "cc.drills.status"
SPEEDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # what the console offers
MAX_SPEED = 60.0
WHERE = ("riverside", "centre", "market", "any")
INJECT_REPORTS = ("hotline", "citizen", "patrol", "found")


class DrillState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


@dataclass(frozen=True)
class DrillClock:
    """Drill time as a piecewise function of wall time: each segment (wall ms, drill ms, speed) holds from its
    wall time to the next one's; speed 0 while paused. Drill time starts equal to wall time."""

    segments: tuple[tuple[int, int, float], ...]

    @classmethod
    def starting(cls, wall: datetime, speed: float) -> DrillClock:
        return cls(((ms(wall), ms(wall), speed),))

    def _at(self, wall_ms: int) -> tuple[int, int, float]:
        found = self.segments[0]
        for seg in self.segments:
            if seg[0] <= wall_ms:
                found = seg
        return found

    def drill_ms(self, wall: datetime) -> int:
        w = ms(wall)
        w0, d0, speed = self._at(w)
        return d0 + round(max(0, w - w0) * speed)

    def simulated(self, wall: datetime) -> datetime:
        return from_ms(self.drill_ms(wall))

    def wall(self, drill: datetime) -> datetime:
        """The wall time at which the drill clock showed `drill` (the start of a pause, if it stood still)."""
        d = ms(drill)
        best = self.segments[0][0]
        for w0, d0, speed in self.segments:
            if d < d0:
                break
            best = w0 + (round((d - d0) / speed) if speed > 0 else 0)
        return from_ms(best)

    def changed(self, wall: datetime, speed: float) -> DrillClock:
        """The clock from `wall` on at a new speed (0: paused)."""
        d = self.drill_ms(wall)
        return DrillClock((*self.segments, (ms(wall), d, speed)))

    @property
    def speed(self) -> float:
        return self.segments[-1][2]

    def to_json(self) -> str:
        return json.dumps([list(s) for s in self.segments])

    @classmethod
    def from_json(cls, text: str) -> DrillClock:
        return cls(tuple((int(w), int(d), float(s)) for w, d, s in json.loads(text)))


@dataclass(frozen=True)
class DrillStatus:
    """What the console and the drill's screens show of a drill."""

    id: str
    scenario: str
    zh: str
    en: str
    state: DrillState
    speed: float  # the pace set (kept while paused)
    started_at: int  # wall ms
    started_by: str
    duration_min: float
    starts_at: str  # the scenario's local time of day at drill minute 0, e.g. "21:00"
    targets: dict[str, float]
    clock: DrillClock
    elapsed_ms: int = 0  # drill time since the start
    progress: float = 0.0  # 0–1
    updated_at: int = 0  # wall ms of this status
    ended_at: int | None = None
    ended_by: str | None = None
    injected: int = 0  # events injected by hand
    staff: bool = True  # simulated staff act on the drill's cases
    note: str = ""  # the last refusal, for the console
    # the events injected by hand, each (drill ms it was injected at, the event as sent): a desk taking the drill
    # over lays them out again
    injections: tuple[tuple[int, dict[str, Any]], ...] = ()
    carried: int = 0  # how many times another drill desk took the drill over (its machine stopped)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"] = self.state.value
        out["clock"] = [list(s) for s in self.clock.segments]
        out["injections"] = [[at, event] for at, event in self.injections]
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DrillStatus:
        data = dict(raw)
        data["state"] = DrillState(data["state"])
        data["clock"] = DrillClock(tuple((int(w), int(d), float(s)) for w, d, s in data["clock"]))
        data["injections"] = tuple((int(at), dict(event)) for at, event in data.get("injections", ()))
        return cls(**data)

    def but(self, **changes: Any) -> DrillStatus:
        return replace(self, **changes)


class InjectedEvent(BaseModel):
    """An extra event a trainer adds by hand: `count` problems of a category somewhere, reported so."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    category: str = Field(min_length=1, max_length=64)
    where: Literal["riverside", "centre", "market", "any"] = "any"
    report: Literal["hotline", "citizen", "patrol", "found"] = "hotline"
    count: int = Field(default=1, ge=1, le=20)
    urgent: bool = True
    text: str | None = Field(default=None, max_length=200)


class DrillControl(BaseModel):
    """One order from the console to the drill desk."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    action: Literal["start", "pause", "resume", "speed", "stop", "inject"]
    by: str = Field(min_length=1, max_length=64)
    drill_id: str | None = Field(default=None, max_length=64)  # the drill meant (all but start)
    scenario: str | None = Field(default=None, max_length=64)
    speed: float | None = Field(default=None, gt=0, le=MAX_SPEED)
    staff: bool = True
    event: InjectedEvent | None = None


@dataclass(frozen=True)
class ScenarioInfo:
    id: str
    zh: str
    en: str
    duration_min: float
    starts_at: str
    targets: dict[str, float] = field(default_factory=dict)
    events: int = 0


class DrillDeskClient:
    """The console's side: send controls, read the status and the scenarios on offer."""

    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    def send(self, control: DrillControl) -> None:
        self._r.lpush(CONTROL_KEY, control.model_dump_json())

    def status(self) -> DrillStatus | None:
        raw = self._r.get(STATUS_KEY)
        return DrillStatus.from_dict(json.loads(raw)) if raw else None

    def scenarios(self) -> list[ScenarioInfo]:
        raw = self._r.get(SCENARIOS_KEY)
        return [ScenarioInfo(**s) for s in json.loads(raw)] if raw else []


# ------------------------------------------------------------------------------------- the drill record


@dataclass(frozen=True)
class DrillRecord:
    id: str
    scenario: str
    zh: str
    en: str
    targets: dict[str, float]
    started_at: datetime
    started_by: str
    ended_at: datetime | None
    ended_by: str | None
    clock: DrillClock
    duration_min: float
    starts_at: str


def record_start(conn: Connection, status: DrillStatus) -> None:
    conn.execute(insert(DRILLS).values(
        id=status.id, scenario=status.scenario, title_zh=status.zh, title_en=status.en,
        targets=json.dumps(status.targets), duration_min=status.duration_min, starts_at=status.starts_at,
        started_at=from_ms(status.started_at), started_by=status.started_by, ended_at=None, ended_by=None,
        clock=status.clock.to_json()))


def record_change(conn: Connection, status: DrillStatus) -> None:
    """The drill's clock (and its end, when it ended) as they are now."""
    conn.execute(update(DRILLS).where(DRILLS.c.id == status.id).values(
        clock=status.clock.to_json(), ended_at=from_ms(status.ended_at) if status.ended_at else None,
        ended_by=status.ended_by))


def _record(row: Any) -> DrillRecord:
    return DrillRecord(row.id, row.scenario, row.title_zh, row.title_en, json.loads(row.targets), row.started_at,
                       row.started_by, row.ended_at, row.ended_by, DrillClock.from_json(row.clock), row.duration_min,
                       row.starts_at)


def drill_record(conn: Connection, drill_id: str) -> DrillRecord | None:
    row = conn.execute(select(DRILLS).where(DRILLS.c.id == drill_id)).first()
    return _record(row) if row else None


def past_drills(conn: Connection, limit: int = 20) -> Sequence[DrillRecord]:
    rows = conn.execute(select(DRILLS).order_by(DRILLS.c.started_at.desc()).limit(limit))
    return [_record(r) for r in rows]
