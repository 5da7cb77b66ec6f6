"""The trainer console (应急演练控制台, /drill): pick a scenario and a speed, start, pause, resume, stop,
inject an event; the drill's clock and progress; its own figures and its score against the targets; past
drills with their reports. Pure functions of data; callbacks/drill.py fills and drives them.
Also the striped 演练 DRILL banner a screen in a drill shows."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from dash import dcc, html

from dashboard import ids
from dashboard.i18n import LANGS, t
from dashboard.views.drill import Figure, PastDrill, ScoreRow, StatusView
from feeds.drills.control import INJECT_REPORTS, SPEEDS, WHERE, ScenarioInfo

STATUS_EVERY_MS = 1000
FIGURES_EVERY_MS = 5000


def drill_banner(title: str, lang: str, *, replay: bool = False) -> html.Div:
    """The bar across the top of a screen in a drill (or a replay): unmistakable from across the room."""
    states = {f"data-{s}": t(f"dr_state_{s}", lang) for s in ("running", "paused", "ended")}
    word = "rp_banner" if replay else "dr_banner"
    return html.Div(id=ids.DRILL_BANNER, className="drill-banner" + (" replay" if replay else ""), **states, children=[
        html.Span(f"{t(word, 'zh')} {t(word, 'en')}", className="drill-banner-word"),
        html.Span(title, className="drill-banner-title"),
        html.Span("--:--:--", id=ids.DRILL_BANNER_CLOCK, className="drill-banner-clock"),
        html.Span(t("dr_banner_note", lang) if not replay else "", className="drill-banner-note"),
    ])


def drill_wall_figures(drill_id: str, lang: str) -> html.Section:
    """The left column of a wall in a drill: the drill's own figures (callbacks/drill.py fills them)."""
    return html.Section(className="panel drill-wall-kpis", children=[
        dcc.Store(id=ids.DRILL_WALL_ID, data=drill_id),
        dcc.Interval(id=ids.DRILL_WALL_TICK, interval=FIGURES_EVERY_MS),
        html.H2(t("dr_kpis", lang)),
        html.Div(id=ids.DRILL_WALL_KPIS, className="dr-figures dr-figures-column"),
    ])


def _button(id_: str, label: str, tone: str) -> html.Button:
    return html.Button(label, id=id_, n_clicks=0, className=f"dr-button dr-{tone}", disabled=True)


def controls(scenarios: Sequence[ScenarioInfo], categories: Mapping[str, str], lang: str) -> html.Section:
    options = [{"label": f"{s.zh if lang == 'zh' else s.en} · {s.duration_min:g} min", "value": s.id}
               for s in scenarios]
    return html.Section(className="dr-panel dr-controls", children=[
        html.H2(t("dr_controls", lang)),
        html.Label(t("dr_scenario", lang), className="dr-label"),
        dcc.Dropdown(id=ids.DRILL_SCENARIO, options=options, value=options[0]["value"] if options else None,
                     clearable=False, className="dr-dropdown", placeholder=t("dr_no_desk", lang)),
        html.Label(t("dr_speed", lang), className="dr-label"),
        dcc.RadioItems(id=ids.DRILL_SPEED, value=10.0, inline=True, className="dr-speeds",
                       inputClassName="chip-input", labelClassName="dr-chip",
                       options=[{"label": f"{s:g}×", "value": s} for s in SPEEDS]),
        dcc.Checklist(id=ids.DRILL_STAFF, value=["staff"], className="dr-staff", inputClassName="dr-check",
                      options=[{"label": t("dr_staff", lang), "value": "staff"}]),
        html.Div(className="dr-buttons", children=[
            _button(ids.DRILL_START, t("dr_start", lang), "start"),
            _button(ids.DRILL_PAUSE, t("dr_pause", lang), "pause"),
            _button(ids.DRILL_RESUME, t("dr_resume", lang), "resume"),
            _button(ids.DRILL_SET_SPEED, t("dr_set_speed", lang), "speed"),
            _button(ids.DRILL_STOP, t("dr_stop", lang), "stop"),
        ]),
        html.H2(t("dr_inject", lang)),
        html.Div(className="dr-inject", children=[
            dcc.Dropdown(id=ids.DRILL_INJECT_CATEGORY, options=[{"label": v, "value": k} for k,
                                                                v in categories.items()],
                         value=next(iter(categories), None), clearable=False, className="dr-dropdown",
                         placeholder=t("dr_category", lang)),
            html.Div(className="dr-inject-row", children=[
                dcc.Dropdown(id=ids.DRILL_INJECT_WHERE, value="any", clearable=False, className="dr-dropdown",
                             options=[{"label": t(f"dr_where_{w}", lang), "value": w} for w in WHERE]),
                dcc.Dropdown(id=ids.DRILL_INJECT_REPORT, value="hotline", clearable=False, className="dr-dropdown",
                             options=[{"label": t(f"dr_report_{r}", lang), "value": r} for r in INJECT_REPORTS]),
                dcc.Input(id=ids.DRILL_INJECT_COUNT, type="number", min=1, max=20, step=1, value=1,
                          className="dr-count", placeholder=t("dr_count", lang)),
            ]),
            dcc.Input(id=ids.DRILL_INJECT_TEXT, type="text", maxLength=200, placeholder=t("dr_text", lang),
                      className="dr-text", autoComplete="off"),
            _button(ids.DRILL_INJECT, t("dr_inject_send", lang), "inject"),
        ]),
        html.Div("", id=ids.DRILL_MESSAGE, className="dr-message", role="status"),
    ])


