"""The territory for the wall map, read once a minute at most: the layers the wall draws, the cameras, and
the same as one encoded JSON body for the map script (1,100 grids and their roads are about half a megabyte:
the dashboard encodes it once, not once per screen, and the page layout carries none of it). Only those
layers are read: a city's patrol cells, buildings and land use (several megabytes) are for other screens."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from dashboard.views.wall import grid_shapes, map_bounds, territory_summary
from feeds.store.models import Area, MapFeature
from feeds.wall.gridcard import camera_points

ROAD_LAYERS = ("local", "arterial")
OUTLINE_LAYERS = ("community", "district")
AREA_LEVELS = ("district", "community", "grid")


@dataclass(frozen=True)
class Territory:
    name: str | None
    bounds: list[list[float]] | None
    body: bytes  # what the map script draws, encoded


def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def wall_layers(conn: Connection) -> dict[str, Any]:
    """The layers the wall and the dispatcher console draw, as GeoJSON FeatureCollections in the shape of
    feeds.store.models.load_map: the district and community outlines, the grids, the local and arterial roads."""
    areas = Area.__table__
    layers: dict[str, list[dict[str, Any]]] = {level: [] for level in AREA_LEVELS + ROAD_LAYERS}
    for a in conn.execute(select(areas).where(areas.c.level.in_(AREA_LEVELS)).order_by(areas.c.code)):
        layers[a.level].append({"type": "Feature", "geometry": orjson.loads(a.geometry),
                                "properties": {"code": a.code, "name": a.name, "parent": a.parent_code,
                                               "households": a.households, "population": a.population}})
    features = MapFeature.__table__
    for f in conn.execute(select(features).where(features.c.layer.in_(ROAD_LAYERS)).order_by(features.c.id)):
        layers[f.layer].append({"type": "Feature", "geometry": orjson.loads(f.geometry),
                                "properties": {"name": f.name}})
    return {name: collection(found) for name, found in layers.items()}


def map_payload(layers: dict[str, Any], cameras: list[dict[str, Any]]) -> dict[str, Any]:
    """What the wall's map script draws: grids (code, name, community, geometry), cameras, roads, outlines."""
    empty = collection([])
    return {"grids": grid_shapes(layers), "cameras": cameras,
            "roads": {k: layers.get(k, empty) for k in ROAD_LAYERS},
            "outlines": {k: layers.get(k, empty) for k in OUTLINE_LAYERS}}


class TerritoryCache:
    def __init__(self, engine: Engine, ttl_s: float = 60.0) -> None:
        self._engine, self._ttl = engine, ttl_s
        self._lock = threading.Lock()
        self._held: tuple[float, Territory] | None = None

    def get(self) -> Territory:
        with self._lock:
            if self._held and time.monotonic() - self._held[0] < self._ttl:
                return self._held[1]
            with self._engine.connect() as conn:
                layers, cameras = wall_layers(conn), camera_points(conn)
            found = Territory(territory_summary(layers)["name"], map_bounds(layers),
                              orjson.dumps(map_payload(layers, cameras)))
            self._held = (time.monotonic(), found)
            return found
