"""The drill desk: `python -m simulators.drilldesk` runs the drills a trainer starts from the console.

It waits for controls on the Redis list `cc:drills:control` (feeds/drills/control.py): start a scenario at a
speed, pause, resume, set the speed, stop, inject an event. While a drill runs, it ticks the scenario's
simulation (the scenario layered on normal life, every message tagged with the drill id) on the drill
clock and publishes what it makes on the normal feed channels, like any producer: the ingest persists it
and keeps it apart (the drill's own live state, room and figures). The simulated staff, when on, act on
the drill's cases as the drill's screens show them (its snapshot).

`DrillDesk` is the state machine, pure apart from its simulation and driven with an injected clock:
no drill → running ⇄ paused → ended (stopped by the trainer, or at the end of the scenario). `serve` is
the loop around it: controls in, messages out, the status kept in Redis, published on `cc.drills.status`
and pushed to the drill's screens (Socket.IO event `drill`), the drill record kept in the database. One desk
is active (a lease); a drill left by a desk that stopped is carried on by the one that takes over
(`DrillDesk.carry_on`).
"""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from feeds.bus.channels import Bus, producer_bus, publish_messages
from feeds.bus.connect import redis_client
from feeds.bus.lease import Lease, OneActive, holder_name
from feeds.bus.push import Pusher, SocketIOPusher, room_of
from feeds.bus.screens import ScreenEvent
from feeds.bus.snapshots import RedisSnapshotStore, SnapshotStore
from feeds.calendar import WorkingCalendar
from feeds.clock import from_ms, ms, utcnow
from feeds.drills.control import (
    CONTROL_KEY,
    SCENARIOS_KEY,
    STATUS_CHANNEL,
    STATUS_KEY,
    DrillClock,
    DrillControl,
    DrillState,
    DrillStatus,
    InjectedEvent,
    record_change,
    record_start,
)
from feeds.outage import Outage
from feeds.schemas import FeedMessage
from feeds.settings import Settings
from feeds.store.engine import make_engine
from feeds.taxonomy import Taxonomy
from feeds.taxonomy import load as load_taxonomy
from simulators.geography import District, build_district
from simulators.runner import residents
from simulators.scenarios import Event, Scenario, Script, available
from simulators.scenarios import load as load_scenario
from simulators.simulation import Simulation

log = logging.getLogger(__name__)
SYSTEM = "system"
CARRY_STEP_S = 10.0  # drill seconds per step when a drill taken over is run forward to where it was
_STAMPS = ("ts", "fix_at", "occurred_at", "started_at")


def drill_id_for(scenario: Scenario, now: datetime, zone: ZoneInfo) -> str:
    return f"{scenario.id}-{now.astimezone(zone):%m%d%H%M%S}"[:40]


