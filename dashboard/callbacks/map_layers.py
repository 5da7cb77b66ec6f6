"""The wall map's layer toggles: shown or hidden in the browser, no server round trip."""
from __future__ import annotations

from dash import ClientsideFunction, Dash, Input, Output

from dashboard import ids
from dashboard.services import Services


def register(app: Dash, services: Services) -> None:
    app.clientside_callback(
        ClientsideFunction(namespace="cc", function_name="showLayers"),
        Output(ids.LAYER_TOGGLES, "className"),
        Input(ids.LAYER_TOGGLES, "value"),
    )
