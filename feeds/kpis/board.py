"""The wall's KPI board: the district's six headline rates for today and this month, with the previous
periods to compare against, computed once for every screen. Entry point: `python -m feeds.kpis.board`.

- `comparison_periods` (pure): today, yesterday up to the same time of day, this month, last month up to
  the same day and time of day (docs/kpis.md, "The wall's KPI board").
- `kpi_board` (pure): figures of those four periods → the board, a JSON-able dict of numerators and
  denominators (no formatting: each screen formats in its own language).
- `compute_board` (reads the database through feeds/kpis/load.py) and `publish_board` (writes the board to a
  Redis key and pushes it to every screen as Socket.IO event "kpis" on /live).
- `tick` first brings the KPI caches up to date (`feeds.kpis.cache.refresh`): this job is their only writer.
"""
from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from feeds.bus.connect import redis_client
from feeds.bus.lease import Lease, OneActive, holder_name
from feeds.bus.push import Pusher, SocketIOPusher
from feeds.bus.screens import ScreenEvent
from feeds.kpis.cache import refresh
from feeds.kpis.figures import AreaFigures, KpiRules, Period, Rate
from feeds.kpis.load import area_panel, load_cells
from feeds.outage import Outage
from feeds.settings import Settings
from feeds.store.engine import make_engine
from feeds.store.models import Area
from feeds.taxonomy import load

log = logging.getLogger("feeds.kpis.board")

KEY = "cc:kpis:board"
BOARD_VERSION = 1
# the rates on the wall, in the order shown: the four rates of patrol assessment (四率), then closure
RATES = ("discovery_timeliness", "discovery_accuracy", "coverage", "verification_timeliness", "closure",
         "on_time_closure")
PERIODS = ("today", "yesterday", "month", "last_month")  # the current periods and what each is compared with
MAX_DAYS_PER_TICK = 7  # days of cell visits stored per tick at most, so that a long history does not hold up the board


def rates_of(figures: AreaFigures) -> dict[str, Rate]:
    """The six headline rates of an area's figures (核查及时率 counts both 核实 and 核查)."""
    return {
        "discovery_timeliness": figures.discovery_timeliness,
        "discovery_accuracy": figures.discovery_accuracy,
        "coverage": figures.coverage,
        "verification_timeliness": figures.verification.both,
        "closure": figures.closure,
        "on_time_closure": figures.on_time_closure,
    }


@dataclass(frozen=True)
class Window:
    """A period and the moment its figures are taken at (`now` of area_panel)."""

    period: Period
    now: datetime


def same_time_last_month(now: datetime, zone: ZoneInfo) -> datetime:
    """The same day of the previous month at the same local time; the month's last day when it is shorter
    (31 March → 28 or 29 February)."""
    local = now.astimezone(zone)
    first_of_this = local.date().replace(day=1)
    last_of_previous = first_of_this - timedelta(days=1)
    day = last_of_previous.replace(day=min(local.day, last_of_previous.day))
    return datetime.combine(day, local.timetz().replace(tzinfo=None), zone)


def comparison_periods(now: datetime, zone: ZoneInfo) -> dict[str, Window]:
    """Today and this month as of now; yesterday and last month as things stood at the same point in them."""
    local = now.astimezone(zone)
    day_before = datetime.combine(local.date() - timedelta(days=1), local.timetz().replace(tzinfo=None), zone)
    month_before = same_time_last_month(now, zone)
    return {
        "today": Window(Period.today(now, zone), now),
        "yesterday": Window(Period.today(day_before, zone), day_before),
        "month": Window(Period.this_month(now, zone), now),
        "last_month": Window(Period.this_month(month_before, zone), month_before),
    }


def kpi_board(area: str, figures: Mapping[str, AreaFigures], windows: Mapping[str, Window], computed_at: datetime,
              interval_s: float) -> dict[str, Any]:
    """The board every screen shows: for each rate and period its numerator and denominator."""
    rates = {name: rates_of(figures[name]) for name in PERIODS}
    return {
        "version": BOARD_VERSION,
        "area": area,
        "computed_at": computed_at.isoformat(timespec="seconds"),
        "computed_ms": int(computed_at.timestamp() * 1000),
        "interval_s": interval_s,
        "periods": {name: {"start": windows[name].period.start.isoformat(),
                           "as_of": windows[name].period.as_of(windows[name].now).isoformat(timespec="seconds")}
                    for name in PERIODS},
        "rates": {key: {name: [rates[name][key].numerator, rates[name][key].denominator] for name in PERIODS}
                  for key in RATES},
    }


