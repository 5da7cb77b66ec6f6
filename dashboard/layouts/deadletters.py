"""Dead letters (拒收消息): what the ingest refused, with the reason, for an operator. Read-only; re-drive
with `python -m feeds.deadletters redrive ID`."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from dash import html

from dashboard.i18n import t
from feeds.deadletters import DeadLetterView

STAGES = {"decode": ("解析", "decode"), "schema": ("格式", "schema"), "filter": ("过滤", "filter")}


def dead_letters_page(letters: list[DeadLetterView], lang: str = "zh", timezone: str = "Asia/Shanghai") -> html.Div:
    zone = ZoneInfo(timezone)
    head = [t(k, lang) for k in ("dl_time", "dl_channel", "dl_stage", "dl_reason", "dl_payload")]
    rows = [
        html.Tr(className="dead-letter", children=[
            html.Td(f"{d.received_at.astimezone(zone):%m-%d %H:%M:%S}", className="nowrap"),
            html.Td(d.channel, className="nowrap"),
            html.Td(STAGES.get(d.stage, (d.stage, d.stage))[0 if lang == "zh" else 1], className="nowrap"),
            html.Td(d.reason, className="reason"),
            html.Td(html.Code(d.payload[:400] + ("…" if len(d.payload) > 400 else "")), className="payload"),
        ])
        for d in letters
    ]
    return html.Div(className=f"ops-page lang-{lang}", children=[
        html.H1(t("dead_letters", lang)),
        html.P(t("dl_hint", lang).format(n=len(letters)), className="ops-hint"),
        html.Table(className="ops-table", children=[
            html.Thead(html.Tr([html.Th(h) for h in head])),
            html.Tbody(rows or [html.Tr(html.Td(t("dl_none", lang), colSpan=5, className="empty"))]),
        ]),
    ])
