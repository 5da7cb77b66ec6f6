"""The app factory: the Dash app, its pages, its callbacks and its Socket.IO push."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dash
import redis
from dash import Dash, dcc, html
from flask import jsonify
from flask_socketio import SocketIO
from sqlalchemy.engine import Engine

from dashboard import ids
from dashboard.callbacks import drill as drill_callbacks
from dashboard.callbacks import leader as leader_callbacks
from dashboard.callbacks import register_all
from dashboard.callbacks.case_actions import ActionDesk
from dashboard.callbacks.dispatch import CaseSource
from dashboard.http import drillreport, realtime
from dashboard.http import replay as replayapi
from dashboard.http import wall as wallapi
from dashboard.http.casedesk import CaseDesk
from dashboard.http.territory import TerritoryCache, wall_layers
from dashboard.http.wallindex import ScreensApp
from dashboard.i18n import LANGS, t
from dashboard.layouts.deadletters import dead_letters_page
from dashboard.layouts.dispatch import dispatch_page
from dashboard.layouts.drill import drill_banner, drill_page
from dashboard.layouts.kpi_panel import kpi_panel
from dashboard.layouts.leader import leader_page
from dashboard.layouts.replay import DEFAULT_SPEED as DEFAULT_REPLAY_SPEED
from dashboard.layouts.replay import SPEEDS as REPLAY_SPEEDS
from dashboard.layouts.replay import replay_error, replay_screen
from dashboard.layouts.wall import wall_page
from dashboard.security import auth
from dashboard.views.drill import status_view
from dashboard.views.leader import district_code, recent_months
from feeds.bus.channels import StreamBus
from feeds.bus.snapshots import SnapshotStore
from feeds.bus.verdicts import RedisVerdicts
from feeds.categories import CATEGORIES, labels
from feeds.drills.control import DrillDeskClient, DrillRecord, drill_record, past_drills
from feeds.ingest.deadletters import list_dead_letters
from feeds.kpis.board import BoardStore, MemoryBoardStore
from feeds.kpis.load import area_directory
from feeds.replay.frames import PeriodError
from feeds.settings import Settings
from feeds.taxonomy import load as load_taxonomy

ASSETS = Path(__file__).parent / "assets"
KPIS_PATH = "/api/kpis"  # the latest KPI board (assets/kpis.js reloads it when the socket (re)connects)


def create_app(settings: Settings, *, engine: Engine, snapshots: SnapshotStore, boards: BoardStore | None = None,
               async_mode: str | None = None, login_throttle: auth.LoginThrottle | None = None,
               clock: Callable[[], float] | None = None, desk: CaseDesk | None = None) -> tuple[Dash, SocketIO]:
    boards = MemoryBoardStore() if boards is None else boards
    app = ScreensApp(__name__, assets_folder=str(ASSETS), use_pages=True, pages_folder="", title=t("title"),
                     update_title=None, suppress_callback_exceptions=True)

    territory = TerritoryCache(engine)

    def wall(lang: str = "zh", drill: str | None = None, **_query: Any) -> html.Div:
        lang = lang if lang in LANGS else "zh"
        found, board, record = territory.get(), boards.load(), drill_of(drill)
        kpi_board = dcc.Store(id=ids.KPI_BOARD, data=board)
        page = wall_page(found.name, found.bounds, lang=lang, tile_url=settings.tile_url,
                         stale_after_s=settings.stale_after_s, timezone=settings.timezone, board=board,
                         drill=record.id if record else None)
        return html.Div([dcc.Store(id=ids.LIVE), kpi_board, in_drill(page, record, lang)])

    def dead_letters(lang: str = "zh", **_query: Any) -> html.Div:
        lang = lang if lang in LANGS else "zh"
        with engine.connect() as conn:
            return dead_letters_page(list_dead_letters(conn, limit=200), lang, settings.timezone)

    def kpis(lang: str = "zh", **_query: Any) -> html.Div:
        """The KPI panel alone, where it stands on the wall (left column under the title bar): for a side
        screen, and to look at and test the panel by itself."""
        lang = lang if lang in LANGS else "zh"
        board = boards.load()
        return html.Div([dcc.Store(id=ids.KPI_BOARD, data=board), html.Div(
            className=f"wall kpi-screen lang-{lang}", children=[
                html.Header(className="title-bar", children=[
                    html.Div(className="title", children=[html.Span(t("title", lang), className="title-text")])]),
                html.Main(className="wall-body", children=[kpi_panel(lang, board)]),
            ])])

    def leader(lang: str = "zh", **_query: Any) -> html.Div:
        lang = lang if lang in LANGS else "zh"
        with engine.connect() as conn:
            directory = area_directory(conn)
        district = district_code(directory)
        months = recent_months(datetime.now(UTC), settings.working_calendar().zone)
        return leader_page(directory[district].name, district, months, lang)
    cases = CaseSource(engine, load_taxonomy(), settings.working_calendar())

    def dispatch(lang: str = "zh", case: str | None = None, **_query: Any) -> html.Div:
        lang = lang if lang in LANGS else "zh"
        with engine.connect() as conn:
            layers, names = wall_layers(conn), cases.names(conn, lang)
        record = drill_of(_query.get("drill"))
        page = dispatch_page(layers, names, lang=lang, tile_url=settings.tile_url, timezone=settings.timezone,
                             selected=case or None, drill=record.id if record else None)
        return html.Div([dcc.Store(id=ids.DISPATCH_DRILL, data=record.id if record else None),
                         in_drill(page, record, lang)])

    dash.register_page("wall", path="/", layout=wall, title=t("title"))
    dash.register_page("kpis", path="/kpis", layout=kpis, title=t("kpis"))
    dash.register_page("dead-letters", path="/dead-letters", layout=dead_letters, title=t("dead_letters"))
    dash.register_page("leader", path="/leader", layout=leader, title=t("lv_title"))
    app.server.extensions[leader_callbacks.SOURCES] = {"engine": engine, "settings": settings}
    dash.register_page("dispatch", path="/dispatch", layout=dispatch, title=t("dispatch"))
    app.layout = html.Div([dash.page_container], className="app-root")
    assert settings.redis_url, "the dashboard needs a Redis URL for its Socket.IO message queue"
    client = redis.Redis.from_url(settings.redis_url)
    desk = desk or CaseDesk(StreamBus(client), RedisVerdicts(client), settings.command_timeout_s)
    drills = drill_callbacks.DrillSource(DrillDeskClient(client), engine, settings, load_taxonomy())
    register_all(app, ActionDesk(cases, snapshots, desk), drills)

    def drill_of(drill: Any) -> DrillRecord | None:
        """The drill a screen was opened in (`?drill=`), if it is a drill id and the drill exists."""
        if not isinstance(drill, str) or not realtime.valid_drill(drill):
            return None
        with engine.connect() as conn:
            return drill_record(conn, drill)

    def in_drill(page: html.Div, record: DrillRecord | None, lang: str) -> html.Div:
        """A screen opened in a drill: the striped banner on top of it."""
        if record is None:
            return page
        return html.Div(className="drill-screen", **{"data-drill": record.id}, children=[
            drill_banner(record.zh if lang == "zh" else record.en, lang), page])

    def drill(lang: str = "zh", **_query: Any) -> html.Div:
        lang = lang if lang in LANGS else "zh"
        try:
            scenarios, status = drills.desk.scenarios(), drills.desk.status()
        except redis.RedisError:
            scenarios, status = [], None
        return drill_page(scenarios, labels(CATEGORIES, lang), lang,
                          status_view(status, int(datetime.now(UTC).timestamp() * 1000), lang, settings.timezone))

    dash.register_page("drill", path="/drill", layout=drill, title=t("dr_title"))

    # ---- replay ----
    def replay(lang: str = "zh", speed: str | None = None, **query: Any) -> html.Div:
        """The wall replaying a past period (live or a drill) from the database: never the live feed."""
        lang = lang if lang in LANGS else "zh"
        now = datetime.now(UTC)
        args = {k: v for k, v in query.items() if k in ("from", "to", "drill") and isinstance(v, str)}
        if not args:  # no period asked for: the last hour
            end = now.replace(second=0, microsecond=0)
            args = {"from": str(int((end - timedelta(hours=1)).timestamp() * 1000)),
                    "to": str(int(end.timestamp() * 1000))}
        with engine.connect() as conn:
            try:
                period, record = replayapi.period_of(args, settings.timezone, lambda d: drill_record(conn, d), now)
            except PeriodError as err:
                return replay_error(str(err), lang)
            drills_past = past_drills(conn, limit=30)
        chosen = int(speed) if speed and speed.isdigit() and int(speed) in REPLAY_SPEEDS else DEFAULT_REPLAY_SPEED
        found = territory.get()
        page = wall_page(found.name, found.bounds, lang=lang, tile_url=settings.tile_url,
                         stale_after_s=settings.stale_after_s, timezone=settings.timezone)
        return html.Div([dcc.Store(id=ids.LIVE), replay_screen(page, period, record, drills_past, lang,
                                                               settings.timezone, chosen)])

    dash.register_page("replay", path="/replay", layout=replay, title=t("rp_title"))
    replayapi.attach(app.server, engine, settings)
    drillreport.attach(app.server, engine, settings, drills.desk)
    throttle = login_throttle or auth.LoginThrottle(client, settings.login_attempts, settings.login_window_s)
    auth.install(app.server, settings, engine, throttle, **({"clock": clock} if clock else {}))
    wallapi.attach(app.server, engine, settings, territory)
    socketio = realtime.attach(app.server, settings.redis_url, snapshots, async_mode, may_connect=auth.may_connect)

    @app.server.get(KPIS_PATH)
    def _kpi_board() -> Any:
        response = jsonify(boards.load())
        response.headers["Cache-Control"] = "no-store"
        return response

    return app, socketio
