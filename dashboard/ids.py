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

# sign-in page (plain HTML served by dashboard/auth.py, not a Dash layout)
LOGIN_FORM = "login-form"
LOGIN_USERNAME = "login-username"
LOGIN_PASSWORD = "login-password"
LOGIN_SUBMIT = "login-submit"
LOGIN_ERROR = "login-error"
