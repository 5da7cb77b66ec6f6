"""The app factory: the Dash app, its pages, its callbacks and its Socket.IO push."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
from dash import Dash, dcc, html
from flask_socketio import SocketIO
from sqlalchemy.engine import Engine

from dashboard import ids, realtime, wallapi
from dashboard.callbacks import register_all
from dashboard.i18n import LANGS, t
from dashboard.layouts.deadletters import dead_letters_page
from dashboard.layouts.wall import wall_page
from dashboard.territory import TerritoryCache
from feeds.deadletters import list_dead_letters
from feeds.settings import Settings
from feeds.snapshots import SnapshotStore

ASSETS = Path(__file__).parent / "assets"


def create_app(settings: Settings, *, engine: Engine, snapshots: SnapshotStore,
               async_mode: str | None = None) -> tuple[Dash, SocketIO]:
    app = Dash(__name__, assets_folder=str(ASSETS), use_pages=True, pages_folder="", title=t("title"),
               update_title=None, suppress_callback_exceptions=True)

    territory = TerritoryCache(engine)

    def wall(lang: str = "zh", **_query: Any) -> html.Div:
        lang = lang if lang in LANGS else "zh"
        found = territory.get()
        return html.Div([dcc.Store(id=ids.LIVE), wall_page(found.name, found.bounds, lang=lang,
                                                          tile_url=settings.tile_url,
                                                          stale_after_s=settings.stale_after_s,
                                                          timezone=settings.timezone)])

    def dead_letters(lang: str = "zh", **_query: Any) -> html.Div:
        lang = lang if lang in LANGS else "zh"
        with engine.connect() as conn:
            return dead_letters_page(list_dead_letters(conn, limit=200), lang, settings.timezone)

    dash.register_page("wall", path="/", layout=wall, title=t("title"))
    dash.register_page("dead-letters", path="/dead-letters", layout=dead_letters, title=t("dead_letters"))
    app.layout = html.Div([dash.page_container], className="app-root")
    register_all(app)
    assert settings.redis_url, "the dashboard needs a Redis URL for its Socket.IO message queue"
    wallapi.attach(app.server, engine, settings, territory)
    socketio = realtime.attach(app.server, settings.redis_url, snapshots, async_mode)
    return app, socketio
