"""The dispatcher console (案件调度台): the case queue with its filters and search, the selected case's
detail and timeline, and a map that focuses on it. Pure functions of data; callbacks/dispatch.py fills them.

Used all day at a desk (1920×1080) and sometimes on the wall (3840×2160): sizes in rem, which the theme ties
to the screen height. Field text is untrusted: it only ever becomes text children.
"""
from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import dash_leaflet as dl
from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t
from dashboard.layouts.case_actions import action_panel
from dashboard.views.queue import Names, countdown, light
from dashboard.views.trail import coded, trail_rows, value_words
from dashboard.views.wall import map_bounds
from feeds.cases.machine import LEVELS
from feeds.cases.reads import OPEN_STATES, CaseFile, ReportLink
from feeds.categories import CHANNELS, labels

# cases sent to the page (the worst first; it draws those in view); the filters and search narrow the rest
QUEUE_LIMIT = 2000
FOCUS_ZOOM = 17
REFRESH_MS = 30_000  # countdowns are in minutes; lights and order move with time
LIGHT_COLOURS = {"red": "#ef4444", "amber": "#f59e0b", "green": "#22c55e", None: "#8fa6c8"}
DEFAULT_BOUNDS = [[30.68, 111.27], [30.70, 111.30]]

# base map drawn without a tile server (the district's own layers), quieter than the wall's
GRID_STYLE = {"color": "#24507f", "weight": 1, "fillColor": "#0c2548", "fillOpacity": 0.45}
COMMUNITY_STYLE = {"color": "#3f74b3", "weight": 2, "fill": False}
DISTRICT_STYLE = {"color": "#7cc4ff", "weight": 3, "fill": False}
ROAD_STYLES = {"local": {"color": "#1b395f", "weight": 2}, "arterial": {"color": "#31547f", "weight": 4}}


def _collection(layers: Mapping[str, Any], kind: str) -> dict[str, Any]:
    return dict(layers.get(kind) or {"type": "FeatureCollection", "features": []})


def console_map(layers: Mapping[str, Any], tile_url: str | None) -> dl.MapContainer:
    base = [dl.TileLayer(url=tile_url, maxZoom=19)] if tile_url else []
    return dl.MapContainer(
        id=ids.DISPATCH_MAP, bounds=map_bounds(dict(layers)) or DEFAULT_BOUNDS, preferCanvas=True,
        attributionControl=False, zoomSnap=0.25, trackViewport=False, className="dispatch-map",
        children=[
            *base,
            dl.GeoJSON(data=_collection(layers, "grid"), style=GRID_STYLE, interactive=False),
            *[dl.GeoJSON(data=_collection(layers, kind), style=style, interactive=False)
              for kind, style in ROAD_STYLES.items()],
            dl.GeoJSON(data=_collection(layers, "community"), style=COMMUNITY_STYLE, interactive=False),
            dl.GeoJSON(data=_collection(layers, "district"), style=DISTRICT_STYLE, interactive=False),
            dl.GeoJSON(id=ids.DISPATCH_QUEUE_DOTS, data=queue_dots([], 0), pointToLayer={"variable": "cc.dispatchDot"}),
            dl.LayerGroup(id=ids.DISPATCH_FOCUS),
        ],
    )


def _options(table: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"label": name, "value": code} for code, name in table.items()]


def _chips(id_: str, options: list[dict[str, str]]) -> dcc.Checklist:
    return dcc.Checklist(id=id_, options=options, value=[], inline=True, className="chips",
                         inputClassName="chip-input", labelClassName="chip")


def filter_bar(names: Names, lang: str) -> html.Div:
    """Search, scope, and the filters by step, category, grid, source, overdue and urgency."""
    states = {s: coded("state", s, lang) for s in OPEN_STATES}
    return html.Div(className="queue-filters", children=[
        html.Div(className="filter-row", children=[
            dcc.Input(id=ids.DISPATCH_SEARCH, type="search", placeholder=t("dq_search", lang), debounce=0.3,
                      className="queue-search", autoComplete="off"),
            dcc.RadioItems(id=ids.DISPATCH_SCOPE, value="open", inline=True, className="chips scope",
                           inputClassName="chip-input", labelClassName="chip",
                           options=[{"label": t("dq_scope_open", lang), "value": "open"},
                                    {"label": t("dq_scope_ended", lang), "value": "ended"}]),
            _chips(ids.DISPATCH_FLAGS, [{"label": t("dq_overdue", lang), "value": "overdue"},
                                        {"label": t("dq_urgent", lang), "value": "urgent"}]),
        ]),
        html.Div(className="filter-row", children=[
            html.Span(t("dq_state", lang), className="filter-label"),
            _chips(ids.DISPATCH_STATES, _options(states)),
        ]),
        html.Div(className="filter-row", children=[
            html.Span(t("dq_source", lang), className="filter-label"),
            _chips(ids.DISPATCH_SOURCES, _options(labels(CHANNELS, lang))),
            dcc.Dropdown(id=ids.DISPATCH_CATEGORIES, options=_options(names.categories), multi=True,
                         placeholder=f"{t('dq_category', lang)}: {t('dq_all', lang)}", className="filter-dropdown"),
            dcc.Dropdown(id=ids.DISPATCH_GRIDS, options=_options(names.grids), multi=True,
                         placeholder=f"{t('dq_grid', lang)}: {t('dq_all', lang)}", className="filter-dropdown"),
        ]),
    ])


