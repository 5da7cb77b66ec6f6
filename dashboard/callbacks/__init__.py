"""Callbacks, one module per concern, each with register(app); those that read or act on cases also get
their source."""
from __future__ import annotations

from dash import Dash

from dashboard.callbacks import case_actions, dispatch, kpis, leader, live, map_layers
from dashboard.callbacks.case_actions import ActionDesk


def register_all(app: Dash, actions: ActionDesk) -> None:
    for module in (live, map_layers, kpis, leader):
        module.register(app)
    dispatch.register(app, actions.cases)
    case_actions.register(app, actions)
