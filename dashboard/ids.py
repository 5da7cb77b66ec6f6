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

# the KPI panel (dashboard/layouts/kpi_panel.py, callbacks/kpis.py, assets/kpis.js)
KPI_BOARD = "wall-kpi-board"  # the latest board: the page's at load, then each one pushed ("kpis")
KPI_LANG = "wall-kpi-lang"  # the panel's language, for the callback that renders it
KPI_BODY = "wall-kpi-body"  # the figures, re-rendered from the board
KPI_STALE = "wall-kpi-stale"  # "not updated for …", written by assets/kpis.js when the board is old

# leader page (/leader)
LEADER = "leader"
LEADER_LANG = "leader-lang"  # the page's language, for the callbacks
LEADER_AREA = "leader-area"  # the area drilled into (its code)
LEADER_PERIOD = "leader-period"  # today / week / month / custom
LEADER_RANGE = "leader-range"  # the custom range's days
LEADER_PERIOD_LABEL = "leader-period-label"
LEADER_BREADCRUMB = "leader-breadcrumb"
LEADER_CARDS = "leader-cards"
LEADER_SUBAREAS = "leader-subareas"  # the table of the areas one level down (an AG Grid; a row click drills in)
LEADER_SUBAREA_NOTE = "leader-subarea-note"  # said in its place at the lowest level
LEADER_PATROLLERS = "leader-patrollers"
LEADER_DEPARTMENTS = "leader-departments"
LEADER_GRIDS = "leader-grids"
LEADER_TREND_RATES = "leader-trend-rates"
LEADER_TREND_LOAD = "leader-trend-load"
LEADER_TRENDS = "leader-trends"  # the 30-day trends as data; the page draws the two charts from it
LEADER_TRENDS_DRAWN = "leader-trends-drawn"  # when it last drew them
LEADER_EXPORT_MONTH = "leader-export-month"
LEADER_EXPORT_CSV = "leader-export-csv"
LEADER_EXPORT_XLSX = "leader-export-xlsx"
LEADER_DOWNLOAD = "leader-download"
LEADER_CRUMB = "leader-crumb"  # pattern-matching type: {"type": LEADER_CRUMB, "code": …}
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
DISPATCH_QUEUE = "dispatch-queue"  # the queue's table, drawn in the browser from DISPATCH_QUEUE_ROWS
DISPATCH_QUEUE_ROWS = "dispatch-queue-rows"  # the queue as data: heads and one record per case
DISPATCH_QUEUE_DRAWN = "dispatch-queue-drawn"  # when the browser last drew it
DISPATCH_SELECTED = "dispatch-selected"  # the selected case id (written by the browser script on a click)
DISPATCH_CHANGED = "dispatch-changed"  # case ids a pushed delta changed (written by the browser script)
DISPATCH_CASE_CHANGED = "dispatch-case-changed"  # the same, only when the selected case is among them
DISPATCH_TICK = "dispatch-tick"  # countdowns and lights move with time
DISPATCH_MAP = "dispatch-map"
DISPATCH_QUEUE_DOTS = "dispatch-queue-dots"  # the queue's cases on the map
DISPATCH_FOCUS = "dispatch-focus"  # the selected case's marker
DISPATCH_DETAIL = "dispatch-detail"  # the selected case: header, fields, description
DISPATCH_PREVIEW = "dispatch-preview"  # a clicked case's header at once, from its queue row, until its detail comes
DISPATCH_ACTIONS = "dispatch-actions"  # the place of the case's action panel (reassign, escalate, verify…)
DISPATCH_TRAIL = "dispatch-trail"  # the selected case's reports and timeline
DISPATCH_LANG = "dispatch-lang"  # the page's language, for the callbacks
# the action panel of the selected case (reassign, escalate, verify, close, reject…)
ACT_BUTTONS = "act-buttons"  # one button per action the case's step allows (data-action)
ACT_CHOICE = "act-choice"  # {case, action, n}: written by the browser script when a button (or key) is used
ACT_SEEN = "act-seen"  # the case as seen when the form opened, and the action chosen
ACT_FORM = "act-form"
ACT_TITLE = "act-title"
ACT_TARGET_ROW = "act-target-row"
ACT_TARGET = "act-target"  # reassign: a suggestion ("person:<id>" or "department:<code>")
ACT_DEPARTMENT_ROW = "act-department-row"
ACT_DEPARTMENT = "act-department"  # dispatch: the department (the routing table's by default)
ACT_ASSIGNEE = "act-assignee"  # dispatch: a person, optional
ACT_HOURS_ROW = "act-hours-row"
ACT_HOURS = "act-hours"
ACT_REJECT_ROW = "act-reject-row"
ACT_REJECT = "act-reject"
ACT_QUICK = "act-quick"  # ready-made reasons (the browser script copies one into the reason)
ACT_REASON = "act-reason"
ACT_CONFIRM = "act-confirm"
ACT_CANCEL = "act-cancel"
ACT_RESULT = "act-result"  # what became of the last command: done, conflict, refused, no answer
ACT_UNDO = "act-undo"
ACT_UNDO_DATA = "act-undo-data"  # the command that takes the last step back, and until when
ACT_DONE = "act-done"  # bumped after every verdict, to redraw the panel for the case as it is now
# sign-in page (plain HTML served by dashboard/security/auth.py, not a Dash layout)
LOGIN_FORM = "login-form"
LOGIN_USERNAME = "login-username"
LOGIN_PASSWORD = "login-password"
LOGIN_SUBMIT = "login-submit"
LOGIN_ERROR = "login-error"

