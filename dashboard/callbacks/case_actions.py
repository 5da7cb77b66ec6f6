"""The action panel's callbacks: draw the buttons the selected case's step allows, open the form of the one
chosen (with suggestions for a reassignment), send the confirmed command and say what became of it, and
take the last step back within UNDO_S. Every write checks the signed-in person may act on cases.

Thin: which actions and what command is dashboard/views/case_actions.py, the drawing dashboard/layouts/
case_actions.py, the sending dashboard/http/casedesk.py; the command itself goes through the ingest like any
other message, so every screen sees the change.
"""
from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from dash import Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import ids
from dashboard.callbacks.dispatch import concerns
from dashboard.i18n import t
from dashboard.layouts.case_actions import (
    action_buttons,
    action_label,
    department_options,
    person_options,
    quick_reasons,
    read_only,
    result_note,
    target_options,
)
from dashboard.security import auth
from dashboard.security.access import Permission
from dashboard.services import Services
from dashboard.views.case_actions import (
    DEFAULT_EXTEND_HOURS,
    FIELDS,
    UNDO_S,
    ActionKind,
    Form,
    FormError,
    Seen,
    available,
    command_for,
    primary,
    undo_command,
    undoable,
)
from dashboard.views.trail import coded
from feeds.bus.verdicts import Outcome, Verdict
from feeds.cases.reads import actor_names, case_now, field_people, last_change, open_holders
from feeds.cases.suggestions import suggestions
from feeds.schemas import CaseCommand

PANEL = (ids.ACT_BUTTONS, "children"), (ids.ACT_FORM, "hidden"), (ids.ACT_TITLE, "children"), \
    (ids.ACT_TARGET_ROW, "hidden"), (ids.ACT_TARGET, "options"), (ids.ACT_TARGET, "value"), \
    (ids.ACT_DEPARTMENT_ROW, "hidden"), (ids.ACT_DEPARTMENT, "options"), (ids.ACT_DEPARTMENT, "value"), \
    (ids.ACT_ASSIGNEE, "options"), (ids.ACT_ASSIGNEE, "value"), (ids.ACT_HOURS_ROW, "hidden"), \
    (ids.ACT_HOURS, "value"), (ids.ACT_REJECT_ROW, "hidden"), (ids.ACT_REJECT, "value"), \
    (ids.ACT_QUICK, "children"), (ids.ACT_REASON, "value"), (ids.ACT_SEEN, "data")
RESULT = (ids.ACT_RESULT, "children"), (ids.ACT_UNDO, "hidden"), (ids.ACT_UNDO_DATA, "data"), (ids.ACT_DONE, "data")


def _closed(buttons: list[Any], seen: dict[str, Any] | None) -> tuple[Any, ...]:
    """The panel with its buttons and no form open."""
    return (buttons, True, "", True, [], None, True, [], None, [], None, True, None, True, None, [], "", seen)


