"""Live wall rendering: the socket glue (assets/wall.js) writes the merged live view into a Store;
a clientside function renders the counts, the urgent queue and the ticker from it. No server round trip
per update."""
from __future__ import annotations

from dash import ClientsideFunction, Dash, Input, Output

from dashboard import ids
from dashboard.services import Services


def register(app: Dash, services: Services) -> None:
    app.clientside_callback(
        ClientsideFunction(namespace="cc", function_name="renderLive"),
        Output(ids.TICKER, "children"),
        Output(ids.QUEUE, "children"),
        Output(ids.COUNT_PATROLS, "children"),
        Output(ids.COUNT_OPEN_CASES, "children"),
        Output(ids.COUNT_OVERDUE, "children"),
        Output(ids.CAMERAS_OFF, "children"),
        Output(ids.CAMERAS_OFF, "className"),
        Input(ids.LIVE, "data"),
        prevent_initial_call=True,
    )
