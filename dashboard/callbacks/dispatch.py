"""The dispatcher console's callbacks: the queue (re-read when a pushed delta changed cases, when a filter
changes, and every half minute for the countdowns) and the selected case (detail, timeline, map focus).
Thin: the database read is feeds/cases/reads.py, the choosing is dashboard/views/queue.py, the drawing is
dashboard/layouts/dispatch.py."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from sqlalchemy.engine import Connection, Engine

from dashboard import ids
from dashboard.layouts.dispatch import (
    case_header,
    case_trail,
    focus_marker,
    focus_viewport,
    no_case,
    queue_dots,
    queue_records,
    queue_summary,
)
from dashboard.views.queue import Names, QueueFilter, select_cases
from feeds.calendar import WorkingCalendar
from feeds.cases.reads import actor_names, case_file, ended_case_views, grid_names, open_case_views
from feeds.categories import CATEGORIES, labels
from feeds.taxonomy import Taxonomy


@dataclass(frozen=True)
class CaseSource:
    """Where the console reads cases from, and how it clocks them."""

    engine: Engine
    taxonomy: Taxonomy
    calendar: WorkingCalendar

    @property
    def timezone(self) -> str:
        """The site's zone (CC_TIMEZONE), the one its working calendar counts days in."""
        return self.calendar.zone.key

    def names(self, conn: Connection, lang: str) -> Names:
        return Names(labels(CATEGORIES, lang), grid_names(conn), self.taxonomy.departments, actor_names(conn))

    def start_of_today(self, now: datetime) -> datetime:
        local = now.astimezone(self.calendar.zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def _now_ms() -> int:
    return int(time.time() * 1000)


def register(app: Dash, source: CaseSource) -> None:
    app.clientside_callback(ClientsideFunction(namespace="dispatch", function_name="drawQueue"),
                            Output(ids.DISPATCH_QUEUE_DRAWN, "data"), Input(ids.DISPATCH_QUEUE_ROWS, "data"))

    @app.callback(
        Output(ids.DISPATCH_QUEUE_ROWS, "data"),
        Output(ids.DISPATCH_SUMMARY, "children"),
        Output(ids.DISPATCH_QUEUE_DOTS, "data"),
        Input(ids.DISPATCH_SEARCH, "value"),
        Input(ids.DISPATCH_SCOPE, "value"),
        Input(ids.DISPATCH_STATES, "value"),
        Input(ids.DISPATCH_CATEGORIES, "value"),
        Input(ids.DISPATCH_GRIDS, "value"),
        Input(ids.DISPATCH_SOURCES, "value"),
        Input(ids.DISPATCH_FLAGS, "value"),
        Input(ids.DISPATCH_CHANGED, "data"),
        Input(ids.DISPATCH_TICK, "n_intervals"),
        State(ids.DISPATCH_SELECTED, "data"),
        State(ids.DISPATCH_LANG, "data"),
        State(ids.DISPATCH_DRILL, "data"),  # drills: the console opened in a drill lists its cases only
    )
    def _queue(search: str | None, scope: str, states: list[str] | None, categories: list[str] | None,
               grids: list[str] | None, sources: list[str] | None, flags: list[str] | None, _changed: Any,
               _tick: Any, selected: str | None, lang: str, drill: str | None = None) -> tuple[Any, Any, Any]:
        now_ms = _now_ms()
        ended = scope == "ended"
        flags = flags or []
        with source.engine.connect() as conn:
            names = source.names(conn, lang)
            views = (ended_case_views(conn, source.start_of_today(datetime.now(UTC)), drill_id=drill) if ended
                     else open_case_views(conn, source.taxonomy, source.calendar, drill_id=drill))
        # the step chips name open steps: for cases that ended they do not apply, nor does "overdue"
        chosen = QueueFilter.of(None if ended else states, categories, grids, sources,
                                "overdue" in flags and not ended, "urgent" in flags, search)
        cases = select_cases(views, chosen, now_ms, names)
        return (queue_records(cases, now_ms, lang, names, source.timezone, selected=selected),
                queue_summary(cases, now_ms, lang), queue_dots(cases, now_ms))

    @app.callback(
        Output(ids.DISPATCH_DETAIL, "children"),
        Output(ids.DISPATCH_TRAIL, "children"),
        Output(ids.DISPATCH_FOCUS, "children"),
        Output(ids.DISPATCH_MAP, "viewport"),
        Input(ids.DISPATCH_SELECTED, "data"),
        Input(ids.DISPATCH_CASE_CHANGED, "data"),  # not every change: a newer call would drop this one's answer
        Input(ids.DISPATCH_TICK, "n_intervals"),
        State(ids.DISPATCH_LANG, "data"),
        State(ids.DISPATCH_DRILL, "data"),
    )
    def _case(selected: str | None, changed: dict[str, Any] | None, _tick: Any, lang: str,
              drill: str | None = None) -> tuple[Any, ...]:
        if ctx.triggered_id == ids.DISPATCH_CASE_CHANGED and not concerns(changed, selected):
            raise PreventUpdate
        if not selected:
            return no_case(lang), [], [], no_update
        with source.engine.connect() as conn:
            file = case_file(conn, selected, source.taxonomy, source.calendar, drill_id=drill)
            names = source.names(conn, lang) if file else None
        if file is None or names is None:
            return no_case(lang, selected), [], [], no_update
        now_ms = _now_ms()
        moved = ctx.triggered_id in (None, ids.DISPATCH_SELECTED)  # the map flies only when the choice changes
        return (case_header(file, now_ms, lang, names, source.timezone), case_trail(file, lang, names, source.timezone),
                focus_marker(file.view, now_ms), focus_viewport(file.view) if moved else no_update)


def concerns(changed: dict[str, Any] | None, case_id: str | None) -> bool:
    """Whether a pushed change (from the browser script: ids, or `all` after a gap) touches this case."""
    if not changed or not case_id:
        return False
    return bool(changed.get("all")) or case_id in (changed.get("ids") or [])
