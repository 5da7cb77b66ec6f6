"""The running tally of the unit cells patrols visit, kept as their fixes arrive, so that today's coverage
(发现覆盖率) is read from a few thousand rows instead of a day of raw fixes (at 1,000 patrols at 1 Hz, tens
of millions by the afternoon).

The KPI board's job is its only writer (`track`, called each tick from feeds/kpis/cache.py `refresh`):
- it reads the live fixes received since its cursor, up to COMMIT_MARGIN ago, so that none received before
  that moment can still be uncommitted; the partial index on `received_at` makes that read cheap;
- for each unit it adds what the new fixes change to the pieces (feeds.kpis.figures.cell_pieces: fixes inside a
  cell, segments crossing it) of each (local day, unit, cell), in `kpi_live_visits`. A unit's new fixes
  later than its newest known fix (`kpi_visit_tails`) need only that fix as context; a fix older than it
  (sent late, out of order) needs the unit's known fixes around it, read from the database, and can take
  back a segment it bends (`pieces_added`);
- each visit also keeps the moment of its earliest piece (`first_at`), so that a day seen up to a moment
  ("yesterday up to the same time") is the visits first made before it (feeds.kpis.coverage.Pieces);
- the cursor moves in the same transaction, so a crash repeats nothing and loses nothing.

A visit is a row with pieces > 0. The rows of a local day equal `cell_visits` over that day's fixes
received by the cursor, when the tally started before the day began (`since`; `tracked_days`). Readers
(feeds/kpis/cache.py) take them for the days still running, while the cursor is fresh; settled days are
copied from them into kpi_cell_visits and dropped.
"""
from __future__ import annotations

import logging
import time as clock
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from sqlalchemy import Float, Integer, Text, bindparam, case, cast, delete, func, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from feeds.kpis.coverage import NO_FIXES, Fixes, track_pieces
from feeds.kpis.figures import LATE_FIX_LIMIT, MAX_TRACK_GAP, Cells, CellVisit, Track
from feeds.kpis.worktime import _moment, _us
from feeds.store.arrays import ARRAY_OF
from feeds.store.engine import tuples
from feeds.store.models import (
    COVERED_DAYS,
    FIXES,
    LIVE_VISITS,
    VISIT_CURSOR,
    VISIT_TAILS,
    UtcDateTime,
)

log = logging.getLogger(__name__)


# the time a received fix may take to commit: the tally reads what was received until this long ago
COMMIT_MARGIN = timedelta(minutes=5)
# a day is tallied in full when the tally started this long before it began: a fix may be stamped a few
# seconds after it was received (feeds.ingest.pipeline's future tolerance)
HEAD_START = timedelta(minutes=1)
# a cursor further behind than this (the job stopped) is not used: the raw fixes are read instead
STALE_AFTER = COMMIT_MARGIN + timedelta(minutes=10)
STEP = timedelta(minutes=5)  # at most this much of receipt time per transaction when catching up

Fix = tuple[str, datetime, float, float]  # unit id, taken at, lon, lat
Tail = tuple[int, float, float]  # a unit's newest fix: taken at (µs since the epoch), lon, lat


@dataclass(frozen=True)
class Cursor:
    since: datetime  # every live fix received after this is counted (up to `through`)
    through: datetime


@dataclass(frozen=True)
class Added:
    """What adding fixes to a track changed, per (day, unit, cell) visit."""

    change: dict[CellVisit, int]  # pieces added (negative: taken back)
    # of the visits that changed or got an earlier piece: the earliest piece (µs) in the window's track, after
    # (before, for a visit left with none there); the tally keeps the lower of it and its own
    firsts: dict[CellVisit, int]
    taken: dict[CellVisit, int]  # of the `watched` units' visits that lost a piece: the earliest piece lost


