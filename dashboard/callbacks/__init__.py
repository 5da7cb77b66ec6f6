"""Callbacks, one module per concern, each with register(app)."""
from __future__ import annotations

from dash import Dash

from dashboard.callbacks import kpis, leader, live, map_layers


def register_all(app: Dash) -> None:
    for module in (live, map_layers, kpis, leader):
        module.register(app)
