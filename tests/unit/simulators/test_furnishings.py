import pytest
from shapely.geometry import Point
from sqlalchemy import func, select

from feeds.store import models
from feeds.taxonomy import load
from simulators.furnishings import build_furnishings, save_furnishings, unit_cells
from simulators.geography import build_district, save_district


@pytest.fixture(scope="module")
def district():
    return build_district(seed=5, grids=12)


@pytest.fixture(scope="module")
def furnished(district):
    return build_furnishings(district, seed=5)


def test_cells_tile_every_grid_in_about_100_m_pieces(district):
    cells = unit_cells(district)
    for grid in district.grid_areas():
        mine = [c for c in cells if c.parent_code == grid.code]
        assert 2 <= len(mine) <= 12  # a ~200 m grid holds about 4–9 cells of ≈100 m
        assert sum(c.geometry.area for c in mine) == pytest.approx(grid.geometry.area, rel=1e-3)
        assert all(grid.geometry.buffer(1e-9).contains(c.geometry) for c in mine)
    assert len({c.code for c in cells}) == len(cells)


def test_assets_lie_in_the_grid_they_are_filed_under(district, furnished):
    kinds = {a.kind for a in furnished.assets}
    assert kinds == {"camera", "street_light", "manhole", "hydrant"}
    grids = {g.code: g.geometry for g in district.grid_areas()}
    for a in furnished.assets:
        assert grids[a.grid_code].distance(Point(a.lon, a.lat)) < 1e-6, a  # inside, or on its boundary
    per_grid = [sum(1 for a in furnished.assets if a.kind == "hydrant" and a.grid_code == g) for g in grids]
    assert set(per_grid) == {2}


def test_every_grid_has_its_named_grid_worker_carrying_the_simulated_unit(district, furnished):
    workers = {p.area_code: p for p in furnished.people if p.role == "grid_worker"}
    assert set(workers) == {g.code for g in district.grid_areas()}
    assert workers[district.grid_areas()[0].code].unit_id == "P0001"
    names = [p.name for p in furnished.people]
    assert len(set(names)) == len(names) and all(2 <= len(n) <= 3 for n in names)
    communities = [c.code for c in district.at_level("community")]
    for code in communities:
        assert sum(1 for p in furnished.people if p.area_code == code and p.role == "patroller_outer") >= 2


def test_the_same_seed_furnishes_the_same_district(district, furnished):
    assert build_furnishings(district, seed=5) == furnished


def test_loading_twice_replaces_everything(engine, district, furnished):
    for _ in range(2):
        with engine.begin() as conn:
            save_district(conn, district)
            save_furnishings(conn, district, furnished, load())
    with engine.connect() as conn:
        count = lambda t: conn.execute(select(func.count()).select_from(t)).scalar_one()  # noqa: E731
        assert count(models.Asset.__table__) == len(furnished.assets)
        assert count(models.Person.__table__) == len(furnished.people)
        assert count(models.Department.__table__) == len(load().departments)
        cells = conn.execute(select(func.count()).select_from(models.Area.__table__)
                             .where(models.Area.level == "cell")).scalar_one()
        assert cells == len(furnished.cells)


def test_every_grid_has_a_land_use_and_buildings_inside_it_back_from_the_streets(district, furnished):
    grids = {g.code: g for g in district.grid_areas()}
    assert {p.grid_code for p in furnished.parcels} == set(grids)
    assert {p.use for p in furnished.parcels} <= {"residential", "commercial", "public", "park"}
    residential = [p for p in furnished.parcels if p.use == "residential"]
    assert residential and all(len(p.buildings) >= 2 for p in residential)
    for p in furnished.parcels:
        grid = district.frame.project(grids[p.grid_code].geometry)
        for name, footprint in p.buildings:
            local = district.frame.project(footprint)
            assert grid.contains(local) and grid.exterior.distance(local) >= 11.9, name
            assert "栋" in name
        footprints = [district.frame.project(f) for _, f in p.buildings]
        assert all(not a.intersects(b) for i, a in enumerate(footprints) for b in footprints[i + 1:])
