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
LIVE = "wall-live"  # the merged live view (counts, ticker items) written by the browser's socket glue
KPI_PANEL = "wall-kpis"  # the KPI panel of the wall (left column)
COUNT_OVERDUE = "count-overdue"
QUEUE = "wall-queue"  # the most urgent open cases with their SLA countdowns
GRID_CARD = "wall-grid-card"  # the card of a clicked grid (drawn by the map script)
TRAIL_INFO = "wall-trail-info"  # which patrol's trail is drawn
LAYER_TOGGLES = "wall-layers"
LANG_SWITCH = "wall-lang"