def register(app: Dash, services: Services) -> None:

    @app.callback(
        *[Output(i, p) for i, p in PANEL],
        Input(ids.DISPATCH_SELECTED, "data"),
        Input(ids.ACT_CHOICE, "data"),
        Input(ids.ACT_CANCEL, "n_clicks"),
        Input(ids.ACT_DONE, "data"),
        Input(ids.DISPATCH_CASE_CHANGED, "data"),
        State(ids.ACT_SEEN, "data"),
        State(ids.DISPATCH_LANG, "data"),
    )
    def _panel(selected: str | None, choice: dict[str, Any] | None, _cancel: Any, _done: Any,
               changed: dict[str, Any] | None, seen_data: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
        fired = {key.split(".")[0] for key in ctx.triggered_prop_ids}  # several at once: a verdict and its push
        form_open = bool(seen_data and seen_data.get("action") and seen_data.get("case_id") == selected)
        if fired == {ids.DISPATCH_CASE_CHANGED} and (not concerns(changed, selected) or form_open):
            raise PreventUpdate  # an open form keeps what the person saw: a change since shows as a conflict
        if not selected:
            return _closed([], None)
        who = auth.current_identity()
        with services.engine.connect() as conn:
            view = case_now(conn, selected)
        if view is None:
            return _closed([], None)
        seen = Seen.of(view)
        if who is None or not who.can(Permission.ACT_ON_CASES):
            return _closed(read_only(lang), None)
        actions = available(seen)
        closing = {ids.DISPATCH_SELECTED, ids.ACT_CANCEL, ids.ACT_DONE}
        chosen = choice.get("action") if (ids.ACT_CHOICE in fired and not fired & closing and choice
                                          and choice.get("case") == selected) else None
        if chosen not in {a.value for a in actions}:
            return _closed(action_buttons(seen.case_id, actions, primary(seen), None, lang, seen.level),
                           {**seen.data(), "action": None})
        return _form(seen, view, ActionKind(chosen), actions, lang)

    def _form(seen: Seen, view: dict[str, Any], action: ActionKind, actions: list[ActionKind],
              lang: str) -> tuple[Any, ...]:
        needs = FIELDS.get(action, ())
        taxonomy = services.taxonomy
        routed = taxonomy.categories[seen.category].department if seen.category in taxonomy.categories else None
        found = []
        if "target" in needs or "assignee" in needs:
            with services.engine.connect() as conn:
                people, holders = field_people(conn), open_holders(conn, seen.drill)
            store = services.snapshots if seen.drill is None else services.snapshots.for_drill(seen.drill)
            patrols = store.load()["patrols"]
            department = (routed, taxonomy.departments.get(routed, routed)) if routed else None
            found = suggestions(view, people, patrols, holders, department if "target" in needs else None,
                                services.now_ms())
        title = [action_label(action, lang, seen.level), " · ", seen.case_id]
        departments = department_options(taxonomy.departments)
        return (action_buttons(seen.case_id, actions, primary(seen), action.value, lang, seen.level), False, title,
                "target" not in needs, target_options(found, lang), None,
                "department" not in needs, departments, routed,
                person_options(found, lang), None,
                "hours" not in needs, DEFAULT_EXTEND_HOURS,
                "reject_reason" not in needs, None,
                quick_reasons(action.value, lang), "", {**seen.data(), "action": action.value})

    @app.callback(
        *[Output(i, p) for i, p in RESULT],
        Input(ids.ACT_CONFIRM, "n_clicks"),
        State(ids.ACT_SEEN, "data"),
        State(ids.ACT_TARGET, "value"),
        State(ids.ACT_DEPARTMENT, "value"),
        State(ids.ACT_ASSIGNEE, "value"),
        State(ids.ACT_HOURS, "value"),
        State(ids.ACT_REJECT, "value"),
        State(ids.ACT_REASON, "value"),
        State(ids.ACT_DONE, "data"),
        State(ids.DISPATCH_LANG, "data"),
        prevent_initial_call=True,
        running=[(Output(ids.ACT_CONFIRM, "disabled"), True, False)],
    )
    def _confirm(n: int | None, seen_data: dict[str, Any] | None, target: str | None, department: str | None,
                 assignee: str | None, hours: float | None, reject: str | None, reason: str | None, done: int | None,
                 lang: str) -> tuple[Any, ...]:
        if not n or not seen_data or not seen_data.get("action"):
            raise PreventUpdate
        who = auth.permitted(Permission.ACT_ON_CASES)
        if who is None:
            return _not_done(t("act_refused_role", lang))
        seen = Seen.from_data(seen_data)
        form = Form(seen_data["action"], reason, target, department, assignee,
                    float(hours) if hours not in (None, "") else None, reject)
        try:
            command = command_for(form, seen, who.username, _new_id(), services.now())
        except FormError as err:
            return _not_done(t("act_refused", lang).format(why=t(err.key, lang)))
        verdict = services.commands.send(command)
        note = _verdict_note(verdict, command, lang)
        undo = None
        if verdict is not None and verdict.outcome is Outcome.APPLIED and undoable(form, seen):
            until = services.now_ms() + UNDO_S * 1000
            undo = {"form": asdict(form), "seen": seen.data(), "version": verdict.version, "until": until,
                    "reason": form.reason}
            note = [*note, html_until(until)]
        return note, undo is None, undo, (done or 0) + 1

    @app.callback(
        Output(ids.ACT_RESULT, "children", allow_duplicate=True),
        Output(ids.ACT_UNDO, "hidden", allow_duplicate=True),
        Output(ids.ACT_UNDO_DATA, "data", allow_duplicate=True),
        Output(ids.ACT_DONE, "data", allow_duplicate=True),
        Input(ids.ACT_UNDO, "n_clicks"),
        State(ids.ACT_UNDO_DATA, "data"),
        State(ids.ACT_DONE, "data"),
        State(ids.DISPATCH_LANG, "data"),
        prevent_initial_call=True,
        running=[(Output(ids.ACT_UNDO, "disabled"), True, False)],
    )
    def _undo(n: int | None, data: dict[str, Any] | None, done: int | None, lang: str) -> tuple[Any, ...]:
        if not n or not data:
            raise PreventUpdate
        who = auth.permitted(Permission.ACT_ON_CASES)
        if who is None:
            return _not_done(t("act_refused_role", lang))
        if services.now_ms() > data["until"]:
            return _not_done(t("act_refused", lang).format(why=t("act_undo_late", lang)))
        form, seen = Form(**data["form"]), Seen.from_data(data["seen"])
        why = t("act_undo_reason", lang).format(why=data.get("reason") or "")
        command = undo_command(form, seen, data["version"], who.username, why, _new_id(), services.now())
        if command is None:
            raise PreventUpdate
        verdict = services.commands.send(command)
        if verdict is not None and verdict.done:
            return result_note("done", t("act_undone", lang)), True, None, (done or 0) + 1
        return _verdict_note(verdict, command, lang), True, None, (done or 0) + 1

    def _verdict_note(verdict: Verdict | None, command: CaseCommand, lang: str) -> list[Any]:
        if verdict is None:
            return result_note("waiting", t("act_no_answer", lang))
        what = action_label(command.action, lang)
        if verdict.done:
            to = None
            with services.engine.connect() as conn:
                names = actor_names(conn) if command.assignee else {}
            if command.assignee:
                to = names.get(command.assignee, command.assignee)
            elif command.department:
                to = services.taxonomy.departments.get(command.department, command.department)
            text = (t("act_done_to", lang).format(what=what, to=to) if to
                    else t("act_done", lang).format(what=what))
            return result_note("done", text)
        if verdict.outcome is Outcome.CONFLICT:
            with services.engine.connect() as conn:
                now, last, names = case_now(conn, command.case_id), last_change(conn, command.case_id), \
                    actor_names(conn)
            state = coded("state", now["state"], lang) if now else "—"
            if last is None:
                return result_note("conflict", t("act_conflict_plain", lang).format(state=state))
            when = f"{last.at.astimezone(services.zone):%H:%M:%S}"
            return result_note("conflict", t("act_conflict", lang).format(
                who=names.get(last.by, last.by), when=when, what=coded("action", last.action, lang), state=state))
        return result_note("refused", t("act_refused", lang).format(why=verdict.reason))


def _not_done(text: str) -> tuple[Any, ...]:
    """The result outputs for a command refused before it was sent: why, no undo, the panel left as it is."""
    return result_note("refused", text), True, None, no_update


def html_until(until_ms: int) -> Any:
    """A marker the browser script reads to count the undo down and hide it when the time is up."""
    return html.Span("", className="act-undo-until", **{"data-until": str(until_ms)})


def _new_id() -> str:
    return f"ui-{uuid.uuid4().hex}"
