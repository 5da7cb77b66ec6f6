"""How long the KPI panels take: a month of a district (1,100 grids, ~100k cases with their audit trails) in
a database, and coverage from raw patrol fixes.

    .venv/bin/python -m bench.kpis [--url sqlite:///...] [--cases 100000] [--fix-units 100]
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from shapely.geometry import box, mapping

from feeds.calendar import WorkingCalendar
from feeds.figures import area_panel, load_cases
from feeds.kpis import KpiRules, Period, Track, Cells, area_figures, cell_visits
from feeds.store import make_engine, migrate
from feeds.taxonomy import load

CST = ZoneInfo("Asia/Shanghai")
GRIDS = 1100


def _fill(url: str, cases: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    engine = make_engine(url)
    taxonomy = load()
    categories = sorted(taxonomy.categories)
    areas = [{"code": "D", "level": "district", "parent_code": None}]
    areas += [{"code": f"S{s}", "level": "street", "parent_code": "D"} for s in range(10)]
    areas += [{"code": f"S{c // 11}C{c}", "level": "community", "parent_code": f"S{c // 11}"} for c in range(110)]
    areas += [{"code": f"S{g // 110}C{g // 10}G{g}", "level": "grid", "parent_code": f"S{g // 110}C{g // 10}"}
              for g in range(GRIDS)]
    grids = [a["code"] for a in areas if a["level"] == "grid"]
    geometry = json.dumps(mapping(box(111, 30, 111.01, 30.01)))
    start = datetime(2026, 11, 1, tzinfo=CST)
    case_rows, audit_rows = [], []
    for n in range(cases):
        cid = f"R{n:07d}"
        reported = start + timedelta(seconds=rng.uniform(0, 29 * 86400))
        t = reported
        steps = []
        for action, after in (("verify", {"state": "verified"}), ("register", {"state": "registered"}),
                              ("dispatch", {"state": "dispatched", "department": "sanitation"}),
                              ("handle", {"state": "handled"}), ("check_pass", {"state": "checked"}),
                              ("close", {"state": "closed"})):
            t += timedelta(minutes=rng.uniform(5, 120))
            steps.append((action, t, after))
        cut = rng.choice((2, 4, 6, 6, 6, 6, 6, 6))
        steps = steps[:cut]
        state = steps[-1][2]["state"]
        case_rows.append({"id": cid, "category": rng.choice(categories), "urgent": rng.random() < 0.05,
                          "state": state, "level": "grid", "department": None, "assignee": None,
                          "version": len(steps) + 1, "step_started_at": steps[-1][1], "extended_hours": 0.0,
                          "reworks": 0, "parked_from": None, "reject_reason": None,
                          "channel": rng.choice(("patrol", "patrol", "citizen", "camera", "hotline")),
                          "lat": 30.0, "lon": 111.0, "grid_code": rng.choice(grids), "description": "-",
                          "occurred_at": None, "reported_at": reported, "drill_id": None, "last_command": None})
        audit_rows.append({"case_id": cid, "command_id": None, "action": "report", "by": "P0001", "reason": "-",
                           "at": reported, "before": "{}", "after": "{}"})
        audit_rows += [{"case_id": cid, "command_id": f"{cid}-{k}", "action": a, "by": "DS01", "reason": "-",
                        "at": when, "before": "{}", "after": json.dumps(after)}
                       for k, (a, when, after) in enumerate(steps)]
    from feeds.store import Area, CaseAudit, CaseRow
    with engine.begin() as conn:
        conn.execute(Area.__table__.insert(), [{**a, "name": a["code"], "households": 0, "population": 0,
                                                "geometry": geometry} for a in areas])
        for chunk in range(0, len(case_rows), 20000):
            conn.execute(CaseRow.__table__.insert(), case_rows[chunk:chunk + 20000])
        for chunk in range(0, len(audit_rows), 50000):
            conn.execute(CaseAudit.__table__.insert(), audit_rows[chunk:chunk + 50000])
    engine.dispose()


def _timed(label: str, fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    print(f"{label}: {1000 * (time.perf_counter() - t0):.0f} ms", flush=True)
    return out


def bench_panel(url: str, cases: int) -> None:
    rules = KpiRules(load(), WorkingCalendar())
    month = Period.month(2026, 11)
    now = datetime(2026, 12, 1, 9, tzinfo=CST)
    engine = make_engine(url)
    with engine.connect() as conn:
        facts = _timed(f"load {cases} cases and their audit trails", lambda: load_cases(conn, month, now))
        _timed("figures from the loaded facts", lambda: area_figures(rules, facts, month, now))
        _timed("district panel end to end (no coverage)",
               lambda: area_panel(conn, rules, "D", month, now, with_coverage=False))
    engine.dispose()


def bench_coverage(units: int, seed: int = 1) -> None:
    """One day of `units` patrols at one fix every 2 s for 8 hours, over 100 grids of 30 cells."""
    rng = np.random.default_rng(seed)
    cells = Cells.of([(f"G{g}-U{k}", f"G{g}", box(111 + 0.001 * (g * 6 + k % 6), 30 + 0.001 * (k // 6),
                                                   111 + 0.001 * (g * 6 + k % 6 + 1), 30 + 0.001 * (k // 6 + 1)))
                      for g in range(100) for k in range(30)])
    per_unit = 8 * 3600 // 2
    day = datetime(2026, 11, 23, 9, tzinfo=CST)
    times = [day + timedelta(seconds=2 * i) for i in range(per_unit)] * units
    names = [f"P{u:04d}" for u in range(units) for _ in range(per_unit)]
    lon = np.concatenate([111 + 0.001 * 6 * u + np.cumsum(rng.normal(0, 0.00002, per_unit)) % 0.006
                          for u in range(units)])
    lat = np.concatenate([30 + np.cumsum(rng.normal(0, 0.00002, per_unit)) % 0.005 for _ in range(units)])
    visits = _timed(f"cell visits from {len(names):,} fixes (one day of {units} patrols)",
                    lambda: cell_visits(cells, Track(names, times, lon, lat)))
    print(f"  {len(visits)} unit-cell-days visited")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url")
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--fix-units", type=int, default=100)
    args = p.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'kpis.sqlite'}"
    migrate(url)
    _timed(f"fill {args.cases} cases", lambda: _fill(url, args.cases))
    bench_panel(url, args.cases)
    bench_coverage(args.fix_units)


if __name__ == "__main__":
    main()
