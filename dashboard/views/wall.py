"""Pure data → view-model functions for the screens."""
from __future__ import annotations

from typing import Any

from shapely.geometry import shape

from dashboard.i18n import TEXT, t
from feeds.cases.machine import OPEN_STEP, CaseState


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


def grid_shapes(layers: dict[str, Any]) -> list[dict[str, Any]]:
    """The grids for the wall map script: code, name, community name and geometry, nothing else."""
    communities = {f["properties"]["code"]: f["properties"]["name"]
                   for f in layers.get("community", {}).get("features", [])}
    return [{"code": f["properties"]["code"], "name": f["properties"]["name"],
             "community": communities.get(f["properties"].get("parent") or ""), "geometry": f["geometry"]}
            for f in layers.get("grid", {}).get("features", [])]


def step_labels(lang: str) -> dict[str, str]:
    """Open case state → the label of the step it waits for (待核实, 处置中, …)."""
    out = {state.value: t(f"step_{step}", lang) for state, step in OPEN_STEP.items()}
    out[CaseState.PARKED.value] = t("step_parked", lang)
    return out


def grid_card_view(facts: Any, lang: str) -> dict[str, Any]:
    """The grid card as labelled text (feeds.wall.gridcard.GridFacts in; JSON-ready strings out)."""
    def role(r: str) -> str:
        return t(f"role_{r}", lang) if f"role_{r}" in TEXT else r

    return {
        "code": facts.code,
        "name": facts.name,
        "community": facts.community or "",
        "people": [{"role": role(r), "name": name} for r, name in facts.people],
        "coverage": str(facts.coverage),
        "assets": [{"kind": t(f"asset_{kind}", lang), "count": big_number(n)} for kind, n in facts.assets.items()],
        "households": big_number(facts.households),
        "population": big_number(facts.population),
    }


def trail_view(trail: Any) -> dict[str, Any]:
    """A patrol's trail for the map script (feeds.wall.trails.Trail in)."""
    return {"unit": trail.unit, "person": trail.person, "points": [list(p) for p in trail.points]}