def pieces_added(cells: Cells, known: Fixes, new: Fixes, zone: ZoneInfo, max_gap: timedelta = MAX_TRACK_GAP,
                 watched: Collection[str] = ()) -> Added:
    """What adding the `new` fixes to a track changes in its pieces: `known` holds the track's fixes around the
    new ones (within `max_gap` of them, or just the unit's newest when all the new are later). Pieces further
    away cannot change: no segment joins fixes more than `max_gap` apart. Only a unit whose new fixes are not
    all later than its known ones can lose a piece (a segment a new fix bends): name those as `watched`."""
    before = track_pieces(cells, known, zone, max_gap)
    after = track_pieces(cells, Fixes.joined([known, new]), zone, max_gap)
    counts_before, counts_after = before.counts(), after.counts()
    change = {k: n - counts_before.get(k, 0) for k, n in counts_after.items()}
    change.update({k: -n for k, n in counts_before.items() if k not in counts_after})
    change = {k: n for k, n in change.items() if n}
    firsts_before, firsts_after = before.firsts(), after.firsts()
    lowered = {k for k, t in firsts_after.items() if t < firsts_before.get(k, t + 1)}
    firsts = {k: firsts_after[k] if k in firsts_after else firsts_before[k] for k in change.keys() | lowered}
    taken: dict[CellVisit, int] = {}
    if watched:
        for visit, t in (Counter(before.of_units(watched)) - Counter(after.of_units(watched))):
            taken[visit] = min(t, taken.get(visit, t))
    return Added(change, firsts, taken)


def fixes_of(rows: Sequence[Fix]) -> Fixes:
    """(unit id, taken at, lon, lat) rows as columns."""
    if not rows:
        return NO_FIXES
    units, times, lons, lats = zip(*rows, strict=True)
    return Fixes.of(Track(units, times, lons, lats))


def near(cells: Cells) -> tuple[float, float, float, float]:
    """The box around the cells where fixes count (west, south, east, north), as feeds/kpis/cache.py reads."""
    west, south, east, north = shapely.total_bounds(cells.tree.geometries)
    return west - 0.01, south - 0.01, east + 0.01, north + 0.01


# On PostgreSQL a unit's fixes come as one row: one string of their (time, lon, lat) in the server's binary
# form (µs since 2000-01-01 UTC, big-endian doubles), which numpy reads whole. Rows of Python objects per fix
# took twice the time between the server (text output) and the tally (parsing, converting).
_PACKED: Any = literal_column("string_agg(timestamptz_send(fix_at) || float8send(lon) || float8send(lat), ''::bytea)")
_PACKED_FIX = np.dtype([("t", ">i8"), ("lon", ">f8"), ("lat", ">f8")])
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in µs since 1970-01-01


