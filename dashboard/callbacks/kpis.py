"""The wall's KPI panel: the page shows the board it was loaded with; each board after it (pushed as "kpis"
and put into the store by assets/kpis.js) is rendered on the server with the same pure layout. A board comes every
kpi_interval_s seconds, so one small round trip per screen per board is nothing, and the formatting lives in
one place (dashboard/views/kpis.py)."""
from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State

from dashboard import ids
from dashboard.i18n import LANGS
from dashboard.layouts.kpi_panel import kpi_body
from dashboard.security.auth import may_see_evidence
from dashboard.services import Services


def render(board: dict[str, Any] | None, lang: str | None, linked: bool | None = False) -> list[Any]:
    # the links only for a viewer who may open the leader page, whatever the page's store says
    return kpi_body(board, lang if lang in LANGS else "zh", bool(linked) and may_see_evidence())


def register(app: Dash, services: Services) -> None:
    app.callback(Output(ids.KPI_BODY, "children"), Input(ids.KPI_BOARD, "data"), State(ids.KPI_LANG, "data"),
                 State(ids.KPI_LINKED, "data"), prevent_initial_call=True)(render)
