"""The leader page (领导驾驶舱): the period picker, the area breadcrumb, KPI cards with their numerators,
denominators and change against the period before, the sub-areas to drill into, the rankings of
patrollers, departments and grids, 30-day trends and the monthly assessment export. Pure functions of view
models (dashboard/views/leader.py); the callbacks in dashboard/callbacks/leader.py fill them in."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dash_ag_grid as dag
from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t
from dashboard.layouts.tables import GRID_THEME
from dashboard.views.leader import PERIOD_KINDS
from feeds.kpis.load import AreaEntry


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


# ---------------------------------------------------------------------------------------------- tables
# Each table is one AG Grid fed with rows (dicts from dashboard/views/leader.py): thousands of rows stay
# one component, drawn as they scroll into view. Cells are drawn by the renderers of assets/leader.js.

GRID_STYLE = {"height": "100%", "width": "100%"}


def _column(field: str, head: str, kind: str = "num", **more: object) -> dict[str, object]:
    """A column: "name" (text), "num" (a number, right-aligned), "rate" (a percentage with its
    numerator/denominator under it), "grade" (a coloured letter), "rank" (a medal for the top three)."""
    col: dict[str, object] = {"field": field, "headerName": head, "sortable": True, "resizable": True,
                              "minWidth": 70}
    if kind == "name":
        col.update(flex=1.4, minWidth=110, cellClass="name", tooltipField=more.pop("tooltip", field))
    elif kind == "rate":
        col.update(flex=1, cellRenderer="Rate", cellRendererParams={"detail": f"{field}_detail"},
                   tooltipField=f"{field}_detail", cellClass="num", headerClass="num",
                   comparator={"function": "ccCompareNumbers"})
    elif kind == "grade":
        col.update(flex=0.6, cellRenderer="Grade", cellClass="num grade-cell", headerClass="num")
    elif kind == "rank":
        col.update(flex=0.55, cellRenderer="Rank", cellClass="num rank", headerClass="num",
                   comparator={"function": "ccCompareNumbers"})
    else:
        col.update(flex=0.8, cellClass="num", headerClass="num", comparator={"function": "ccCompareNumbers"})
    col.update(more)
    return col


def _area_columns(lang: str) -> list[dict[str, object]]:
    return [_column("name", t("lv_name", lang), "name", tooltip="code"),
            _column("score", t("lv_score", lang), cellClass="num score"),
            _column("grade", t("lv_grade_col", lang), "grade"),
            _column("closure", t("lv_closure", lang), "rate"),
            _column("on_time_closure", t("lv_on_time_closure", lang), "rate"),
            _column("discovery_timeliness", t("lv_discovery_timeliness", lang), "rate"),
            _column("coverage", t("lv_coverage", lang), "rate"),
            _column("open", t("lv_open", lang), valueFormatter={"function": "ccThousands(params.value)"}),
            _column("overdue", t("lv_overdue", lang), valueFormatter={"function": "ccThousands(params.value)"},
                    cellClassRules={"overdue": "params.value > 0"})]


def data_grid(grid_id: str, columns: list[dict[str, object]], lang: str, *, row_id: str,
              row_class_rules: dict[str, str] | None = None, extra: str = "") -> dag.AgGrid:
    """One table: its columns fixed, its rows (`rowData`) filled in by a callback."""
    return dag.AgGrid(
        id=grid_id, columnDefs=columns, rowData=[], className=f"lv-grid {extra}".strip(),
        columnSize="responsiveSizeToFit", getRowId=f"params.data.{row_id}",
        defaultColDef={"wrapHeaderText": True, "autoHeaderHeight": True},
        dashGridOptions={"theme": GRID_THEME, "suppressCellFocus": True,
                         "animateRows": False, "tooltipShowDelay": 300, "rowClassRules": row_class_rules or {},
                         "overlayNoRowsTemplate": f"<span class='lv-grid-empty'>{t('lv_none', lang)}</span>"},
        style=GRID_STYLE)


def subarea_grid(lang: str) -> dag.AgGrid:
    """The areas one level down; a click on a row drills into it."""
    return data_grid(ids.LEADER_SUBAREAS, _area_columns(lang), lang, row_id="code",
                     row_class_rules={"drill-row": "true"})


def grid_ranking(lang: str) -> dag.AgGrid:
    """Grids by area score, best first, with their grade."""
    return data_grid(ids.LEADER_GRIDS, [_column("rank", t("lv_rank", lang), "rank"), *_area_columns(lang)], lang,
                     row_id="code")


def _opens(column: dict[str, object], lang: str) -> dict[str, object]:
    """A column whose cells open the evidence of their figure (a click: dashboard/callbacks/leader.py
    show_evidence)."""
    return {**column, "cellClass": f"{column.get('cellClass', 'num')} ev-open",
            "headerTooltip": t("ev_open_hint", lang)}


def patroller_grid(lang: str) -> dag.AgGrid:
    """Patrollers by composite score; the top three highlighted. A click on a figure lists what makes it."""
    return data_grid(ids.LEADER_PATROLLERS, [
        _column("rank", t("lv_rank", lang), "rank"),
        _column("name", t("lv_name", lang), "name", tooltip="id"),
        _opens(_column("score", t("lv_score", lang), cellClass="num score"), lang),
        _column("grade", t("lv_grade_col", lang), "grade"),
        _opens(_column("valid_reports", t("lv_valid_reports", lang), "rate"), lang),
        _opens(_column("verification", t("lv_verification", lang), "rate"), lang),
        _opens(_column("coverage", t("lv_coverage", lang), "rate"), lang),
    ], lang, row_id="id", row_class_rules={"top-three": "params.data.top_three"})


def department_grid(lang: str) -> dag.AgGrid:
    """Departments by on-time handling. A click on a figure lists what makes it."""
    return data_grid(ids.LEADER_DEPARTMENTS, [
        _column("rank", t("lv_rank", lang), "rank"),
        _column("name", t("lv_department", lang), "name", tooltip="code"),
        _opens(_column("on_time_handling", t("lv_on_time_handling", lang), "rate"), lang),
        _opens(_column("rework", t("lv_rework", lang), "rate"), lang),
        _opens(_column("average_handling", t("lv_avg_handling", lang), flex=1), lang),
        _opens(_column("open", t("lv_holding", lang)), lang),
    ], lang, row_id="code")


def evidence_columns(lang: str, counted: str = "ev_counted") -> list[dict[str, object]]:
    """The evidence table's columns; the last says what a row puts in the figure (`counted`: its heading's key;
    whether it counts, its hours, what a part adds, cells walked of all)."""
    return [  # widths in proportion (the table is sized to fit the drawer): the fact gets the room
        _column("case", t("ev_case", lang), "name", flex=None, width=185, cellRenderer="CaseLink",
                cellRendererParams={"title": t("ev_timeline", lang)}),
        _column("grid", t("ev_grid", lang), "name", flex=None, width=175),
        _column("category", t("ev_category", lang), "name", flex=None, width=95),
        _column("channel", t("ev_channel", lang), "name", flex=None, width=100),
        _column("at", t("ev_at", lang), "name", flex=None, width=125),
        _column("fact", t("ev_fact", lang), "name", flex=None, width=440, wrapText=True, autoHeight=True,
                cellClass="fact"),
        _column("counted", t(counted, lang), "name", flex=None, width=58 if counted == "ev_counted" else 90,
                filter=True, cellClassRules={"ev-hit": "params.data.hit", "ev-miss": "!params.data.hit"}),
    ]


def evidence_panel(lang: str) -> html.Aside:
    """What makes a figure (a click on a card): its count, equal to the card, and every case it counts with the
    fact that decided it; a case's row opens it in the dispatcher console (timeline and place)."""
    return html.Aside(id=ids.LEADER_EVIDENCE, className="lv-evidence", style={"display": "none"}, children=[
        dcc.Store(id=ids.LEADER_EVIDENCE_ASK),
        html.Header(className="lv-evidence-head", children=[
            html.H2("", id=ids.LEADER_EVIDENCE_TITLE),
            html.Span("", id=ids.LEADER_EVIDENCE_SUM, className="lv-evidence-sum"),
            html.Button(t("ev_close", lang), id=ids.LEADER_EVIDENCE_CLOSE, className="lv-button", n_clicks=0),
        ]),
        html.Div(data_grid(ids.LEADER_EVIDENCE_GRID, evidence_columns(lang), lang, row_id="key"),
                 className="lv-evidence-body"),
    ])


