"""The wall screen (大屏): title bar, live figures, the district map and the live ticker. Kiosk: no scrolling."""
from __future__ import annotations

import json
from typing import Any

import dash_leaflet as dl
from dash import html

from dashboard import ids
from dashboard.i18n import bundle, t
from dashboard.presenters import big_number, map_bounds, territory_summary
from feeds.categories import ALERT_CLASSES, CATEGORIES, CHANNELS, labels

# Base map drawn without a tile server: thin grid lines, brighter community and district outlines.
GRID_STYLE = {"color": "#2b5c9e", "weight": 1, "fillColor": "#0e2a52", "fillOpacity": 0.35}
COMMUNITY_STYLE = {"color": "#4f86c6", "weight": 2, "fill": False}
DISTRICT_STYLE = {"color": "#7cc4ff", "weight": 3, "fill": False}
ROAD_STYLES = {
    "local": {"color": "#1d3c66", "weight": 2, "opacity": 0.9},
    "arterial": {"color": "#35598a", "weight": 5, "opacity": 0.9},
}
DEFAULT_BOUNDS = [[30.68, 111.27], [30.70, 111.30]]


def _empty(features: dict[str, Any] | None) -> dict[str, Any]:
    return features or {"type": "FeatureCollection", "features": []}


def district_map(layers: dict[str, Any], tile_url: str | None) -> dl.MapContainer:
    base = [dl.TileLayer(url=tile_url, maxZoom=19)] if tile_url else []
    roads = [dl.GeoJSON(id=f"layer-{kind}", data=_empty(layers.get(kind)), style=style, interactive=False)
             for kind, style in ROAD_STYLES.items()]
    return dl.MapContainer(
        id=ids.MAP,
        bounds=map_bounds(layers) or DEFAULT_BOUNDS,
        preferCanvas=True,
        zoomControl=False,
        attributionControl=False,
        zoomSnap=0.25,
        trackViewport=False,
        className="wall-map",
        children=[
            *base,
            dl.GeoJSON(id="layer-grid", data=_empty(layers.get("grid")), style=GRID_STYLE, interactive=False),
            *roads,
            dl.GeoJSON(id="layer-community", data=_empty(layers.get("community")), style=COMMUNITY_STYLE,
                       interactive=False),
            dl.GeoJSON(id="layer-district", data=_empty(layers.get("district")), style=DISTRICT_STYLE,
                       interactive=False),
        ],
    )


def _figure(label: str, value_id: str, hint: str | None = None) -> html.Div:
    return html.Div(className="figure", children=[
        html.Div(label, className="figure-label"),
        html.Div("—", id=value_id, className="figure-value"),
        *([html.Div(hint, className="figure-hint")] if hint else []),
    ])


def _static_figure(label: str, value: str) -> html.Div:
    return html.Div(className="figure figure-small", children=[
        html.Div(label, className="figure-label"),
        html.Div(value, className="figure-value"),
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
        ]),
    ])


def wall_page(layers: dict[str, Any], *, lang: str = "zh", tile_url: str | None = None,
              stale_after_s: float = 30.0, timezone: str = "Asia/Shanghai") -> html.Div:
    """The whole wall screen as a component tree: a pure function of the territory and the language."""
    summary = territory_summary(layers)
    config = {
        "lang": lang,
        "text": bundle(lang),
        "categories": labels(CATEGORIES, lang),
        "alertClasses": labels(ALERT_CLASSES, lang),
        "channels": labels(CHANNELS, lang),
        "staleAfterMs": int(stale_after_s * 1000),
        "timezone": timezone,
    }
    return html.Div(id=ids.WALL, className=f"wall lang-{lang}", children=[
        html.Div(id=ids.PAGE_CONFIG, hidden=True, **{"data-config": json.dumps(config, ensure_ascii=False)}),
        title_bar(summary["name"], lang),
        html.Main(className="wall-body", children=[
            html.Section(className="panel panel-left", children=[
                html.H2(t("live_situation", lang)),
                _figure(t("patrols_on_duty", lang), ids.COUNT_PATROLS),
                _figure(t("open_cases", lang), ids.COUNT_OPEN_CASES),
                _figure(t("incidents", lang), ids.COUNT_INCIDENTS),
                _figure(t("camera_alerts", lang), ids.COUNT_ALERTS),
                _figure(t("rejected", lang), ids.COUNT_REJECTED),
                html.H2(t("territory", lang)),
                html.Div(className="figure-row", children=[
                    _static_figure(t("grids", lang), big_number(summary["grids"])),
                    _static_figure(t("households", lang), big_number(summary["households"])),
                    _static_figure(t("population", lang), big_number(summary["population"])),
                ]),
            ]),
            html.Section(className="panel panel-map", children=[
                district_map(layers, tile_url),
                html.Div(className="legend", children=[
                    html.Span([html.I(className="dot dot-patrol"), t("legend_patrol", lang)]),
                    html.Span([html.I(className="dot dot-incident"), t("legend_incident", lang)]),
                    html.Span([html.I(className="dot dot-alert"), t("legend_alert", lang)]),
                ]),
            ]),
            html.Section(className="panel panel-right", children=[
                html.H2(t("ticker", lang)),
                html.Ul(id=ids.TICKER, className="ticker",
                        children=[html.Li(t("ticker_empty", lang), className="ticker-empty")]),
            ]),
        ]),
    ])