def status_panel(view: StatusView, lang: str) -> list[html.Div]:
    """The current drill: title and state, the drill clock, elapsed time, the progress bar, who and when."""
    return [
        html.Div(className="dr-status-head", children=[
            html.Span(view.title, className="dr-status-title"),
            html.Span(view.state_label, className=f"dr-state dr-state-{view.state}"),
        ]),
        html.Div(className="dr-clocks", children=[
            html.Div(className="dr-clock", children=[html.Div(view.clock, className="dr-clock-value"),
                                                     html.Div(t("dr_clock", lang), className="dr-clock-label")]),
            html.Div(className="dr-clock", children=[html.Div(view.elapsed, className="dr-clock-value dr-elapsed"),
                                                     html.Div(t("dr_elapsed", lang), className="dr-clock-label")]),
            html.Div(className="dr-clock", children=[html.Div(view.speed, className="dr-clock-value dr-pace"),
                                                     html.Div(t("dr_speed", lang), className="dr-clock-label")]),
        ]),
        html.Div(className="dr-progress", title=t("dr_progress", lang), children=[
            html.Div(className="dr-progress-fill", id=ids.DRILL_PROGRESS, style={"width": f"{view.progress:.1f}%"}),
            html.Span(view.progress_text, className="dr-progress-text"),
        ]),
        html.Div(className="dr-status-lines", children=[
            html.Span(view.drill_id, className="dr-id"),
            *[html.Span(line) for line in (view.started, view.ended, view.injected) if line],
        ]),
        html.Div(view.note, className="dr-note") if view.note else html.Div(),
    ]


def _value(text: str) -> list[object]:
    """'16.0 分钟' as a big number and a small unit, so the tile holds it at any size."""
    number, _, unit = text.partition(" ")
    return [number, html.Span(unit, className="dr-figure-unit")] if unit else [text]


def figures_panel(figures: Sequence[Figure]) -> list[html.Div]:
    return [html.Div(className=f"dr-figure dr-figure-{f.key}", children=[
        html.Div(_value(f.value), className="dr-figure-value"),
        html.Div(f.label, className="dr-figure-label"),
        html.Div(f.detail, className="dr-figure-detail"),
    ]) for f in figures]


