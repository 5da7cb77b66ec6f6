"""A synthetic district: a jittered lattice of grids bounded by streets, grouped into communities and streets.

Pure and seeded: the same (seed, grids) gives the same district, coordinate for coordinate.

Layout. The district is a lattice of nx × ny cells of 180–230 m a side around Yichang's city centre. Lattice
vertices are jittered by a few metres and shared by the neighbouring cells, so grids tile the district with
no gaps and no overlaps ("无缝覆盖"), and every lattice line is a road: grid boundaries follow streets.
Exactly `grids` cells are made: nx × ny == grids when a factorisation with an aspect ratio between 1:1 and
2:1 exists (the one closest to 4:3 is taken), else the cells fill an nx × ny lattice in rows from the south,
leaving the northern row part-filled (still one polygon). Runs of 2–4 lattice columns and rows cut the
lattice into communities (about 6–12 grids each); the lines between communities are arterials, the others
local streets. Runs of communities make up the streets (街道): 4 at 96 grids, about √grids / 3 in larger
districts.
"""
from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.ops import unary_union
from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection

from feeds.store import models
from simulators import names

CENTRE = (30.6920, 111.2865)  # Yichang city centre (lat, lon)
METRES_PER_DEGREE = 111_195.0  # along a meridian, spherical Earth
CELL_SIDE_M = (180.0, 230.0)
JITTER_M = 12.0
ASPECT = 4 / 3
MAX_ASPECT = 2.0
BLOCK_CELLS = 3  # lattice columns / rows per community, on average
STREETS_PER_SQRT_GRID = 1 / 3  # a district of 96 grids has 4 streets (街道) of about 24; one of 1,100 about 11 of 100
MIN_STREETS = 4
MIN_COMMUNITY_GRIDS = 4  # smaller blocks at a part-filled edge join the block south of them
HOUSEHOLDS = (300, 400)
PEOPLE_PER_HOUSEHOLD = (2.6, 3.2)
DISTRICT_CODE = "D01"
DEGREE_DIGITS = 7  # ~1 cm; shared vertices stay bit-identical after rounding


class Level(StrEnum):
    DISTRICT = "district"
    STREET = "street"  # 街道
    COMMUNITY = "community"  # 社区
    GRID = "grid"  # 网格
    CELL = "cell"  # 单元网格: ≈100 m patrol cells (simulators/furnishings.py)


class RoadClass(StrEnum):
    """Also the map layer of the road. Not "street": feeds.store.models.load_map keys areas and road layers alike,
    and "street" is the 街道 level."""

    ARTERIAL = "arterial"  # 主干路
    LOCAL = "local"  # 支路


@dataclass(frozen=True, slots=True)
class LocalFrame:
    """Flat metres east/north of an origin, good to centimetres across a district."""

    lat0: float
    lon0: float

    @property
    def metres_per_degree_lon(self) -> float:
        return METRES_PER_DEGREE * math.cos(math.radians(self.lat0))

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        return self.lon0 + x / self.metres_per_degree_lon, self.lat0 + y / METRES_PER_DEGREE

    def to_xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.metres_per_degree_lon, (lat - self.lat0) * METRES_PER_DEGREE

    def project(self, geom: BaseGeometry) -> BaseGeometry:
        """A lon/lat geometry in local metres."""
        scale = np.array([self.metres_per_degree_lon, METRES_PER_DEGREE])
        return shapely.transform(geom, lambda c: (c - [self.lon0, self.lat0]) * scale)

    def unproject(self, geom: BaseGeometry) -> BaseGeometry:
        """A local-metres geometry in lon/lat."""
        scale = np.array([self.metres_per_degree_lon, METRES_PER_DEGREE])
        return shapely.transform(geom, lambda c: c / scale + [self.lon0, self.lat0])


@dataclass(frozen=True, slots=True)
class Area:
    """A district, street (街道), community (社区) or grid (网格): its people and its outline (lon/lat)."""

    code: str
    level: Level
    parent_code: str | None
    name: str
    households: int
    population: int
    geometry: Polygon


@dataclass(frozen=True, slots=True)
class Road:
    name: str
    road_class: RoadClass
    geometry: LineString


