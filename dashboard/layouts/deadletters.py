"""Dead letters (拒收消息): what the ingest refused, with the reason, for an operator. Read-only; re-drive
with `python -m feeds.ingest.deadletters redrive ID`. One table (an AG Grid fed with rows): the page lists up to 200
letters, each shown as plain text."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import dash_ag_grid as dag
from dash import html

from dashboard.i18n import t
from dashboard.layouts.tables import GRID_THEME
from feeds.ingest.deadletters import DeadLetterView

STAGES = {"decode": ("解析", "decode"), "schema": ("格式", "schema"), "filter": ("过滤", "filter"),
          "refused": ("拒绝执行", "refused"), "persist": ("存储", "persist"), "delivery": ("投递", "delivery")}
PAYLOAD_SHOWN = 400  # characters of a payload on the page (the CLI shows it whole)
DEAD_LETTERS_TABLE = "dead-letters-table"


def dead_letter_rows(letters: list[DeadLetterView], lang: str, timezone: str) -> list[dict[str, Any]]:
    """One record per letter: when (in the centre's zone), channel, stage, reason and the payload's start."""
    zone = ZoneInfo(timezone)
    return [{"id": str(d.id), "time": f"{d.received_at.astimezone(zone):%m-%d %H:%M:%S}", "channel": d.channel,
             "stage": STAGES.get(d.stage, (d.stage, d.stage))[0 if lang == "zh" else 1], "reason": d.reason,
             "payload": d.payload[:PAYLOAD_SHOWN] + ("…" if len(d.payload) > PAYLOAD_SHOWN else "")}
            for d in letters]


def dead_letters_page(letters: list[DeadLetterView], lang: str, timezone: str) -> html.Div:
    empty = f"<span class='lv-grid-empty'>{t('dl_none', lang)}</span>"
    heads = dict(zip(("time", "channel", "stage", "reason", "payload"),
                     (t(k, lang) for k in ("dl_time", "dl_channel", "dl_stage", "dl_reason", "dl_payload")),
                     strict=True))
    wrapped = {"wrapText": True, "autoHeight": True}
    columns = [{"field": "time", "headerName": heads["time"], "width": 170},  # newest first, as read
               {"field": "channel", "headerName": heads["channel"], "width": 200},
               {"field": "stage", "headerName": heads["stage"], "width": 110},
               {"field": "reason", "headerName": heads["reason"], "flex": 1, "minWidth": 240, "cellClass": "reason",
                **wrapped},
               {"field": "payload", "headerName": heads["payload"], "flex": 1.6, "minWidth": 300,
                "cellClass": "payload", **wrapped}]
    return html.Div(className=f"ops-page lang-{lang}", children=[
        html.H1(t("dead_letters", lang)),
        html.P(t("dl_hint", lang).format(n=len(letters)), className="ops-hint"),
        dag.AgGrid(id=DEAD_LETTERS_TABLE, className="lv-grid ops-grid", columnDefs=columns,
                   rowData=dead_letter_rows(letters, lang, timezone), getRowId="params.data.id",
                   defaultColDef={"sortable": True, "filter": True, "resizable": True},
                   dashGridOptions={"theme": GRID_THEME, "suppressCellFocus": True, "animateRows": False,
                                    "overlayNoRowsTemplate": empty},
                   style={"height": "calc(100vh - 9rem)", "width": "100%"}),
    ])
