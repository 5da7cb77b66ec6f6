"""The dispatcher console's callbacks: the queue (re-read when a pushed delta changed cases, when a filter
changes, and every half minute for the countdowns) and the selected case (detail, timeline, map focus).
Thin: the database read is feeds/cases/reads.py, the choosing is dashboard/views/queue.py, the drawing is
dashboard/layouts/dispatch.py."""
from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

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
from dashboard.services import Services
from dashboard.views.queue import QueueFilter, select_cases
from feeds.cases.reads import case_file, ended_case_views, open_case_views


def register(app: Dash, services: Services) -> None:
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
        now_ms = services.now_ms()
        ended = scope == "ended"
        flags = flags or []
        with services.engine.connect() as conn:
            names = services.names(conn, lang)
            views = (ended_case_views(conn, services.start_of_today(services.now()), drill_id=drill) if ended
                     else open_case_views(conn, services.taxonomy, services.calendar, drill_id=drill))
        # the step chips name open steps: for cases that ended they do not apply, nor does "overdue"
        chosen = QueueFilter.of(None if ended else states, categories, grids, sources,
                                "overdue" in flags and not ended, "urgent" in flags, search)
        cases = select_cases(views, chosen, now_ms, names)
        return (queue_records(cases, now_ms, lang, names, services.timezone, selected=selected),
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
        with services.engine.connect() as conn:
            file = case_file(conn, selected, services.taxonomy, services.calendar, drill_id=drill)
            names = services.names(conn, lang) if file else None
        if file is None or names is None:
            return no_case(lang, selected), [], [], no_update
        now_ms = services.now_ms()
        moved = ctx.triggered_id in (None, ids.DISPATCH_SELECTED)  # the map flies only when the choice changes
        trail = case_trail(file, lang, names, services.timezone, services.settings.trusted_media_hosts)
        return (case_header(file, now_ms, lang, names, services.timezone), trail,
                focus_marker(file.view, now_ms), focus_viewport(file.view) if moved else no_update)


def concerns(changed: dict[str, Any] | None, case_id: str | None) -> bool:
    """Whether a pushed change (from the browser script: ids, or `all` after a gap) touches this case."""
    if not changed or not case_id:
        return False
    return bool(changed.get("all")) or case_id in (changed.get("ids") or [])
