"""Patrol coverage: the cells each unit walked on each local day, from its GPS track."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from shapely.strtree import STRtree

from feeds.kpis.values import MAX_TRACK_GAP, NO_RATE, Period, Rate
from feeds.kpis.worktime import _US, _moment, _us


@dataclass(frozen=True)
class Cells:
    """The unit cells (单元网格, ≈100 m) of the territory: code, grid and polygon (lon/lat), in one STRtree."""

    codes: tuple[str, ...]
    grids: tuple[str, ...]
    tree: STRtree

    @classmethod
    def of(cls, cells: Sequence[tuple[str, str, Any]]) -> Cells:
        """From (cell code, grid code, shapely polygon) triples."""
        return cls(tuple(c for c, _, _ in cells), tuple(g for _, g, _ in cells), STRtree([p for _, _, p in cells]))


@dataclass(frozen=True)
class Track:
    """GPS fixes as arrays (any order): unit id, time (aware datetimes), lon, lat."""

    units: Sequence[str]
    times: Sequence[datetime]
    lons: Sequence[float]
    lats: Sequence[float]


@dataclass(frozen=True)
class Fixes:
    """GPS fixes as columns, for the hundreds of thousands a tally reads at once: each fix's unit (an index
    into `names`), time (µs since the epoch), lon and lat, as numpy arrays (any order)."""

    names: tuple[str, ...]
    unit: np.ndarray
    t: np.ndarray
    lon: np.ndarray
    lat: np.ndarray

    def __len__(self) -> int:
        return len(self.t)

    @classmethod
    def of(cls, track: Track) -> Fixes:
        n = len(track.units)
        index: dict[str, int] = {}  # each unit's number, in order of first sight (np.unique sorts strings: 5× slower)
        unit = np.fromiter((index.setdefault(u, len(index)) for u in track.units), dtype=np.int64, count=n)
        t = np.fromiter((_us(x) for x in track.times), dtype=np.int64, count=n)
        return cls(tuple(index), unit, t, np.asarray(track.lons, dtype=float).reshape(n),
                   np.asarray(track.lats, dtype=float).reshape(n))

    @classmethod
    def joined(cls, parts: Sequence[Fixes]) -> Fixes:
        """The fixes of all the parts, their units numbered anew."""
        index: dict[str, int] = {}
        units = []
        for part in parts:
            numbers = np.array([index.setdefault(name, len(index)) for name in part.names], dtype=np.int64)
            units.append(numbers[part.unit] if len(part) else np.empty(0, dtype=np.int64))
        if not parts:
            return NO_FIXES
        return cls(tuple(index), np.concatenate(units), np.concatenate([p.t for p in parts]),
                   np.concatenate([p.lon for p in parts]), np.concatenate([p.lat for p in parts]))


NO_FIXES = Fixes((), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
CellVisit = tuple[date, str, str]  # (local day, unit id, cell code)
GridMonth = tuple[str, int, int]  # (grid, year, month)


def cell_visits(cells: Cells, track: Track, zone: ZoneInfo,
                max_gap: timedelta = MAX_TRACK_GAP) -> set[CellVisit]:
    """Which cells each unit visited on each local day: a fix inside (or on the edge of) the cell, or a
    segment between two consecutive fixes of the unit crossing it. Consecutive fixes are joined only when
    they are at most `max_gap` apart and on the same local day (a unit switched off, or a night, is not a
    walk). A segment whose two ends lie in the same cell is taken to stay in it (cells are ≈100 m squares
    cut by grid edges; fixes come seconds apart), which spares testing most segments."""
    return set(cell_pieces(cells, track, zone, max_gap))


def cell_pieces(cells: Cells, track: Track | Fixes, zone: ZoneInfo,
                max_gap: timedelta = MAX_TRACK_GAP) -> dict[CellVisit, int]:
    """`cell_visits` with, for each visit, how many pieces of the track make it: fixes inside the cell and
    segments crossing it. A visit holds while one piece is left, so a late fix that bends a segment can
    take back what the straight segment crossed (feeds/kpis/visits.py). Fixes of a unit taken at the same
    moment are ordered by position, so the pieces do not depend on the order the fixes are given in."""
    return track_pieces(cells, track, zone, max_gap).counts()


def cell_firsts(cells: Cells, track: Track | Fixes, zone: ZoneInfo,
                max_gap: timedelta = MAX_TRACK_GAP) -> dict[CellVisit, datetime]:
    """`cell_visits` with, for each visit, the moment it was first made (`Pieces.firsts`)."""
    return {k: _moment(t) for k, t in track_pieces(cells, track, zone, max_gap).firsts().items()}


@dataclass(frozen=True)
class Pieces:
    """The pieces of tracks: each piece's visit, numbered over (day, unit, cell), and its time (µs since the
    epoch): a fix's own; a segment's the time of its later end, when the walk across is whole. The track cut at
    a moment T (its fixes taken before T) makes exactly the visits that have a piece earlier than T: so a
    visit's first piece says from when it counts ("yesterday up to the same time")."""

    days: tuple[date, ...]
    names: tuple[str, ...]
    codes: tuple[str, ...]
    key: np.ndarray
    t: np.ndarray

    def visits(self, keys: np.ndarray) -> list[CellVisit]:
        units_n, cells_n = len(self.names), len(self.codes)
        d, rest = np.divmod(keys, units_n * cells_n)
        u, c = np.divmod(rest, cells_n)
        return [(self.days[a], self.names[b], self.codes[e])
                for a, b, e in zip(d.tolist(), u.tolist(), c.tolist(), strict=True)]

    def counts(self) -> dict[CellVisit, int]:
        visited, counts = np.unique(self.key, return_counts=True)  # of integers: sorting rows was 10× slower
        return dict(zip(self.visits(visited), counts.tolist(), strict=True))

    def firsts(self) -> dict[CellVisit, int]:
        """Each visit's earliest piece (µs)."""
        order = np.lexsort((self.t, self.key))
        key, t = self.key[order], self.t[order]
        begins = np.nonzero(np.append(True, key[1:] != key[:-1]))[0] if len(key) else np.empty(0, dtype=np.int64)
        return dict(zip(self.visits(key[begins]), t[begins].tolist(), strict=True))

    def of_units(self, names: Collection[str]) -> list[tuple[CellVisit, int]]:
        """The pieces of these units, as (visit, time)."""
        wanted = np.array([i for i, name in enumerate(self.names) if name in names], dtype=np.int64)
        units = (self.key // len(self.codes)) % max(len(self.names), 1)
        mine = np.isin(units, wanted)
        return list(zip(self.visits(self.key[mine]), self.t[mine].tolist(), strict=True))


def track_pieces(cells: Cells, track: Track | Fixes, zone: ZoneInfo, max_gap: timedelta = MAX_TRACK_GAP) -> Pieces:
    """The pieces of each unit's track (`cell_visits`): fixes inside a cell, joined segments crossing one."""
    fixes = track if isinstance(track, Fixes) else Fixes.of(track)
    n = len(fixes)
    if n == 0 or not cells.codes:
        return Pieces((), (), cells.codes, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    order = np.lexsort((fixes.lat, fixes.lon, fixes.t, fixes.unit))
    unit, t, lon, lat = fixes.unit[order], fixes.t[order], fixes.lon[order], fixes.lat[order]
    first = datetime.fromtimestamp(int(t.min()) / 1e6, UTC).astimezone(zone).date()
    last = datetime.fromtimestamp(int(t.max()) / 1e6, UTC).astimezone(zone).date()
    days = [first + timedelta(days=k) for k in range((last - first).days + 2)]
    bounds = np.array([_us(datetime.combine(d, time(), zone)) for d in days], dtype=np.int64)
    day = np.searchsorted(bounds, t, side="right") - 1

    hit_fix, hit_cell = _hits(cells, lambda a, b: shapely.points(lon[a:b], lat[a:b]), n)
    cell_of = np.full(n, -1, dtype=np.int64)
    cell_of[hit_fix] = hit_cell  # one of the cells a fix lies in (two only on a shared edge)
    pieces = [np.stack([day[hit_fix], unit[hit_fix], hit_cell, t[hit_fix]], axis=1)]

    joined = ((unit[1:] == unit[:-1]) & (day[1:] == day[:-1]) & (t[1:] - t[:-1] <= max_gap // _US)
              & ((cell_of[1:] != cell_of[:-1]) | (cell_of[1:] < 0)))
    starts = np.nonzero(joined)[0]
    if len(starts):
        coords = np.stack([np.stack([lon[starts], lat[starts]], axis=1),
                           np.stack([lon[starts + 1], lat[starts + 1]], axis=1)], axis=1)
        hit_seg, seg_cell = _hits(cells, lambda a, b: shapely.linestrings(coords[a:b]), len(starts))
        seg_fix = starts[hit_seg]
        pieces.append(np.stack([day[seg_fix], unit[seg_fix], seg_cell, t[seg_fix + 1]], axis=1))
    d, u, c, when = np.concatenate(pieces).T
    units_n, cells_n = len(fixes.names), len(cells.codes)
    return Pieces(tuple(days), fixes.names, cells.codes, (d * units_n + u) * cells_n + c, when)


GEOMETRIES_AT_ONCE = 20_000  # shapely objects made at a time: a tick's 300,000 points at once took 60 MB


def _hits(cells: Cells, geometries: Callable[[int, int], Any], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(which geometry, which cell) for each cell each of the n geometries intersects; the geometries
    (`geometries(a, b)` makes those from a to b) are made and dropped a slice at a time."""
    found = [(a + which, cell) for a in range(0, n, GEOMETRIES_AT_ONCE)
             for which, cell in [cells.tree.query(geometries(a, min(n, a + GEOMETRIES_AT_ONCE)),
                                                  predicate="intersects")]]
    if not found:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate([w for w, _ in found]), np.concatenate([c for _, c in found])


def coverage_by_grid(cells: Cells, visits: Iterable[CellVisit], period: Period, now: datetime,
                     units: Collection[str] | None = None) -> dict[str, Rate]:
    """Per grid: cell-days visited / (cells × days), over the local days of the period that have begun
    (today counts as far as it has gone). `units`: only these patrol units' tracks (one person's)."""
    days = set(period.days(now))
    grid_of = dict(zip(cells.codes, cells.grids, strict=True))
    seen = {(d, cell) for d, unit, cell in visits
            if d in days and cell in grid_of and (units is None or unit in units)}
    visited: dict[str, int] = defaultdict(int)
    for _, cell in seen:
        visited[grid_of[cell]] += 1
    size: dict[str, int] = defaultdict(int)
    for g in cells.grids:
        size[g] += 1
    return {g: Rate(visited.get(g, 0), n * len(days)) for g, n in size.items()}


def coverage(cells: Cells, visits: Iterable[CellVisit], period: Period, now: datetime,
             grids: Collection[str] | None = None, units: Collection[str] | None = None) -> Rate:
    """发现覆盖率: cells visited / cells in the area, per day, averaged over the days of the period that have
    begun. As every day has the same cells, the average of the daily rates is Σ cells visited per day /
    (cells × days). `grids`: the area (None: all); `units`: only these patrol units' tracks."""
    return area_coverage(coverage_by_grid(cells, visits, period, now, units), grids)


def area_coverage(by_grid: Mapping[str, Rate], grids: Collection[str] | None) -> Rate:
    total = NO_RATE
    for rate in (by_grid.values() if grids is None else (r for g in grids if (r := by_grid.get(g)) is not None)):
        total += rate
    return total
