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

# ---- dispatcher console (/dispatch) ----
DISPATCH = "dispatch"
DISPATCH_CONFIG = "dispatch-config"  # static data for the browser script (labels, time zone)
DISPATCH_CONNECTION = "dispatch-connection"
DISPATCH_CLOCK = "dispatch-clock"
DISPATCH_SEARCH = "dispatch-search"
DISPATCH_SCOPE = "dispatch-scope"  # open cases, or those ended today
DISPATCH_STATES = "dispatch-states"
DISPATCH_CATEGORIES = "dispatch-categories"
DISPATCH_GRIDS = "dispatch-grids"
DISPATCH_SOURCES = "dispatch-sources"
DISPATCH_FLAGS = "dispatch-flags"  # overdue only, urgent only
DISPATCH_SUMMARY = "dispatch-summary"  # how many cases, by light
DISPATCH_QUEUE = "dispatch-queue"
DISPATCH_SELECTED = "dispatch-selected"  # the selected case id (written by the browser script on a click)
DISPATCH_CHANGED = "dispatch-changed"  # case ids a pushed delta changed (written by the browser script)
DISPATCH_TICK = "dispatch-tick"  # countdowns and lights move with time
DISPATCH_MAP = "dispatch-map"
DISPATCH_QUEUE_DOTS = "dispatch-queue-dots"  # the queue's cases on the map
DISPATCH_FOCUS = "dispatch-focus"  # the selected case's marker
DISPATCH_DETAIL = "dispatch-detail"  # the selected case: header, fields, description
DISPATCH_ACTIONS = "dispatch-actions"  # the place of the case's action panel (reassign, escalate, verify…)
DISPATCH_TRAIL = "dispatch-trail"  # the selected case's reports and timeline
DISPATCH_LANG = "dispatch-lang"  # the page's language, for the callbacks
