"""The wall's KPI panel (left column): the four rates of patrol assessment and the two closure rates, for
today and this month, each with its numerator / denominator and its change against the previous period.

A pure function of the board (feeds/kpis/board.py) and the language. The page passes the board it read from
Redis and shows it at once; after that each newer board pushed as "kpis" lands in the store ids.KPI_BOARD
(assets/kpis.js) and callbacks/kpis.py renders the body again with `kpi_body`.
"""
from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t
from dashboard.views.kpis import Cell, Row, computed_text, rows, today_head


def _cell(c: Cell, period: str) -> html.Div:
    return html.Div(className=f"kpi-cell kpi-{period}", title=c.title, children=[
        html.Div(className="kpi-value", children=[html.Span(c.value, className="kpi-num"),
                                                  html.Span(c.unit, className="kpi-unit")]),
        html.Div(c.ratio, className="kpi-ratio"),
        html.Div(c.change, className=f"kpi-change kpi-{c.trend}"),
    ])


def _row(row: Row, linked: bool, lang: str) -> html.Div:
    today, month = row.cells
    cells = [_cell(today, "today"), _cell(month, "month")]
    if linked:  # a figure opens what makes it, on the leader page (for the roles that may open that page)
        cells = [html.A(cell, href=f"/leader?period={period}&evidence={row.key}" + ("&lang=en" if lang == "en" else ""),
                        className="kpi-link", title=t("ev_open", lang))
                 for cell, period in zip(cells, ("today", "month"), strict=True)]
    return html.Div(className="kpi-row", **{"data-rate": row.key}, children=[
        html.Div(row.label, className="kpi-label"),
        html.Div(className="kpi-cells", children=cells),
    ])


def kpi_body(board: dict[str, Any] | None, lang: str = "zh", linked: bool = False) -> list[html.Div]:
    """The panel's body; `linked`: each figure links to its evidence on the leader page."""
    return [
        html.Div(className="kpi-head", children=[html.Span(today_head(board, lang)), html.Span(t("kpi_month", lang))]),
        *[_row(r, linked, lang) for r in rows(board, lang)],
        html.Div(className="kpi-foot", children=[
            html.Div(t("kpi_legend", lang), className="kpi-legend"),
            html.Div(className="kpi-time-line", children=[
                html.Span(computed_text(board, lang), className="kpi-time"),
                html.Span("", id=ids.KPI_STALE, className="kpi-stale-note"),
            ]),
        ]),
    ]


def kpi_panel(lang: str = "zh", board: dict[str, Any] | None = None, linked: bool = False) -> html.Section:
    """The panel; `board` None shows every figure as "—" until the first board arrives. The panel carries
    when its board was computed, so the page script does not render the same board again."""
    return html.Section(
        id=ids.KPI_PANEL, className="panel panel-left kpi-panel",
        **{"data-stale": t("kpi_stale", lang), "data-minutes": t("minutes", lang),
           "data-seconds": t("seconds", lang), "data-computed-ms": str(board["computed_ms"]) if board else ""},
        children=[
            html.H2(t("kpis", lang)),
            dcc.Store(id=ids.KPI_LANG, data=lang),
            dcc.Store(id=ids.KPI_LINKED, data=linked),
            html.Div(kpi_body(board, lang, linked), id=ids.KPI_BODY, className="kpi-body"),
        ])
