"""The replay screen (态势回放, /replay): the wall, under the violet 回放 REPLAY banner, playing a past period.

The wall's own layout is reused as it is; its left column (the live KPI panel, which would show today's
figures) gives way to the replay's controls (play / pause, speed, a progress bar to drag, restart), the
period's own running figures, and a period picker (a plain GET form back to /replay). Pure functions of
data; assets/replay.js plays the frames of /api/replay into the wall's script (assets/wall.js).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t
from dashboard.layouts.drill import drill_banner
from feeds.drills.control import DrillRecord
from feeds.replay.frames import Period

SPEEDS = (1, 5, 10, 30, 60)
DEFAULT_SPEED = 10


def local(at: datetime, zone: str) -> str:
    """A time as the period picker shows it (and reads it back), in the command centre's zone."""
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def period_title(period: Period, record: DrillRecord | None, lang: str, zone: str) -> str:
    """What the banner says is replayed: the drill or the live situation, and the period."""
    z = ZoneInfo(zone)
    start, end = period.start.astimezone(z), period.end.astimezone(z)
    span = f"{start:%Y-%m-%d %H:%M} – {end:%H:%M}" if start.date() == end.date() else \
        f"{start:%Y-%m-%d %H:%M} – {end:%m-%d %H:%M}"
    scope = (record.zh if lang == "zh" else record.en) if record else t("rp_live_scope", lang)
    return f"{scope} · {span}"


def _figure(key: str, lang: str) -> html.Div:
    return html.Div(className=f"rp-figure rp-figure-{key}", children=[
        html.Div("0", className="rp-figure-value", **{"data-figure": key}),
        html.Div(t(f"rp_{key}", lang), className="rp-figure-label"),
    ])


def replay_panel(period: Period, drills: Sequence[DrillRecord], lang: str, zone: str, speed: int) -> html.Section:
    """The left column of the replay screen."""
    scope_options = [html.Option(t("rp_live_scope", lang), value="")] + [
        html.Option(f"{(r.zh if lang == 'zh' else r.en)} · {r.started_at.astimezone(ZoneInfo(zone)):%m-%d %H:%M}",
                    value=r.id) for r in drills]
    return html.Section(id=ids.REPLAY_PANEL, className="panel replay-panel", children=[
        html.H2(t("rp_controls", lang)),
        html.Div(className="rp-bar", children=[
            html.Button(t("rp_pause", lang), id=ids.REPLAY_PLAY, className="rp-button rp-play", type="button"),
            html.Button(t("rp_restart", lang), id=ids.REPLAY_RESTART, className="rp-button", type="button"),
        ]),
        html.Div(id=ids.REPLAY_SPEEDS, className="rp-speeds", children=[
            html.Button(f"{s}×", className="rp-speed" + (" active" if s == speed else ""), type="button",
                        **{"data-speed": str(s)}) for s in SPEEDS]),
        html.Div(className="rp-progress", children=[
            html.Div(className="rp-track", children=[html.Div(className="rp-fill", id=ids.REPLAY_SCRUB)]),
            html.Div(className="rp-times", children=[
                html.Span("--:--:--", id=ids.REPLAY_POSITION, className="rp-position"),
                html.Span(t("rp_loading", lang), id=ids.REPLAY_STATE, className="rp-state"),
                html.Span(local(period.end, zone)[11:], id=ids.REPLAY_END, className="rp-end"),
            ]),
        ]),
        html.H2(t("rp_figures", lang)),
        html.Div(id=ids.REPLAY_FIGURES, className="rp-figures",
                 children=[_figure(k, lang) for k in ("reports", "alerts", "steps", "ended")]),
        html.H2(t("rp_period", lang)),
        html.Form(id=ids.REPLAY_FORM, action="/replay", method="get", className="rp-form", children=[
            html.Label([html.Span(t("rp_from", lang)),
                        dcc.Input(id=ids.REPLAY_FROM, name="from", type="text", value=local(period.start, zone),
                                  className="rp-input", autoComplete="off", debounce=True)]),
            html.Label([html.Span(t("rp_to", lang)),
                        dcc.Input(id=ids.REPLAY_TO, name="to", type="text", value=local(period.end, zone),
                                  className="rp-input", autoComplete="off", debounce=True)]),
            html.Label([html.Span(t("rp_scope", lang)),
                        html.Select(id=ids.REPLAY_SCOPE, name="drill", className="rp-input", children=scope_options)]),
            dcc.Input(type="hidden", name="speed", value=str(speed)),
            dcc.Input(type="hidden", name="lang", value=lang),
            html.Button(t("rp_go", lang), type="submit", className="rp-button rp-go"),
        ]),
        html.Div(t("rp_note", lang), className="rp-note"),
    ])


def replay_config(period: Period, record: DrillRecord | None, zone: str, speed: int, lang: str) -> dict[str, object]:
    """What the replay script needs: the period (epoch ms), the drill, the speed, the picker's values."""
    return {"from": period.start_ms, "to": period.end_ms, "drill": period.drill_id, "speed": speed,
            "fromLocal": local(period.start, zone), "toLocal": local(period.end, zone),
            "title": period_title(period, record, lang, zone)}


def replay_screen(wall: html.Div, period: Period, record: DrillRecord | None, drills: Sequence[DrillRecord],
                  lang: str, zone: str, speed: int) -> html.Div:
    """The wall turned into the replay screen: replay mode in its config, the replay panel on the left,
    the violet banner on top. The wall's script then plays /api/replay instead of the live feed."""
    config_el = wall.children[0]
    data = json.loads(getattr(config_el, "data-config"))
    data["replay"] = replay_config(period, record, zone, speed, lang)
    data["drill"] = period.drill_id  # a drill's cases are the ones shown
    setattr(config_el, "data-config", json.dumps(data, ensure_ascii=False))
    wall.className = f"{wall.className} in-replay"
    body = next(c for c in wall.children if getattr(c, "className", "") == "wall-body")
    body.children[0] = replay_panel(period, drills, lang, zone, speed)
    right = body.children[-1]  # the ticker is the replayed one, not the live one
    for child in right.children:
        if isinstance(child, html.H2) and child.children == t("ticker", lang):
            child.children = t("rp_ticker", lang)
    return html.Div(id=ids.REPLAY_SCREEN, className="drill-screen replay-screen", **{"data-replay": "1"}, children=[
        drill_banner(period_title(period, record, lang, zone), lang, replay=True), wall])


def replay_error(message: str, lang: str) -> html.Div:
    """A replay that cannot be built: the reason, and the way back to a period that can."""
    return html.Div(className="replay-error", children=[
        html.H1(t("rp_title", lang)),
        html.P(t("rp_error", lang).replace("{why}", message)),
        html.A(t("rp_title", lang), href="/replay" + ("?lang=en" if lang == "en" else "")),
    ])