def channel_label(channel: str | None, lang: str) -> str:
    if not channel:
        return "—"
    return (CHANNELS[channel].zh if lang == "zh" else CHANNELS[channel].en) if channel in CHANNELS else channel


def _stamp(ms: int, zone: ZoneInfo) -> str:
    return f"{datetime.fromtimestamp(ms / 1000, zone):%m-%d %H:%M}"


def clock_text(view: Mapping[str, Any], now_ms: int, lang: str, zone: ZoneInfo) -> str:
    """The countdown ('剩余 45分' / '超时 2时05分'); for an ended case, when it ended; else its state."""
    if view.get("ended"):
        return t("dq_ended", lang).format(t=_stamp(view["ended"], zone))
    return countdown(view, now_ms, lang) or coded("state", view["state"], lang)


def queue_records(cases: Sequence[Mapping[str, Any]], now_ms: int, lang: str, names: Names,
                  timezone: str, limit: int = QUEUE_LIMIT, selected: str | None = None) -> dict[str, Any]:
    """The queue as data, in the order given (dashboard.views.queue.select_cases), at most `limit` rows: the column
    heads, one record of display text per case, and what an empty queue says. The page draws it as one
    table (assets/dispatch.js, `dash_clientside.dispatch.drawQueue`): hundreds of rows cost Dash one component,
    and every field stays text (it is set as textContent, never parsed as HTML)."""
    zone = ZoneInfo(timezone)
    rows = []
    for view in cases[:limit]:
        grid, department = view.get("grid") or "", view.get("department") or ""
        rows.append({
            "id": view["id"], "light": light(view, now_ms) or "none", "urgent": bool(view.get("urgent")),
            "clock": clock_text(view, now_ms, lang, zone),
            "category": names.categories.get(view["category"], view["category"]), "text": view.get("text") or "",
            "grid": names.grids.get(grid, grid or "—"), "state": coded("state", view["state"], lang),
            "department": names.departments.get(department, department or "—"),
            "source": channel_label(view.get("channel"), lang), "reported": _stamp(view["reported"], zone),
        })
    return {"head": [t(k, lang) for k in ("dq_sla", "dq_case", "dq_grid", "dq_state", "dq_department", "dq_source",
                                          "dq_reported")],
            "rows": rows, "empty": t("dq_none", lang), "urgent": t("urgent", lang), "selected": selected}


def queue_summary(cases: Sequence[Mapping[str, Any]], now_ms: int, lang: str, limit: int = QUEUE_LIMIT) -> list[Any]:
    """'共 37 件 · 超时 3 · 临期 5 · 正常 29' (or 'first 200 of 476' when the table is cut)."""
    lights = {"red": 0, "amber": 0, "green": 0}
    for v in cases:
        lit = light(v, now_ms)
        if lit:
            lights[lit] += 1
    n = len(cases)
    count = t("dq_shown", lang).format(shown=limit, n=n) if n > limit else t("dq_count", lang).format(n=n)
    return [html.Span(count, className="summary-count"),
            html.Span(t("dq_lights", lang).format(**lights), className="summary-lights")]


def queue_dots(cases: Sequence[Mapping[str, Any]], now_ms: int, limit: int = QUEUE_LIMIT) -> dict[str, Any]:
    """The queue's cases as GeoJSON points with their light (the browser script draws them as dots in the
    light's colour); the worst come last, so they are drawn on top."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [v["lon"], v["lat"]]},
         "properties": {"id": v["id"], "light": light(v, now_ms) or "none"}}
        for v in reversed(cases[:limit])]}


def focus_marker(view: Mapping[str, Any], now_ms: int) -> list[Any]:
    """The selected case on the map: a ring around a dot in its light's colour."""
    centre = [view["lat"], view["lon"]]
    colour = LIGHT_COLOURS[light(view, now_ms)]
    return [dl.CircleMarker(center=centre, radius=22, color="#38bdf8", weight=3, fill=False, interactive=False),
            dl.CircleMarker(center=centre, radius=9, color="#ffffff", weight=2, fillColor=colour, fillOpacity=1,
                            interactive=False)]


