"""The selected case's action panel in the dispatcher console: a button per action its step allows, one form
(suggestions for a reassignment, department, hours, rejection reason, and the reason every change needs),
confirm / cancel, and what became of the last command, with its undo. Pure functions of data; the
callbacks are in callbacks/case_actions.py, the keys and buttons in assets/dispatch.js.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t
from dashboard.views.case_actions import DESTRUCTIVE, ActionKind
from dashboard.views.trail import coded
from feeds.cases.machine import LEVELS, REJECT_REASONS
from feeds.cases.suggestions import Suggestion


def _row(id_: str, label: str, control: Any) -> html.Div:
    return html.Div(id=id_, className="act-row", hidden=True, children=[html.Label(label, className="act-label"),
                                                                       control])


def action_panel(lang: str) -> html.Div:
    """The panel's fixed frame: the callbacks fill the buttons and show the rows the chosen action needs."""
    return html.Div(className="act-panel", children=[
        dcc.Store(id=ids.ACT_CHOICE),
        dcc.Store(id=ids.ACT_SEEN),
        dcc.Store(id=ids.ACT_UNDO_DATA),
        dcc.Store(id=ids.ACT_DONE, data=0),
        html.Div(id=ids.ACT_BUTTONS, className="act-buttons"),
        html.Div(id=ids.ACT_FORM, className="act-form", hidden=True, children=[
            html.H4("", id=ids.ACT_TITLE, className="act-title"),
            _row(ids.ACT_TARGET_ROW, t("act_target", lang),
                 dcc.RadioItems(id=ids.ACT_TARGET, options=[], className="act-targets",
                                labelClassName="act-target", inputClassName="act-target-input")),
            html.Div(id=ids.ACT_DEPARTMENT_ROW, className="act-row act-row-pair", hidden=True, children=[
                html.Label([t("act_department", lang),
                            dcc.Dropdown(id=ids.ACT_DEPARTMENT, options=[], clearable=False,
                                         className="act-dropdown")], className="act-label"),
                html.Label([t("act_assignee", lang),
                            dcc.Dropdown(id=ids.ACT_ASSIGNEE, options=[], className="act-dropdown")],
                           className="act-label"),
            ]),
            _row(ids.ACT_HOURS_ROW, t("act_hours", lang),
                 dcc.Input(id=ids.ACT_HOURS, type="number", min=1, max=720, step=1, className="act-hours")),
            _row(ids.ACT_REJECT_ROW, t("act_reject_reason", lang),
                 dcc.RadioItems(id=ids.ACT_REJECT, inline=True, className="chips",
                                inputClassName="chip-input", labelClassName="chip",
                                options=[{"label": t(f"reject_{r}", lang), "value": r} for r in REJECT_REASONS])),
            html.Div(id=ids.ACT_QUICK, className="act-quick"),
            html.Label(t("act_reason", lang), className="act-label", htmlFor=ids.ACT_REASON),
            dcc.Textarea(id=ids.ACT_REASON, className="act-reason", maxLength=500,
                         placeholder=t("act_reason_placeholder", lang)),
            html.Div(className="act-confirm-row", children=[
                html.Button(t("act_confirm", lang), id=ids.ACT_CONFIRM, className="act-confirm", n_clicks=0),
                html.Button(t("act_cancel", lang), id=ids.ACT_CANCEL, className="act-cancel", n_clicks=0),
            ]),
        ]),
        html.Div(className="act-result-row", children=[
            html.Div(id=ids.ACT_RESULT, className="act-result"),
            html.Button(t("act_undo", lang), id=ids.ACT_UNDO, className="act-undo", hidden=True, n_clicks=0),
        ]),
        html.P(t("act_keys", lang), className="act-keys"),
    ])


def action_label(action: ActionKind, lang: str, level: str | None = None) -> str:
    if action is ActionKind.ESCALATE and level:
        index = LEVELS.index(level) if level in LEVELS else 0
        if index + 1 < len(LEVELS):
            return t("act_escalate_to", lang).format(level=coded("level", LEVELS[index + 1], lang))
    return t(f"do_{action.value}", lang)


def action_buttons(case_id: str, actions: Sequence[ActionKind], main: ActionKind | None, chosen: str | None,
                   lang: str, level: str | None = None) -> list[Any]:
    """One button per action, numbered for the keyboard (1–9); the step's own action stands out, those that
    end a case without handling it are marked."""
    if not actions:
        return [html.P(t("act_none", lang), className="act-note")]
    out = []
    for n, action in enumerate(actions, start=1):
        classes = ["act-button"]
        if action is main:
            classes.append("act-main")
        if action in DESTRUCTIVE:
            classes.append("act-danger")
        if action.value == chosen:
            classes.append("act-chosen")
        out.append(html.Button([html.Span(str(n), className="act-key") if n <= 9 else None,
                                action_label(action, lang, level)],
                               className=" ".join(classes), **{"data-action": action.value, "data-case": case_id}))
    return out


def read_only(lang: str) -> list[Any]:
    return [html.P(t("act_read_only", lang), className="act-note")]


def suggestion_label(s: Suggestion, lang: str) -> str:
    """'张三 · 本网格网格员 · 320 米 · 在办 2 件 · 12 秒前定位' (people), '市城管局 · 责任部门 · 在办 5 件'."""
    kind = {"grid_worker": "act_grid_worker", "patrol": "act_patrol", "department": "act_department_kind"}[s.kind]
    parts = [s.name, t(kind, lang)]
    if s.kind != "department":
        if s.distance_m is None:
            parts.append(t("act_off_duty", lang))
        else:
            parts.append(t("act_distance", lang).format(m=f"{s.distance_m:,.0f}"))
    if s.load is not None:
        parts.append(t("act_load", lang).format(n=s.load))
    if s.seen_s is not None:
        parts.append(t("act_seen", lang).format(s=f"{s.seen_s:.0f}"))
    return " · ".join(parts)


def target_value(s: Suggestion) -> str:
    return f"{'department' if s.kind == 'department' else 'person'}:{s.target}"


def target_options(found: Sequence[Suggestion], lang: str) -> list[dict[str, str]]:
    return [{"label": suggestion_label(s, lang), "value": target_value(s)} for s in found]


def person_options(found: Sequence[Suggestion], lang: str) -> list[dict[str, str]]:
    return [{"label": suggestion_label(s, lang), "value": s.target} for s in found if s.kind != "department"]


def department_options(departments: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"label": name, "value": code} for code, name in departments.items()]


def quick_reasons(action: str, lang: str) -> list[Any]:
    """Ready-made reasons as buttons; the browser script copies the chosen one into the reason box."""
    key = f"qr_{action}"
    try:
        reasons = t(key, lang).split("|")
    except KeyError:
        return []
    return [html.Button(r, className="act-quick-reason", **{"data-reason": r}) for r in reasons]


def result_note(kind: str, text: str) -> list[Any]:
    """What became of the last command: kind is done, conflict, refused or waiting."""
    return [html.Span(text, className=f"act-note-{kind}")]
