"""The wall screen at city size: time to interactive and publish → paint latency while live.

    .venv/bin/python -m bench.wall [--grids 1100] [--cases 100000] [--open 5000] [--units 1000] [--loads 3]

Builds a city-size database (the simulated district at --grids, its furnishings, --cases case rows of the
last 90 days inserted in bulk, --open of them open, also in the live snapshot), starts Redis, the ingest, the
KPI job and the dashboard, publishes --units patrols at 1 Hz through the real ingest, and opens the wall in
headless Chromium: navigation → interactive (map drawn, snapshot applied, figures shown), read from the
page's own performance clock, with the timeline of each load.

The KPI job's first pass after start-up reads every case once (at 100,000 cases about 20 s of one core) and
shares the two cores with everything else while it runs. A wall meets that only when the centre's services
have just been started: one load is taken while it runs and reported apart ("cold"); the --loads timed
loads start once it is over (the first KPI board stored), as a wall screen meets the page in operation (the
KPI job's later ticks, the ingest and the patrols still running). Then measures publish → paint of the
patrol fixes while live (as bench/latency.py does) and the two click endpoints (grid card, a patrol's last
hour).
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import platform
import random
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import redis

from bench.latency import Publisher
from devstack.demo import start_stack
from devstack.services import free_port, headless_chromium
from feeds.bus.channels import RedisBus
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.cases.escalation import with_clock
from feeds.cases.machine import OPEN_STEP
from feeds.cases.writes import case_view
from feeds.clock import ms
from feeds.ingest.state import COUNTERS, Delta
from feeds.kpis.board import RedisBoardStore
from feeds.settings import Settings
from feeds.store.engine import make_engine
from feeds.store.models import CaseRow
from feeds.taxonomy import load as load_taxonomy
from simulators.geography import build_district

OPEN_STATES = [state.value for state in OPEN_STEP]
CHANNELS = ("patrol", "citizen", "camera", "hotline")


def case_rows(district: Any, total: int, open_: int, now: datetime, seed: int = 11) -> list[dict[str, Any]]:
    """`total` case rows over the last 90 days, the newest `open_` of them still open."""
    rng = random.Random(seed)
    categories = list(load_taxonomy().categories.values())
    grids = [(g.code, g.geometry.representative_point()) for g in district.grid_areas()]
    rows = []
    for n in range(total):
        cat = rng.choice(categories)
        code, point = rng.choice(grids)
        age = timedelta(days=90) * (n / total) if n >= open_ else timedelta(hours=rng.uniform(0, 72))
        reported = now - age
        state = rng.choice(OPEN_STATES) if n < open_ else "closed"
        step_started = reported + (now - reported) * rng.uniform(0, 0.9) if n < open_ else reported + timedelta(hours=4)
        rows.append({"id": f"bench-case-{n:06d}", "category": cat.code, "urgent": rng.random() < 0.05, "state": state,
                     "level": "grid", "department": cat.department, "assignee": None, "version": 3,
                     "step_started_at": step_started, "extended_hours": 0.0, "reworks": 0, "parked_from": None,
                     "reject_reason": None, "channel": rng.choice(CHANNELS), "lat": point.y + rng.uniform(-2e-4, 2e-4),
                     "lon": point.x + rng.uniform(-2e-4, 2e-4), "grid_code": code, "description": f"{cat.zh} 第{n}号",
                     "occurred_at": None, "reported_at": reported, "drill_id": None, "last_command": None})
    return rows


def fill(district: Any, settings: Settings, total: int, open_: int, figures: dict[str, float]):  # type: ignore[no-untyped-def]
    """The `prepare` step of the stack: case rows into the database, the open ones into the live snapshot."""
    def prepare(redis_url: str, db_url: str) -> None:
        began = time.perf_counter()
        now = datetime.now(UTC)
        rows = case_rows(district, total, open_, now)
        engine = make_engine(db_url)
        with engine.begin() as conn:
            for start in range(0, len(rows), 5000):
                conn.execute(CaseRow.__table__.insert(), rows[start:start + 5000])
        engine.dispose()
        taxonomy, calendar = load_taxonomy(), settings.working_calendar()
        views = {r["id"]: with_clock(taxonomy, calendar, case_view(r)) for r in rows[:open_]}
        store = RedisSnapshotStore(redis.Redis.from_url(redis_url), settings.recent_items)
        seq = store.load()["seq"]
        store.save(Delta(seq=seq + 1, at=ms(now), patrols={}, incidents=[], alerts=[],
                         counts=dict.fromkeys(COUNTERS, 0), cases=views, cameras={}))
        figures["fill_s"] = time.perf_counter() - began
    return prepare


INTERACTIVE = "return window.cc && cc.live && cc.live.interactiveAt"
# one load's steps on the page's clock (ms from navigation): the first answer of each request, the page's marks
TIMELINE = """
const first = {}, starts = {};
for (const e of performance.getEntriesByType('resource')) {
  const path = new URL(e.name).pathname;
  const key = path.startsWith('/_dash-component-suites/') || path.startsWith('/assets/') ? 'scripts' : path;
  if (key === 'scripts') { first.scripts = Math.max(first.scripts || 0, e.responseEnd); continue; }
  if (!(key in first)) { first[key] = e.responseEnd; starts[key] = e.startTime; }
}
const nav = performance.getEntriesByType('navigation')[0], live = cc.live;
return {html: nav.responseEnd, scriptsLoaded: first.scripts, scriptsRun: nav.domInteractive,
        layoutAsked: starts['/_dash-layout'], layout: first['/_dash-layout'],
        pageAsked: starts['/_dash-update-component'], page: first['/_dash-update-component'],
        connected: live.connectedAt, snapshotFetched: live.snapshotFetchedAt, snapshotApplied: live.snapshotAt,
        territoryFetched: live.territoryFetchedAt, mapReady: live.startedAt, territoryDrawn: live.territoryAt,
        interactive: live.interactiveAt, snapshots: live.snapshots};