def focus_viewport(view: Mapping[str, Any]) -> dict[str, Any]:
    return {"center": [view["lat"], view["lon"]], "zoom": FOCUS_ZOOM, "transition": "flyTo"}


def _field(name: str, value: str, class_name: str = "") -> html.Div:
    return html.Div(className=f"field {class_name}".strip(), children=[html.Dt(name), html.Dd(value)])


def case_header(file: CaseFile, now_ms: int, lang: str, names: Names, timezone: str) -> list[Any]:
    """The selected case: what and where, its step and clock, its fields and its description (as text)."""
    v, zone = file.view, ZoneInfo(timezone)
    lit = light(v, now_ms)
    head = [html.I(className=f"light light-{lit or 'none'}"),
            html.Span(names.categories.get(v["category"], v["category"]), className="detail-category")]
    if v.get("urgent"):
        head.append(html.Span(t("urgent", lang), className="tag tag-urgent"))
    head += [html.Span(coded("state", v["state"], lang), className="detail-state", **{"data-case": v["id"]}),
             html.Span(countdown(v, now_ms, lang), className=f"detail-countdown countdown-{lit or 'none'}")]
    grid = v.get("grid")
    fields = [
        _field(t("cd_id", lang), v["id"], "field-id"),
        _field(t("cd_grid", lang), names.grids.get(grid or "", grid or "—")),
        _field(t("cd_source", lang), channel_label(v.get("channel"), lang)),
        _field(t("cd_reported", lang), _stamp(v["reported"], zone)),
        _field(t("cd_deadline", lang), _stamp(v["deadline"], zone) if v.get("deadline") else "—"),
        _field(t("cd_level", lang), coded("level", v["level"], lang), "field-level"),
        _field(t("cd_department", lang), value_words("department", v.get("department"), names, lang),
               "field-department"),
        _field(t("cd_assignee", lang), value_words("assignee", v.get("assignee"), names, lang), "field-assignee"),
    ]
    if v.get("reworks"):
        fields.append(_field(t("cd_reworks", lang), t("cd_times", lang).format(n=v["reworks"])))
    if v.get("extended_hours"):
        fields.append(_field(t("cd_extended", lang), value_words("extended_hours", v["extended_hours"], names, lang)))
    return [
        html.Div(head, className="detail-head"),
        html.Dl(fields, className="detail-fields"),
        html.P(v.get("text") or "", className="detail-text"),
    ]


def shown_inline(url: str | None, media_hosts: Collection[str]) -> bool:
    """Whether a photo link is from a host the site trusts (its NVR): then the console shows the picture."""
    if not url or not media_hosts:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.netloc.lower() in media_hosts
                                                  or (parts.hostname or "") in media_hosts)


def _report_item(r: ReportLink, lang: str, zone: ZoneInfo, media_hosts: Collection[str]) -> html.Li:
    return html.Li(className="report" + (" report-merged" if r.merged else ""), children=[
        html.Div(className="report-head", children=[
            html.Span(f"{r.reported_at.astimezone(zone):%m-%d %H:%M:%S}", className="report-time"),
            html.Span(channel_label(r.channel, lang), className="report-channel"),
            html.Span(t("cd_merged" if r.merged else "cd_first", lang), className="report-kind"),
            html.Span(r.report_id, className="report-id"),
        ]),
        *([html.Div(r.text, className="report-text")] if r.text and r.merged else []),
        *([html.Div([html.Span(t("cd_address", lang), className="report-label"), r.address],
                    className="report-address")] if r.address else []),
        # a trusted host's picture inline (hidden again by assets/dispatch.js if this screen cannot reach it)
        *([html.Img(src=r.media_url, alt=t("cd_photo", lang), className="report-photo",
                    referrerPolicy="no-referrer")] if shown_inline(r.media_url, media_hosts) else []),
        *([html.A(t("cd_photo", lang), href=r.media_url, target="_blank", rel="noopener noreferrer",
                  className="report-media")] if r.media_url else []),
        *([html.A(t("cd_clip", lang), href=r.clip_url, target="_blank", rel="noopener noreferrer",
                  className="report-media report-clip")] if r.clip_url else []),
    ])


