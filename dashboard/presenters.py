"""Pure data → view-model functions for the screens."""
from __future__ import annotations

from typing import Any

from shapely.geometry import shape


def territory_summary(layers: dict[str, Any]) -> dict[str, Any]:
    """District name and totals from the map layers (empty district → zeros, name None)."""
    grids = layers.get("grid", {}).get("features", [])
    districts = layers.get("district", {}).get("features", [])
    return {
        "name": districts[0]["properties"]["name"] if districts else None,
        "grids": len(grids),
        "households": sum(f["properties"]["households"] for f in grids),
        "population": sum(f["properties"]["population"] for f in grids),
    }


def map_bounds(layers: dict[str, Any]) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the district, or None when no territory is loaded."""
    features = layers.get("district", {}).get("features", []) or layers.get("grid", {}).get("features", [])
    if not features:
        return None
    boxes = [shape(f["geometry"]).bounds for f in features]
    west, south = min(b[0] for b in boxes), min(b[1] for b in boxes)
    east, north = max(b[2] for b in boxes), max(b[3] for b in boxes)
    return [[south, west], [north, east]]


def big_number(n: int) -> str:
    """1234567 → '1,234,567' (grouped so a leader reads it at a glance)."""
    return f"{n:,}"
