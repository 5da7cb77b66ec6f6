"""The running tally of cell visits against the raw fixes (SQLite and PostgreSQL): fixes arriving in
batches, out of order, too late, from a drill or from outside the district; the job's ticks along the way;
the day read from the tally, then settled from it."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from feeds.kpis import visits as visittally
from feeds.kpis.cache import fresh_firsts, fresh_visits, grid_coverage, refresh, store_settled_days, visits
from feeds.kpis.figures import LATE_FIX_LIMIT, Period, Track, cell_firsts, cell_pieces
from feeds.kpis.load import area_panel, load_cells
from feeds.store.models import (
    CellVisitRow,
    CoverageDayRow,
    GridDayRow,
    LiveVisitRow,
    PatrolFix,
    UnitDayRow,
    VisitCursorRow,
    VisitTailRow,
)
from feeds.store.writes import write_batch
from tests import factories
from tests.integration.feeds.kpis.test_figures import CST, LAT, LON, RULES, _territory

DAY = date(2026, 11, 24)
START = datetime(2026, 11, 24, 0, 0, tzinfo=CST)


def _walks(seed: int) -> list[tuple[datetime, object]]:
    """(received at, fix) for three patrols walking the two grids from 08:00 to 12:00, a fix every 20 s:
    most sent at once, some held back up to 50 minutes (out of order), a few past LATE_FIX_LIMIT, a few
    outside the district, and a drill's unit on the same ground."""
    rng = random.Random(seed)
    out = []
    for unit in ("P0001", "P0002", "P0003", "DRILL1"):
        x, y = rng.uniform(0, 0.004), rng.uniform(0, 0.001)
        for k in range(4 * 180):
            taken = START + timedelta(hours=8, seconds=20 * k)
            x = min(0.0045, max(-0.0005, x + rng.gauss(0, 0.0002)))
            y = min(0.0015, max(-0.0005, y + rng.gauss(0, 0.0002)))
            lon, lat = LON + x, LAT + y
            if rng.random() < 0.01:
                lon += 0.5  # far outside: the raw reading leaves it out too
            late = rng.random()
            delay = (timedelta(seconds=1) if late < 0.85 else timedelta(minutes=rng.uniform(1, 50)) if late < 0.98
                     else LATE_FIX_LIMIT + timedelta(minutes=5))
            fields = {"drill_id": "DR1"} if unit == "DRILL1" else {}
            out.append((taken + delay, factories.position(unit, lat=lat, lon=lon, at=taken, **fields)))
    return sorted(out, key=lambda r: r[0])


def _receive(engine, walks, until: datetime) -> None:
    """Write what has been received by `until` and not yet written, a batch per received minute."""
    batches: dict[datetime, list] = {}
    for received, fix in walks:
        if received <= until:
            batches.setdefault(received.replace(second=0, microsecond=0), []).append(fix)
    with engine.begin() as conn:
        for minute, fixes in sorted(batches.items()):
            write_batch(conn, fixes, [], minute + timedelta(seconds=59))
    walks[:] = [(r, f) for r, f in walks if r > until]


def _tally(conn) -> dict:
    """Per visit: its pieces and when it was first made."""
    table = LiveVisitRow.__table__
    return {(date.fromisoformat(d), u, c): (n, first) for d, c, u, n, first in conn.execute(
        select(table.c.day, table.c.cell_code, table.c.unit_id, table.c.pieces, table.c.first_at))}


def _counted_pieces(conn, cells, through: datetime) -> dict:
    """What the tally should hold: the pieces of every live fix near the cells received by `through`
    within LATE_FIX_LIMIT of being taken, and the moment each visit was first made."""
    fixes = [(f.unit_id, f.fix_at, f.lon, f.lat) for f in conn.execute(select(PatrolFix.__table__))
             if f.drill_id is None and f.received_at <= through and f.received_at - f.fix_at <= LATE_FIX_LIMIT
             and abs(f.lon - LON) < 0.1]
    track = Track(*zip(*fixes, strict=True))
    firsts = cell_firsts(cells, track, CST)
    return {k: (n, firsts[k]) for k, n in cell_pieces(cells, track, CST).items()}


def _cells(engine):
    """The hand-made district's territory, saved; its unit cells."""
    with engine.begin() as conn:
        _territory(conn)
    with engine.connect() as conn:
        return load_cells(conn)


def _forget_tally(engine) -> None:
    with engine.begin() as conn:
        for table in (LiveVisitRow, VisitTailRow, VisitCursorRow, CellVisitRow):
            conn.execute(delete(table.__table__))