def case_trail(file: CaseFile, lang: str, names: Names, timezone: str,
               media_hosts: Collection[str] = ()) -> list[Any]:
    """The reports that make up the case, then its whole timeline from the audit trail, newest last."""
    zone = ZoneInfo(timezone)
    rows = trail_rows(file.trail, names, lang, timezone)
    return [
        html.H3(t("cd_reports", lang).format(n=len(file.reports))),
        html.Ul([_report_item(r, lang, zone, media_hosts) for r in file.reports], className="reports"),
        html.H3(t("cd_trail", lang)),
        html.Ol(className="timeline", children=[
            html.Li(className=f"step step-{row.action}", children=[
                html.Div(className="step-head", children=[
                    html.Span(row.when, className="step-time"),
                    html.Span(row.what, className="step-what"),
                    html.Span(row.who, className="step-who"),
                ]),
                html.Div(row.why, className="step-why"),
                *([html.Ul([html.Li(c) for c in row.changes], className="step-changes")] if row.changes else []),
            ])
            for row in rows
        ]),
    ]


def no_case(lang: str, missing: str | None = None) -> list[Any]:
    text = t("cd_missing", lang).format(id=missing) if missing else t("cd_pick", lang)
    return [html.P(text, className="detail-empty")]


def dispatch_page(layers: Mapping[str, Any], names: Names, *, lang: str = "zh", tile_url: str | None = None,
                  timezone: str, selected: str | None = None, drill: str | None = None) -> html.Div:
    """The whole console as a component tree; the queue and the detail are filled by callbacks. In a `drill`,
    its script joins the drill's room and loads the drill's snapshot."""
    config = {"lang": lang, "timezone": timezone,
              "text": {k: t(k, lang) for k in ("connecting", "connected", "disconnected", "feed_down")},
              # to show a pushed change at once, before the server's re-read brings the rest
              "states": {s: coded("state", s, lang) for s in (*OPEN_STATES, "closed", "rejected", "void")},
              "levels": {lv: coded("level", lv, lang) for lv in LEVELS},
              "departments": dict(names.departments), "people": dict(names.people),
              **({"drill": drill} if drill else {})}
    return html.Div(id=ids.DISPATCH, className=f"dispatch lang-{lang}" + (" in-drill" if drill else ""), children=[
        html.Div(id=ids.DISPATCH_CONFIG, hidden=True, **{"data-config": json.dumps(config, ensure_ascii=False)}),
        dcc.Store(id=ids.DISPATCH_LANG, data=lang),
        dcc.Store(id=ids.DISPATCH_SELECTED, data=selected),
        dcc.Store(id=ids.DISPATCH_CHANGED),
        dcc.Store(id=ids.DISPATCH_CASE_CHANGED),
        dcc.Interval(id=ids.DISPATCH_TICK, interval=REFRESH_MS),
        html.Header(className="dispatch-bar", children=[
            html.H1([html.Span(t("title", lang), className="bar-title"),
                     html.Span(t("dispatch", lang), className="bar-page")]),
            html.Span("", id=ids.DISPATCH_CLOCK, className="bar-clock"),
            html.Span(t("connecting", lang), id=ids.DISPATCH_CONNECTION, className="connection connecting"),
        ]),
        html.Main(className="dispatch-body", children=[
            html.Section(className="dispatch-queue", children=[
                filter_bar(names, lang),
                html.Div(id=ids.DISPATCH_SUMMARY, className="queue-summary"),
                dcc.Store(id=ids.DISPATCH_QUEUE_ROWS),
                dcc.Store(id=ids.DISPATCH_QUEUE_DRAWN),
                # drawn by dash_clientside.dispatch.drawQueue
                html.Div(id=ids.DISPATCH_QUEUE, className="queue-scroll"),
            ]),
            html.Section(className="dispatch-case", children=[
                html.Div(console_map(layers, tile_url), className="dispatch-map-frame"),
                html.Div(className="case-pane", children=[
                    html.Div(id=ids.DISPATCH_PREVIEW, className="case-detail case-preview", hidden=True),
                    html.Div(no_case(lang), id=ids.DISPATCH_DETAIL, className="case-detail"),
                    # what can be done to it, between what the case is and what happened to it
                    html.Div(action_panel(lang), id=ids.DISPATCH_ACTIONS, className="case-actions"),
                    html.Div(id=ids.DISPATCH_TRAIL, className="case-trail"),
                ]),
            ]),
        ]),
    ])
