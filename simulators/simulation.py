"""One district's life, advanced tick by tick (`Simulation.tick(now)`): pure apart from its own state, so
tests drive it with a fake clock. simulators/runner.py runs it live against the wall clock, simulators/fast.py
through the real pipeline as fast as it goes.

With a speed k the simulated world moves k times as fast as the wall clock (patrols cover k times the
ground between two ticks, incidents come k times as often), but every message is stamped in wall time so
the ingest never sees stamps from the future.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from feeds.calendar import WorkingCalendar
from feeds.clock import from_ms, ms
from feeds.schemas import FeedMessage
from feeds.taxonomy import load as load_taxonomy
from simulators.cameras import CameraNetwork
from simulators.departments import CaseWorkers
from simulators.geography import District
from simulators.incidents import IncidentSource, Ledger, Problem
from simulators.patrols import PatrolFleet
from simulators.scenarios import Script, channel_of, kind_for
from simulators.timing import SimClock, as_utc

RUN_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,40}$")  # leaves room for the message counter within 64 characters
MAX_SPEED = 600.0
_STAMPS = ("ts", "fix_at", "occurred_at", "started_at", "since")


class Simulation:
    """One district's life, advanced tick by tick: patrols walking, problems arising and being reported,
    cameras alerting, and (unless `act_on_cases` is off) people acting on the open cases they see. With a
    drill `script`, its problems are layered on top and every message carries `drill_id`."""

    def __init__(self, district: District, *, seed: int, run_id: str, problems_per_day: float,
                 speed: float = 1.0, calendar: WorkingCalendar | None = None, act_on_cases: bool = True,
                 script: Script | None = None, drill_id: str | None = None, around_the_clock: bool = False) -> None:
        if not RUN_ID.match(run_id):
            raise ValueError(f"run id {run_id!r} must be 1-40 of A-Z a-z 0-9 _ . : -")
        if not 0 < speed <= MAX_SPEED:
            raise ValueError(f"speed must be above 0 and at most {MAX_SPEED:g}")
        if script is not None and drill_id is None:
            raise ValueError("a drill needs a drill id")
        taxonomy = load_taxonomy()
        self.district = district
        self.run_id = run_id
        self.speed = speed
        self.drill_id = drill_id
        self.ledger = Ledger()
        self.fleet = PatrolFleet(district, seed, around_the_clock)
        self.incidents = IncidentSource(district, seed, problems_per_day=problems_per_day, ledger=self.ledger,
                                        run_id=run_id, drill_id=drill_id)
        self.cameras = CameraNetwork(district, seed, taxonomy, self.ledger, run_id, drill_id)
        self.workers = (CaseWorkers(district, seed, taxonomy, calendar or WorkingCalendar(), self.ledger, run_id,
                                    drill_id) if act_on_cases else None)
        self.script = script
        self._at_the_spot: dict[str, Problem] = {}
        self._clock: SimClock | None = None

    def simulated(self, now: datetime) -> datetime:
        """The simulated time at wall time `now` (the first tick sets the common origin)."""
        now = as_utc(now)
        if self._clock is None:
            self._clock = SimClock(now, self.speed)
        return self._clock.simulated(now)

    def tick(self, now: datetime, cases: Mapping[str, Mapping[str, Any]] | None = None) -> list[FeedMessage]:
        """Everything that happened up to `now` (wall time) since the last tick: a fix from every patrol on
        duty, the reports and alerts made, and the commands of the people acting on `cases` (the open cases
        as screens show them; None: nobody acts this tick)."""
        simulated = self.simulated(now)
        assert self._clock is not None
        fixes = self.fleet.positions(simulated, self.run_id, self.drill_id)
        new = self.incidents.arise(simulated)
        self.cameras.watch(new)
        if self.script is not None:
            self._scripted(simulated)
        messages: list[FeedMessage] = [*fixes, *self.incidents.due(simulated, self.fleet),
                                       *self.cameras.failures(simulated), *self.cameras.due(simulated)]
        if self.workers is not None and cases is not None:
            if self.speed != 1.0:
                cases = {cid: {**view, "step_started": ms(self._clock.simulated(from_ms(view["step_started"])))}
                         for cid, view in cases.items()}
            messages.extend(self.workers.due(simulated, cases))
        if self.speed != 1.0:
            messages = [_restamp(m, self._clock) for m in messages]
        return messages

    def _scripted(self, now: datetime) -> None:
        assert self.script is not None
        for planned in self.script.due(now):
            event = planned.event
            kind = kind_for(event.category, event.text)
            one_place = planned.spot is not None  # everything of a kind at the market is the same problem
            problem = self._at_the_spot.get(event.category) if one_place else None
            if problem is None:
                problem = self.incidents.place(kind, planned.grid, planned.at, urgent=event.urgent,
                                               note=event.text, citizen=event.report == "found", spot=planned.spot)
                if one_place:
                    self._at_the_spot[event.category] = problem
            if event.report == "camera":
                self.cameras.watch([problem], scripted=event.alert)
            elif (channel := channel_of(event.report)) is not None:
                self.incidents.report_at(problem, planned.at + timedelta(minutes=2), channel, event.text)
            else:
                self.cameras.watch([problem])


def _restamp(message: FeedMessage, clock: SimClock) -> FeedMessage:
    """The message with its simulated times mapped back to wall time."""
    update = {name: clock.wall(value) for name in _STAMPS
              if (value := getattr(message, name, None)) is not None}
    return message.model_copy(update=update)