@pytest.mark.parametrize("seed", [1, 2])
def test_the_tally_holds_the_pieces_of_every_fix_counted_in_any_order(engine, seed) -> None:
    cells = _cells(engine)
    walks = _walks(seed)
    refresh(engine, RULES, START - timedelta(hours=1), CST, cells)  # the job started the evening before
    now = START + timedelta(hours=8)
    while now <= START + timedelta(hours=14):
        _receive(engine, walks, now)
        refresh(engine, RULES, now, CST, cells)
        through = now - visittally.COMMIT_MARGIN
        with engine.connect() as conn:
            assert visittally.cursor(conn).through == through
            if now >= START + timedelta(hours=8, minutes=10):
                assert _tally(conn) == _counted_pieces(conn, cells, through)
        now += timedelta(minutes=13)
    now -= timedelta(minutes=13)  # the job's last tick
    # the tally's day equals the raw fixes' day, for the panels and per unit
    today = Period.today(now, CST)
    with engine.connect() as conn:
        assert visittally.tracked_days(conn, [DAY], now, CST) == {DAY}
        tallied = (grid_coverage(conn, cells, today, now), visits(conn, cells, today, now),
                   visits(conn, cells, today, now, units={"P0002"}), area_panel(conn, RULES, "D", today, now))
        assert tallied[3].coverage.numerator > 0
        raw_day = fresh_visits(conn, cells, [(START, START + timedelta(days=1))], zone=CST)
        # the day up to earlier moments ("yesterday up to the same time"): the visits first made before them
        cuts = [START + timedelta(hours=h) for h in (8.1, 9.5, 11, 13)]
        cut = [(grid_coverage(conn, cells, today, t), visits(conn, cells, today, t),
                area_panel(conn, RULES, "D", today, t)) for t in cuts]
    sizes = [len(v) for _, v, _ in cut]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]  # a later moment saw more
    _forget_tally(engine)
    with engine.connect() as conn:
        assert (grid_coverage(conn, cells, today, now), visits(conn, cells, today, now),
                visits(conn, cells, today, now, units={"P0002"}), area_panel(conn, RULES, "D", today, now)) \
            == tallied
        assert tallied[1] == raw_day
        assert [(grid_coverage(conn, cells, today, t), visits(conn, cells, today, t),
                 area_panel(conn, RULES, "D", today, t)) for t in cuts] == cut


def test_a_tally_started_in_the_afternoon_holds_that_day_once_it_has_caught_up(engine) -> None:
    """A centre installed (or its tally reset) at 13:00: the morning's fixes are counted from the start of
    the day, so the day is read from the tally, equal to its raw fixes, instead of from the raw fixes."""
    cells = _cells(engine)
    walks = _walks(5)
    _receive(engine, walks, START + timedelta(hours=13))
    now = START + timedelta(hours=13)
    refresh(engine, RULES, now, CST, cells)
    with engine.connect() as conn:
        assert visittally.cursor(conn).since == START - visittally.HEAD_START
        assert visittally.cursor(conn).through == now - visittally.COMMIT_MARGIN
        assert visittally.tracked_days(conn, [DAY], now, CST) == {DAY}
        assert _tally(conn) == _counted_pieces(conn, cells, now - visittally.COMMIT_MARGIN)
        today = Period.today(now, CST)
        assert visits(conn, cells, today, now) == fresh_visits(conn, cells, [(START, now)], zone=CST)


def test_a_settled_day_is_copied_from_the_tally_then_dropped_from_it(engine) -> None:
    cells = _cells(engine)
    walks = _walks(3)
    refresh(engine, RULES, START - timedelta(hours=1), CST, cells)
    _receive(engine, walks, START + timedelta(hours=16))
    settled_at = START + timedelta(days=1) + LATE_FIX_LIMIT + visittally.COMMIT_MARGIN
    refresh(engine, RULES, settled_at - timedelta(minutes=1), CST, cells)  # not settled yet: the tally holds it
    with engine.connect() as conn:
        assert _tally(conn) and not conn.execute(select(CellVisitRow.__table__)).first()
    refresh(engine, RULES, settled_at, CST, cells)
    with engine.connect() as conn:
        stored = {(date.fromisoformat(d), u, c): first
                  for d, u, c, first in conn.execute(select(CellVisitRow.__table__))}
        assert not _tally(conn)
        assert stored == fresh_firsts(conn, cells, [(START, START + timedelta(days=1))], zone=CST)
        assert stored
        # the stored day seen up to a moment of it (the board's "yesterday up to the same time") is read from
        # the visits first made before it, and equals what its fixes taken before it make
        day = Period.today(START, CST)
        cuts = [START + timedelta(hours=h) for h in (8.1, 9.5, 11, 13)]
        cut = [(grid_coverage(conn, cells, day, t), visits(conn, cells, day, t), area_panel(conn, RULES, "D", day, t))
               for t in cuts]
        assert [v for _, v, _ in cut] == [fresh_visits(conn, cells, [(START, t)], zone=CST) for t in cuts]
    _forget_tally(engine)
    with engine.begin() as conn:  # the same from the raw fixes
        conn.execute(delete(CoverageDayRow.__table__))
        conn.execute(delete(GridDayRow.__table__))
        conn.execute(delete(UnitDayRow.__table__))
    with engine.connect() as conn:
        assert [(grid_coverage(conn, cells, day, t), visits(conn, cells, day, t),
                 area_panel(conn, RULES, "D", day, t)) for t in cuts] == cut


def test_a_stale_tally_is_not_read(engine) -> None:
    """The job stopped: the tally is not brought up to date, so the panels read the raw fixes."""
    cells = _cells(engine)
    walks = _walks(4)
    refresh(engine, RULES, START - timedelta(hours=1), CST, cells)
    _receive(engine, walks, START + timedelta(hours=10))
    refresh(engine, RULES, START + timedelta(hours=9), CST, cells)
    later = START + timedelta(hours=10)
    with engine.connect() as conn:
        assert visittally.tracked_days(conn, [DAY], later, CST) == set()
        panel = area_panel(conn, RULES, "D", Period.today(later, CST), later)
    _forget_tally(engine)
    with engine.connect() as conn:
        assert area_panel(conn, RULES, "D", Period.today(later, CST), later) == panel


def test_store_settled_days_waits_for_the_tally(engine) -> None:
    cells = _cells(engine)
    refresh(engine, RULES, START - timedelta(hours=1), CST, cells)
    _receive(engine, _walks(5), START + timedelta(hours=16))
    with engine.begin() as conn:  # the day is settled, but the tally has counted nothing of it yet
        assert store_settled_days(conn, cells, START + timedelta(days=2), CST) == 0