@dataclass(frozen=True, slots=True)
class Intersection:
    """Where a north–south road crosses an east–west one: a lattice vertex."""

    lat: float
    lon: float
    roads: tuple[str, str]

    @property
    def label(self) -> str:
        return f"{self.roads[0]}与{self.roads[1]}路口"


@dataclass(frozen=True)
class District:
    """The territory (district, its streets, communities and grids), its roads and their intersections."""

    name: str
    code: str
    centre: tuple[float, float]  # (lat, lon)
    frame: LocalFrame
    areas: tuple[Area, ...]  # parents before children; grids in code order
    roads: tuple[Road, ...]
    intersections: tuple[Intersection, ...]

    @property
    def area(self) -> Area:
        return self.areas[0]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees."""
        west, south, east, north = self.area.geometry.bounds
        return west, south, east, north

    def at_level(self, level: Level) -> list[Area]:
        return [a for a in self.areas if a.level == level]

    def grid_areas(self) -> list[Area]:
        return self.at_level(Level.GRID)

    def find(self, code: str) -> Area:
        return self._by_code[code]

    @cached_property
    def _by_code(self) -> dict[str, Area]:
        return {a.code: a for a in self.areas}


def to_geojson(geom: BaseGeometry) -> str:
    """GeoJSON text of a shapely geometry ([lon, lat] order)."""
    return json.dumps(mapping(geom), separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class _Lattice:
    nx: int
    ny: int
    count: int  # cells that exist: the first `count` in rows from the south
    lonlat: list[list[tuple[float, float]]]  # [row line j][column line i]

    def exists(self, i: int, j: int) -> bool:
        return 0 <= i < self.nx and 0 <= j < self.ny and j * self.nx + i < self.count

    def cell(self, i: int, j: int) -> Polygon:
        v = self.lonlat
        return Polygon([v[j][i], v[j][i + 1], v[j + 1][i + 1], v[j + 1][i]])  # counter-clockwise


def lattice_shape(grids: int) -> tuple[int, int]:
    """(nx, ny): an exact factorisation near 4:3 if one is no wider than 2:1, else a part-filled lattice."""
    if grids < 1:
        raise ValueError("a district needs at least one grid")
    best: tuple[float, int, int] | None = None
    for ny in range(1, math.isqrt(grids) + 1):
        if grids % ny == 0 and (nx := grids // ny) / ny <= MAX_ASPECT:
            score = abs(math.log(nx / ny / ASPECT))
            if best is None or score < best[0]:
                best = (score, nx, ny)
    if best is not None:
        return best[1], best[2]
    nx = max(1, round(math.sqrt(grids * ASPECT)))
    return nx, math.ceil(grids / nx)


def _runs(n: int, target: float, rng: random.Random) -> list[int]:
    """Cut n lines of cells into runs of about `target`; returns the start index of each run, then n."""
    parts = max(1, round(n / target))
    sizes = [n // parts + (1 if k < n % parts else 0) for k in range(parts)]
    rng.shuffle(sizes)
    starts = [0]
    for size in sizes:
        starts.append(starts[-1] + size)
    return starts


def _street_runs(across: int, up: int, grids: int, rng: random.Random) -> tuple[list[int], list[int]]:
    """Runs of community columns and rows making up the streets: about √grids / 3 streets (at least 4 where
    there are communities enough), cut in proportion to the lattice's sides."""
    wanted = max(MIN_STREETS, round(math.sqrt(grids) * STREETS_PER_SQRT_GRID))
    parts_x = min(across, max(1, round(math.sqrt(wanted * across / up))))
    parts_y = min(up, max(1, round(wanted / parts_x)))
    return _runs(across, across / parts_x, rng), _runs(up, up / parts_y, rng)


def _run_of(index: int, starts: Sequence[int]) -> int:
    for k in range(len(starts) - 1):
        if starts[k] <= index < starts[k + 1]:
            return k
    raise IndexError(index)


