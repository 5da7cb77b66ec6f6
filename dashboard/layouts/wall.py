"""The wall screen (大屏): title bar; the KPI panel on the left, the district map in the centre, live counts,
the urgent queue and the ticker on the right. Kiosk: no scrolling. Everything on the map (roads, grid colours,
cases, patrols, cameras, trails) is drawn by assets/wall.js."""
from __future__ import annotations

import json
from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from dashboard import ids
from dashboard.i18n import LANGS, bundle, t
from dashboard.layouts.drill import drill_wall_figures
from dashboard.layouts.kpi_panel import kpi_panel
from dashboard.views.wall import step_labels
from feeds.categories import ALERT_CLASSES, CATEGORIES, CHANNELS, labels
from feeds.ingest.state import ON_DUTY_S
from feeds.taxonomy import load as load_taxonomy

DEFAULT_BOUNDS = [[30.68, 111.27], [30.70, 111.30]]
# one marker shape per case class (the colour is the SLA light); the script draws the same shapes
SHAPES = ("circle", "square", "triangle", "diamond", "down", "pentagon", "hexagon", "star")
LAYERS = ("grids", "cases", "patrols", "cameras", "roads")


def district_map(bounds: list[list[float]] | None, tile_url: str | None) -> dl.MapContainer:
    """The map frame. Everything on it is drawn by the map script from /api/wall/territory and the live
    state: no tile server needed (a configured intranet tile server goes underneath)."""
    return dl.MapContainer(
        id=ids.MAP,
        bounds=bounds or DEFAULT_BOUNDS,
        preferCanvas=True,
        zoomControl=False,
        attributionControl=False,
        zoomSnap=0.25,
        trackViewport=False,
        className="wall-map",
        children=[dl.TileLayer(url=tile_url, maxZoom=19)] if tile_url else [],
    )


def _count(label: str, value_id: str, tone: str = "") -> html.Div:
    return html.Div(className=f"count {tone}".strip(), children=[
        html.Div("—", id=value_id, className="count-value"),
        html.Div(label, className="count-label"),
    ])


def language_switch(lang: str) -> html.Nav:
    return html.Nav(id=ids.LANG_SWITCH, className="lang-switch", children=[
        html.A(t(f"lang_{code}", lang), href=f"/?lang={code}",
               className="lang-option" + (" active" if code == lang else "")) for code in LANGS
    ])


def title_bar(district_name: str | None, lang: str) -> html.Header:
    return html.Header(className="title-bar", children=[
        html.Div(className="title", children=[
            html.Span(district_name or "", className="title-district"),
            html.Span(t("title", lang), className="title-text"),
        ]),
        html.Div(className="title-clock", children=[
            html.Span("", id=ids.DATE, className="date"),
            html.Span("", id=ids.CLOCK, className="clock"),
        ]),
        html.Div(className="title-status", children=[
            html.Span(t("connecting", lang), id=ids.CONNECTION, className="connection connecting"),
            html.Span(t("no_data", lang), id=ids.DATA_AGE, className="data-age"),
            language_switch(lang),
        ]),
    ])


def category_groups(lang: str) -> list[dict[str, str]]:
    """The case classes (环境卫生, 市政设施, …) with the marker shape of each."""
    classes = load_taxonomy().classes
    return [{"code": code, "label": c["zh"] if lang == "zh" else c["en"], "shape": SHAPES[i % len(SHAPES)]}
            for i, (code, c) in enumerate(classes.items())]


def map_legend(lang: str) -> html.Div:
    def light(tone: str) -> html.Span:
        return html.Span([html.I(className=f"swatch light-{tone}"), t(f"legend_{tone}", lang)])

    return html.Div(className="legend", children=[
        html.Div(className="legend-row", children=[
            light("green"), light("amber"), light("red"),
            html.Span([html.I(className="swatch grid-open"), t("legend_grid_open", lang)]),
            html.Span([html.I(className="swatch grid-overdue"), t("legend_grid_overdue", lang)]),
            html.Span([html.I(className="dot dot-patrol"), t("legend_patrol", lang)]),
            html.Span([html.I(className="dot dot-camera"), t("legend_camera", lang)]),
            html.Span([html.I(className="dot dot-camera-off"), t("legend_camera_off", lang)]),
        ]),
        html.Div(className="legend-row", children=[
            html.Span([html.I(className=f"shape shape-{g['shape']}"), g["label"]]) for g in category_groups(lang)
        ]),
    ])


def layer_toggles(lang: str) -> dcc.Checklist:
    return dcc.Checklist(id=ids.LAYER_TOGGLES, className="layer-toggles", inputClassName="layer-check",
                         labelClassName="layer-option",
                         options=[{"label": t(f"layer_{name}", lang), "value": name} for name in LAYERS],
                         value=list(LAYERS))


def wall_page(district_name: str | None, bounds: list[list[float]] | None, *, lang: str = "zh",
              tile_url: str | None = None, stale_after_s: float = 30.0, timezone: str,
              on_duty_s: float = ON_DUTY_S, board: dict[str, Any] | None = None,
              drill: str | None = None, linked: bool = False) -> html.Div:
    """The whole wall screen as a component tree: a pure function of the district's name and extent, the
    language and the latest KPI board (the territory itself comes to the map script over HTTP). In a `drill`,
    its script joins the drill's room and the left column shows the drill's own figures. `linked`: the KPI
    panel's figures link to their evidence (for a viewer who may open the leader page)."""
    config = {
        "lang": lang,
        "text": bundle(lang),
        "categories": labels(CATEGORIES, lang),
        "alertClasses": labels(ALERT_CLASSES, lang),
        "channels": labels(CHANNELS, lang),
        "steps": step_labels(lang),
        "groups": category_groups(lang),
        "staleAfterMs": int(stale_after_s * 1000),
        "onDutyMs": int(on_duty_s * 1000),
        "timezone": timezone,
        **({"drill": drill} if drill else {}),
    }
    return html.Div(id=ids.WALL, className=f"wall lang-{lang}" + (" in-drill" if drill else ""), children=[
        html.Div(id=ids.PAGE_CONFIG, hidden=True, **{"data-config": json.dumps(config, ensure_ascii=False)}),
        title_bar(district_name, lang),
        html.Main(className="wall-body", children=[
            drill_wall_figures(drill, lang) if drill else kpi_panel(lang, board, linked),
            html.Section(className="panel panel-map", children=[
                district_map(bounds, tile_url),
                html.Div(className="map-tools", children=[
                    layer_toggles(lang),
                    html.Div(id=ids.CAMERAS_OFF, className="cameras-off hidden"),  # how many cannot alert now
                ]),
                map_legend(lang),
                html.Div(id=ids.TRAIL_INFO, className="trail-info hidden"),
                html.Aside(id=ids.GRID_CARD, className="grid-card hidden"),
            ]),
            html.Section(className="panel panel-right", children=[
                html.Div(className="counts", children=[
                    _count(t("patrols_on_duty", lang), ids.COUNT_PATROLS),
                    _count(t("open_cases", lang), ids.COUNT_OPEN_CASES),
                    _count(t("overdue_cases", lang), ids.COUNT_OVERDUE, "count-red"),
                ]),
                html.H2(t("urgent_queue", lang)),
                html.Ol(id=ids.QUEUE, className="queue",
                        children=[html.Li(t("queue_empty", lang), className="queue-empty")]),
                html.H2(t("ticker", lang)),
                html.Ul(id=ids.TICKER, className="ticker",
                        children=[html.Li(t("ticker_empty", lang), className="ticker-empty")]),
            ]),
        ]),
    ])
