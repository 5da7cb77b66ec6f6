"""The trainer console's callbacks. Thin: every control checks RUN_DRILLS on the server (refusals are
logged by dashboard.security.auth) and becomes one message to the drill desk through Redis; the status is read
from Redis every second, the drill's figures and score from the database every few seconds
(feeds/drills/reads.py), and dashboard/views/drill.py turns them into text."""
from __future__ import annotations

import logging
from typing import Any

import redis
from dash import Dash, Input, Output, State, ctx
from dash.exceptions import PreventUpdate

from dashboard import ids
from dashboard.i18n import t
from dashboard.layouts.drill import figures_panel, past_list, score_table, status_panel
from dashboard.security.auth import Permission, require
from dashboard.services import Services
from dashboard.views.drill import drill_figures, measure_heads, past_rows, score_rows, status_view
from feeds.cases.reads import actor_names
from feeds.drills.control import DrillControl, InjectedEvent, past_drills
from feeds.drills.reads import load_drill

log = logging.getLogger(__name__)
_ACTIONS = {ids.DRILL_START: "start", ids.DRILL_PAUSE: "pause", ids.DRILL_RESUME: "resume",
            ids.DRILL_SET_SPEED: "speed", ids.DRILL_STOP: "stop", ids.DRILL_INJECT: "inject"}
_LABELS = {"start": "dr_start", "pause": "dr_pause", "resume": "dr_resume", "speed": "dr_set_speed", "stop": "dr_stop",
           "inject": "dr_inject"}


def control_of(action: str, by: str, drill_id: str | None, scenario: str | None, speed: float | None,
               staff: list[str] | None, event: dict[str, Any]) -> DrillControl:
    """The control a console button sends (pure; ValueError when the form does not make one)."""
    if action == "start":
        return DrillControl(action="start", by=by, scenario=scenario, speed=speed, staff="staff" in (staff or []))
    if action == "speed":
        return DrillControl(action="speed", by=by, drill_id=drill_id, speed=speed)
    if action == "inject":
        return DrillControl(action="inject", by=by, drill_id=drill_id, event=InjectedEvent(
            category=event["category"], where=event["where"], report=event["report"], count=int(event["count"] or 1),
            text=(event.get("text") or "").strip() or None))
    return DrillControl(action=action, by=by, drill_id=drill_id)  # type: ignore[arg-type]


def register(app: Dash, services: Services) -> None:
    @app.callback(
        Output(ids.DRILL_MESSAGE, "children"),
        *[Input(button, "n_clicks") for button in _ACTIONS],
        State(ids.DRILL_CURRENT, "data"),
        State(ids.DRILL_SCENARIO, "value"),
        State(ids.DRILL_SPEED, "value"),
        State(ids.DRILL_STAFF, "value"),
        State(ids.DRILL_INJECT_CATEGORY, "value"),
        State(ids.DRILL_INJECT_WHERE, "value"),
        State(ids.DRILL_INJECT_REPORT, "value"),
        State(ids.DRILL_INJECT_COUNT, "value"),
        State(ids.DRILL_INJECT_TEXT, "value"),
        State(ids.DRILL_LANG, "data"),
        prevent_initial_call=True,
    )
    def _control(*args: Any) -> str:
        who = require(Permission.RUN_DRILLS)  # refused: logged, nothing sent
        action = _ACTIONS.get(str(ctx.triggered_id))
        if action is None or not ctx.triggered[0].get("value"):
            raise PreventUpdate
        drill_id, scenario, speed, staff, category, where, report, count, text, lang = args[len(_ACTIONS):]
        try:
            control = control_of(action, who.username, drill_id, scenario, speed, staff,
                                 {"category": category, "where": where, "report": report, "count": count, "text": text})
        except ValueError as err:
            log.warning("console form refused for %s: %s", who.username, err)
            return t("dr_desk_said", lang).format(why=str(err).splitlines()[0])
        try:
            services.drills.send(control)
        except redis.RedisError as err:
            log.warning("could not send %s: %s", action, err)
            return t("dr_no_desk", lang)
        log.info("%s (%s) sent drill control %s", who.username, who.role, action)
        return t("dr_sent", lang).format(what=t(_LABELS[action], lang))

    @app.callback(
        Output(ids.DRILL_STATUS, "children"),
        Output(ids.DRILL_CURRENT, "data"),
        Output(ids.DRILL_START, "disabled"),
        Output(ids.DRILL_PAUSE, "disabled"),
        Output(ids.DRILL_RESUME, "disabled"),
        Output(ids.DRILL_SET_SPEED, "disabled"),
        Output(ids.DRILL_STOP, "disabled"),
        Output(ids.DRILL_INJECT, "disabled"),
        Input(ids.DRILL_TICK, "n_intervals"),
        State(ids.DRILL_CURRENT, "data"),
        State(ids.DRILL_LANG, "data"),
    )
    def _status(_n: Any, current: str | None, lang: str) -> tuple[Any, ...]:
        require(Permission.RUN_DRILLS)
        try:
            status = services.drills.status()
        except redis.RedisError:
            raise PreventUpdate from None
        view = status_view(status, services.now_ms(), lang, services.timezone)
        return (status_panel(view, lang), view.drill_id or current or None, not view.can_start, not view.can_pause,
                not view.can_resume, not view.can_change, not view.can_stop, not view.can_change)

    @app.callback(
        Output(ids.DRILL_KPIS, "children"),
        Output(ids.DRILL_SCORE, "children"),
        Output(ids.DRILL_PAST, "children"),
        Input(ids.DRILL_FIGURES_TICK, "n_intervals"),
        Input(ids.DRILL_CURRENT, "data"),
        State(ids.DRILL_LANG, "data"),
    )
    def _figures(_n: Any, current: str | None, lang: str) -> tuple[Any, ...]:
        require(Permission.RUN_DRILLS)
        now = services.now()
        rules = services.rules
        with services.engine.connect() as conn:
            records = past_drills(conn)
            drill_id = current or (records[0].id if records else None)
            file = load_drill(conn, drill_id, rules, now) if drill_id else None
            names = {**actor_names(conn), **services.taxonomy.departments} if file else {}
        past = past_list(past_rows(records, lang, services.timezone), lang)
        if file is None:
            return [], score_table([], [], lang), past
        return (figures_panel(drill_figures(file.figures, file.score, lang)),
                score_table(score_rows(file.score, lang, names), measure_heads(file.score.targets, lang), lang), past)


def register_wall(app: Dash, services: Services) -> None:
    """The drill's own figures on a wall opened in a drill."""
    @app.callback(
        Output(ids.DRILL_WALL_KPIS, "children"),
        Input(ids.DRILL_WALL_TICK, "n_intervals"),
        State(ids.DRILL_WALL_ID, "data"),
        State(ids.WALL, "className"),
    )
    def _wall_figures(_n: Any, drill_id: str | None, wall_class: str | None) -> Any:
        require(Permission.VIEW_WALL)
        if not drill_id:
            raise PreventUpdate
        lang = "en" if "lang-en" in (wall_class or "") else "zh"
        rules = services.rules
        with services.engine.connect() as conn:
            file = load_drill(conn, drill_id, rules, services.now())
        if file is None:
            raise PreventUpdate
        return figures_panel(drill_figures(file.figures, file.score, lang))