# ---- drills: the trainer console (/drill), the drill banner on the wall and the dispatcher console ----
DRILL_CONSOLE = "drill-console"
DRILL_LANG = "drill-lang"  # the page's language, for the callbacks
DRILL_TICK = "drill-tick"  # the status is read again every second, figures every few seconds
DRILL_FIGURES_TICK = "drill-figures-tick"
DRILL_SCENARIO = "drill-scenario"
DRILL_SPEED = "drill-speed"
DRILL_STAFF = "drill-staff"
DRILL_START = "drill-start"
DRILL_PAUSE = "drill-pause"
DRILL_RESUME = "drill-resume"
DRILL_STOP = "drill-stop"
DRILL_SET_SPEED = "drill-set-speed"
DRILL_INJECT_CATEGORY = "drill-inject-category"
DRILL_INJECT_WHERE = "drill-inject-where"
DRILL_INJECT_REPORT = "drill-inject-report"
DRILL_INJECT_COUNT = "drill-inject-count"
DRILL_INJECT_TEXT = "drill-inject-text"
DRILL_INJECT = "drill-inject"
DRILL_MESSAGE = "drill-message"  # what became of the last control
DRILL_STATUS = "drill-status"  # the current drill: title, state, clock, progress
DRILL_PROGRESS = "drill-progress"  # the progress bar's fill
DRILL_CURRENT = "drill-current"  # the current drill's id (store)
DRILL_KPIS = "drill-kpis"  # the drill's own figures
DRILL_SCORE = "drill-score"  # the drill's score per dispatcher and team against targets
DRILL_PAST = "drill-past"  # past drills with their reports and their screens
DRILL_BANNER = "drill-banner"  # the striped 演练 DRILL bar on a screen in a drill (or 回放 REPLAY)
DRILL_BANNER_CLOCK = "drill-banner-clock"
DISPATCH_DRILL = "dispatch-drill"  # the drill the dispatcher console shows (None: live)
DRILL_WALL_KPIS = "drill-wall-kpis"  # a drill wall's figures (the drill's own, in place of the live KPI panel)
DRILL_WALL_TICK = "drill-wall-tick"
DRILL_WALL_ID = "drill-wall-id"

# ---- replay ----
REPLAY_SCREEN = "replay-screen"  # the wall replaying a past period (/replay)
REPLAY_PANEL = "replay-panel"  # its left column: controls, figures, period picker
REPLAY_PLAY = "replay-play"  # play / pause
REPLAY_RESTART = "replay-restart"
REPLAY_SPEEDS = "replay-speeds"  # one button per speed (data-speed)
REPLAY_SCRUB = "replay-scrub"  # the progress bar, draggable
REPLAY_POSITION = "replay-position"  # the replayed time under the bar
REPLAY_END = "replay-end"
REPLAY_STATE = "replay-state"  # playing, paused, loading, done, error
REPLAY_FIGURES = "replay-figures"
REPLAY_FORM = "replay-form"  # the period picker (a plain GET form to /replay)
REPLAY_FROM = "replay-from"
REPLAY_TO = "replay-to"
REPLAY_SCOPE = "replay-scope"  # live or one past drill
