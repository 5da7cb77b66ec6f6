"""How fast the simulators make a city: messages per second of wall time at city size.

    .venv/bin/python -m bench.simulators            # --grids 1100 --minutes 30 --interval 2

Builds a district of `--grids` grids (a city centre is about 1,100), then runs its simulation on a
simulated clock for `--minutes` minutes of a working morning, one tick every `--interval` simulated
seconds (one fix per patrol on duty per tick), with a ten-times realistic problem rate so that reports
and alerts are part of the load. Prints what was made and how fast; no I/O is timed (the pipeline has
its own benchmark, bench/throughput.py).
"""
from __future__ import annotations

import argparse
import platform
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from simulators.geography import build_district
from simulators.runner import residents
from simulators.simulation import Simulation


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.simulators", description=__doc__.splitlines()[0])
    p.add_argument("--grids", type=int, default=1100)
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--interval", type=float, default=2.0, help="simulated seconds per tick")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()

    began = time.perf_counter()
    district = build_district(args.seed, args.grids)
    built = time.perf_counter() - began
    people = residents(district)
    simulation = Simulation(district, seed=args.seed, run_id="bench", problems_per_day=400 * people / 10_000)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday morning: all on duty
    ticks = int(args.minutes * 60 / args.interval)
    cases: dict[str, dict] = {}
    made: Counter[str] = Counter()
    simulation.tick(start, cases)
    began = time.perf_counter()
    for k in range(1, ticks + 1):
        made.update(m.kind for m in simulation.tick(start + timedelta(seconds=k * args.interval), cases))
    took = time.perf_counter() - began
    total = sum(made.values())
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"district: {args.grids} grids, {people:,} residents, {len(simulation.fleet.patrols)} patrols, "
          f"{len(simulation.cameras.cameras)} cameras (built in {built:.1f} s)")
    print(f"simulated {args.minutes:g} min in {ticks} ticks of {args.interval:g} s: {dict(made)}")
    print(f"{total:,} messages in {took:.1f} s = {total / took:,.0f} messages/s "
          f"({args.minutes * 60 / took:.1f}x real time at this tick interval)")


if __name__ == "__main__":
    main()