def _fixes(conn: Connection, cells: Cells, *where: Any) -> Fixes:
    """Live fixes near the cells that reached the centre within LATE_FIX_LIMIT of being taken."""
    west, south, east, north = near(cells)
    where = (FIXES.c.drill_id.is_(None), FIXES.c.lon.between(west, east), FIXES.c.lat.between(south, north), *where)
    if conn.dialect.name == "postgresql":
        late = FIXES.c.received_at - FIXES.c.fix_at <= LATE_FIX_LIMIT
        units = conn.execute(select(FIXES.c.unit_id, _PACKED).where(*where, late).group_by(FIXES.c.unit_id)).all()
        if not units:
            return NO_FIXES
        packed = np.frombuffer(b"".join(row[1] for row in units), dtype=_PACKED_FIX)
        counts = [len(row[1]) // _PACKED_FIX.itemsize for row in units]
        return Fixes(tuple(row[0] for row in units), np.repeat(np.arange(len(units), dtype=np.int64), counts),
                     packed["t"].astype(np.int64) + _PG_EPOCH_US, packed["lon"].astype(float),
                     packed["lat"].astype(float))
    query = select(FIXES.c.unit_id, FIXES.c.fix_at, FIXES.c.lon, FIXES.c.lat, FIXES.c.received_at).where(*where)
    return fixes_of([(u, t, x, y) for u, t, x, y, received in tuples(conn.execute(query))
                     if received - t <= LATE_FIX_LIMIT])


def cursor(conn: Connection) -> Cursor | None:
    row = conn.execute(select(VISIT_CURSOR.c.since, VISIT_CURSOR.c.through)).first()
    return None if row is None else Cursor(row[0], row[1])


def track(engine: Engine, cells: Cells, now: datetime, zone: ZoneInfo, budget_s: float = 10.0) -> int:
    """Bring the tally up to `now` − COMMIT_MARGIN, one transaction per STEP of receipt time, for at most
    about `budget_s` seconds. The first call starts it at the beginning of the local day (HEAD_START before),
    so that once it has caught up it holds the day it was started on too: a centre started in the afternoon
    reads that day's coverage from the tally, not from the day's raw fixes at every look. Returns how many
    fixes it counted."""
    upto = now - COMMIT_MARGIN
    with engine.begin() as conn:
        at = cursor(conn)
        if at is None:
            since = day_start(upto.astimezone(zone).date(), zone) - HEAD_START
            conn.execute(VISIT_CURSOR.insert().values(id=1, since=since, through=since))
            log.info("cell visits tallied from the start of the day (fixes received after %s)", since.isoformat())
            at = Cursor(since, since)
    counted, started = 0, clock.monotonic()
    through = at.through
    while through < upto and clock.monotonic() - started < budget_s:
        step_to = min(upto, through + STEP)
        with engine.begin() as conn:
            counted += _count(conn, cells, at.since, through, step_to, zone)
            conn.execute(update(VISIT_CURSOR).values(through=step_to))
        through = step_to
    return counted


def _count(conn: Connection, cells: Cells, since: datetime, after: datetime, upto: datetime,
           zone: ZoneInfo) -> int:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL work_mem = '32MB'")  # `_fixes` groups a tick's fixes: in memory
    new = _fixes(conn, cells, FIXES.c.received_at > after, FIXES.c.received_at <= upto)
    if not len(new):
        return 0
    # each unit's new fixes in order (time, then position): where they begin, and the newest
    order = np.lexsort((new.lat, new.lon, new.t, new.unit))
    unit = new.unit[order]
    ends = np.append(np.nonzero(unit[1:] != unit[:-1])[0], len(unit) - 1)
    begins = np.append(0, ends[:-1] + 1)
    first, last = new.t[order[begins]], new.t[order[ends]]
    names = [new.names[u] for u in unit[ends].tolist()]
    newest = dict(zip(names, zip(last.tolist(), new.lon[order[ends]].tolist(), new.lat[order[ends]].tolist(),
                                 strict=True), strict=True))
    tails = _tails(conn, names)
    context: list[Fix] = []  # the newest known fix of each unit whose new fixes are all later
    around: list[Fixes] = []
    for name, a, b in zip(names, first.tolist(), last.tolist(), strict=True):
        tail = tails.get(name)
        if tail is None:
            continue
        if a > tail[0]:
            context.append((name, _moment(tail[0]), tail[1], tail[2]))
        else:  # out of order: the unit's fixes counted so far around the new ones
            around.append(_fixes(conn, cells, FIXES.c.unit_id == name, FIXES.c.received_at > since,
                                 FIXES.c.received_at <= after, FIXES.c.fix_at >= _moment(a) - MAX_TRACK_GAP,
                                 FIXES.c.fix_at <= _moment(b) + MAX_TRACK_GAP))
            newest[name] = max(newest[name], tail)
    added = pieces_added(cells, Fixes.joined([fixes_of(context), *around]), new, zone,
                         watched={name for part in around for name in part.names})
    stored = _stored_firsts(conn, list(added.taken))
    _add(conn, added, dict(zip(cells.codes, cells.grids, strict=True)))
    # a visit that lost its first piece: its first is found again from the unit's fixes of the day
    for day, name in sorted({(d, u) for (d, u, c), t in added.taken.items() if stored.get((d, u, c)) == t}):
        _recount_firsts(conn, cells, since, upto, day, name, zone)
    _upsert(conn, VISIT_TAILS, ["unit_id"], [{"unit_id": u, "fix_at": _moment(t), "lon": x, "lat": y}
                                             for u, (t, x, y) in sorted(newest.items())],
            replaced=("fix_at", "lon", "lat"))
    return len(new)


def _stored_firsts(conn: Connection, visits: Sequence[CellVisit]) -> dict[CellVisit, int]:
    """The first pieces the tally holds of these visits (µs)."""
    out: dict[CellVisit, int] = {}
    for d, u, c in visits:
        first = conn.execute(select(LIVE_VISITS.c.first_at).where(
            LIVE_VISITS.c.day == d.isoformat(), LIVE_VISITS.c.unit_id == u, LIVE_VISITS.c.cell_code == c)).scalar()
        if first is not None:
            out[(d, u, c)] = _us(first)
    return out


def _recount_firsts(conn: Connection, cells: Cells, since: datetime, upto: datetime, day: date, unit: str,
                    zone: ZoneInfo) -> None:
    """Set the first piece of each of the unit's visits on the day from all its fixes counted (rare: a fix sent
    late bent the segment that made a visit first)."""
    start = day_start(day, zone)
    fixes = _fixes(conn, cells, FIXES.c.unit_id == unit, FIXES.c.received_at > since, FIXES.c.received_at <= upto,
                   FIXES.c.fix_at >= start, FIXES.c.fix_at < day_start(day + timedelta(days=1), zone))
    for (d, u, c), t in track_pieces(cells, fixes, zone).firsts().items():
        if d == day:
            conn.execute(update(LIVE_VISITS).where(LIVE_VISITS.c.day == d.isoformat(), LIVE_VISITS.c.unit_id == u,
                                                   LIVE_VISITS.c.cell_code == c).values(first_at=_moment(t)))


def _tails(conn: Connection, units: Sequence[str]) -> dict[str, Tail]:
    out: dict[str, Tail] = {}
    for start in range(0, len(units), 1000):
        for u, t, x, y in tuples(conn.execute(select(VISIT_TAILS.c.unit_id, VISIT_TAILS.c.fix_at, VISIT_TAILS.c.lon,
                                              VISIT_TAILS.c.lat)
                                       .where(VISIT_TAILS.c.unit_id.in_(units[start:start + 1000])))):
            out[u] = (_us(t), x, y)
    return out


def _add(conn: Connection, added: Added, grid_of: dict[str, str]) -> None:
    """Add the pieces to the tally's rows, and lower their first pieces where the new ones are earlier."""
    rows = [{"day": d.isoformat(), "cell_code": c, "unit_id": u, "grid_code": grid_of[c],
             "pieces": added.change.get((d, u, c), 0), "first_at": _moment(t)}
            for (d, u, c), t in sorted(added.firsts.items())]
    _upsert(conn, LIVE_VISITS, ["day", "cell_code", "unit_id"], rows, added=("pieces",), lowered=("first_at",))
    if any(n < 0 for n in added.change.values()):
        conn.execute(delete(LIVE_VISITS).where(LIVE_VISITS.c.pieces <= 0))


def _upsert(conn: Connection, table: Any, keys: list[str], rows: list[dict[str, Any]], *,
            replaced: Iterable[str] = (), added: Iterable[str] = (), lowered: Iterable[str] = ()) -> None:
    """Insert the rows; where a row with the same keys exists, replace the `replaced` columns, add to the
    `added` ones, and keep the lower of the two in the `lowered` ones. One statement for all the rows: on
    PostgreSQL the rows go as one array per column (executemany sent a statement per row: half the tally's
    time); on SQLite as executemany."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":  # each column as one array literal (feeds/store/arrays.py)
        columns = list(rows[0])
        given = func.unnest(*(cast(bindparam(None, ARRAY_OF[_pg_type(table.c[c].type)]([r[c] for r in rows]),
                                             type_=Text), postgresql.ARRAY(table.c[c].type))
                              for c in columns)).table_valued(*columns).render_derived()
        stmt = postgresql.insert(table).from_select(columns, select(*(given.c[c] for c in columns)))
        conn.execute(stmt.on_conflict_do_update(index_elements=keys,
                                                set_=_changes(table, stmt, replaced, added, lowered)))
        return
    lite = sqlite.insert(table)
    conn.execute(lite.on_conflict_do_update(index_elements=keys,
                                            set_=_changes(table, lite, replaced, added, lowered)), rows)


def _pg_type(kind: Any) -> str:
    """The PostgreSQL type of a column's array literal."""
    if isinstance(kind, UtcDateTime):
        return "timestamptz"
    return "int8" if isinstance(kind, Integer) else "float8" if isinstance(kind, Float) else "text"


def _changes(table: Any, stmt: Any, replaced: Iterable[str], added: Iterable[str],
             lowered: Iterable[str]) -> dict[str, Any]:
    return ({c: stmt.excluded[c] for c in replaced} | {c: table.c[c] + stmt.excluded[c] for c in added}
            | {c: case((table.c[c] <= stmt.excluded[c], table.c[c]), else_=stmt.excluded[c]) for c in lowered})


# ---------------------------------------------------------------------------------------------- readers


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone)


