"""The leader page (领导驾驶舱): the period picker, the area breadcrumb, KPI cards with their numerators,
denominators and change against the period before, the sub-areas to drill into, the rankings of
patrollers, departments and grids, 30-day trends and the monthly assessment export. Pure functions of view
models (dashboard/leader_presenters.py); the callbacks in dashboard/callbacks/leader.py fill them in."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import plotly.graph_objects as go
from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t
from dashboard.leader_presenters import (
    PERIOD_KINDS,
    AreaRow,
    Card,
    DepartmentRow,
    PatrollerRow,
)
from feeds.figures import AreaEntry

GROUPS = (("rates", "lv_four_rates"), ("closure", "lv_closure_group"), ("load", "lv_load_group"))
GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}


def _rate_cell(value: str, detail: str) -> html.Td:
    """A rate with its numerator/denominator under it (and as the tooltip)."""
    return html.Td(className="num", title=detail, children=[
        html.Span(value, className="cell-value"), html.Span(detail, className="cell-detail")])


def kpi_card(card: Card) -> html.Div:
    return html.Div(className=f"lv-kpi-card lv-kpi-{card.key}", id=f"lv-kpi-{card.key}", title=card.hint, children=[
        html.Div(card.label, className="lv-kpi-label"),
        html.Div([card.value, *([html.Span(card.unit, className="lv-kpi-unit")] if card.unit else [])],
                 className="lv-kpi-value"),
        html.Div(className="lv-kpi-foot", children=[
            html.Span(card.detail, className="lv-kpi-detail"),
            html.Span(card.change.text, className=f"lv-kpi-change change-{card.change.tone}"),
        ]),
    ])


def kpi_panel(cards: Sequence[Card], lang: str) -> list[html.Div]:
    """The cards in three groups: the four rates, closure and handling, workload and speed."""
    return [
        html.Div(className=f"lv-kpi-group lv-kpi-group-{group}", children=[
            html.H3(t(label, lang)),
            html.Div(className="lv-kpi-row", children=[kpi_card(c) for c in cards if c.group == group]),
        ])
        for group, label in GROUPS
    ]


def breadcrumb(trail: Sequence[AreaEntry], lang: str) -> list[html.Span | html.Button]:
    """District › street › community › grid: every level above the current one can be clicked to go back."""
    out: list[html.Span | html.Button] = []
    for k, entry in enumerate(trail):
        if k:
            out.append(html.Span("›", className="crumb-sep"))
        level = html.Span(t(f"lv_level_{entry.level}", lang), className="crumb-level")
        if k == len(trail) - 1:
            out.append(html.Span([level, entry.name], className="crumb crumb-current"))
        else:
            out.append(html.Button([level, entry.name], id={"type": ids.LEADER_CRUMB, "code": entry.code},
                                   className="crumb", n_clicks=0))
    return out


def _table(head: Sequence[str], body: list[html.Tr], lang: str, colspan: int | None = None) -> html.Table:
    empty = html.Tr(html.Td(t("lv_none", lang), colSpan=colspan or len(head), className="empty"))
    return html.Table(className="lv-table", children=[
        html.Thead(html.Tr([html.Th(h) for h in head])),
        html.Tbody(body or [empty]),
    ])


def _area_head(lang: str) -> list[str]:
    return [t(k, lang) for k in ("lv_name", "lv_score", "lv_grade_col", "lv_closure", "lv_on_time_closure",
                                 "lv_discovery_timeliness", "lv_coverage", "lv_open", "lv_overdue")]


def _area_cells(r: AreaRow) -> list[html.Td]:
    return [
        html.Td(r.name, className="name"),
        html.Td(r.score, className="num score"),
        html.Td(html.Span(r.grade, className=f"grade grade-{r.grade}"), className="grade-cell"),
        _rate_cell(r.closure, r.closure_detail),
        _rate_cell(r.on_time_closure, r.on_time_closure_detail),
        _rate_cell(r.discovery_timeliness, r.discovery_timeliness_detail),
        _rate_cell(r.coverage, r.coverage_detail),
        html.Td(f"{r.open:,}", className="num"),
        html.Td(f"{r.overdue:,}", className="num overdue" if r.overdue else "num"),
    ]


def subarea_table(rows: Sequence[AreaRow], lang: str, lowest: bool = False) -> html.Table | html.P:
    """The areas one level down; a click on a row drills into it."""
    if lowest:
        return html.P(t("lv_no_subareas", lang), className="lv-note")
    body = [html.Tr(_area_cells(r), id={"type": ids.LEADER_SUBAREA_ROW, "code": r.code}, n_clicks=0,
                    className="drill-row", title=r.code) for r in rows]
    return _table(_area_head(lang), body, lang)


def grid_table(rows: Sequence[AreaRow], lang: str) -> html.Table:
    """Grids by area score, best first, with their grade."""
    head = [t("lv_rank", lang), *_area_head(lang)]
    body = [html.Tr([html.Td(str(k), className="num rank"), *_area_cells(r)], className="grid-row")
            for k, r in enumerate(rows, start=1)]
    return _table(head, body, lang)


def patroller_table(rows: Sequence[PatrollerRow], lang: str) -> html.Table:
    """Patrollers by composite score; the top three highlighted."""
    head = [t(k, lang) for k in ("lv_rank", "lv_name", "lv_score", "lv_grade_col", "lv_valid_reports",
                                 "lv_verification", "lv_coverage")]
    body = [html.Tr(className="patroller-row top-three" if r.top_three else "patroller-row", title=r.id, children=[
        html.Td(html.Span(r.rank, className="medal") if r.top_three else r.rank, className="num rank"),
        html.Td(r.name, className="name"),
        html.Td(r.score, className="num score"),
        html.Td(html.Span(r.grade, className=f"grade grade-{r.grade}"), className="grade-cell"),
        _rate_cell(r.valid_reports, r.valid_reports_detail),
        _rate_cell(r.verification, r.verification_detail),
        _rate_cell(r.coverage, r.coverage_detail),
    ]) for r in rows]
    return _table(head, body, lang)


def department_table(rows: Sequence[DepartmentRow], lang: str) -> html.Table:
    head = [t(k, lang) for k in ("lv_rank", "lv_department", "lv_on_time_handling", "lv_rework",
                                 "lv_avg_handling", "lv_holding")]
    body = [html.Tr(className="department-row", title=r.code, children=[
        html.Td(str(k), className="num rank"),
        html.Td(r.name, className="name"),
        _rate_cell(r.on_time_handling, r.on_time_handling_detail),
        _rate_cell(r.rework, r.rework_detail),
        html.Td(r.average_handling, className="num"),
        html.Td(f"{r.open:,}", className="num"),
    ]) for k, r in enumerate(rows, start=1)]
    return _table(head, body, lang)


def _panel(title: str, body_id: str, extra: str = "") -> html.Section:
    return html.Section(className=f"lv-panel {extra}".strip(), children=[
        html.H2(title), dcc.Loading(html.Div(id=body_id, className="lv-panel-body"), type="dot",
                                    color="#38bdf8", delay_show=300)])


def _graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, figure=go.Figure(layout={"template": "plotly_dark",
                                                           "paper_bgcolor": "rgba(0,0,0,0)",
                                                           "plot_bgcolor": "rgba(0,0,0,0)"}),
                     config=GRAPH_CONFIG, className="lv-graph")


def leader_page(district_name: str | None, district: str, months: Sequence[date], lang: str = "zh") -> html.Div:
    """The page's shell: controls and empty panels for a district (its code); `months` are the months the
    assessment can be exported for, newest first."""
    periods = [{"label": t(f"lv_period_{k}", lang), "value": k} for k in PERIOD_KINDS]
    month_options = [{"label": f"{m:%Y-%m}", "value": f"{m:%Y-%m}"} for m in months]
    return html.Div(id=ids.LEADER, className=f"leader lang-{lang}", children=[
        dcc.Store(id=ids.LEADER_LANG, data=lang),
        dcc.Store(id=ids.LEADER_AREA, data=district),
        dcc.Store(id=ids.LEADER_VIEWPORT),
        dcc.Download(id=ids.LEADER_DOWNLOAD),
        html.Header(className="lv-bar", children=[
            html.Div(className="lv-title", children=[
                html.Span(district_name or "", className="title-district"),
                html.Span(t("lv_title", lang), className="title-text"),
            ]),
            html.Div(className="lv-period", children=[
                dcc.RadioItems(id=ids.LEADER_PERIOD, options=periods, value="month", inline=True,
                               className="lv-radio", inputClassName="lv-radio-input",
                               labelClassName="lv-radio-label"),
                dcc.DatePickerRange(id=ids.LEADER_RANGE, display_format="YYYY-MM-DD", className="lv-range",
                                    first_day_of_week=1, minimum_nights=0,
                                    style={"display": "none"}),
                html.Span("", id=ids.LEADER_PERIOD_LABEL, className="lv-period-label"),
            ]),
            html.Div(className="lv-export", children=[
                html.Span(t("lv_export", lang), className="lv-export-label"),
                dcc.Dropdown(id=ids.LEADER_EXPORT_MONTH, options=month_options,
                             value=month_options[0]["value"] if month_options else None, clearable=False,
                             searchable=False, className="lv-month"),
                html.Button(t("lv_export_csv", lang), id=ids.LEADER_EXPORT_CSV, className="lv-button", n_clicks=0),
                html.Button(t("lv_export_xlsx", lang), id=ids.LEADER_EXPORT_XLSX, className="lv-button",
                            n_clicks=0),
                # ---- replay: a past period on the wall
                html.A(t("rp_link", lang), href="/replay" + ("?lang=en" if lang == "en" else ""),
                       className="lv-button lv-replay-link", target="_blank"),
            ]),
        ]),
        html.Nav(id=ids.LEADER_BREADCRUMB, className="lv-breadcrumb"),
        dcc.Loading(html.Div(id=ids.LEADER_CARDS, className="lv-cards"), type="dot", color="#38bdf8",
                    delay_show=300),
        html.Div(className="lv-row lv-row-2", children=[
            _panel(t("lv_subareas", lang), ids.LEADER_SUBAREAS, "lv-subareas"),
            html.Section(className="lv-panel lv-trends", children=[
                html.H2(t("lv_trends", lang)),
                _graph(ids.LEADER_TREND_RATES),
                _graph(ids.LEADER_TREND_LOAD),
            ]),
        ]),
        html.Div(className="lv-row lv-row-3", children=[
            _panel(t("lv_patrollers", lang), ids.LEADER_PATROLLERS, "lv-patrollers"),
            _panel(t("lv_departments", lang), ids.LEADER_DEPARTMENTS, "lv-departments"),
            _panel(t("lv_grids", lang), ids.LEADER_GRIDS, "lv-grids"),
        ]),
    ])