class DrillDesk:
    """One drill at a time. `obey` answers a control (None: done; else why it was refused), `tick` the
    messages of the drill up to `now` (wall time), `status` what the screens show."""

    def __init__(self, district: District, scenarios: Mapping[str, Scenario], *, seed: int, taxonomy: Taxonomy,
                 calendar: WorkingCalendar, problems_per_day: float, zone: ZoneInfo | None = None,
                 make_id: Callable[[Scenario, datetime], str] | None = None) -> None:
        self.district = district
        self.scenarios = dict(scenarios)
        self.seed = seed
        self.taxonomy = taxonomy
        self.calendar = calendar
        self.problems_per_day = problems_per_day
        self.zone = zone = zone or calendar.zone  # the calendar's: the site's zone
        self.make_id = make_id or (lambda s, now: drill_id_for(s, now, zone))
        self.status: DrillStatus | None = None
        self.simulation: Simulation | None = None
        self.script: Script | None = None

    @property
    def active(self) -> bool:
        return self.status is not None and self.status.state is not DrillState.ENDED

    def obey(self, control: DrillControl, now: datetime) -> str | None:
        if control.action == "start":
            return self._start(control, now)
        if not self.active or self.status is None:
            return "no drill is running"
        if control.drill_id is not None and control.drill_id != self.status.id:
            return f"drill {control.drill_id} is not the one running ({self.status.id})"
        status = self.status
        if control.action == "pause":
            if status.state is not DrillState.RUNNING:
                return "the drill is not running"
            self.status = status.but(state=DrillState.PAUSED, clock=status.clock.changed(now, 0.0))
        elif control.action == "resume":
            if status.state is not DrillState.PAUSED:
                return "the drill is not paused"
            self.status = status.but(state=DrillState.RUNNING, clock=status.clock.changed(now, status.speed))
        elif control.action == "speed":
            if control.speed is None:
                return "a speed is needed"
            clock = status.clock.changed(now, control.speed) if status.state is DrillState.RUNNING else status.clock
            self.status = status.but(speed=control.speed, clock=clock)
        elif control.action == "stop":
            self._end(now, control.by)
        elif control.action == "inject":
            if control.event is None or control.event.category not in self.taxonomy.categories:
                return "an event with a known category is needed"
            assert self.script is not None
            at = status.clock.simulated(now)
            self.script.add(_event(control.event), at)
            self.status = status.but(injected=status.injected + 1, injections=(
                *status.injections, (ms(at), control.event.model_dump())))
        self._refresh(now)
        return None

    def carry_on(self, status: DrillStatus, now: datetime) -> str | None:
        """Take over a drill another desk was running (its machine stopped; this desk holds the lease now).
        The scenario is laid out again from the drill's start, with the events injected by hand, and its
        simulation is run forward, saying nothing, to the drill time of the other desk's last status; from
        there on this desk says what happens, under a run id of its own, so that no message of its reuses an
        id the other desk gave (the ingest would take it for a replay). The drill's clock, id and record go
        on as they were. None: carried on; else why it cannot be."""
        scenario = self.scenarios.get(status.scenario)
        if scenario is None:
            return f"this drill desk does not offer scenario {status.scenario!r}"
        carried = status.carried + 1
        start = from_ms(status.started_at)  # drill time began equal to wall time
        script, simulation = self._lay_out(scenario, start, status.id, f"{status.id[:34]}:c{carried}", status.staff)
        for at, event in status.injections:
            script.add(_event(InjectedEvent.model_validate(event)), from_ms(at))
        said_to = status.clock.simulated(from_ms(status.updated_at))
        step = timedelta(seconds=CARRY_STEP_S)
        at = start
        while at < said_to:  # what the other desk already said, said again to nobody
            at = min(said_to, at + step)
            simulation.tick(at)
        self.status = status.but(carried=carried, note=f"carried on by another drill desk at drill minute "
                                                       f"{(ms(said_to) - status.started_at) / 60_000:.0f}")
        self._refresh(now)
        return None

    def _start(self, control: DrillControl, now: datetime) -> str | None:
        if self.active:
            assert self.status is not None
            return f"drill {self.status.id} is still running: stop it first"
        scenario = self.scenarios.get(control.scenario or "")
        if scenario is None:
            return f"no scenario {control.scenario!r}"
        speed = control.speed or 1.0
        drill_id = self.make_id(scenario, now)
        self._lay_out(scenario, now, drill_id, drill_id, control.staff)
        self.status = DrillStatus(
            id=drill_id, scenario=scenario.id, zh=scenario.zh, en=scenario.en, state=DrillState.RUNNING,
            speed=speed, started_at=ms(now), started_by=control.by, duration_min=scenario.duration_min,
            starts_at=scenario.starts_at.strftime("%H:%M"), targets=dict(scenario.targets),
            clock=DrillClock.starting(now, speed), staff=control.staff, updated_at=ms(now))
        return None

    def _lay_out(self, scenario: Scenario, start: datetime, drill_id: str, run_id: str,
                 staff: bool) -> tuple[Script, Simulation]:
        """The drill's script laid out from its start, and its simulation (its messages' ids from `run_id`)."""
        self.script = Script(scenario, self.district, start, self.seed)
        self.simulation = Simulation(self.district, seed=self.seed, run_id=run_id,
                                     problems_per_day=self.problems_per_day, calendar=self.calendar,
                                     act_on_cases=staff, script=self.script, drill_id=drill_id,
                                     around_the_clock=True)  # a drill turns every grid worker out, at any hour
        return self.script, self.simulation

    def _end(self, now: datetime, by: str) -> None:
        assert self.status is not None
        self.status = self.status.but(state=DrillState.ENDED, ended_at=ms(now), ended_by=by,
                                      clock=self.status.clock.changed(now, 0.0))

    def _refresh(self, now: datetime) -> None:
        assert self.status is not None
        s = self.status
        elapsed = s.clock.drill_ms(now) - s.started_at
        self.status = s.but(elapsed_ms=elapsed, progress=min(1.0, elapsed / (s.duration_min * 60_000)),
                            updated_at=ms(now))

    def tick(self, now: datetime, cases: Mapping[str, Mapping[str, Any]] | None = None) -> list[FeedMessage]:
        """The drill's messages up to `now`, stamped in wall time; the drill ends when its clock passes the
        scenario's end."""
        if not self.active or self.status is None or self.simulation is None:
            return []
        if self.status.state is DrillState.PAUSED:
            self._refresh(now)
            return []
        clock = self.status.clock
        drill_now = clock.simulated(now)
        seen = None if cases is None else {
            cid: {**view, "step_started": clock.drill_ms(from_ms(view["step_started"]))} for cid, view in cases.items()}
        messages = [_restamp(m, clock) for m in self.simulation.tick(drill_now, seen)]
        self._refresh(now)
        if self.status.progress >= 1.0:
            self._end(now, SYSTEM)
            self._refresh(now)
        return messages


