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


def _row(row: Row) -> html.Div:
    today, month = row.cells
    return html.Div(className="kpi-row", **{"data-rate": row.key}, children=[
        html.Div(row.label, className="kpi-label"),
        html.Div(className="kpi-cells", children=[_cell(today, "today"), _cell(month, "month")]),
    ])


def kpi_body(board: dict[str, Any] | None, lang: str = "zh") -> list[html.Div]:
    return [
        html.Div(className="kpi-head", children=[html.Span(today_head(board, lang)), html.Span(t("kpi_month", lang))]),
        *[_row(r) for r in rows(board, lang)],
        html.Div(className="kpi-foot", children=[
            html.Div(t("kpi_legend", lang), className="kpi-legend"),
            html.Div(className="kpi-time-line", children=[
                html.Span(computed_text(board, lang), className="kpi-time"),
                html.Span("", id=ids.KPI_STALE, className="kpi-stale-note"),
            ]),
        ]),
    ]


def kpi_panel(lang: str = "zh", board: dict[str, Any] | None = None) -> html.Section:
    """The panel; `board` None shows every figure as "—" until the first board arrives. The panel carries
    when its board was computed, so the page script does not render the same board again."""
    return html.Section(
        id=ids.KPI_PANEL, className="panel panel-left kpi-panel",
        **{"data-stale": t("kpi_stale", lang), "data-minutes": t("minutes", lang),
           "data-seconds": t("seconds", lang), "data-computed-ms": str(board["computed_ms"]) if board else ""},
        children=[
            html.H2(t("kpis", lang)),
            dcc.Store(id=ids.KPI_LANG, data=lang),
            html.Div(kpi_body(board, lang), id=ids.KPI_BODY, className="kpi-body"),
        ])