"""
STEPS = (("html", "page HTML"), ("scriptsLoaded", "scripts loaded"), ("scriptsRun", "scripts run"),
         ("layoutAsked", "Dash layout asked"), ("layout", "answered"), ("pageAsked", "wall layout asked"),
         ("page", "answered"), ("mapReady", "map ready"), ("connected", "socket connected"),
         ("snapshotFetched", "snapshot fetched"), ("snapshotApplied", "applied"),
         ("territoryFetched", "territory fetched"), ("territoryDrawn", "drawn"), ("interactive", "interactive"))


def timeline_text(steps: dict[str, float | None]) -> str:
    """The steps of one load in the order they happened, e.g. "scripts run 1,040 · … · interactive 2,480"."""
    known = sorted(((steps[k], label) for k, label in STEPS if steps.get(k) is not None), key=lambda s: s[0])
    return " · ".join(f"{label} {at:,.0f}" for at, label in known)


def wait_interactive(driver: Any, url: str) -> None:
    """Open the wall in `driver` and wait until the page marks itself interactive."""
    driver.get(url)
    deadline = time.time() + 60
    while not driver.execute_script(INTERACTIVE):
        if time.time() > deadline:
            raise RuntimeError("the wall did not become interactive in 60 s")
        time.sleep(0.05)


def open_wall(url: str) -> dict[str, Any]:
    """One load in a fresh browser (no cache): its timeline (ms from navigation) and what it shows."""
    driver = headless_chromium()
    try:
        wait_interactive(driver, url)
        steps = driver.execute_script(TIMELINE)
        steps["shown"] = driver.execute_script(
            "return [Object.keys(cc.live.layers.grids.byCode).length, cc.live.caseMarks.size(),"
            " document.getElementById('count-open-cases').textContent]")
        return steps
    finally:
        driver.quit()


def time_to_interactive(url: str, loads: int, label: str) -> list[float]:
    """Navigation → interactive in ms, per load, each printed with its timeline and the load average."""
    out = []
    for _ in range(loads):
        load_1m = os.getloadavg()[0]
        steps = open_wall(url)
        out.append(float(steps["interactive"]))
        grids, markers, open_cases = steps["shown"]
        print(f"  {label} load (load average {load_1m:.1f}): interactive at {out[-1]:,.0f} ms; grids drawn {grids}, "
              f"case markers {markers}, open cases shown {open_cases}, snapshots loaded {steps['snapshots']}\n"
              f"    {timeline_text(steps)}", flush=True)
    return out


def wait_for_first_board(redis_url: str, timeout_s: float = 900.0) -> None:
    """Waits until the KPI job has stored its first board: its first pass is over."""
    boards, deadline = RedisBoardStore(redis.Redis.from_url(redis_url)), time.monotonic() + timeout_s
    while boards.load() is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the KPI job stored no board in {timeout_s:.0f} s")
        time.sleep(0.5)


# what the wall has applied so far: deltas, snapshots loaded, fixes accepted and rejected
LIVE_COUNTS = "return [cc.live.deltas, cc.live.snapshots, cc.live.counts.fixes || 0, cc.live.counts.rejected || 0]"


def live_latency(url: str, seconds: float, publisher: Publisher, warmup: float = 5.0) -> dict[str, float]:
    driver = headless_chromium()
    try:
        wait_interactive(driver, url)
        time.sleep(warmup)
        driver.execute_script("cc.live.latencies = []; cc.live.painted = []; window.__longTasks = [];"
                              "new PerformanceObserver((l) => { for (const e of l.getEntries()) {"
                              " window.__longTasks.push(e.duration); } }).observe({type: 'longtask'});")
        before = driver.execute_script(LIVE_COUNTS)
        published = publisher.published
        time.sleep(seconds)
        published = publisher.published - published
        after = driver.execute_script(LIVE_COUNTS)
        lat = np.array(driver.execute_script("return cc.live.latencies"), dtype=float)
        painted = np.array(driver.execute_script("return cc.live.painted"), dtype=float)
        on_duty = driver.execute_script("return Object.keys(cc.live.patrols).length")
        tasks = driver.execute_script("return window.__longTasks")
    finally:
        driver.quit()
    if lat.size == 0:
        raise RuntimeError("no fix was painted")
    if lat.min() < 0:
        raise RuntimeError(f"negative latency {lat.min()} ms: clocks are not comparable")
    p50, p95, p99 = np.percentile(lat, [50, 95, 99])
    a50, a95 = np.percentile(painted, [50, 95])
    return {"p50": p50, "p95": p95, "p99": p99, "a50": a50, "a95": a95, "painted": lat.size, "on_duty": on_duty,
            "published": published, "deltas": after[0] - before[0], "snapshots": after[1] - before[1],
            "accepted": after[2] - before[2], "rejected": after[3] - before[3],
            "tasks": len(tasks), "task_ms": sum(tasks), "tasks_over_100": sum(1 for d in tasks if d > 100),
            "longest_task": max(tasks, default=0.0)}


def kiosk_opener(kiosk_url: str) -> urllib.request.OpenerDirector:
    """An HTTP client signed in as the wall's kiosk (its session cookie kept)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    opener.open(kiosk_url, timeout=60).read()
    return opener


