"""Publish → paint latency on the wall screen, push against a polling baseline.

    .venv/bin/python -m bench.latency [--units 1000] [--rate 1000] [--seconds 20]

Starts its own Redis, SQLite, ingest and dashboard (and the polling baseline page), publishes patrol
fixes at a set rate (each unit once per units/rate seconds, each fix stamped with its publish time),
and reads back in headless Chromium, for every fix painted, Date.now() after the frame − the stamp.
Both clocks are this machine's wall clock. Prints p50/p95/p99 for push and poll, and their ratio.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
import redis

from devstack.demo import start_stack
from devstack.services import free_port, headless_chromium, spawn, wait_for_http
from feeds.bus.channels import RedisBus
from feeds.schemas import channel_for
from feeds.settings import Settings
from simulators.geography import build_district


class Publisher:
    """Publishes `rate` fixes a second across `units` patrols, in 10 ms batches, until stopped."""

    def __init__(self, bus: RedisBus, bounds: tuple[float, float, float, float], units: int, rate: int) -> None:
        self.bus, self.units, self.rate = bus, units, rate
        rng = random.Random(1)
        west, south, east, north = bounds
        self.where = [(rng.uniform(south, north), rng.uniform(west, east)) for _ in range(units)]
        self.published = 0
        self.sequence = 0  # message ids stay unique across runs (a repeated id is a replay, ignored)
        self.stop = threading.Event()

    def run(self) -> None:
        per_tick = max(1, self.rate // 100)
        next_unit, tick = 0, time.perf_counter()
        run_id = f"bench{os.getpid()}"
        channel = channel_for("patrol_position")
        while not self.stop.is_set():
            now = datetime.now(UTC)
            batch = []
            for _ in range(per_tick):  # as PatrolPosition encodes (feeds/schemas.py), without a model per fix
                lat, lon = self.where[next_unit]
                self.sequence += 1
                n = self.sequence
                jitter = (n % 7) * 1e-5
                batch.append({"schema_version": 1, "id": f"{run_id}-{n}", "source": "bench", "ts": now,
                              "drill_id": None, "kind": "patrol_position", "unit_id": f"U{next_unit:05d}",
                              "lat": lat + jitter, "lon": lon, "accuracy_m": 5.0, "speed_mps": 1.2, "fix_at": now})
                next_unit = (next_unit + 1) % self.units
            self.bus.publish(channel, orjson.dumps(batch, option=orjson.OPT_UTC_Z))
            self.published += len(batch)
            tick += per_tick / self.rate
            self.stop.wait(max(0.0, tick - time.perf_counter()))


def measure(url: str, publisher: Publisher, seconds: float, warmup: float = 4.0) -> dict[str, float]:
    driver = headless_chromium()
    try:
        driver.get(url)
        deadline = time.time() + 30
        while not driver.execute_script("return !!(window.cc && cc.live && cc.live.latencies)"):
            if time.time() > deadline:
                raise RuntimeError(f"{url} did not come up")
            time.sleep(0.2)
        thread = threading.Thread(target=publisher.run, daemon=True)
        publisher.stop.clear()
        publisher.published = 0
        thread.start()
        time.sleep(warmup)
        driver.execute_script("cc.live.latencies = []; cc.live.painted = []")
        start = publisher.published
        time.sleep(seconds)
        latencies = np.array(driver.execute_script("return cc.live.latencies"), dtype=float)
        painted = np.array(driver.execute_script("return cc.live.painted"), dtype=float)
        sent = publisher.published - start
        publisher.stop.set()
        thread.join()
    finally:
        driver.quit()
    if latencies.size == 0:
        raise RuntimeError(f"no fix was painted on {url}")
    if latencies.min() < 0:
        raise RuntimeError(f"negative latency {latencies.min()} ms: clocks are not comparable")
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    a50, a95, a99 = np.percentile(painted, [50, 95, 99])
    return {"p50": p50, "p95": p95, "p99": p99, "a50": a50, "a95": a95, "a99": a99,
            "painted": latencies.size, "published": sent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=1000, help="fixes per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--window-ms", type=int, default=15, help="the ingest's push window")
    args = parser.parse_args()

    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="cc-bench-")), port=free_port(), seed=7, grids=96,
                        push_window_ms=args.window_ms, redis_url=None, database_url=None)
    stack = start_stack(settings, simulate=False, quiet=True)
    try:
        poll_port = free_port()
        poll = stack.children.add(spawn("poll", "bench.poll_baseline", {**stack.env, "CC_PORT": str(poll_port)},
                                        quiet=True))
        wait_for_http(f"http://127.0.0.1:{poll_port}/", 60, poll)
        district = build_district(settings.seed, settings.grids)
        publisher = Publisher(RedisBus(redis.Redis.from_url(stack.redis_url)), district.bounds, args.units, args.rate)

        push = measure(stack.kiosk_url, publisher, args.seconds)
        polled = measure(f"http://127.0.0.1:{poll_port}/", publisher, args.seconds)
    finally:
        stack.stop()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    print(f"publish → paint, {args.units} units, {args.rate} fixes/s, {args.seconds:.0f} s measured, "
          f"push window {args.window_ms} ms; {os.cpu_count()} cores ({cpu})")
    print("to frame = to the start of the frame that paints the fix; after paint = the first task after it")
    print(f"{'':6} {'to frame p50':>13} {'p95':>6} {'p99':>6}   {'after paint p50':>15} {'p95':>6} {'p99':>6}"
          f" {'fixes painted':>14} {'published':>10}")
    for name, r in (("push", push), ("poll", polled)):
        print(f"{name:6} {r['p50']:11.0f}ms {r['p95']:4.0f}ms {r['p99']:4.0f}ms   {r['a50']:13.0f}ms {r['a95']:4.0f}ms"
              f" {r['a99']:4.0f}ms {r['painted']:14.0f} {r['published']:10.0f}")
    print(f"poll / push, to frame: p50 {polled['p50'] / push['p50']:.1f}×, p95 {polled['p95'] / push['p95']:.1f}×; "
          f"after paint: p50 {polled['a50'] / push['a50']:.1f}×, p95 {polled['a95'] / push['a95']:.1f}×")


if __name__ == "__main__":
    main()
