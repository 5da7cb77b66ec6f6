"""The territory for the wall map, read once a minute at most: the map layers, the cameras, and the same
as one encoded JSON body for the map script (1,100 grids and their roads are about a megabyte: the
dashboard encodes it once, not once per screen, and the page layout carries none of it)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.engine import Engine

from dashboard.presenters import grid_shapes, map_bounds, territory_summary
from feeds.gridcard import camera_points
from feeds.store import load_map

ROAD_LAYERS = ("local", "arterial")
OUTLINE_LAYERS = ("community", "district")


@dataclass(frozen=True)
class Territory:
    name: str | None
    bounds: list[list[float]] | None
    body: bytes  # what the map script draws, encoded


def map_payload(layers: dict[str, Any], cameras: list[dict[str, Any]]) -> dict[str, Any]:
    """What the wall's map script draws: grids (code, name, community, geometry), cameras, roads, outlines."""
    empty = {"type": "FeatureCollection", "features": []}
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
                layers, cameras = load_map(conn), camera_points(conn)
            found = Territory(territory_summary(layers)["name"], map_bounds(layers),
                              orjson.dumps(map_payload(layers, cameras)))
            self._held = (time.monotonic(), found)
            return found
