"""The screens, one function each: what a page shows when it is opened (its query string as arguments).
Each reads what it needs through the services and draws with dashboard/layouts; `register(services)` gives
them their paths. The live parts of a page are filled afterwards by its callbacks and its pushed deltas."""
from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

import dash
import redis
from dash import dcc, html

from dashboard import ids
from dashboard.http import replay as replay_period
from dashboard.http.territory import wall_layers
from dashboard.i18n import LANGS, t
from dashboard.layouts.deadletters import dead_letters_page
from dashboard.layouts.dispatch import dispatch_page
from dashboard.layouts.drill import drill_banner, drill_page
from dashboard.layouts.kpi_panel import kpi_panel
from dashboard.layouts.leader import leader_page
from dashboard.layouts.replay import DEFAULT_SPEED, SPEEDS, replay_error, replay_screen
from dashboard.layouts.wall import wall_page
from dashboard.security.auth import may_see_evidence
from dashboard.services import Services
from dashboard.views.drill import status_view
from dashboard.views.leader import PERIOD_KINDS, district_code, recent_months
from feeds.categories import CATEGORIES, labels
from feeds.drills.control import DrillRecord, drill_record, past_drills
from feeds.ingest.deadletters import list_dead_letters
from feeds.kpis.evidence import WITH_EVIDENCE
from feeds.kpis.load import area_directory
from feeds.replay.frames import PeriodError


def _lang(lang: Any) -> str:
    return lang if lang in LANGS else "zh"


def in_drill(page: html.Div, record: DrillRecord | None, lang: str) -> html.Div:
    """A screen opened in a drill: the striped banner on top of it."""
    if record is None:
        return page
    return html.Div(className="drill-screen", **{"data-drill": record.id}, children=[
        drill_banner(record.zh if lang == "zh" else record.en, lang), page])


def wall(services: Services, lang: str = "zh", drill: str | None = None, **_query: Any) -> html.Div:
    """The wall (大屏): map, KPI panel, urgent queue, ticker; in a drill, the drill's own."""
    lang, settings = _lang(lang), services.settings
    found, board, record = services.territory.get(), services.boards.load(), services.drill_of(drill)
    page = wall_page(found.name, found.bounds, lang=lang, tile_url=settings.tile_url,
                     stale_after_s=settings.stale_after_s, timezone=services.timezone, board=board,
                     drill=record.id if record else None, linked=may_see_evidence())
    return html.Div([dcc.Store(id=ids.LIVE), dcc.Store(id=ids.KPI_BOARD, data=board), in_drill(page, record, lang)])


def kpis(services: Services, lang: str = "zh", **_query: Any) -> html.Div:
    """The KPI panel alone, where it stands on the wall (left column under the title bar): for a side
    screen, and to look at and test the panel by itself."""
    lang = _lang(lang)
    board = services.boards.load()
    return html.Div([dcc.Store(id=ids.KPI_BOARD, data=board), html.Div(
        className=f"wall kpi-screen lang-{lang}", children=[
            html.Header(className="title-bar", children=[
                html.Div(className="title", children=[html.Span(t("title", lang), className="title-text")])]),
            html.Main(className="wall-body", children=[kpi_panel(lang, board, may_see_evidence())]),
        ])])


def dead_letters(services: Services, lang: str = "zh", **_query: Any) -> html.Div:
    with services.engine.connect() as conn:
        return dead_letters_page(list_dead_letters(conn, limit=200), _lang(lang), services.timezone)


def leader(services: Services, lang: str = "zh", period: str | None = None, evidence: str | None = None,
           **_query: Any) -> html.Div:
    """The leader's page: the frame; its figures and tables come from dashboard/callbacks/leader.py. Opened with
    `period` (today, week, month) and `evidence` (a figure), it shows that period and opens what makes the
    figure (the KPI panel's figures link here)."""
    with services.engine.connect() as conn:
        directory = area_directory(conn)
    district = district_code(directory)
    return leader_page(directory[district].name, district, recent_months(services.now(), services.zone), _lang(lang),
                       period=period if period in PERIOD_KINDS and period != "custom" else "month",
                       evidence=evidence if evidence in WITH_EVIDENCE else None)


def dispatch(services: Services, lang: str = "zh", case: str | None = None, drill: str | None = None,
             **_query: Any) -> html.Div:
    """The dispatcher's console: queue, map, the selected case and its actions."""
    lang = _lang(lang)
    with services.engine.connect() as conn:
        layers, names = wall_layers(conn), services.names(conn, lang)
    record = services.drill_of(drill)
    page = dispatch_page(layers, names, lang=lang, tile_url=services.settings.tile_url, timezone=services.timezone,
                         selected=case or None, drill=record.id if record else None)
    return html.Div([dcc.Store(id=ids.DISPATCH_DRILL, data=record.id if record else None),
                     in_drill(page, record, lang)])


def drill(services: Services, lang: str = "zh", **_query: Any) -> html.Div:
    """The trainer's console: scenarios to start, the running drill, past drills."""
    lang = _lang(lang)
    try:
        scenarios, status = services.drills.scenarios(), services.drills.status()
    except redis.RedisError:
        scenarios, status = [], None
    return drill_page(scenarios, labels(CATEGORIES, lang), lang,
                      status_view(status, services.now_ms(), lang, services.timezone))


def replay(services: Services, lang: str = "zh", speed: str | None = None, **query: Any) -> html.Div:
    """The wall replaying a past period (live or a drill) from the database: never the live feed."""
    lang, now = _lang(lang), services.now()
    args = {k: v for k, v in query.items() if k in ("from", "to", "drill") and isinstance(v, str)}
    if not args:  # no period asked for: the last hour
        end = now.replace(second=0, microsecond=0)
        args = {"from": str(int((end - timedelta(hours=1)).timestamp() * 1000)), "to": str(int(end.timestamp() * 1000))}
    with services.engine.connect() as conn:
        try:
            period, record = replay_period.period_of(args, services.timezone, lambda d: drill_record(conn, d), now)
        except PeriodError as err:
            return replay_error(str(err), lang)
        drills_past = past_drills(conn, limit=30)
    chosen = int(speed) if speed and speed.isdigit() and int(speed) in SPEEDS else DEFAULT_SPEED
    found = services.territory.get()
    page = wall_page(found.name, found.bounds, lang=lang, tile_url=services.settings.tile_url,
                     stale_after_s=services.settings.stale_after_s, timezone=services.timezone)
    return html.Div([dcc.Store(id=ids.LIVE), replay_screen(page, period, record, drills_past, lang,
                                                           services.timezone, chosen)])


PAGES = (  # (name, path, layout, the title's i18n key); who may open each: dashboard/security/access.py
    ("wall", "/", wall, "title"),
    ("kpis", "/kpis", kpis, "kpis"),
    ("dead-letters", "/dead-letters", dead_letters, "dead_letters"),
    ("leader", "/leader", leader, "lv_title"),
    ("dispatch", "/dispatch", dispatch, "dispatch"),
    ("drill", "/drill", drill, "dr_title"),
    ("replay", "/replay", replay, "rp_title"),
)


def register(services: Services) -> None:
    for name, path, layout, title in PAGES:
        dash.register_page(name, path=path, layout=partial(layout, services), title=t(title))
