"""The simulation loop and the entry point `python -m simulators`.

`Simulation.tick(now)` is the whole loop body and pure apart from its own state: tests drive it with a fake
clock. `run` calls it every patrol interval of wall time and publishes what it returns; `main` reads the
settings, writes the district into the database and starts the loop until SIGINT/SIGTERM.

With --speed k the simulated world moves k times as fast as the wall clock (patrols cover k times the
ground between two ticks, incidents come k times as often), but every message is stamped in wall time so
the ingest never sees stamps from the future.
"""
from __future__ import annotations

import argparse
import logging
import re
import secrets
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import redis
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from feeds.bus import Bus, producer_bus, publish_messages
from feeds.schemas import FeedMessage, describe
from feeds.settings import Settings
from feeds.store import make_engine
from feeds.taxonomy import load as load_taxonomy
from simulators.furnishings import build_furnishings, save_furnishings
from simulators.geography import District, build_district, save_district
from simulators.incidents import IncidentSource
from simulators.patrols import PatrolFleet
from simulators.timing import SimClock, as_utc

log = logging.getLogger(__name__)

RUN_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,40}$")  # leaves room for the message counter within 64 characters
SUMMARY_EVERY_S = 60.0
_STAMPS = ("ts", "fix_at", "occurred_at", "started_at")
_SETTINGS_OPTIONS = ("seed", "grids", "patrol_interval_s", "incidents_per_hour", "camera_alerts_per_hour")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Simulation:
    """Patrols, incidents and camera alerts of one district, advanced together tick by tick."""

    def __init__(self, district: District, *, seed: int, run_id: str, incidents_per_hour: float,
                 camera_alerts_per_hour: float, speed: float = 1.0) -> None:
        if not RUN_ID.match(run_id):
            raise ValueError(f"run id {run_id!r} must be 1-40 of A-Z a-z 0-9 _ . : -")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.district = district
        self.run_id = run_id
        self.speed = speed
        self.fleet = PatrolFleet(district, seed)
        self.incidents = IncidentSource(district, seed, incidents_per_hour=incidents_per_hour,
                                        camera_alerts_per_hour=camera_alerts_per_hour)
        self._clock: SimClock | None = None

    def tick(self, now: datetime) -> list[FeedMessage]:
        """Every patrol's fix at `now` (wall time), then the incidents and alerts due since the last tick."""
        now = as_utc(now)
        if self._clock is None:
            self._clock = SimClock(now, self.speed)
        simulated = self._clock.simulated(now)
        messages: list[FeedMessage] = [*self.fleet.positions(simulated, self.run_id),
                                       *self.incidents.due(simulated, self.run_id)]
        if self.speed != 1.0:
            messages = [_restamp(m, self._clock) for m in messages]
        return messages


def _restamp(message: FeedMessage, clock: SimClock) -> FeedMessage:
    """The message with its simulated times mapped back to wall time."""
    update = {name: clock.wall(value) for name in _STAMPS
              if (value := getattr(message, name, None)) is not None}
    return message.model_copy(update=update)


def run(
    simulation: Simulation,
    bus: Bus,
    stop: threading.Event,
    *,
    interval_s: float,
    ticks: int | None = None,
    clock: Callable[[], datetime] = utcnow,
    summary_every_s: float = SUMMARY_EVERY_S,
) -> Counter[str]:
    """Tick every `interval_s` seconds of wall time and publish, until `stop` is set or after `ticks` ticks.
    Returns the number of messages published per kind."""
    totals: Counter[str] = Counter()
    window: Counter[str] = Counter()
    failing = False
    done = 0
    next_tick = time.monotonic()
    next_summary = next_tick + summary_every_s
    while not stop.is_set():
        messages = simulation.tick(clock())
        try:
            publish_messages(bus, messages)
        except redis.RedisError as err:
            if not failing:
                log.warning("publishing failed, dropping ticks until the bus answers: %s", err)
            failing = True
        else:
            if failing:
                log.warning("publishing restored")
            failing = False
            published = Counter(m.kind for m in messages)
            totals.update(published)
            window.update(published)
        done += 1
        if ticks is not None and done >= ticks:
            break
        now = time.monotonic()
        if now >= next_summary:
            log.info("published in the last %.0f s: %s", summary_every_s, _counts(window))
            window.clear()
            next_summary = now + summary_every_s
        next_tick = max(next_tick + interval_s, now)  # when behind, carry on without a burst
        stop.wait(next_tick - now)
    return totals