def _event(e: InjectedEvent) -> Event:
    """An event injected by hand, as the scenario's own are laid out."""
    return Event(0.0, 0.0, e.category, e.count, e.where, e.urgent, e.report, None,
                 e.text or "{place}（演练注入）突发情况，请尽快处置")


def _restamp(message: FeedMessage, clock: DrillClock) -> FeedMessage:
    update = {name: clock.wall(value) for name in _STAMPS if (value := getattr(message, name, None)) is not None}
    return message.model_copy(update=update)


# ------------------------------------------------------------------------------------------------ loop


def scenario_list(scenarios: Mapping[str, Scenario]) -> list[dict[str, Any]]:
    return [{"id": s.id, "zh": s.zh, "en": s.en, "duration_min": s.duration_min,
             "starts_at": s.starts_at.strftime("%H:%M"), "targets": dict(s.targets), "events": len(s.events)}
            for s in scenarios.values()]


class StatusBoard:
    """Where the status goes: Redis (read by the console), the status channel, the drill's screens."""

    def __init__(self, client: redis.Redis, pusher: Pusher) -> None:
        self._r = client
        self._pusher = pusher

    def show(self, status: DrillStatus) -> None:
        data = status.to_dict()
        raw = json.dumps(data, ensure_ascii=False)
        self._r.set(STATUS_KEY, raw)
        self._r.publish(STATUS_CHANNEL, raw)
        self._pusher.push(ScreenEvent.DRILL, data, room_of(status.id))


def serve(desk: DrillDesk, client: redis.Redis, bus: Bus, snapshots: SnapshotStore, engine: Engine,
          board: StatusBoard, stop: threading.Event, *, interval_s: float,
          clock: Callable[[], datetime] = utcnow) -> None:
    """Controls in, drill messages out, until `stop` is set. When Redis goes away the desk waits for it
    (capped backoff), then writes its scenarios and status again (a Redis restarted empty lost them)."""
    outage = Outage("the drill desk's Redis", log)
    started = shown = False
    next_tick = time.monotonic()
    while not stop.is_set():
        try:
            if not started:  # once: a drill left running by a desk that stopped is carried on
                _take_over(desk, client, engine, board, clock())
                started = True
            if not shown:
                client.set(SCENARIOS_KEY, json.dumps(scenario_list(desk.scenarios), ensure_ascii=False))
                if desk.status is not None:
                    board.show(desk.status)
                shown = True
            next_tick = _turn(desk, client, bus, snapshots, engine, board, next_tick, interval_s, clock)
            outage.ok()
        except redis.RedisError as err:
            shown = False
            stop.wait(outage.failed(err))


