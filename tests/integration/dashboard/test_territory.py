"""The wall's territory: what the map script draws, read without the layers the wall does not draw."""
from __future__ import annotations

import orjson

from dashboard.http.territory import TerritoryCache, map_payload
from dashboard.views.wall import map_bounds, territory_summary
from feeds.store.models import load_map
from feeds.taxonomy import load as load_taxonomy
from feeds.wall.gridcard import camera_points
from simulators.furnishings import build_furnishings, save_furnishings
from simulators.geography import build_district, save_district


def test_the_wall_territory_is_what_the_whole_map_gives_the_wall(engine) -> None:
    district = build_district(5, 12)
    with engine.begin() as conn:
        save_district(conn, district)
        save_furnishings(conn, district, build_furnishings(district, 5), load_taxonomy())
    with engine.connect() as conn:
        layers, cameras = load_map(conn), camera_points(conn)
    found = TerritoryCache(engine).get()
    body = orjson.loads(found.body)
    assert body == orjson.loads(orjson.dumps(map_payload(layers, cameras)))
    assert len(body["grids"]) == 12 and body["cameras"] and body["roads"]["local"]["features"]
    assert found.name == territory_summary(layers)["name"] and found.bounds == map_bounds(layers)


def test_an_empty_database_gives_an_empty_territory(engine) -> None:
    found = TerritoryCache(engine).get()
    body = orjson.loads(found.body)
    assert found.name is None and found.bounds is None
    assert body["grids"] == [] and body["cameras"] == [] and body["outlines"]["district"]["features"] == []
