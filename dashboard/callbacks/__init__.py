"""Callbacks, one module per concern, each with register(app, services). Each is registered under the
permission of the page it serves (dashboard/security/auth.py refuses a call from a role without it, and any
callback registered outside this list)."""
from __future__ import annotations

from dash import Dash

from dashboard.callbacks import case_actions, dispatch, drill, kpis, leader, live, map_layers
from dashboard.security.access import Permission
from dashboard.security.auth import callbacks_of_page
from dashboard.services import Services


def register_all(app: Dash, services: Services) -> None:
    with callbacks_of_page(app, Permission.VIEW_WALL):  # the wall, its KPI panel, a drill's wall
        for module in (live, map_layers, kpis):
            module.register(app, services)
        drill.register_wall(app, services)
    with callbacks_of_page(app, Permission.VIEW_LEADER):
        leader.register(app, services)
    with callbacks_of_page(app, Permission.VIEW_DISPATCH):  # reading; acting also needs ACT_ON_CASES
        dispatch.register(app, services)
        case_actions.register(app, services)
    with callbacks_of_page(app, Permission.RUN_DRILLS):
        drill.register(app, services)