def _panel(title: str, body: object, extra: str = "", note_id: str | None = None) -> html.Section:
    """A titled panel around a table (and a note shown in its place when there is no table, e.g. below the
    grids)."""
    notes = [html.P(id=note_id, className="lv-note", style={"display": "none"})] if note_id else []
    return html.Section(className=f"lv-panel {extra}".strip(), children=[
        html.H2(title), *notes, html.Div(body, className="lv-panel-body")])


def _chart(chart_id: str) -> html.Div:
    """A trend chart: an SVG drawn in the browser from the trends' data (assets/leader.js)."""
    return html.Div(id=chart_id, className="lv-chart")


def leader_page(district_name: str | None, district: str, months: Sequence[date], lang: str = "zh", *,
                period: str = "month", evidence: str | None = None) -> html.Div:
    """The page's shell: controls and empty panels for a district (its code); `months` are the months the
    assessment can be exported for, newest first. It opens on `period`, and with `evidence` (a figure) opens what
    makes that figure once its cards are drawn (assets/leader.js)."""
    periods = [{"label": t(f"lv_period_{k}", lang), "value": k} for k in PERIOD_KINDS]
    month_options = [{"label": f"{m:%Y-%m}", "value": f"{m:%Y-%m}"} for m in months]
    opening = {"data-open-evidence": evidence} if evidence else {}
    return html.Div(id=ids.LEADER, className=f"leader lang-{lang}", **opening, children=[
        dcc.Store(id=ids.LEADER_LANG, data=lang),
        dcc.Store(id=ids.LEADER_AREA, data=district),
        dcc.Store(id=ids.LEADER_SHOWN),
        dcc.Store(id=ids.LEADER_REFRESH),
        dcc.Store(id=ids.LEADER_TRENDS),
        dcc.Store(id=ids.LEADER_TRENDS_DRAWN),
        dcc.Store(id=ids.LEADER_CARDS_DRAWN),
        dcc.Download(id=ids.LEADER_DOWNLOAD),
        html.Header(className="lv-bar", children=[
            html.Div(className="lv-title", children=[
                html.Span(district_name or "", className="title-district"),
                html.Span(t("lv_title", lang), className="title-text"),
            ]),
            html.Div(className="lv-period", children=[
                dcc.RadioItems(id=ids.LEADER_PERIOD, options=periods, value=period, inline=True,
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
        dcc.Loading([html.Div(id=ids.LEADER_CARDS, className="lv-cards"), dcc.Store(id=ids.LEADER_CARD_DATA)],
                    type="dot", color="#38bdf8", delay_show=300),
        html.Div(className="lv-row lv-row-2", children=[
            _panel(t("lv_subareas", lang), subarea_grid(lang), "lv-subareas", note_id=ids.LEADER_SUBAREA_NOTE),
            html.Section(className="lv-panel lv-trends", children=[
                html.H2(t("lv_trends", lang)),
                _chart(ids.LEADER_TREND_RATES),
                _chart(ids.LEADER_TREND_LOAD),
            ]),
        ]),
        html.Div(className="lv-row lv-row-3", children=[
            _panel(t("lv_patrollers", lang), patroller_grid(lang), "lv-patrollers"),
            _panel(t("lv_departments", lang), department_grid(lang), "lv-departments"),
        ]),
        html.Div(className="lv-row lv-row-4", children=[
            _panel(t("lv_grids", lang), grid_ranking(lang), "lv-grids"),
        ]),
        evidence_panel(lang),
    ])
