"""HTTP routes of drills: the after-action report (one page of HTML, printable; and an XLSX workbook) and a
drill's status for the banner of its screens. The numbers come from feeds/drills/reads.py through
dashboard/views/drill.py, exactly as the console shows them. Access is the path policy's
(dashboard/security/access.py): the report needs RUN_DRILLS, the status VIEW_WALL.

Case text comes from the field and is untrusted: every value is escaped in the HTML.
"""
from __future__ import annotations

import io
from datetime import UTC, datetime
from html import escape
from typing import Any

import redis
from flask import Flask, Response, abort, jsonify, request
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy.engine import Engine

from dashboard.i18n import LANGS, t
from dashboard.views.drill import (
    NO_VALUE,
    drill_figures,
    local_time,
    measure_heads,
    score_rows,
    speed_text,
)
from feeds.cases.reads import actor_names
from feeds.clock import ms
from feeds.drills.control import DrillDeskClient, DrillState, drill_record
from feeds.drills.reads import DrillFile, load_drill
from feeds.kpis.figures import KpiRules
from feeds.settings import Settings
from feeds.taxonomy import load as load_taxonomy

REPORT_PATH = "/drill/report/"
STATUS_PATH = "/api/drills/"


def _lang() -> str:
    lang = request.args.get("lang", "zh")
    return lang if lang in LANGS else "zh"


def _minutes(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.1f}"


def report_tables(file: DrillFile, lang: str, names: dict[str, str], zone: str) -> dict[str, Any]:
    """What the report shows, as plain rows (shared by the HTML and the XLSX)."""
    record, score = file.record, file.score
    speeds = sorted({s for _, _, s in record.clock.segments if s > 0})
    facts = [
        (t("dr_scenario", lang), record.zh if lang == "zh" else record.en),
        ("ID", record.id),
        (t("dr_period", lang), (f"{local_time(ms(record.started_at), zone)} – "
                                f"{local_time(ms(record.ended_at), zone) if record.ended_at else NO_VALUE}")),
        (t("dr_speed", lang), ", ".join(speed_text(s) for s in speeds) or NO_VALUE),
        (t("dr_started", lang).format(by=record.started_by, at=""), ""),
    ]
    if record.ended_by:
        facts.append((t("dr_ended", lang).format(by=names.get(record.ended_by, record.ended_by), at=""), ""))
    figures = [(f.label, f.value, f.detail) for f in drill_figures(file.figures, score, lang)]
    heads = measure_heads(score.targets, lang)
    rows = score_rows(score, lang, names)
    cases = [(c.case_id, file.descriptions.get(c.case_id, ""), names.get(c.dispatcher or "", c.dispatcher or NO_VALUE),
              names.get(c.team or "", c.team or NO_VALUE), _minutes(c.minutes["dispatch"]),
              _minutes(c.minutes["arrive"]),
              _minutes(c.minutes["close"]), t("dr_yes" if c.overdue else "dr_no", lang)) for c in score.cases]
    return {"facts": facts, "figures": figures, "heads": heads, "rows": rows, "cases": cases}


_CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Microsoft YaHei",sans-serif;margin:24px 32px;color:#0b1a33;font-size:13px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:15px;margin:16px 0 6px;border-bottom:2px solid #0b2146}
.banner{background:repeating-linear-gradient(135deg,#facc15 0 14px,#111 14px 28px);height:8px;margin-bottom:10px}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #c9d3e3;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef3fb}.facts td:first-child{width:16%;color:#44546f}.figs td{text-align:center}
.figs .v{font-size:20px;font-weight:700}.sub{color:#5a6b88;font-size:11px;display:block}
.good{background:#e7f7ec}.bad{background:#fdeaea}.group td{background:#f5f7fb;font-weight:700}
.cases td{font-size:11px}@media print{body{margin:8mm}}
"""


def report_html(file: DrillFile, lang: str, names: dict[str, str], zone: str) -> str:
    data = report_tables(file, lang, names, zone)
    e = escape
    facts = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in data["facts"])
    figs = "".join(f"<td><span class='v'>{e(v)}</span><span class='sub'>{e(label)}</span>"
                   f"<span class='sub'>{e(detail)}</span></td>" for label, v, detail in data["figures"])
    head = "".join(f"<th>{e(name)}<span class='sub'>{e(target)}</span></th>" for name, target in data["heads"])
    group_label = {"dispatcher": t("dr_by_dispatcher", lang), "team": t("dr_by_team", lang)}
    body, last = [], "total"
    for r in data["rows"]:
        if r.group != last:
            body.append(f"<tr class='group'><td colspan='{3 + len(data['heads'])}'>{e(group_label[r.group])}</td></tr>")
            last = r.group
        cells = "".join(
            f"<td class='{'' if met is None else ('good' if met else 'bad')}'>{e(pct)}"
            f"<span class='sub'>{e(ratio)} · {e(mean)}</span></td>"
            for (mean, pct, ratio), met in zip(r.measures, r.met, strict=True))
        body.append(f"<tr><td>{e(r.who)}</td><td>{r.cases}</td><td>{r.overdue}</td>{cells}</tr>")
    case_head = "".join(f"<th>{e(h)}</th>" for h in (
        t("dr_case", lang), "", t("dr_by_dispatcher", lang), t("dr_by_team", lang),
        *(f"{name} ({t('dr_minutes', lang).format(n='')})" for name, _ in data["heads"]), t("dr_overdue", lang)))
    cases = "".join("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in row) + "</tr>" for row in data["cases"])
    title = t("dr_report_title", lang)
    return (f"<!doctype html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
            f"<title>{e(title)} · {e(file.record.id)}</title><style>{_CSS}</style></head><body>"
            f"<div class='banner'></div><h1>{e(title)}</h1>"
            f"<table class='facts'>{facts}</table>"
            f"<h2>{e(t('dr_kpis', lang))}</h2><table class='figs'><tr>{figs}</tr></table>"
            f"<h2>{e(t('dr_score', lang))}</h2><table class='score'><tr><th>{e(t('dr_who', lang))}</th>"
            f"<th>{e(t('dr_case_count', lang))}</th><th>{e(t('dr_overdue_count', lang))}</th>{head}</tr>"
            f"{''.join(body)}</table>"
            f"<h2>{e(t('dr_cases_list', lang))}</h2><table class='cases'><tr>{case_head}</tr>{cases}</table>"
            f"</body></html>")


def report_xlsx(file: DrillFile, lang: str, names: dict[str, str], zone: str) -> bytes:
    data = report_tables(file, lang, names, zone)
    book = Workbook()
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="EEF3FB")
    summary = book.active
    summary.title = t("dr_report_title", lang)[:31]
    for k, v in data["facts"]:
        summary.append([k, v])
    summary.append([])
    summary.append([t("dr_kpis", lang)])
    summary[summary.max_row][0].font = bold
    for label, value, detail in data["figures"]:
        summary.append([label, value, detail])
    score = book.create_sheet(t("dr_score", lang)[:31])
    score.append([t("dr_who", lang), t("dr_case_count", lang), t("dr_overdue_count", lang),
                  *[f"{name} {t('dr_within', lang)} ({target})" for name, target in data["heads"]],
                  *[f"{name} ({t('dr_minutes', lang).format(n='')})".replace(" )", ")") for name, _ in data["heads"]]])
    for cell in score[1]:
        cell.font, cell.fill = bold, fill
    for r in data["rows"]:
        score.append([r.who if r.group == "total" else f"{t('dr_by_' + r.group, lang)} · {r.who}", r.cases, r.overdue,
                      *[f"{pct} ({ratio})" if ratio else pct for _, pct, ratio in r.measures],
                      *[mean for mean, _, _ in r.measures]])
    cases = book.create_sheet(t("dr_cases_list", lang)[:31])
    cases.append([t("dr_case", lang), "", t("dr_by_dispatcher", lang), t("dr_by_team", lang),
                  *[name for name, _ in data["heads"]], t("dr_overdue", lang)])
    for cell in cases[1]:
        cell.font, cell.fill = bold, fill
    for row in data["cases"]:
        cases.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def attach(server: Flask, engine: Engine, settings: Settings, desk: DrillDeskClient) -> None:
    taxonomy = load_taxonomy()

    def _file(drill_id: str) -> tuple[DrillFile, dict[str, str]]:
        rules = KpiRules(taxonomy, settings.working_calendar())
        with engine.connect() as conn:
            file = load_drill(conn, drill_id, rules, datetime.now(UTC))
            names = {**actor_names(conn), **taxonomy.departments}
        if file is None:
            abort(404)
        return file, names

    @server.get(REPORT_PATH + "<drill_id>")
    def _report(drill_id: str) -> Any:
        lang = _lang()
        if drill_id.endswith(".xlsx"):
            file, names = _file(drill_id[:-5])
            return Response(report_xlsx(file, lang, names, settings.timezone),
                            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": f"attachment; filename=drill-{file.record.id}.xlsx",
                                     "Cache-Control": "no-store"})
        file, names = _file(drill_id)
        return Response(report_html(file, lang, names, settings.timezone), mimetype="text/html",
                        headers={"Cache-Control": "no-store"})

    @server.get(STATUS_PATH + "<drill_id>/status")
    def _status(drill_id: str) -> Any:
        """For the banner: the running drill's status from the desk, or a past drill's from its record."""
        try:
            status = desk.status()
        except redis.RedisError:
            status = None
        if status is not None and status.id == drill_id:
            data = status.to_dict()
        else:
            with engine.connect() as conn:
                record = drill_record(conn, drill_id)
            if record is None:
                abort(404)
            end = record.ended_at or datetime.now(UTC)
            data = {"id": record.id, "zh": record.zh, "en": record.en, "state": DrillState.ENDED.value,
                    "speed": 0, "starts_at": record.starts_at, "duration_min": record.duration_min,
                    "elapsed_ms": record.clock.drill_ms(end) - ms(record.started_at), "updated_at": ms(end)}
        keep = ("id", "zh", "en", "state", "speed", "starts_at", "duration_min", "elapsed_ms", "updated_at", "progress")
        response = jsonify({k: data.get(k) for k in keep})
        response.headers["Cache-Control"] = "no-store"
        return response