def tracked_days(conn: Connection, days: Iterable[date], now: datetime, zone: ZoneInfo) -> set[date]:
    """The days whose visits the tally holds in full as of its cursor: it started before the day began, is
    not stale, and has not handed the day over to the stored days yet (then dropped it)."""
    at = cursor(conn)
    if at is None or at.through < now - STALE_AFTER:
        return set()
    held = {d for d in days if at.since <= day_start(d, zone) - HEAD_START}
    if not held:
        return held
    asked = sorted(d.isoformat() for d in held)
    stored = tuples(conn.execute(select(COVERED_DAYS.c.day).where(COVERED_DAYS.c.day.in_(asked))))
    return held - {date.fromisoformat(d) for (d,) in stored}


def _held(days: Collection[date], before: datetime | None) -> list[Any]:
    """The tally's rows of these days that make a visit, made before `before` (None: at any time)."""
    where = [LIVE_VISITS.c.day.in_(sorted(d.isoformat() for d in days)), LIVE_VISITS.c.pieces > 0]
    return where if before is None else [*where, LIVE_VISITS.c.first_at < before]


def grid_cells_visited(conn: Connection, days: Collection[date], before: datetime | None = None) -> dict[str, int]:
    """Per grid: the cell-days visited by any unit on these days (before `before`), from the tally."""
    if not days:
        return {}
    per_day = (select(LIVE_VISITS.c.grid_code, func.count(LIVE_VISITS.c.cell_code.distinct()).label("n"))
               .where(*_held(days, before)).group_by(LIVE_VISITS.c.day, LIVE_VISITS.c.grid_code).subquery())
    return {g: int(n) for g, n in tuples(conn.execute(select(per_day.c.grid_code, func.sum(per_day.c.n))
                                               .group_by(per_day.c.grid_code)))}


