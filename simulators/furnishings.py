"""What fills a district besides its streets: ≈100 m patrol cells inside every grid, city components
(cameras, street lights, manhole covers, hydrants) placed in grids, departments, and the people who
answer for each grid by name (实名落图). Seeded and deterministic, like the district itself."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from shapely.geometry import LineString, Point, Polygon, box
from shapely.strtree import STRtree
from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection

from feeds.store import models
from feeds.taxonomy import Taxonomy
from simulators.cameras import place_cameras
from simulators.geography import Area, District, Level, to_geojson
from simulators.patrols import patrol_units

CELL_M = 100.0
LIGHT_SPACING_M = 60.0
MANHOLES_PER_GRID = 8
HYDRANTS_PER_GRID = 2
DISPATCHERS = 6
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力鹏飞宇浩然晨曦嘉欣子轩梓涵雨婷海燕立新志国春梅"


@dataclass(frozen=True)
class Asset:
    id: str
    kind: str  # camera, street_light, manhole, hydrant
    grid_code: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str  # grid_worker, grid_chief, patroller_outer, dispatcher
    area_code: str | None
    unit_id: str | None


@dataclass(frozen=True)
class Parcel:
    """A grid's land use (用地) and its buildings' footprints (lon/lat)."""

    grid_code: str
    use: str  # one of LAND_USES
    buildings: tuple[tuple[str, Polygon], ...]  # (name, footprint)


@dataclass(frozen=True)
class Furnishings:
    cells: tuple[Area, ...]
    assets: tuple[Asset, ...]
    people: tuple[Person, ...]
    parcels: tuple[Parcel, ...] = ()


def unit_cells(district: District) -> list[Area]:
    """Each grid cut into ≈100 m squares (clipped to the grid): the cells patrol coverage is counted in."""
    cells = []
    for grid in district.grid_areas():
        local = district.frame.project(grid.geometry)
        x0, y0, x1, y1 = local.bounds
        n = 0
        for j in range(math.ceil((y1 - y0) / CELL_M)):
            for i in range(math.ceil((x1 - x0) / CELL_M)):
                piece = local.intersection(box(x0 + i * CELL_M, y0 + j * CELL_M,
                                               x0 + (i + 1) * CELL_M, y0 + (j + 1) * CELL_M))
                if isinstance(piece, Polygon) and piece.area >= 25.0:  # drop slivers under 5 m × 5 m
                    n += 1
                    cells.append(Area(f"{grid.code}-U{n:02d}", Level.CELL, grid.code, f"{grid.name}{n}号单元",
                                      0, 0, district.frame.unproject(piece)))
    return cells


# land use of a grid -> (share of grids, building width × depth in m, spacing between rows in m, label)
LAND_USES: dict[str, tuple[float, tuple[float, float], float, str]] = {
    "residential": (0.70, (50.0, 12.0), 28.0, "住宅小区"),
    "commercial": (0.14, (36.0, 30.0), 45.0, "商业街区"),
    "public": (0.08, (60.0, 24.0), 50.0, "公共服务"),  # schools, clinics, the street office
    "park": (0.08, (14.0, 10.0), 80.0, "公园绿地"),
}
SETBACK_M = 12.0  # buildings stand back from the streets


def parcels(district: District, seed: int) -> list[Parcel]:
    """Each grid's land use and buildings: rows of footprints laid out inside it, back from its streets."""
    rng = random.Random(f"{seed}:parcels")
    uses = list(LAND_USES)
    out = []
    for grid in district.grid_areas():
        use = rng.choices(uses, weights=[LAND_USES[u][0] for u in uses])[0]
        _, (width, depth), spacing, _ = LAND_USES[use]
        local = district.frame.project(grid.geometry).buffer(-SETBACK_M)
        x0, y0, x1, y1 = local.bounds
        estate = district.find(grid.parent_code or "").name.removesuffix("社区")
        buildings = []
        y = y0
        while y + depth <= y1:
            x = x0
            while x + width <= x1:
                footprint = box(x, y, x + width, y + depth)
                if local.contains(footprint):
                    name = f"{estate}{'小区' if use == 'residential' else ''}{len(buildings) + 1}栋"
                    buildings.append((name, district.frame.unproject(footprint)))
                x += width + rng.uniform(8.0, 14.0)
            y += depth + spacing
        out.append(Parcel(grid.code, use, tuple(buildings)))
    return out