def _turn(desk: DrillDesk, client: redis.Redis, bus: Bus, snapshots: SnapshotStore, engine: Engine,
          board: StatusBoard, next_tick: float, interval_s: float, clock: Callable[[], datetime]) -> float:
    """One turn of the desk: a control obeyed, or the drill ticked once. Returns when the next tick is due."""
    wait = max(0.01, next_tick - time.monotonic())
    popped = client.brpop([CONTROL_KEY], timeout=wait)
    if popped is not None:
        _obey(desk, popped[1], engine, board, clock())
        return next_tick
    next_tick = max(next_tick + interval_s, time.monotonic())
    if not desk.active or desk.status is None:
        return next_tick
    was = desk.status.state
    cases = snapshots.for_drill(desk.status.id).load()["cases"]
    publish_messages(bus, desk.tick(clock(), cases))
    if desk.status.state is not was:  # ended with its scenario
        log.info("drill %s ended with its scenario", desk.status.id)
        _record(engine, desk.status, record_change)
    board.show(desk.status)
    return next_tick


def _obey(desk: DrillDesk, raw: bytes, engine: Engine, board: StatusBoard, now: datetime) -> None:
    try:
        control = DrillControl.model_validate_json(raw)
    except ValidationError as err:
        log.warning("refused a control that is not one: %s", err)
        return
    before = desk.status
    refused = desk.obey(control, now)
    if refused is not None:
        log.warning("refused %s by %s: %s", control.action, control.by, refused)
        if desk.status is not None:
            desk.status = desk.status.but(note=refused)
            board.show(desk.status)
        return
    assert desk.status is not None
    log.info("%s by %s: drill %s (%s) %s at x%g", control.action, control.by, desk.status.id, desk.status.scenario,
             desk.status.state, desk.status.speed)
    desk.status = desk.status.but(note="")
    _record(engine, desk.status, record_start if before is None or before.id != desk.status.id else record_change)
    board.show(desk.status)


def _record(engine: Engine, status: DrillStatus, write: Callable[..., None]) -> None:
    with engine.begin() as conn:
        write(conn, status)


def _take_over(desk: DrillDesk, client: redis.Redis, engine: Engine, board: StatusBoard, now: datetime) -> None:
    """A drill left running (or paused) by a desk that stopped is carried on by this one; one it cannot carry
    on (a scenario it does not offer) ends now, with why: nobody else is ticking it."""
    raw = client.get(STATUS_KEY)
    if not raw:
        return
    status = DrillStatus.from_dict(json.loads(raw))
    if status.state is DrillState.ENDED:
        return
    why = desk.carry_on(status, now)
    if why is None:
        assert desk.status is not None
        log.info("carrying on drill %s (%s, %s at x%g): %s", status.id, status.scenario, status.state, status.speed,
                 desk.status.note)
        _record(engine, desk.status, record_change)
        board.show(desk.status)
        return
    log.warning("ending drill %s left by a drill desk that stopped: %s", status.id, why)
    status = status.but(state=DrillState.ENDED, ended_at=ms(now), ended_by=SYSTEM, note=f"drill desk restarted: {why}",
                        clock=status.clock.changed(now, 0.0))
    _record(engine, status, record_change)
    board.show(status)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.drilldesk", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [drilldesk] %(message)s")
    settings = Settings()
    if not settings.redis_url:
        sys.exit("CC_REDIS_URL (or REDIS_URL) must point at a Redis server")
    client = redis_client(settings.redis_url)
    taxonomy = load_taxonomy()
    district = build_district(settings.seed, settings.grids)
    scenarios = {name: load_scenario(name, taxonomy) for name in available()}
    desk = DrillDesk(district, scenarios, seed=settings.seed, taxonomy=taxonomy, calendar=settings.working_calendar(),
                     problems_per_day=settings.problems_per_10k_day * residents(district) / 10_000,
                     zone=ZoneInfo(settings.timezone))
    engine = make_engine(settings.db_url)
    one = OneActive(Lease(client, "drilldesk", holder_name(), settings.lease_ttl_s))  # one desk runs the drills
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, one.halt)

    def run_drills(stop: threading.Event) -> None:
        log.info("ready: %d scenarios (%s), controls on %s", len(scenarios), ", ".join(scenarios), CONTROL_KEY)
        serve(desk, client, producer_bus(client, settings.bus, settings.stream_maxlen, settings.stream_replicas),
              RedisSnapshotStore(client, settings.recent_items), engine,
              StatusBoard(client, SocketIOPusher(settings.redis_url)), stop, interval_s=settings.patrol_interval_s)

    try:
        one.run(run_drills)
    finally:
        engine.dispose()
    log.info("stopped")


if __name__ == "__main__":
    main()
