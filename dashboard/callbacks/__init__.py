"""Callbacks, one module per concern, each with register(app); those that read or act on cases also get
their source. Each is registered under the permission of the page it serves (dashboard/security/auth.py refuses a
call from a role without it, and any callback registered outside this list)."""
from __future__ import annotations

from dash import Dash

from dashboard.callbacks import case_actions, dispatch, drill, kpis, leader, live, map_layers
from dashboard.callbacks.case_actions import ActionDesk
from dashboard.callbacks.drill import DrillSource
from dashboard.security.access import Permission
from dashboard.security.auth import callbacks_of_page


def register_all(app: Dash, actions: ActionDesk, drills: DrillSource) -> None:
    with callbacks_of_page(app, Permission.VIEW_WALL):  # the wall, its KPI panel, a drill's wall
        for module in (live, map_layers, kpis):
            module.register(app)
        drill.register_wall(app, drills)
    with callbacks_of_page(app, Permission.VIEW_LEADER):
        leader.register(app)
    with callbacks_of_page(app, Permission.VIEW_DISPATCH):  # reading; acting also needs ACT_ON_CASES
        dispatch.register(app, actions.cases)
        case_actions.register(app, actions)
    with callbacks_of_page(app, Permission.RUN_DRILLS):
        drill.register(app, drills)