def _name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if name not in used:
            used.add(name)
            return name


def build_furnishings(district: District, seed: int) -> Furnishings:
    rng = random.Random(f"{seed}:furnishings")
    grids = district.grid_areas()
    tree = STRtree([g.geometry for g in grids])

    def grid_of(lon: float, lat: float) -> str:
        return grids[int(tree.nearest(Point(lon, lat)))].code

    assets: list[Asset] = [Asset(c.camera_id, "camera", grid_of(c.lon, c.lat), f"{c.site}摄像头", c.lat, c.lon)
                           for c in place_cameras(district, seed)]
    lights = 0
    for road in district.roads:
        local = LineString([district.frame.to_xy(lon, lat) for lon, lat in road.geometry.coords])
        for k in range(int(local.length // LIGHT_SPACING_M) + 1):
            p = local.interpolate(k * LIGHT_SPACING_M)
            lon, lat = district.frame.to_lonlat(p.x, p.y)
            lights += 1
            assets.append(Asset(f"LT{lights:05d}", "street_light", grid_of(lon, lat), f"{road.name}路灯{k + 1}号",
                                lat, lon))
    for kind, prefix, per_grid, label in (("manhole", "MH", MANHOLES_PER_GRID, "井盖"),
                                          ("hydrant", "HY", HYDRANTS_PER_GRID, "消火栓")):
        n = 0
        for grid in grids:
            west, south, east, north = grid.geometry.bounds
            placed = 0
            while placed < per_grid:
                lon, lat = rng.uniform(west, east), rng.uniform(south, north)
                if grid.geometry.contains(Point(lon, lat)):
                    placed += 1
                    n += 1
                    assets.append(Asset(f"{prefix}{n:05d}", kind, grid.code, f"{grid.name}{label}{placed}号",
                                        lat, lon))

    used: set[str] = set()
    units = patrol_units(district)
    people = [Person(f"GW-{units[g.code]}", _name(rng, used), "grid_worker", g.code, units[g.code]) for g in grids]
    for community in district.at_level(Level.COMMUNITY):
        people.append(Person(f"GC-{community.code}", _name(rng, used), "grid_chief", community.code, None))
        people.extend(Person(f"OP-{community.code}-{k}", _name(rng, used), "patroller_outer", community.code, None)
                      for k in (1, 2))  # ≥ 2 dedicated patrollers per community
    people.extend(Person(f"DS{k:02d}", _name(rng, used), "dispatcher", district.code, None)
                  for k in range(1, DISPATCHERS + 1))
    return Furnishings(tuple(unit_cells(district)), tuple(assets), tuple(people), tuple(parcels(district, seed)))


def save_furnishings(conn: Connection, district: District, furnishings: Furnishings, taxonomy: Taxonomy) -> None:
    """Write cells, assets, people and departments, after save_district replaced the territory."""
    areas = models.Area.__table__
    conn.execute(delete(models.Department.__table__))
    conn.execute(insert(models.Department.__table__),
                 [{"code": code, "name": name} for code, name in taxonomy.departments.items()])
    rows: list[dict[str, Any]] = [{"code": c.code, "level": c.level.value, "parent_code": c.parent_code,
                                   "name": c.name, "households": 0, "population": 0,
                                   "geometry": to_geojson(c.geometry)} for c in furnishings.cells]
    if rows:
        conn.execute(insert(areas), rows)
    conn.execute(insert(models.Asset.__table__), [a.__dict__ for a in furnishings.assets])
    conn.execute(insert(models.Person.__table__), [{**p.__dict__, "department": None} for p in furnishings.people])
    features = models.MapFeature.__table__
    conn.execute(delete(features).where(features.c.layer.in_(("landuse", "building"))))
    uses = [{"layer": "landuse", "name": f"{p.use}:{LAND_USES[p.use][3]}",
             "geometry": to_geojson(district.find(p.grid_code).geometry)} for p in furnishings.parcels]
    buildings = [{"layer": "building", "name": name, "geometry": to_geojson(footprint)}
                 for p in furnishings.parcels for name, footprint in p.buildings]
    for rows in (uses, buildings):
        if rows:
            conn.execute(insert(features), rows)
