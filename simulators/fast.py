"""As fast as possible: a simulation driven through the real ingest pipeline in this process, on a
simulated clock, with no waiting. For tests, calibration, benchmarks and a demo's history.

Every tick's messages are encoded and received on their channels exactly as from the bus, persisted and
applied by `feeds.ingest.pipeline.Ingest` (whose clock is the simulated one), and the open cases it pushes are
what the simulated people see on the next tick. Overdue cases are escalated through the same pipeline, as
`python -m feeds.cases.escalator` does live.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from feeds.bus.snapshots import MemorySnapshotStore, SnapshotStore
from feeds.calendar import WorkingCalendar
from feeds.cases.escalator import escalation_commands
from feeds.ingest.pipeline import CaseRules, Ingest
from feeds.schemas import FeedMessage, channel_for, encode
from feeds.taxonomy import load as load_taxonomy
from simulators.patrols import on_duty
from simulators.simulation import Simulation

log = logging.getLogger(__name__)
ESCALATE_EVERY = timedelta(minutes=15)


class Discard:
    """A pusher for runs that no screen watches."""

    def push(self, event: str, data: Any, room: str | None = None) -> None:
        pass


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Outcome:
    """What a fast run sent and what the pipeline made of it."""

    sent: Counter[str] = field(default_factory=Counter)
    ticks: int = 0
    start: datetime | None = None
    end: datetime | None = None


def simulate(simulation: Simulation, engine: Engine, start: datetime, end: datetime, *, step: timedelta,
             idle_step: timedelta = timedelta(minutes=10), snapshots: SnapshotStore | None = None,
             calendar: WorkingCalendar | None = None, escalate: bool = True,
             on_tick: Callable[[datetime, list[FeedMessage]], None] | None = None) -> Outcome:
    """Run `simulation` from `start` to `end` in steps of `step` of simulated time (`idle_step` while no
    patrol is on duty: reports carry their own times, and nobody walks), as fast as the pipeline goes."""
    if simulation.speed != 1.0:
        raise ValueError("a fast run keeps its own clock: build the simulation with speed 1")
    clock = Clock(start)
    snapshots = snapshots or MemorySnapshotStore()
    scope = snapshots if simulation.drill_id is None else snapshots.for_drill(simulation.drill_id)
    cases: dict[str, dict[str, Any]] = dict(scope.load()["cases"])
    taxonomy = load_taxonomy()
    calendar = calendar or WorkingCalendar()
    ingest = Ingest(engine, snapshots, Discard(), clock=clock, rules=CaseRules(taxonomy, calendar))
    outcome = Outcome(start=start)
    next_escalation = start + ESCALATE_EVERY
    now = start
    while now <= end:
        clock.now = now
        messages: list[FeedMessage] = list(simulation.tick(now, cases))
        if escalate and now >= next_escalation:
            with engine.connect() as conn:
                messages.extend(escalation_commands(conn, taxonomy, calendar, now))
            next_escalation = now + ESCALATE_EVERY
        _receive(ingest, messages)
        delta = ingest.flush()
        if simulation.drill_id is not None:  # every message of a drill run is the drill's
            delta = ingest.drill_deltas.get(simulation.drill_id)
        if delta is not None:
            for case_id, view in delta["cases"].items():
                if view is None:
                    cases.pop(case_id, None)
                else:
                    cases[case_id] = view
        outcome.sent.update(m.kind for m in messages)
        outcome.ticks += 1
        if on_tick is not None:
            on_tick(now, messages)
        outcome.end = now
        now += step if on_duty(now) or step > idle_step else idle_step  # the night watch walks on
    return outcome


def _receive(ingest: Ingest, messages: list[FeedMessage]) -> None:
    by_kind: dict[str, list[FeedMessage]] = {}
    for m in messages:
        by_kind.setdefault(m.kind, []).append(m)
    for kind, batch in by_kind.items():
        ingest.receive(channel_for(kind), encode(batch))
