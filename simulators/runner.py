"""The live simulation loop and the entry point `python -m simulators`.

`run` calls `Simulation.tick` (simulators/simulation.py) every patrol interval of wall time and publishes
what it returns; `main` reads the settings, writes the district into the database and starts the loop until
SIGINT/SIGTERM. With --history-days it first writes the last days through the real pipeline (simulators/fast.py).
"""
from __future__ import annotations

import argparse
import logging
import secrets
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from feeds.bus.channels import Bus, producer_bus, publish_messages
from feeds.bus.connect import redis_client
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.calendar import WorkingCalendar
from feeds.clock import utcnow
from feeds.outage import Outage
from feeds.schemas import FeedMessage, describe
from feeds.settings import Settings
from feeds.store.engine import make_engine
from feeds.taxonomy import load as load_taxonomy
from simulators.fast import simulate
from simulators.frigate_cams import FrigateCams
from simulators.furnishings import build_furnishings, save_furnishings
from simulators.geography import District, build_district, save_district
from simulators.hotline import Hotline, load_keys
from simulators.outlets import Outlet
from simulators.phones import SHARE, Phones, phone_units, register_phones
from simulators.scenarios import ScenarioError, Script, available
from simulators.scenarios import load as load_scenario
from simulators.simulation import MAX_SPEED, RUN_ID, Simulation

log = logging.getLogger(__name__)

OUTBOX_LIMIT = 500_000  # messages kept while the bus is away (about an hour of a district's patrols)
SUMMARY_EVERY_S = 60.0
_SETTINGS_OPTIONS = ("seed", "grids", "patrol_interval_s", "problems_per_10k_day")
HISTORY_STEP_S = 60.0


def run(
    simulation: Simulation,
    bus: Bus,
    stop: threading.Event,
    *,
    interval_s: float,
    ticks: int | None = None,
    clock: Callable[[], datetime] = utcnow,
    summary_every_s: float = SUMMARY_EVERY_S,
    cases: Callable[[], Mapping[str, Mapping[str, Any]]] | None = None,
    outlets: Sequence[Outlet[Any]] = (),
) -> Counter[str]:
    """Tick every `interval_s` seconds of wall time and publish, until `stop` is set or after `ticks` ticks.
    `cases` reads the open cases as screens see them (the live snapshot), for the people acting on them.
    `outlets` take their messages to the adapters instead, as outside systems send them (simulators/outlets.py):
    a share of the patrols' fixes as phones (OsmAnd), the citizens' and hotline reports (Open311), the camera
    alerts (Frigate).
    Returns the number of messages published per kind."""
    totals: Counter[str] = Counter()
    window: Counter[str] = Counter()
    outage = Outage("publishing on the bus", log)
    outbox: list[FeedMessage] = []  # made but not yet published: kept through an outage of the bus, in order
    seen: Mapping[str, Mapping[str, Any]] | None = None
    done = 0
    next_tick = time.monotonic()
    next_summary = next_tick + summary_every_s
    while not stop.is_set():
        if cases is not None:
            try:
                seen = cases()
            except redis.RedisError:
                pass  # the people act on the cases as they last saw them
        outbox.extend(simulation.tick(clock(), seen))
        for outlet in outlets:
            outbox, sent = outlet.pass_on(outbox, clock())
            totals[outlet.counted] += sent
            window[outlet.counted] += sent
        if len(outbox) > OUTBOX_LIMIT:
            log.error("the bus has been away too long: %d oldest messages dropped", len(outbox) - OUTBOX_LIMIT)
            del outbox[:len(outbox) - OUTBOX_LIMIT]
        try:
            publish_messages(bus, outbox)  # a retried batch may be published twice: the ingest takes it once
        except redis.RedisError as err:
            outage.failed(err)
        else:
            outage.ok()
            published = Counter(m.kind for m in outbox)
            totals.update(published)
            window.update(published)
            outbox = []
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


_VIA = (("patrol_position via osmand", "fixes through OsmAnd"),
        ("incident_report via open311", "reports through Open311"),
        ("camera_alert via frigate", "camera alerts through Frigate"))


