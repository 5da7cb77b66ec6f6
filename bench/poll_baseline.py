"""The polling baseline for bench/latency.py: the same map and the same snapshot, read by dcc.Interval
every second through a server callback (the usual Dash way), markers moved in place in the browser."""
from __future__ import annotations

import sys
from pathlib import Path

import dash_leaflet as dl
import redis
from dash import Dash, Input, Output, dcc, html

from feeds.bus.snapshots import RedisSnapshotStore
from feeds.settings import Settings


def main() -> None:
    settings = Settings()
    if not settings.redis_url:
        sys.exit("CC_REDIS_URL must be set")
    store = RedisSnapshotStore(redis.Redis.from_url(settings.redis_url))
    app = Dash(__name__, assets_folder=str(Path(__file__).parent / "poll_assets"), update_title=None)
    app.layout = html.Div([
        dcc.Interval(id="tick", interval=1000),
        dcc.Store(id="patrols"),
        html.Div(id="painted"),
        dl.MapContainer(id="poll-map", center=[30.692, 111.2865], zoom=14, preferCanvas=True,
                        style={"width": "100vw", "height": "95vh"}),
    ])

    @app.callback(Output("patrols", "data"), Input("tick", "n_intervals"))
    def _poll(_n: int | None) -> dict:
        return store.load()["patrols"]

    app.clientside_callback("function (p) { return window.ccPoll.paint(p); }",
                            Output("painted", "children"), Input("patrols", "data"), prevent_initial_call=True)
    app.run(host=settings.host, port=settings.port, debug=False)


if __name__ == "__main__":
    main()
