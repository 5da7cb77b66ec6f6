"""Every component id of the dashboard, in one place."""
from __future__ import annotations

WALL = "wall"
CLOCK = "wall-clock"
DATE = "wall-date"
CONNECTION = "wall-connection"
DATA_AGE = "wall-data-age"
MAP = "wall-map"
TICKER = "wall-ticker"
PAGE_CONFIG = "wall-config"  # the page's static data for the browser script (labels, map settings)

COUNT_PATROLS = "count-patrols"
COUNT_OPEN_CASES = "count-open-cases"
COUNT_INCIDENTS = "count-incidents"
COUNT_ALERTS = "count-alerts"
COUNT_REJECTED = "count-rejected"
LIVE = "wall-live"  # the merged live view (counts, ticker items) written by the browser's socket glue
KPI_PANEL = "wall-kpis"  # the KPI panel of the wall (left column)

# the KPI panel (dashboard/layouts/kpi_panel.py, callbacks/kpis.py, assets/kpis.js)
KPI_BOARD = "wall-kpi-board"  # the latest board: the page's at load, then each one pushed ("kpis")
KPI_LANG = "wall-kpi-lang"  # the panel's language, for the callback that renders it
KPI_BODY = "wall-kpi-body"  # the figures, re-rendered from the board
KPI_STALE = "wall-kpi-stale"  # "not updated for …", written by assets/kpis.js when the board is old