def _counts(counts: Counter[str]) -> str:
    text = (f"{counts['patrol_position']} fixes, {counts['incident_report']} reports, "
            f"{counts['camera_alert']} camera alerts, {counts['camera_status']} cameras' health, "
            f"{counts['case_command']} case commands")
    sent = [f"{counts[key]} {label}" for key, label in _VIA if counts[key]]
    return text + (f"; and {', '.join(sent)}" if sent else "")


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
        description="A simulated district: patrols, problems and their reports, camera alerts, and the people "
                    "acting on cases, published on the feeds' Redis channels.")
    p.add_argument("--seed", type=int, help="seed of the district and of every feed")
    p.add_argument("--grids", type=int, help="number of grids (about 100 for a street, 1,100 for a city centre)")
    p.add_argument("--patrol-interval", dest="patrol_interval_s", type=float, metavar="SECONDS",
                   help="wall-clock seconds between two ticks (one fix per patrol on duty per tick)")
    p.add_argument("--problems-per-10k-day", type=float, metavar="N",
                   help="problems arising per 10,000 residents a day (default 40)")
    p.add_argument("--speed", type=_speed, default=1.0,
                   help=f"simulated seconds per wall-clock second, up to {MAX_SPEED:g} (default 1)")
    p.add_argument("--run-id", type=_run_id, help="prefix of message ids (default: random hex)")
    p.add_argument("--ticks", type=_positive(int), metavar="N",
                   help="stop after N ticks (default: until signalled)")
    p.add_argument("--no-act", action="store_true",
                   help="nobody simulated acts on cases (people at the screens do)")
    p.add_argument("--around-the-clock", action="store_true",
                   help="grid workers walk at any hour, not only on their shifts (a demo in the evening)")
    p.add_argument("--drill", metavar="SCENARIO", help=f"layer a drill on normal life: {', '.join(available())}")
    p.add_argument("--drill-id", type=_run_id, help="id carried by every message of the drill (default: "
                                                    "the scenario and the run id)")
    p.add_argument("--via", type=_vias, default=(), metavar="osmand,open311,frigate",
                   help="send through the adapters, as outside systems do: osmand (a share of the patrol units' "
                   "fixes, as phones, devices sim-<unit>), open311 (the citizens' and hotline reports, with the "
                   "keys in the data directory's open311_keys.json), frigate (the camera alerts, as a Frigate "
                   "NVR's MQTT messages to CC_MQTT_URL)")
    p.add_argument("--via-share", type=_positive(float), default=SHARE, metavar="SHARE",
                   help=f"the share of units that send through the adapter (default {SHARE:g})")
    p.add_argument("--osmand-url", help="the OsmAnd endpoint (default http://CC_HOST:CC_OSMAND_PORT/)")
    p.add_argument("--open311-url", help="the Open311 endpoint (default http://CC_HOST:CC_OPEN311_PORT/open311/v2)")
    p.add_argument("--history-days", type=_positive(float), metavar="DAYS",
                   help="first simulate the last DAYS days as fast as possible, straight through the "
                        "pipeline into the database and the live snapshot (run it before the ingest starts)")
    p.add_argument("--history-only", action="store_true", help="exit after writing the history")
    load = p.add_mutually_exclusive_group()
    load.add_argument("--no-load-district", action="store_true",
                      help="do not write the district into the database")
    load.add_argument("--district-only", action="store_true",
                      help="write the district into the database and exit")
    args = p.parse_args(argv)
    if args.history_only and not args.history_days:
        p.error("--history-only needs --history-days")
    if args.drill_id and not args.drill:
        p.error("--drill-id needs --drill")
    return args


def _vias(text: str) -> tuple[str, ...]:
    vias = tuple(v.strip() for v in text.split(",") if v.strip())
    unknown = set(vias) - {"osmand", "open311", "frigate"}
    if unknown:
        raise argparse.ArgumentTypeError(f"adapters are osmand, open311 and frigate, not "
                                         f"{', '.join(sorted(unknown))}")
    return vias


def _speed(text: str) -> float:
    value = float(text)
    if not 0 < value <= MAX_SPEED:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most {MAX_SPEED:g}, not {text}")
    return value


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


