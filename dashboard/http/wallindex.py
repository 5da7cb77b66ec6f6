"""The wall's page loads only the scripts it runs.

Dash puts the same scripts on every page. Two of them the wall never runs:
- Babel's polyfill (core-js 2 and the regenerator runtime, 97 KB): the wall is shown in a current Chromium,
  which has natively everything core-js adds, and the regenerator runtime is used only by Dash's loader of
  components kept in separate chunks (dcc.Graph, dcc.Dropdown, dl.GeoJSON, …), none of which is on the wall
  (`WALL_COMPONENTS`; tests/unit/dashboard/test_wall_layout.py keeps the wall to those). Evaluating it took about 0.2 s
  of the page's main thread at start-up on the wall's two-core PC, before any other script.
- dash_table's loader: no screen of this app has a DataTable.
- AG Grid's main bundle (1.3 MB): the tables of the other pages are AG Grids; the wall has none.
Every other page keeps Dash's scripts as they are.
"""
from __future__ import annotations

from typing import Any

from dash import Dash
from flask import has_request_context, request

WALL_PATH = "/"
SKIPPED_ON_WALL = ("/dash/deps/polyfill@", "/dash/dash_table/bundle.", "/dash_ag_grid/dash_ag_grid.")
# the component types the wall's pages are made of (live wall, drill wall): none is loaded in a chunk of its own
WALL_COMPONENTS = frozenset({
    "dash_html_components", "dash_core_components.Store", "dash_core_components.Checklist",
    "dash_core_components.Interval", "dash_core_components.Location", "dash_leaflet.MapContainer",
    "dash_leaflet.TileLayer",
})


def without_scripts(scripts: str, skipped: tuple[str, ...]) -> str:
    """Dash's script tags (one a line) without those whose source contains one of `skipped`."""
    def kept(line: str) -> bool:
        return not (line.startswith("<script src=") and any(part in line for part in skipped))
    return "\n".join(line for line in scripts.split("\n") if kept(line))


class ScreensApp(Dash):
    """Dash, with the wall's page loading only the scripts it runs."""

    def interpolate_index(self, **kwargs: Any) -> str:
        if has_request_context() and request.path == WALL_PATH:
            kwargs["scripts"] = without_scripts(kwargs.get("scripts", ""), SKIPPED_ON_WALL)
        return super().interpolate_index(**kwargs)