def _build_lattice(nx: int, ny: int, count: int, frame: LocalFrame, rng: random.Random) -> _Lattice:
    widths = [rng.uniform(*CELL_SIDE_M) for _ in range(nx)]
    heights = [rng.uniform(*CELL_SIDE_M) for _ in range(ny)]
    xs = [sum(widths[:i]) - sum(widths) / 2 for i in range(nx + 1)]
    ys = [sum(heights[:j]) - sum(heights) / 2 for j in range(ny + 1)]
    lonlat = []
    for y in ys:
        row = []
        for x in xs:
            dx, dy = rng.uniform(-JITTER_M, JITTER_M), rng.uniform(-JITTER_M, JITTER_M)
            lon, lat = frame.to_lonlat(x + dx, y + dy)
            row.append((round(lon, DEGREE_DIGITS), round(lat, DEGREE_DIGITS)))
        lonlat.append(row)
    return _Lattice(nx, ny, count, lonlat)


def _union(polygons: Iterable[Polygon], what: str) -> Polygon:
    merged = unary_union(list(polygons))
    if not isinstance(merged, Polygon):
        raise ValueError(f"{what} is not one polygon ({merged.geom_type})")
    return orient(merged, 1.0)


Cell = tuple[int, int]


def _community_blocks(lattice: _Lattice, cols: list[int], rows: list[int]) -> dict[Cell, list[Cell]]:
    """Community block (column run, row run) -> its cells (i, j); small edge blocks join the block south."""
    blocks: dict[Cell, list[Cell]] = {}
    for j in range(lattice.ny):
        for i in range(lattice.nx):
            if lattice.exists(i, j):
                blocks.setdefault((_run_of(i, cols), _run_of(j, rows)), []).append((i, j))
    for (bi, bj) in sorted(blocks, key=lambda b: -b[1]):
        cells = blocks[(bi, bj)]
        if len(cells) < MIN_COMMUNITY_GRIDS and (bi, bj - 1) in blocks:
            blocks[(bi, bj - 1)].extend(blocks.pop((bi, bj)))
    return blocks


def _north_west_first(key: Cell) -> tuple[int, int]:
    i, j = key
    return -j, i


def build_district(seed: int, grids: int) -> District:
    """The synthetic district: `grids` grids in communities and streets, roads along the lattice lines."""
    layout = random.Random(f"{seed}:layout")
    naming = random.Random(f"{seed}:names")
    people = random.Random(f"{seed}:people")
    frame = LocalFrame(*CENTRE)
    nx, ny = lattice_shape(grids)
    lattice = _build_lattice(nx, ny, grids, frame, layout)
    cols, rows = _runs(nx, BLOCK_CELLS, layout), _runs(ny, BLOCK_CELLS, layout)
    blocks = _community_blocks(lattice, cols, rows)
    street_cols, street_rows = _street_runs(len(cols) - 1, len(rows) - 1, grids, layout)
    streets: dict[Cell, list[Cell]] = {}
    for bi, bj in blocks:
        streets.setdefault((_run_of(bi, street_cols), _run_of(bj, street_rows)), []).append((bi, bj))

    district_name = names.district_name(naming)
    words = iter(names.unique_words(naming, len(streets) + len(blocks) + nx + 1 + ny + 1))
    street_areas: list[Area] = []
    community_areas: list[Area] = []
    grid_areas: list[Area] = []
    for s, skey in enumerate(sorted(streets, key=_north_west_first), start=1):
        street_code = f"{DISTRICT_CODE}-S{s:02d}"
        street_name = f"{next(words)}街道"
        members: list[Area] = []
        for c, bkey in enumerate(sorted(streets[skey], key=_north_west_first), start=1):
            community_code = f"{street_code}-C{c:02d}"
            community_name = f"{next(words)}社区"
            cells: list[Area] = []
            for g, (i, j) in enumerate(sorted(blocks[bkey], key=_north_west_first), start=1):
                households = people.randint(*HOUSEHOLDS)
                population = round(households * people.uniform(*PEOPLE_PER_HOUSEHOLD))
                cells.append(Area(f"{community_code}-G{g:03d}", Level.GRID, community_code,
                                  f"{community_name}第{g}网格", households, population, lattice.cell(i, j)))
            community = _parent(community_code, Level.COMMUNITY, street_code, community_name, cells)
            grid_areas.extend(cells)
            community_areas.append(community)
            members.append(community)
        street_areas.append(_parent(street_code, Level.STREET, DISTRICT_CODE, street_name, members))
    district = _parent(DISTRICT_CODE, Level.DISTRICT, None, district_name, street_areas)
    roads, intersections = _roads(lattice, set(cols), set(rows), words, naming)
    return District(district_name, DISTRICT_CODE, CENTRE, frame,
                    (district, *street_areas, *community_areas, *grid_areas), roads, intersections)