def score_table(rows: Sequence[ScoreRow], heads: Sequence[tuple[str, str]], lang: str) -> html.Table | html.Div:
    if not rows or rows[0].cases == 0:
        return html.Div(t("dr_no_cases", lang), className="dr-empty")
    group_label = {"dispatcher": t("dr_by_dispatcher", lang), "team": t("dr_by_team", lang)}
    body, last = [], "total"
    for r in rows:
        if r.group != last:
            body.append(html.Tr(className="dr-group", children=[html.Td(group_label[r.group], colSpan=3 + len(heads))]))
            last = r.group
        cells = [html.Td(r.who, className="dr-who"), html.Td(str(r.cases)),
                 html.Td(str(r.overdue), className="dr-bad" if r.overdue else "")]
        for (mean, pct, ratio), met in zip(r.measures, r.met, strict=True):
            tone = "" if met is None else ("dr-good" if met else "dr-bad")
            cells.append(html.Td(className=tone, children=[html.Span(pct, className="dr-pct"),
                                                           html.Span(f"{ratio} · {mean}", className="dr-sub")]))
        body.append(html.Tr(className=f"dr-row-{r.group}", children=cells))
    head = html.Tr([html.Th(t("dr_who", lang)), html.Th(t("dr_case_count", lang)), html.Th(t("dr_overdue_count", lang)),
                    *[html.Th([html.Span(name), html.Span(target, className="dr-sub")]) for name, target in heads]])
    return html.Table(className="dr-score-table", children=[html.Thead(head), html.Tbody(body)])


def past_list(rows: Sequence[PastDrill], lang: str) -> list[html.Li]:
    if not rows:
        return [html.Li(t("dr_no_past", lang), className="dr-empty")]
    out = []
    for r in rows:
        links = [html.A(t("dr_report_link", lang), href=r.report, target="_blank"),
                 html.A(t("dr_xlsx_link", lang), href=r.xlsx),
                 html.A(t("dr_wall_link", lang), href=r.wall, target="_blank"),
                 html.A(t("dr_dispatch_link", lang), href=r.dispatch, target="_blank")]
        if r.replay:  # ---- replay: an ended drill's period, played on the wall
            links.append(html.A(t("dr_replay_link", lang), href=r.replay, target="_blank", className="dr-replay-link"))
        out.append(html.Li(className="dr-past-item", children=[
            html.Div(className="dr-past-head", children=[html.Span(r.title, className="dr-past-title"),
                                                         html.Span(f"{r.started} – {r.ended}", className="dr-sub")]),
            html.Div(className="dr-past-links", children=links),
        ]))
    return out


def drill_page(scenarios: Sequence[ScenarioInfo], categories: Mapping[str, str], lang: str,
               initial: StatusView) -> html.Div:
    return html.Div(id=ids.DRILL_CONSOLE, className=f"drill-console lang-{lang}", children=[
        dcc.Store(id=ids.DRILL_LANG, data=lang),
        dcc.Store(id=ids.DRILL_CURRENT, data=initial.drill_id or None),
        dcc.Interval(id=ids.DRILL_TICK, interval=STATUS_EVERY_MS),
        dcc.Interval(id=ids.DRILL_FIGURES_TICK, interval=FIGURES_EVERY_MS),
        html.Header(className="dr-bar", children=[
            html.H1([html.Span(t("title", lang), className="bar-title"),
                     html.Span(t("dr_title", lang), className="bar-page")]),
            html.Nav(className="lang-switch", children=[
                html.A(t(f"lang_{code}", lang), href=f"/drill?lang={code}",
                       className="lang-option" + (" active" if code == lang else "")) for code in LANGS]),
        ]),
        html.Main(className="dr-body", children=[
            controls(scenarios, categories, lang),
            html.Section(className="dr-panel dr-centre", children=[
                html.Div(id=ids.DRILL_STATUS, className="dr-status", children=status_panel(initial, lang)),
                html.H2(t("dr_kpis", lang)),
                html.Div(id=ids.DRILL_KPIS, className="dr-figures"),
                html.H2(t("dr_score", lang)),
                html.Div(id=ids.DRILL_SCORE, className="dr-score"),
            ]),
            html.Section(className="dr-panel dr-past", children=[
                html.H2(t("dr_past", lang)),
                html.Ul(id=ids.DRILL_PAST, className="dr-past-list"),
            ]),
        ]),
    ])
