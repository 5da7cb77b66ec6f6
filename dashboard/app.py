"""The app factory, as the order it starts in: the services, the pages, their callbacks, the HTTP routes,
sign-in over all of it, then the Socket.IO push."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dash
from dash import Dash, html
from flask import jsonify
from flask_socketio import SocketIO
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import pages
from dashboard.callbacks import leader, register_all
from dashboard.http import drillreport, realtime, replay, wall
from dashboard.http.casedesk import CaseDesk
from dashboard.http.territory import TerritoryCache
from dashboard.http.wallindex import ScreensApp
from dashboard.i18n import t
from dashboard.security import auth
from dashboard.services import Services
from feeds.bus.channels import StreamBus
from feeds.bus.connect import redis_client
from feeds.bus.snapshots import SnapshotStore
from feeds.bus.verdicts import RedisVerdicts
from feeds.drills.control import DrillDeskClient
from feeds.kpis.board import BoardStore, MemoryBoardStore
from feeds.kpis.figures import KpiRules
from feeds.settings import Settings
from feeds.taxonomy import load as load_taxonomy

ASSETS = Path(__file__).parent / "assets"
KPIS_PATH = "/api/kpis"  # the latest KPI board (assets/kpis.js reloads it when the socket (re)connects)


def create_app(settings: Settings, *, engine: Engine, snapshots: SnapshotStore, boards: BoardStore | None = None,
               async_mode: str | None = None, login_throttle: auth.LoginThrottle | None = None,
               clock: Callable[[], float] | None = None, desk: CaseDesk | None = None,
               warm: bool = False) -> tuple[Dash, SocketIO]:
    """The screens' app. With `warm` (the server's entry point), figures a first look would wait for are counted
    ahead in the background."""
    services = build_services(settings, engine, snapshots, boards, desk)
    app = ScreensApp(__name__, assets_folder=str(ASSETS), use_pages=True, pages_folder="", title=t("title"),
                     update_title=None, suppress_callback_exceptions=True)
    pages.register(services)
    app.layout = html.Div([dash.page_container], className="app-root")
    register_all(app, services)
    attach_routes(app, services)
    throttle = login_throttle or auth.LoginThrottle(services.redis, settings.login_attempts, settings.login_window_s)
    auth.install(app.server, settings, engine, throttle, **({"clock": clock} if clock else {}))
    if settings.proxies:  # behind nginx: the client's address and scheme from the proxies' headers
        app.server.wsgi_app = ProxyFix(app.server.wsgi_app, x_for=settings.proxies,  # type: ignore[method-assign]
                                       x_proto=settings.proxies)
    socketio = realtime.attach(app.server, settings.redis_url, snapshots, async_mode, may_connect=auth.may_connect)
    if warm:
        leader.keep_warm(services)
    return app, socketio


def build_services(settings: Settings, engine: Engine, snapshots: SnapshotStore, boards: BoardStore | None,
                   desk: CaseDesk | None) -> Services:
    assert settings.redis_url, "the dashboard needs a Redis URL for its Socket.IO message queue"
    client = redis_client(settings.redis_url)
    return Services(
        settings=settings, engine=engine, redis=client, snapshots=snapshots,
        boards=MemoryBoardStore() if boards is None else boards,
        rules=KpiRules(load_taxonomy(), settings.working_calendar()),
        territory=TerritoryCache(engine),
        commands=desk or CaseDesk(StreamBus(client, replicas=settings.stream_replicas), RedisVerdicts(client),
                                  settings.command_timeout_s),
        drills=DrillDeskClient(client))


def attach_routes(app: Dash, services: Services) -> None:
    """The JSON and file routes beside the pages: the wall's data, replays, drill reports, the KPI board."""
    settings, engine = services.settings, services.engine
    replay.attach(app.server, engine, settings)
    drillreport.attach(app.server, engine, settings, services.drills)
    wall.attach(app.server, engine, settings, services.territory)

    @app.server.get(KPIS_PATH)
    def _kpi_board() -> Any:
        response = jsonify(services.boards.load())
        response.headers["Cache-Control"] = "no-store"
        return response