def _counts(counts: Counter[str]) -> str:
    return (f"{counts['patrol_position']} fixes, {counts['incident_report']} incidents, "
            f"{counts['camera_alert']} camera alerts")


def redact(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def _run_id(text: str) -> str:
    if not RUN_ID.match(text):
        raise argparse.ArgumentTypeError("1-40 of A-Z a-z 0-9 _ . : -")
    return text


def _positive(kind: type[int | float]) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, not {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m simulators",
        description="Simulated district feeds: patrol positions, incidents, camera alerts.")
    p.add_argument("--seed", type=int, help="seed of the district and of every feed")
    p.add_argument("--grids", type=int, help="number of grids in the district")
    p.add_argument("--patrol-interval", dest="patrol_interval_s", type=float, metavar="SECONDS",
                   help="wall-clock seconds between two ticks (one fix per patrol per tick)")
    p.add_argument("--incidents-per-hour", type=float, help="of simulated time")
    p.add_argument("--camera-alerts-per-hour", type=float, help="of simulated time")
    p.add_argument("--speed", type=_positive(float), default=1.0,
                   help="simulated seconds per wall-clock second (default 1.0)")
    p.add_argument("--run-id", type=_run_id, help="prefix of message ids (default: random hex)")
    p.add_argument("--ticks", type=_positive(int), metavar="N",
                   help="stop after N ticks (default: until signalled)")
    load = p.add_mutually_exclusive_group()
    load.add_argument("--no-load-district", action="store_true",
                      help="do not write the district into the database")
    load.add_argument("--district-only", action="store_true",
                      help="write the district into the database and exit")
    return p.parse_args(argv)


def load_district(db_url: str, district: District, seed: int) -> None:
    """Replace the territory in the (already migrated) database; exits with a message when that fails."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            save_district(conn, district)
            furnishings = build_furnishings(district, seed)
            save_furnishings(conn, district, furnishings, load_taxonomy())
    except SQLAlchemyError as err:
        sys.exit(f"could not write the district to {redact(db_url)} (is the database migrated?): {err}")
    finally:
        engine.dispose()
    log.info("wrote district %s (%d areas, %d roads, %d cells, %d assets, %d people) to %s", district.name,
             len(district.areas), len(district.roads), len(furnishings.cells), len(furnishings.assets),
             len(furnishings.people), redact(db_url))


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [simulators] %(message)s")
    overrides = {name: value for name in _SETTINGS_OPTIONS if (value := getattr(args, name)) is not None}
    try:
        settings = Settings(**overrides)
    except ValidationError as err:
        sys.exit(f"invalid option: {describe(err)}")
    if args.district_only:
        load_district(settings.db_url, build_district(settings.seed, settings.grids), settings.seed)
        return
    if not settings.redis_url:
        sys.exit("CC_REDIS_URL (or REDIS_URL) must point at a Redis server")
    client = redis.Redis.from_url(settings.redis_url)
    try:
        client.ping()
    except (redis.RedisError, OSError) as err:
        sys.exit(f"Redis at {redact(settings.redis_url)} does not answer: {err}")
    district = build_district(settings.seed, settings.grids)
    if not args.no_load_district:
        load_district(settings.db_url, district, settings.seed)
    simulation = Simulation(district, seed=settings.seed, run_id=args.run_id or secrets.token_hex(4),
                            incidents_per_hour=settings.incidents_per_hour,
                            camera_alerts_per_hour=settings.camera_alerts_per_hour, speed=args.speed)
    log.info("district %s: %d grids, %d patrols, %d cameras; publishing to %s", district.name,
             len(district.grid_areas()), len(simulation.fleet.patrols), len(simulation.incidents.cameras),
             redact(settings.redis_url))
    log.info("run %s: a tick every %g s, speed x%g, %g incidents and %g camera alerts per simulated hour",
             simulation.run_id, settings.patrol_interval_s, args.speed, settings.incidents_per_hour,
             settings.camera_alerts_per_hour)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    bus = producer_bus(client, settings.bus, settings.stream_maxlen)
    totals = run(simulation, bus, stop, interval_s=settings.patrol_interval_s, ticks=args.ticks)
    log.info("stopped; published %s", _counts(totals))