# ---------------------------------------------------------------------------------------------- I/O


class BoardStore(Protocol):
    def save(self, board: dict[str, Any]) -> None: ...

    def load(self) -> dict[str, Any] | None: ...


class MemoryBoardStore:
    def __init__(self, board: dict[str, Any] | None = None) -> None:
        self.board = board

    def save(self, board: dict[str, Any]) -> None:
        self.board = board

    def load(self) -> dict[str, Any] | None:
        return self.board


class RedisBoardStore:
    """The latest board under one Redis key, for screens that load the page before the next push."""

    def __init__(self, client: redis.Redis, key: str = KEY) -> None:
        self._r = client
        self.key = key

    def save(self, board: dict[str, Any]) -> None:
        self._r.set(self.key, json.dumps(board, ensure_ascii=False))

    def load(self) -> dict[str, Any] | None:
        raw = self._r.get(self.key)
        return json.loads(raw) if raw else None


def district_code(conn: Connection) -> str | None:
    """The district's area code; None while no territory is loaded."""
    return conn.execute(select(Area.code).where(Area.level == "district").order_by(Area.code).limit(1)).scalar()


def compute_board(conn: Connection, rules: KpiRules, area: str, now: datetime, zone: ZoneInfo,
                  interval_s: float) -> dict[str, Any]:
    windows = comparison_periods(now, zone)
    figures = {name: area_panel(conn, rules, area, w.period, w.now) for name, w in windows.items()}
    return kpi_board(area, figures, windows, now.astimezone(zone), interval_s)


def publish_board(board: dict[str, Any], store: BoardStore, pusher: Pusher) -> None:
    store.save(board)
    pusher.push(ScreenEvent.KPIS, board)


def tick(engine: Engine, rules: KpiRules, store: BoardStore, pusher: Pusher, now: datetime, zone: ZoneInfo,
         interval_s: float) -> dict[str, Any] | None:
    """Bring the KPI caches up to date (feeds/kpis/cache.py), then compute, store and push one board; None
    (nothing pushed) while the district is not loaded."""
    with engine.connect() as conn:
        area = district_code(conn)
        cells = load_cells(conn) if area is not None else None
    if area is None:
        return None
    refresh(engine, rules, now, zone, cells, max_days=MAX_DAYS_PER_TICK)
    with engine.connect() as conn:
        board = compute_board(conn, rules, area, now, zone, interval_s)
    publish_board(board, store, pusher)
    return board


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [kpiboard] %(message)s")
    settings = Settings()
    if not settings.redis_url:
        sys.exit("CC_REDIS_URL (or REDIS_URL) must point at the Redis server of the dashboard")
    try:
        rules = KpiRules(load(), settings.working_calendar())
    except ValueError as err:
        sys.exit(f"the working calendar in the settings is wrong: {err}")
    zone = ZoneInfo(settings.timezone)
    engine = make_engine(settings.db_url)
    client = redis_client(settings.redis_url)
    store = RedisBoardStore(client)
    pusher = SocketIOPusher(settings.redis_url)
    one = OneActive(Lease(client, "kpiboard", holder_name(), settings.lease_ttl_s))  # one board is computed
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, one.halt)
    interval = settings.kpi_interval_s

    def compute(stop: threading.Event) -> None:
        log.info("computing the wall's KPI board every %d s", interval)
        outage = Outage("the KPI board's Redis or database", log)
        while not stop.is_set():
            started = time.monotonic()
            try:
                board = tick(engine, rules, store, pusher, datetime.now(zone), zone, interval)
                outage.ok()
                took = time.monotonic() - started
                if board is None:
                    log.info("no district in the database yet")
                elif took > interval / 2:
                    log.warning("the KPI board took %.1f s, more than half its %d s interval", took, interval)
            except (redis.ConnectionError, redis.TimeoutError, OperationalError) as err:
                stop.wait(outage.failed(err))  # tried again soon, not at the next tick: the wall waits for it
                continue
            except Exception:
                log.exception("computing the KPI board failed")
            stop.wait(max(1.0, interval - (time.monotonic() - started)))

    one.run(compute)


if __name__ == "__main__":
    main()