def timed_get(opener: urllib.request.OpenerDirector, url: str, times: int = 3) -> float:
    best = float("inf")
    for _ in range(times):
        began = time.perf_counter()
        with opener.open(url, timeout=60) as r:
            r.read()
        best = min(best, time.perf_counter() - began)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=1100)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=5000, help="of the cases, how many are open")
    parser.add_argument("--units", type=int, default=1000, help="patrols, each publishing once a second")
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0, help="publish → paint measured this long")
    args = parser.parse_args()

    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="cc-bench-wall-")), port=free_port(), seed=7,
                        grids=args.grids, push_window_ms=15, redis_url=None, database_url=None)
    district = build_district(settings.seed, settings.grids)
    figures: dict[str, float] = {}
    began = time.perf_counter()
    stack = start_stack(settings, simulate=False, quiet=True,
                        prepare=fill(district, settings, args.cases, args.open, figures))
    setup_s = time.perf_counter() - began
    try:
        publisher = Publisher(RedisBus(redis.Redis.from_url(stack.redis_url)), district.bounds, args.units, args.units)
        thread = threading.Thread(target=publisher.run, daemon=True)
        thread.start()
        time.sleep(5)  # every unit on duty before the wall opens
        print(f"wall at {args.grids} grids, {args.cases:,} cases ({args.open:,} open), {args.units} patrols at 1 Hz",
              flush=True)
        boards = RedisBoardStore(redis.Redis.from_url(stack.redis_url))
        cold = time_to_interactive(stack.kiosk_url, 1, "cold") if boards.load() is None else []
        cold_in_pass = boards.load() is None  # the first pass still ran when the cold load was interactive
        wait_for_first_board(stack.redis_url)
        first_pass_s = time.perf_counter() - began - setup_s
        print(f"  the KPI job's first pass over after {first_pass_s:.0f} s from the dashboard's start", flush=True)
        time.sleep(3)  # the board's push and the screens' reloads of it are over
        tti = time_to_interactive(stack.kiosk_url, args.loads, "timed")
        live = live_latency(stack.kiosk_url, args.seconds, publisher)
        grid = district.grid_areas()[len(district.grid_areas()) // 2].code
        kiosk = kiosk_opener(stack.kiosk_url)
        card_ms = timed_get(kiosk, f"{stack.url}api/wall/grid/{grid}")
        trail_ms = timed_get(kiosk, f"{stack.url}api/wall/trail/U00010")
        publisher.stop.set()
        thread.join()
        snapshot_kb = len(kiosk.open(f"{stack.url}api/live/snapshot", timeout=60).read()) / 1024
    finally:
        stack.stop()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    print(f"\n{os.cpu_count()} cores ({cpu}); setup {setup_s:.0f} s (cases and snapshot {figures['fill_s']:.1f} s)")
    print("time to interactive (navigation → map drawn, snapshot applied, figures shown), after the KPI job's "
          "first pass: " + ", ".join(f"{t / 1000:.2f} s"
                                     for t in tti) + f"   (target ≤ 3 s; snapshot {snapshot_kb:,.0f} KiB)")
    if cold:
        during = "" if cold_in_pass else " (it ended during the load)"
        print(f"  cold start, loaded while the KPI job's first pass ran{during}: "
              f"{cold[0] / 1000:.2f} s")
    else:
        print("  cold start: the KPI job's first pass was over before the wall could be opened")
    print(f"publish → paint while live, {live['published']:,.0f} fixes published, {live['painted']:,.0f} painted "
          f"({live['deltas']} deltas carrying {live['accepted']:,} accepted and {live['rejected']:,} rejected; "
          f"{live['snapshots']} snapshots reloaded), {live['on_duty']} patrols on the wall: "
          f"p50 {live['p50']:.0f} ms, p95 {live['p95']:.0f} ms, p99 {live['p99']:.0f} ms "
          f"(after paint p50 {live['a50']:.0f} ms, p95 {live['a95']:.0f} ms); long tasks (> 50 ms) {live['tasks']} "
          f"({live['task_ms'] / 1000:.1f} s of {args.seconds:.0f} s), over 100 ms {live['tasks_over_100']}, "
          f"longest {live['longest_task']:.0f} ms")
    print(f"click endpoints (best of 3): grid card {card_ms:.0f} ms, a patrol's last hour {trail_ms:.0f} ms")
    print("command: .venv/bin/python -m bench.wall " + " ".join(
        f"--{k} {v}" for k, v in vars(args).items()))


if __name__ == "__main__":
    main()
