from __future__ import annotations

import itertools
import math
import re
import time

import pytest
from shapely import STRtree
from shapely.geometry import LineString, Polygon, shape
from shapely.ops import unary_union

from feeds.store.engine import make_engine, migrate
from feeds.store.models import load_map
from simulators.geography import (
    CENTRE,
    METRES_PER_DEGREE,
    District,
    Level,
    RoadClass,
    build_district,
    lattice_shape,
    save_district,
    to_geojson,
)
from simulators.names import is_chinese

CODE = re.compile(r"^[A-Za-z0-9_.:\-]+$")


@pytest.fixture(scope="module")
def district() -> District:
    return build_district(7, 96)


def _fingerprint(d: District) -> list[str]:
    areas = [f"{a.code}|{a.name}|{a.households}|{a.population}|{to_geojson(a.geometry)}" for a in d.areas]
    roads = [f"{r.name}|{r.road_class}|{to_geojson(r.geometry)}" for r in d.roads]
    return [d.name, *areas, *roads]


def _metres(d: District, lon_lat_area: float) -> float:
    return lon_lat_area * METRES_PER_DEGREE * d.frame.metres_per_degree_lon


def test_same_seed_gives_the_same_district() -> None:
    assert _fingerprint(build_district(11, 96)) == _fingerprint(build_district(11, 96))


def test_another_seed_gives_another_district() -> None:
    assert _fingerprint(build_district(11, 96)) != _fingerprint(build_district(12, 96))


@pytest.mark.parametrize("grids", [4, 96, 97, 130, 1100])
def test_exactly_the_grids_asked_for(grids: int) -> None:
    d = build_district(3, grids)
    assert len(d.grid_areas()) == grids
    assert isinstance(d.area.geometry, Polygon) and not d.area.geometry.interiors


def test_lattice_prefers_an_exact_rectangle_near_four_by_three() -> None:
    assert lattice_shape(96) == (12, 8)
    assert lattice_shape(1110) == (37, 30)
    nx, ny = lattice_shape(97)  # a prime: rows filled from the south, the last one part-filled
    assert nx * ny >= 97 > nx * (ny - 1) and nx / ny <= 2


def test_levels_and_hierarchy(district: District) -> None:
    assert [a.level for a in district.areas[:1]] == [Level.DISTRICT]
    streets = district.at_level(Level.STREET)
    assert len(streets) == 4  # 96 grids: streets worth comparing, each of a few communities
    for street in streets:
        assert 15 <= sum(1 for g in district.grid_areas() if g.code.startswith(street.code + "-")) <= 32
    communities = district.at_level(Level.COMMUNITY)
    assert 8 <= len(communities) <= 16
    codes = {a.code: a for a in district.areas}
    assert len(codes) == len(district.areas)
    for a in district.areas[1:]:
        parent = codes[a.parent_code]  # type: ignore[index]
        assert list(Level).index(parent.level) == list(Level).index(a.level) - 1
        assert a.code.startswith(parent.code + "-")
        assert CODE.match(a.code) and len(a.code) <= 64
    for c in communities:
        assert 6 <= sum(1 for g in district.grid_areas() if g.parent_code == c.code) <= 16


def test_households_and_population(district: District) -> None:
    for g in district.grid_areas():
        assert 300 <= g.households <= 400
        assert 2.6 * g.households - 1 <= g.population <= 3.2 * g.households + 1
    for parent in district.areas:
        children = [a for a in district.areas if a.parent_code == parent.code]
        if children:
            assert parent.households == sum(c.households for c in children)
            assert parent.population == sum(c.population for c in children)


def test_grids_tile_the_district_without_gaps_or_overlaps(district: District) -> None:
    grids = [g.geometry for g in district.grid_areas()]
    total = district.area.geometry.area
    assert math.isclose(sum(g.area for g in grids), total, rel_tol=1e-9)
    tree = STRtree(grids)
    pairs = 0
    for k, g in enumerate(grids):
        for other in tree.query(g, predicate="intersects"):
            if other != k:
                pairs += 1
                assert g.intersection(grids[other]).area <= 1e-12 * g.area
    assert pairs >= 2 * (len(grids) - 1)  # every grid touches neighbours
    assert unary_union(grids).symmetric_difference(district.area.geometry).area <= 1e-9 * total


