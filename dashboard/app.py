"""The app factory: the Dash app, its pages, its callbacks and its Socket.IO push."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
from dash import Dash, dcc, html
from flask_socketio import SocketIO
from sqlalchemy.engine import Engine

from dashboard import ids, realtime
from dashboard.callbacks import register_all
from dashboard.callbacks.dispatch import CaseSource
from dashboard.i18n import LANGS, t
from dashboard.layouts.deadletters import dead_letters_page
from dashboard.layouts.dispatch import dispatch_page
from dashboard.layouts.wall import wall_page
from feeds.deadletters import list_dead_letters
from feeds.settings import Settings
from feeds.snapshots import SnapshotStore
from feeds.store import load_map
from feeds.taxonomy import load as load_taxonomy

ASSETS = Path(__file__).parent / "assets"


def create_app(settings: Settings, *, engine: Engine, snapshots: SnapshotStore,
               async_mode: str | None = None) -> tuple[Dash, SocketIO]:
    app = Dash(__name__, assets_folder=str(ASSETS), use_pages=True, pages_folder="", title=t("title"),
               update_title=None, suppress_callback_exceptions=True)

    def wall(lang: str = "zh", **_query: Any) -> html.Div:
        lang = lang if lang in LANGS else "zh"
        with engine.connect() as conn:
            layers = load_map(conn)
        return html.Div([dcc.Store(id=ids.LIVE), wall_page(layers, lang=lang, tile_url=settings.tile_url,
                                                          stale_after_s=settings.stale_after_s,
                                                          timezone=settings.timezone)])

    def dead_letters(lang: str = "zh", **_query: Any) -> html.Div:
        lang = lang if lang in LANGS else "zh"
        with engine.connect() as conn:
            return dead_letters_page(list_dead_letters(conn, limit=200), lang, settings.timezone)

    cases = CaseSource(engine, load_taxonomy(), settings.working_calendar(), settings.timezone)

    def dispatch(lang: str = "zh", case: str | None = None, **_query: Any) -> html.Div:
        lang = lang if lang in LANGS else "zh"
        with engine.connect() as conn:
            layers, names = load_map(conn), cases.names(conn, lang)
        return dispatch_page(layers, names, lang=lang, tile_url=settings.tile_url, timezone=settings.timezone,
                             selected=case or None)

    dash.register_page("wall", path="/", layout=wall, title=t("title"))
    dash.register_page("dead-letters", path="/dead-letters", layout=dead_letters, title=t("dead_letters"))
    dash.register_page("dispatch", path="/dispatch", layout=dispatch, title=t("dispatch"))
    app.layout = html.Div([dash.page_container], className="app-root")
    register_all(app, cases)
    assert settings.redis_url, "the dashboard needs a Redis URL for its Socket.IO message queue"
    socketio = realtime.attach(app.server, settings.redis_url, snapshots, async_mode)
    return app, socketio
