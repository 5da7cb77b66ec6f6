"""The wall's KPI panel (left column): the figures of shared/kpi.md for today and this month, pushed."""
from __future__ import annotations

from dash import html

from dashboard import ids
from dashboard.i18n import t


def kpi_panel(lang: str = "zh") -> html.Section:
    return html.Section(id=ids.KPI_PANEL, className="panel panel-left", children=[html.H2(t("kpis", lang))])
