"""Callbacks, one module per concern, each with register(app); those that read cases also get their source."""
from __future__ import annotations

from dash import Dash

from dashboard.callbacks import dispatch, kpis, leader, live, map_layers
from dashboard.callbacks.dispatch import CaseSource


def register_all(app: Dash, cases: CaseSource) -> None:
    for module in (live, map_layers, kpis, leader):
        module.register(app)
    dispatch.register(app, cases)
