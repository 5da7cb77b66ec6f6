"""How long the KPI panels take at city size: a month of a district (1,100 grids, 33,000 unit cells, ~100k
cases with their audit trails) in a database, the month running (the 30th, 15:00), and coverage from the
stored visits of settled days plus today's running tally of cell visits (feeds/kpis/visits.py), which the
job brings up to date from the fixes received since its last tick.

    .venv/bin/python -m bench.kpis [--url sqlite:///...] [--cases 100000] [--patrols 1000] [--fix-minutes 2]
    .venv/bin/python -m bench.kpis --leader    # the leader page on a simulated week of the demo district
    .venv/bin/python -m bench.kpis --tally --url postgresql+psycopg://…   # one city tick of the tally, 8 times

Cold: the KPI board's job fills the caches (case facts, tally of finished cases, today's fixes into the
tally of cell visits), then the panel. Warm: the panel again, as every screen and every later tick sees it.
The cell visits of the 29 settled days are stored as the job stores them (`kpi_grid_days`); today's fixes
were received since the tally's cursor (started on the 1st), as if the job had stopped --fix-minutes ago.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from shapely.geometry import box, mapping
from sqlalchemy import select

from dashboard.views.assessment import assessment_tables, to_xlsx
from dashboard.views.evidence import evidence_tables, holder_tables
from dashboard.views.queue import Names
from feeds.calendar import WorkingCalendar
from feeds.kpis.board import comparison_periods, compute_board
from feeds.kpis.cache import refresh
from feeds.kpis.figures import Cells, KpiRules, Period, Track, cell_visits
from feeds.kpis.load import (
    LeaderFigures,
    area_directory,
    area_evidence,
    area_holders_evidence,
    area_panel,
    figure_evidence,
    holder_evidence,
    leader_figures,
    load_cells,
    monthly_assessment,
)
from feeds.kpis.visits import COMMIT_MARGIN, track
from feeds.store.engine import make_engine, migrate
from feeds.store.models import (
    Area,
    CaseAudit,
    CaseRow,
    CellVisitRow,
    CoverageDayRow,
    GridDayRow,
    IncidentRow,
    LiveVisitRow,
    PatrolFix,
    Person,
    UnitDayRow,
    VisitCursorRow,
    VisitTailRow,
)
from feeds.taxonomy import load

CST = ZoneInfo("Asia/Shanghai")
GRIDS = 1100
CELLS_PER_GRID = 30  # 6 × 5 cells of 0.001° (≈100 m)
NOW = datetime(2026, 11, 30, 15, tzinfo=CST)  # the month is running
MONTH = Period.month(2026, 11, CST)


def _grid_box(g: int) -> tuple[float, float]:
    """The south-west corner of grid g: 44 grids a row, each 0.006° × 0.005°."""
    return 111 + 0.006 * (g % 44), 30 + 0.005 * (g // 44)


def _fill(url: str, cases: int, fix_minutes: int, patrols: int, seed: int = 1, yesterday_units: int = 10_000) -> None:
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
    rows = [{**a, "name": a["code"], "households": 0, "population": 0, "geometry": geometry} for a in areas]
    for g, code in enumerate(grids):
        x, y = _grid_box(g)
        rows += [{"code": f"{code}-U{k:02d}", "level": "cell", "parent_code": code, "name": f"{code}-U{k:02d}",
                  "households": 0, "population": 0,
                  "geometry": json.dumps(mapping(box(x + 0.001 * (k % 6), y + 0.001 * (k // 6),
                                                     x + 0.001 * (k % 6 + 1), y + 0.001 * (k // 6 + 1))))}
                 for k in range(CELLS_PER_GRID)]
    start = MONTH.start
    span = (NOW - start).total_seconds()
    case_rows, audit_rows, report_rows = [], [], []
    departments = sorted(taxonomy.departments)
    grid_no = {code: g for g, code in enumerate(grids)}
    for n in range(cases):
        cid = f"R{n:07d}"
        reported = start + timedelta(seconds=rng.uniform(0, span))
        t = reported
        grid = rng.choice(grids)
        worker = f"W{grid_no[grid]:04d}"  # the grid's worker reports, verifies and checks
        department = rng.choice(departments)
        steps = []
        path = (("verify", {"state": "verified"}), ("register", {"state": "registered"}),
                ("dispatch", {"state": "dispatched", "department": department}), ("handle", {"state": "handled"}),
                ("check_pass", {"state": "checked"}), ("close", {"state": "closed"}))
        if rng.random() < 0.05:  # rejected at verification
            path = (("reject", {"state": "rejected", "reject_reason": rng.choice(("untrue", "out_of_scope"))}),)
        for action, after in path:
            t += timedelta(minutes=rng.uniform(5, 240))
            if t >= NOW:  # still open: its next step has not happened yet
                break
            steps.append((action, t, after))
        state = steps[-1][2]["state"] if steps else "reported"
        channel = rng.choice(("patrol", "patrol", "citizen", "camera", "hotline"))
        report_rows.append({"id": cid, "source": "bench", "drill_id": None, "sent_at": reported,
                            "received_at": reported, "category": "-", "description": "-", "lat": 30.0,
                            "lon": 111.0, "grid_code": grid, "channel": channel,
                            "reporter_id": worker if channel == "patrol" else None, "urgent": False,
                            "occurred_at": None})
        case_rows.append({"id": cid, "category": rng.choice(categories), "urgent": rng.random() < 0.05,
                          "state": state, "level": "grid", "department": None, "assignee": None,
                          "version": len(steps) + 1, "step_started_at": steps[-1][1] if steps else reported,
                          "extended_hours": 0.0, "reworks": 0, "parked_from": None,
                          "reject_reason": steps[-1][2].get("reject_reason") if steps else None,
                          "channel": channel, "lat": 30.0, "lon": 111.0, "grid_code": grid, "description": "-",
                          "occurred_at": None, "reported_at": reported, "drill_id": None, "last_command": None})
        audit_rows.append({"case_id": cid, "command_id": None, "action": "report", "by": "P0001", "reason": "-",
                           "at": reported, "before": "{}", "after": "{}"})
        audit_rows += [{"case_id": cid, "command_id": f"{cid}-{k}", "action": a,
                        "by": worker if a in ("verify", "check_pass", "reject") else "DS01", "reason": "-",
                        "at": when, "before": "{}", "after": json.dumps(after)}
                       for k, (a, when, after) in enumerate(steps)]
    settled = MONTH.days()[:NOW.day - 1]  # the 1st to the 29th: over for longer than the late-fix limit
    grid_days = [{"day": d.isoformat(), "grid_code": code, "visited": rng.randint(0, CELLS_PER_GRID)}
                 for d in settled for code in grids]
    # a grid worker per grid, carrying unit U<g>, who made all of the grid's visits; two patrollers per community
    people = [{"id": f"W{g:04d}", "name": f"W{g:04d}", "role": "grid_worker", "area_code": code,
               "department": None, "unit_id": f"U{g:04d}"} for g, code in enumerate(grids)]
    people += [{"id": f"C{c:03d}{k}", "name": f"C{c:03d}{k}", "role": "patroller_outer",
                "area_code": f"S{c // 11}C{c}", "department": None, "unit_id": f"UC{c:03d}{k}"}
               for c in range(110) for k in range(2)]
    unit_days = [{"day": row["day"], "unit_id": f"U{grid_no[row['grid_code']]:04d}",
                  "grid_code": row["grid_code"], "visited": row["visited"]} for row in grid_days if row["visited"]]
    with engine.begin() as conn:
        conn.execute(Area.__table__.insert(), rows)
        for chunk in range(0, len(case_rows), 20000):
            conn.execute(CaseRow.__table__.insert(), case_rows[chunk:chunk + 20000])
        for chunk in range(0, len(audit_rows), 50000):
            conn.execute(CaseAudit.__table__.insert(), audit_rows[chunk:chunk + 50000])
        for chunk in range(0, len(report_rows), 20000):
            conn.execute(IncidentRow.__table__.insert(), report_rows[chunk:chunk + 20000])
        conn.execute(GridDayRow.__table__.insert(), grid_days)
        conn.execute(UnitDayRow.__table__.insert(), unit_days)
        conn.execute(Person.__table__.insert(), people)
        conn.execute(CoverageDayRow.__table__.insert(), [{"day": d.isoformat(), "computed_at": NOW} for d in settled])
    # yesterday's stored visits, each with the moment it was first made: the board reads yesterday "up to the
    # same time" from them (10,000 units walking 100 cells each at city size)
    yesterday = settled[-1]
    day_start = datetime.combine(yesterday, datetime.min.time(), CST)
    cell_codes = [r["code"] for r in rows if r["level"] == "cell"]
    with engine.begin() as conn:
        for first_unit in range(0, yesterday_units, 1000):
            conn.execute(CellVisitRow.__table__.insert(), [
                {"day": yesterday.isoformat(), "unit_id": f"Y{u:05d}", "cell_code": cell_codes[(u * 37 + k) % len(
                    cell_codes)], "first_at": day_start + timedelta(seconds=rng.uniform(6 * 3600, 22 * 3600))}
                for u in range(first_unit, min(yesterday_units, first_unit + 1000)) for k in range(100)])
    # today's last `fix_minutes` minutes (before the tally's margin) of `patrols` units at 1 Hz, each walking
    # inside one grid
    nprng = np.random.default_rng(seed)
    first = NOW - COMMIT_MARGIN - timedelta(minutes=fix_minutes)
    per_unit = fix_minutes * 60
    with engine.begin() as conn:
        for u in range(patrols):
            x, y = _grid_box(u * GRIDS // max(patrols, 1))
            lon = x + np.cumsum(nprng.normal(0, 0.00002, per_unit)) % 0.006
            lat = y + np.cumsum(nprng.normal(0, 0.00002, per_unit)) % 0.005
            fixes = [{"id": f"F{u}-{i}", "source": "bench", "drill_id": None, "sent_at": first + timedelta(seconds=i),
                      "received_at": first + timedelta(seconds=i), "unit_id": f"U{u * GRIDS // max(patrols, 1):04d}",
                      "lat": float(lat[i]),
                      "lon": float(lon[i]), "accuracy_m": 5.0, "speed_mps": None,
                      "fix_at": first + timedelta(seconds=i)}
                     for i in range(per_unit)]
            conn.execute(PatrolFix.__table__.insert(), fixes)
    engine.dispose()


def _timed(label: str, fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    print(f"{label}: {1000 * (time.perf_counter() - t0):.0f} ms", flush=True)
    return out


def _warm(label: str, fn, runs: int = 5) -> None:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t0))
    print(f"{label}: median {statistics.median(times):.0f} ms (min {min(times):.0f}, max {max(times):.0f},"
          f" {runs} runs)", flush=True)


def bench_panel(url: str, cases: int, fix_minutes: int) -> None:
    rules = KpiRules(load(), WorkingCalendar())
    engine = make_engine(url)
    with engine.connect() as conn:
        open_ = conn.execute(CaseRow.__table__.select().where(CaseRow.state.not_in(("closed", "rejected")))).all()
        print(f"  {len(open_)} of {cases} cases open at {NOW:%Y-%m-%d %H:%M}")
        _timed("uncached: district month panel (no coverage)",
               lambda: area_panel(conn, rules, "D", MONTH, NOW, with_coverage=False))
        _timed("uncached: district month panel with coverage",
               lambda: area_panel(conn, rules, "D", MONTH, NOW))
        cells = load_cells(conn)
    with engine.begin() as conn:  # the tally of cell visits counted every fix received from the 1st until today
        conn.execute(VisitCursorRow.__table__.insert(), {  # 's last minutes (its rows then are in kpi_grid_days)
            "id": 1, "since": MONTH.start - timedelta(hours=1),
            "through": NOW - COMMIT_MARGIN - timedelta(minutes=fix_minutes)})
        # what it holds by then: each patrol has walked every cell of its grid (its rows since the morning)
        grids = sorted(conn.execute(select(Area.code).where(Area.level == "grid")).scalars())
        conn.execute(LiveVisitRow.__table__.insert(), [
            {"day": NOW.date().isoformat(), "cell_code": f"{grids[u * GRIDS // 1000]}-U{k:02d}",
             "unit_id": f"U{u * GRIDS // 1000:04d}", "grid_code": grids[u * GRIDS // 1000], "pieces": 100,
             "first_at": NOW.replace(hour=8) + timedelta(seconds=10 * k)}
                                                       for u in range(1000) for k in range(CELLS_PER_GRID)])
    done = _timed("cold: the KPI job fills the caches (case facts, tally of finished cases, today's fixes)",
                  lambda: refresh(engine, rules, NOW, CST, cells, tally_budget_s=3600))
    print(f"  {done.facts:,} facts, {done.tallied:,} finished cases tallied, {done.fixes:,} fixes into the tally"
          " of cell visits", flush=True)
    with engine.begin() as conn:  # the tally's part alone: the same fixes again, from the same cursor
        conn.execute(LiveVisitRow.__table__.update().values(pieces=100))
        conn.execute(VisitTailRow.__table__.delete())
        conn.execute(VisitCursorRow.__table__.update().values(
            through=NOW - COMMIT_MARGIN - timedelta(minutes=fix_minutes)))
    t0 = time.perf_counter()
    again = track(engine, cells, NOW, CST, budget_s=3600)
    took = time.perf_counter() - t0
    print(f"the job's tally of cell visits alone: {again:,} fixes in {1000 * took:.0f} ms ({again / took:,.0f}"
          " fixes/s; 1,000 patrols at 1 Hz send 1,000/s)", flush=True)
    with engine.connect() as conn:
        _timed("cold: first district month panel after it", lambda: area_panel(conn, rules, "D", MONTH, NOW))
        _warm("warm: district month panel", lambda: area_panel(conn, rules, "D", MONTH, NOW))
        _warm("warm: district month panel (no coverage)",
              lambda: area_panel(conn, rules, "D", MONTH, NOW, with_coverage=False))
        _warm("warm: a street's month panel", lambda: area_panel(conn, rules, "S3", MONTH, NOW))
        _warm("warm: district today panel", lambda: area_panel(conn, rules, "D", Period.today(NOW, CST), NOW))
        windows = comparison_periods(NOW, CST)
        day_before = windows["yesterday"]
        _warm("warm: district yesterday up to the same time (the board's comparison; 1,000,000 stored visits "
              "of 10,000 units, read up to 15:00)", lambda: area_panel(conn, rules, "D", day_before.period,
                                                                       day_before.now))
        _warm("warm: the wall's KPI board (today, yesterday, month, last month)",
              lambda: compute_board(conn, rules, "D", NOW, CST, 30))
        last_month = Period.month(2026, 10, CST)

        def leader(area: str) -> LeaderFigures:
            return leader_figures(conn, rules, area, MONTH, last_month, NOW)

        shown = _timed("cold: first leader page (district, month) after it", lambda: leader("D"))
        print(f"  {len(shown.patrollers)} patrollers ranked, {len(shown.departments)} departments, "
              f"{len(shown.grids)} grids", flush=True)
        _warm("warm: leader page, district month (panels, streets, grids, patrollers, departments)",
              lambda: leader("D"))
        _warm("warm: leader page, a street's month", lambda: leader("S3"))
        assessment = _timed("monthly assessment (the export)", lambda: monthly_assessment(conn, rules, 2026, 11, NOW))
        rows = _timed("evidence of a card: the district's month, discovery timeliness",
                      lambda: figure_evidence(conn, rules, "D", "discovery_timeliness", MONTH, NOW))
        print(f"  {len(rows):,} rows", flush=True)
        _timed("evidence of a card: a street's month, closure",
               lambda: figure_evidence(conn, rules, "S3", "closure", MONTH, NOW))
        _timed("evidence of a card: the district's month, coverage (grid-days)",
               lambda: figure_evidence(conn, rules, "D", "coverage", MONTH, NOW))
        top = shown.patrollers[0].person.id
        _timed(f"evidence of a patroller's figure in the district's ranking ({top}, verification)",
               lambda: holder_evidence(conn, rules, "D", "person", top, "verification", MONTH, NOW))
        busiest = max(shown.departments, key=lambda d: shown.departments[d].on_time_handling.denominator)
        found = _timed(f"evidence of a department's figure in the district's table ({busiest}, on-time handling)",
                       lambda: holder_evidence(conn, rules, "D", "department", busiest, "on_time_handling", MONTH,
                                               NOW))
        print(f"  {len(found or []):,} rows", flush=True)

        def workbook() -> bytes:  # what the XLSX download makes on a street's page: the assessment, its evidence
            directory = area_directory(conn)
            sheets = [*evidence_tables(area_evidence(conn, rules, "S3", MONTH, NOW), Names(), directory, "zh", CST),
                      *holder_tables(area_holders_evidence(conn, rules, "S3", MONTH, NOW), Names(), directory, "zh",
                                     CST)]
            return to_xlsx([*assessment_tables(assessment, directory, {}, "zh"), *sheets], "2026-11")
        book = _timed("the monthly workbook on a street's page, with a sheet of its evidence per figure, and its "
                      "patrollers' and departments'", workbook)
        print(f"  {len(book) / 2**20:.1f} MiB", flush=True)
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
    visits = _timed(f"cell visits from {len(names):,} fixes (one day of {units} patrols; the job does this once"
                    " per settled day)", lambda: cell_visits(cells, Track(names, times, lon, lat), CST))
    print(f"  {len(visits)} unit-cell-days visited")


def bench_tally(url: str, units: int, seconds: int, ticks: int = 8, seed: int = 1) -> None:
    """One tick of the KPI job's tally of cell visits at city size, again and again: `seconds` of fixes of `units`
    patrols at 1 Hz (a 30 s tick of 10,000 patrols: 300,000 fixes), counted afresh each time; its time, and the
    process's RSS after each tick and at its peak."""
    import resource

    _fill(url, 1000, 0, 0, yesterday_units=0)
    engine = make_engine(url)
    rng = np.random.default_rng(seed)
    first = NOW - COMMIT_MARGIN - timedelta(seconds=seconds)
    rows: list[dict[str, object]] = []
    with engine.begin() as conn:
        for u in range(units):
            x, y = _grid_box(u * GRIDS // units)
            lon = x + 0.003 + np.cumsum(rng.normal(0, 0.00002, seconds))
            lat = y + 0.0025 + np.cumsum(rng.normal(0, 0.00002, seconds))
            rows += [{"id": f"F{u}-{i}", "source": "bench", "drill_id": None, "sent_at": first + timedelta(seconds=i),
                      "received_at": first + timedelta(seconds=i, milliseconds=300), "unit_id": f"P{u:05d}",
                      "lat": float(lat[i]), "lon": float(lon[i]), "accuracy_m": 5.0, "speed_mps": None,
                      "fix_at": first + timedelta(seconds=i)} for i in range(seconds)]
            if len(rows) >= 50_000 or u == units - 1:
                conn.execute(PatrolFix.__table__.insert(), rows)
                rows = []
    with engine.connect() as conn:
        cells = load_cells(conn)

    def rss_mb() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 // 2**20

    print(f"{units:,} patrols × {seconds} s = {units * seconds:,} fixes a tick; RSS before the first tick "
          f"{rss_mb()} MB", flush=True)
    for tick in range(ticks):
        with engine.begin() as conn:
            for table in (VisitCursorRow, LiveVisitRow, VisitTailRow):
                conn.execute(table.__table__.delete())
            start = first - timedelta(seconds=1)
            conn.execute(VisitCursorRow.__table__.insert(), {"id": 1, "since": start - timedelta(hours=10),
                                                              "through": start})
        t0 = time.perf_counter()
        counted = track(engine, cells, NOW, CST, budget_s=3600)
        took = time.perf_counter() - t0
        print(f"tick {tick + 1}: {counted:,} fixes in {1000 * took:.0f} ms; RSS {rss_mb()} MB, peak "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB", flush=True)
    engine.dispose()


def bench_leader(url: str, days: int = 7) -> None:
    """The leader page at demo size: a simulated week of the 96-grid district, viewed the next morning."""
    from feeds.kpis.load import daily_series, leader_figures
    from feeds.settings import Settings
    from simulators.fast import simulate
    from simulators.furnishings import build_furnishings, save_furnishings
    from simulators.geography import build_district, save_district
    from simulators.runner import residents
    from simulators.simulation import Simulation

    rules = KpiRules(load(), WorkingCalendar())
    engine = make_engine(url)
    district = build_district(7, 96)
    with engine.begin() as conn:
        save_district(conn, district)
        save_furnishings(conn, district, build_furnishings(district, 7), load())
    rate = Settings.model_fields["problems_per_10k_day"].default
    simulation = Simulation(district, seed=7, run_id="bench", problems_per_day=rate * residents(district) / 10_000)
    start = datetime(2026, 11, 16, tzinfo=CST)
    end = start + timedelta(days=days)
    _timed(f"simulate {days} days of the 96-grid district", lambda: simulate(simulation, engine, start, end,
                                                                            step=timedelta(minutes=2)))
    now = end + timedelta(hours=10)  # the next morning
    area = district.code
    month, last_month = Period.this_month(now, CST), Period.month(2026, 10, CST)

    def view() -> None:
        with engine.connect() as conn:
            leader_figures(conn, rules, area, month, last_month, now)

    def trend() -> None:
        with engine.connect() as conn:
            daily_series(conn, rules, area, now.date(), 30, now)

    _timed("leader view (month), uncached", view)
    _timed("leader 30-day trend, uncached", trend)
    with engine.connect() as conn:
        cells = load_cells(conn)
    _timed("cold: the KPI job fills the caches (facts, tallies, visits of settled days)",
           lambda: refresh(engine, rules, now, CST, cells))
    _warm("warm: leader view (month)", view, runs=3)
    _warm("warm: leader 30-day trend", trend, runs=3)
    engine.dispose()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--leader", action="store_true", help="the leader page on a simulated week of the demo district")
    p.add_argument("--url")
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--patrols", type=int, default=1000)
    p.add_argument("--fix-minutes", type=int, default=2, help="minutes of today's fixes of every patrol at 1 Hz")
    p.add_argument("--fix-units", type=int, default=100)
    p.add_argument("--tally", action="store_true", help="the KPI job's tally of cell visits, one city tick after "
                   "another (--tally-units patrols × --tally-seconds of fixes)")
    p.add_argument("--tally-units", type=int, default=10_000)
    p.add_argument("--tally-seconds", type=int, default=30)
    args = p.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'kpis.sqlite'}"
    migrate(url)
    if args.leader:
        bench_leader(url)
        return
    if args.tally:
        bench_tally(url, args.tally_units, args.tally_seconds)
        return
    _timed(f"fill {args.cases} cases, {GRIDS * CELLS_PER_GRID} cells, {args.fix_minutes} min of {args.patrols}"
           " patrols' fixes", lambda: _fill(url, args.cases, args.fix_minutes, args.patrols))
    bench_panel(url, args.cases, args.fix_minutes)
    bench_coverage(args.fix_units)


if __name__ == "__main__":
    main()