def _visit_rows(conn: Connection, days: Collection[date], units: Collection[str] | None, before: datetime | None,
                *columns: Any) -> Any:
    query = select(LIVE_VISITS.c.day, LIVE_VISITS.c.unit_id, LIVE_VISITS.c.cell_code, *columns).where(
        *_held(days, before))
    if units is not None:
        query = query.where(LIVE_VISITS.c.unit_id.in_(sorted(units)))
    return tuples(conn.execute(query))


def visits_of(conn: Connection, days: Collection[date], units: Collection[str] | None = None,
              before: datetime | None = None) -> set[CellVisit]:
    """(day, unit, cell) visits on these days (made before `before`), from the tally; `units`: only theirs."""
    if not days:
        return set()
    return {(date.fromisoformat(d), u, c) for d, u, c in _visit_rows(conn, days, units, before)}


def first_visits(conn: Connection, days: Collection[date], units: Collection[str] | None = None,
                 before: datetime | None = None) -> dict[CellVisit, datetime]:
    """`visits_of` with the moment each visit was first made."""
    if not days:
        return {}
    return {(date.fromisoformat(d), u, c): t
            for d, u, c, t in _visit_rows(conn, days, units, before, LIVE_VISITS.c.first_at)}


def unit_cells_visited(conn: Connection, days: Collection[date],
                       before: datetime | None = None) -> dict[tuple[date, str, str], int]:
    """Per (day, unit, grid): how many of the grid's cells the unit visited on these days (before `before`),
    from the tally."""
    if not days:
        return {}
    query = (select(LIVE_VISITS.c.day, LIVE_VISITS.c.unit_id, LIVE_VISITS.c.grid_code, func.count())
             .where(*_held(days, before))
             .group_by(LIVE_VISITS.c.day, LIVE_VISITS.c.unit_id, LIVE_VISITS.c.grid_code))
    return {(date.fromisoformat(d), u, g): int(n) for d, u, g, n in tuples(conn.execute(query))}


def drop_day(conn: Connection, day: date) -> None:
    """A settled day's rows, once copied into kpi_cell_visits."""
    conn.execute(delete(LIVE_VISITS).where(LIVE_VISITS.c.day == day.isoformat()))