def residents(district: District) -> int:
    return sum(g.population for g in district.grid_areas())


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [simulators] %(message)s")
    overrides = {name: value for name in _SETTINGS_OPTIONS if (value := getattr(args, name)) is not None}
    try:
        settings = Settings(**overrides)
        calendar = settings.working_calendar()
    except ValidationError as err:
        sys.exit(f"invalid option: {describe(err)}")
    except ValueError as err:
        sys.exit(f"the working calendar in the settings is wrong: {err}")
    if args.district_only:
        load_district(settings.db_url, build_district(settings.seed, settings.grids), settings.seed)
        return
    if not settings.redis_url:
        sys.exit("CC_REDIS_URL (or REDIS_URL) must point at a Redis server")
    client = redis_client(settings.redis_url)
    try:
        client.ping()
    except (redis.RedisError, OSError) as err:
        sys.exit(f"Redis at {redact(settings.redis_url)} does not answer: {err}")
    district = build_district(settings.seed, settings.grids)
    if not args.no_load_district:
        load_district(settings.db_url, district, settings.seed)
    problems_per_day = settings.problems_per_10k_day * residents(district) / 10_000
    run_id = args.run_id or secrets.token_hex(4)
    if args.history_days:
        write_history(settings, district, client, calendar, problems_per_day, args.history_days)
        if args.history_only:
            return
    script, drill_id = None, None
    if args.drill:
        try:
            scenario = load_scenario(args.drill, load_taxonomy())
        except ScenarioError as err:
            sys.exit(str(err))
        drill_id = args.drill_id or f"{scenario.id}-{run_id}"[:64]
        script = Script(scenario, district, utcnow(), settings.seed)
        log.info("drill %s (%s): %g minutes of simulated time, every message tagged %s", scenario.id,
                 scenario.zh, scenario.duration_min, drill_id)
    simulation = Simulation(district, seed=settings.seed, run_id=run_id, problems_per_day=problems_per_day,
                            speed=args.speed, calendar=calendar, act_on_cases=not args.no_act, script=script,
                            drill_id=drill_id, around_the_clock=args.around_the_clock)
    log.info("district %s: %d grids, %d residents, %d patrols, %d cameras; publishing to %s", district.name,
             len(district.grid_areas()), residents(district), len(simulation.fleet.patrols),
             len(simulation.cameras.cameras), redact(settings.redis_url))
    log.info("run %s: a tick every %g s, speed x%g, %.0f problems a simulated day, cases %s", run_id,
             settings.patrol_interval_s, args.speed, problems_per_day,
             "left to people at the screens" if args.no_act else "acted on by simulated staff")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    bus = producer_bus(client, settings.bus, settings.stream_maxlen, settings.stream_replicas)
    snapshots = RedisSnapshotStore(client, settings.recent_items)
    if drill_id is not None:  # the drill's cases live apart from the live ones
        snapshots = snapshots.for_drill(drill_id)
    outlets: list[Outlet[Any]] = []
    if "osmand" in args.via:
        units = phone_units((p.unit_id for p in simulation.fleet.patrols), args.via_share)
        register_phones(settings.db_url, units)
        phones = Phones(args.osmand_url or f"http://{settings.host}:{settings.osmand_port}/", units)
        outlets.append(phones)
        log.info("%d of %d patrol units report as phones through the OsmAnd endpoint at %s", len(units),
                 len(simulation.fleet.patrols), phones.url)
    if "open311" in args.via:
        try:
            keys = load_keys(settings.data_dir)
        except ValueError as err:
            sys.exit(str(err))
        hotline = Hotline(args.open311_url or f"http://{settings.host}:{settings.open311_port}/open311/v2", keys)
        outlets.append(hotline)
        log.info("citizens' and hotline reports are posted to the Open311 endpoint at %s", hotline.url)
    if "frigate" in args.via:
        if not settings.mqtt_url:
            sys.exit("--via frigate needs CC_MQTT_URL: the broker the Frigate bridge reads")
        outlets.append(FrigateCams(settings.mqtt_url))
        log.info("camera alerts are published as Frigate's on %s", settings.mqtt_url)
    totals = run(simulation, bus, stop, interval_s=settings.patrol_interval_s, ticks=args.ticks,
                 cases=lambda: snapshots.load()["cases"], outlets=outlets)
    log.info("stopped; published %s", _counts(totals))


def write_history(settings: Settings, district: District, client: redis.Redis, calendar: WorkingCalendar,
                  problems_per_day: float, days: float) -> None:
    """The last `days` days of the district, simulated as fast as possible through the pipeline."""
    end = utcnow()
    start = end - timedelta(days=days)
    simulation = Simulation(district, seed=settings.seed, run_id=f"h{int(start.timestamp())}",
                            problems_per_day=problems_per_day, calendar=calendar)
    engine = make_engine(settings.db_url)
    began = time.monotonic()
    try:
        outcome = simulate(simulation, engine, start, end, step=timedelta(seconds=HISTORY_STEP_S),
                           snapshots=RedisSnapshotStore(client, settings.recent_items), calendar=calendar)
    finally:
        engine.dispose()
    log.info("wrote %.1f days of history in %.0f s: %s", days, time.monotonic() - began, _counts(outcome.sent))