def _parent(code: str, level: Level, parent: str | None, name: str, children: Sequence[Area]) -> Area:
    geometry = _union((c.geometry for c in children), f"{level} {code}")
    return Area(code, level, parent, name, sum(c.households for c in children),
                sum(c.population for c in children), geometry)


def _roads(
    lattice: _Lattice,
    arterial_cols: set[int],
    arterial_rows: set[int],
    words: Iterable[str],
    rng: random.Random,
) -> tuple[tuple[Road, ...], tuple[Intersection, ...]]:
    """One road per lattice line (arterials on community edges), drawn where it borders a grid."""
    words = iter(words)
    v = lattice.lonlat
    roads: list[Road] = []
    ns_names: list[str] = []
    for i in range(lattice.nx + 1):  # north–south lines
        arterial = i in arterial_cols
        name = names.road_name(next(words), arterial, rng)
        ns_names.append(name)
        used = [lattice.exists(i - 1, j) or lattice.exists(i, j) for j in range(lattice.ny)]
        roads += [Road(name, RoadClass.ARTERIAL if arterial else RoadClass.LOCAL,
                       LineString([v[j][i] for j in range(a, b + 1)])) for a, b in _spans(used)]
    ew_names: list[str] = []
    for j in range(lattice.ny + 1):  # east–west lines
        arterial = j in arterial_rows
        name = names.road_name(next(words), arterial, rng)
        ew_names.append(name)
        used = [lattice.exists(i, j - 1) or lattice.exists(i, j) for i in range(lattice.nx)]
        roads += [Road(name, RoadClass.ARTERIAL if arterial else RoadClass.LOCAL,
                       LineString([v[j][i] for i in range(a, b + 1)])) for a, b in _spans(used)]
    intersections = tuple(
        Intersection(v[j][i][1], v[j][i][0], (ns_names[i], ew_names[j]))
        for j in reversed(range(lattice.ny + 1)) for i in range(lattice.nx + 1)
        if any(lattice.exists(i - di, j - dj) for di in (0, 1) for dj in (0, 1))
    )
    return tuple(roads), intersections


def _spans(used: list[bool]) -> list[tuple[int, int]]:
    """Runs of used segments as (first vertex, last vertex)."""
    spans, start = [], None
    for k, flag in enumerate([*used, False]):
        if flag and start is None:
            start = k
        elif not flag and start is not None:
            spans.append((start, k))
            start = None
    return spans


def save_district(conn: Connection, district: District) -> None:
    """Replace the territory and the base map in the caller's transaction (parents before children)."""
    areas, features = models.Area.__table__, models.MapFeature.__table__
    conn.execute(delete(features))
    for attached in (models.Person.__table__, models.Asset.__table__):  # what hangs on the old areas goes too
        conn.execute(delete(attached))
    for level in (Level.CELL, Level.GRID, Level.COMMUNITY, Level.STREET, Level.DISTRICT):
        conn.execute(delete(areas).where(areas.c.level == level.value))
    for level in Level:
        rows = [_area_row(a) for a in district.at_level(level)]
        if rows:
            conn.execute(insert(areas), rows)
    roads = [{"layer": r.road_class.value, "name": r.name, "geometry": to_geojson(r.geometry)}
             for r in district.roads]
    if roads:
        conn.execute(insert(features), roads)


def _area_row(a: Area) -> dict[str, Any]:
    return {"code": a.code, "level": a.level.value, "parent_code": a.parent_code, "name": a.name,
            "households": a.households, "population": a.population, "geometry": to_geojson(a.geometry)}