def test_children_lie_within_their_parents(district: District) -> None:
    by_code = {a.code: a for a in district.areas}
    for a in district.areas[1:]:
        parent = by_code[a.parent_code]  # type: ignore[index]
        assert isinstance(a.geometry, Polygon) and a.geometry.is_valid
        assert a.geometry.difference(parent.geometry).area <= 1e-9 * a.geometry.area


def test_grid_sides_are_about_two_hundred_metres(district: District) -> None:
    for g in district.grid_areas():
        xy = [district.frame.to_xy(lon, lat) for lon, lat in g.geometry.exterior.coords]
        for (x0, y0), (x1, y1) in itertools.pairwise(xy):
            assert 150 <= math.hypot(x1 - x0, y1 - y0) <= 265


def test_district_is_centred_on_yichang(district: District) -> None:
    c = district.area.geometry.centroid
    x, y = district.frame.to_xy(c.x, c.y)
    assert math.hypot(x, y) < 300
    assert district.centre == CENTRE


def test_roads_of_both_classes_follow_the_grid_boundaries(district: District) -> None:
    classes = {r.road_class for r in district.roads}
    assert classes == {RoadClass.ARTERIAL, RoadClass.LOCAL}
    assert all(isinstance(r.geometry, LineString) and r.geometry.length > 0 for r in district.roads)
    network = unary_union([r.geometry for r in district.roads]).buffer(1e-7)
    for g in district.grid_areas():
        assert g.geometry.exterior.difference(network).length <= 1e-9


def test_names_are_chinese(district: District) -> None:
    assert is_chinese(district.name) and district.name.endswith("区")
    suffix = {Level.STREET: "街道", Level.COMMUNITY: "社区", Level.GRID: "网格"}
    for a in district.areas[1:]:
        assert is_chinese(a.name) and a.name.endswith(suffix[a.level])
    for g in district.grid_areas():
        assert re.fullmatch(r".+社区第\d+网格", g.name)
    for r in district.roads:
        assert is_chinese(r.name) and r.name.endswith(("路", "街", "大道"))
    names = [a.name for a in district.areas]
    assert len(set(names)) == len(names)
    assert all(is_chinese(s.label) for s in district.intersections)


def test_a_large_district_is_fast() -> None:
    started = time.perf_counter()
    d = build_district(7, 1100)
    assert time.perf_counter() - started < 2.0
    assert len(d.grid_areas()) == 1100
    assert 80 <= len(d.at_level(Level.COMMUNITY)) <= 160
    assert len(d.at_level(Level.STREET)) >= 8


def test_save_district_round_trips_through_load_map(tmp_path, district: District) -> None:
    url = f"sqlite:///{tmp_path / 'cc.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    try:
        for d in (build_district(1, 24), district):  # a second save replaces the first
            with engine.begin() as conn:
                save_district(conn, d)
        with engine.connect() as conn:
            layers = load_map(conn)
    finally:
        engine.dispose()
    for level in [lv for lv in Level if lv is not Level.CELL]:
        features = layers[level.value]["features"]
        expected = district.at_level(level)
        assert [f["properties"]["code"] for f in features] == sorted(a.code for a in expected)
    grid = district.grid_areas()[0]
    feature = next(f for f in layers["grid"]["features"] if f["properties"]["code"] == grid.code)
    assert feature["properties"] == {"code": grid.code, "name": grid.name, "parent": grid.parent_code,
                                     "households": grid.households, "population": grid.population}
    assert shape(feature["geometry"]).equals(grid.geometry)
    for road_class in RoadClass:
        roads = [r for r in district.roads if r.road_class == road_class]
        names = [f["properties"]["name"] for f in layers[road_class.value]["features"]]
        assert names == [r.name for r in roads]
