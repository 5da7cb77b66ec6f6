"""The monthly assessment (月度考核) as tables, and those tables as CSV and XLSX: the same cells in both.

A rate is three columns: the percentage (one decimal; empty when nothing was due, shown "—"), its numerator
and its denominator. Pure functions; the download callback only loads the figures and sends the bytes.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from dashboard.i18n import t
from dashboard.views.leader import DASH, department_name
from feeds.kpis.figures import Mean, Rate, Score
from feeds.kpis.load import AreaEntry, Assessment

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    name: str  # sheet name
    header: list[str]
    rows: list[list[Cell]]
    marked: list[bool] = field(default_factory=list)  # rows to highlight (the top three)


def _rate_head(label: str, lang: str) -> list[str]:
    return [f"{label} %", f"{label} {t('lv_numerator', lang)}", f"{label} {t('lv_denominator', lang)}"]


def _rate(rate: Rate) -> list[Cell]:
    v = rate.percent
    return [None if v is None else round(v, 1), rate.numerator, rate.denominator]


def _score(score: Score) -> list[Cell]:
    return [score.shown, None if score.grade is None else score.grade.value]


def _hours(mean: Mean) -> Cell:
    v = mean.value
    return None if v is None else round(v, 2)


def assessment_tables(assessment: Assessment, directory: Mapping[str, AreaEntry], departments: Mapping[str, str],
                      lang: str) -> list[Table]:
    """Patrollers ranked (top three flagged), areas of every level with their score, departments."""
    L = lambda key: t(key, lang)  # noqa: E731
    people = Table(L("lv_sheet_patrollers"), [
        L("lv_rank"), L("lv_name"), L("lv_id"), L("lv_score"), L("lv_grade_col"), L("lv_top_three"),
        *_rate_head(L("lv_valid_reports"), lang), *_rate_head(L("lv_missed"), lang),
        *_rate_head(L("lv_verify_on_time"), lang), *_rate_head(L("lv_check_on_time"), lang),
        *_rate_head(L("lv_coverage"), lang)], [])
    for r in assessment.patrollers:
        f = r.figures
        people.marked.append(r.top_three)
        people.rows.append([r.rank, r.person.name, r.person.id, *_score(f.score), L("lv_yes") if r.top_three else "",
                            *_rate(f.valid_reports), *_rate(f.missed), *_rate(f.verification.verify),
                            *_rate(f.verification.check), *_rate(f.coverage)])
    areas = Table(L("lv_sheet_areas"), [
        L("lv_level"), L("lv_code"), L("lv_name"), L("lv_score"), L("lv_grade_col"),
        *_rate_head(L("lv_citizen_first"), lang), L("lv_case_count_score"),
        *_rate_head(L("lv_closure"), lang), *_rate_head(L("lv_on_time_closure"), lang),
        *_rate_head(L("lv_discovery_timeliness"), lang), *_rate_head(L("lv_discovery_accuracy"), lang),
        *_rate_head(L("lv_coverage"), lang), *_rate_head(L("lv_verification"), lang),
        *_rate_head(L("lv_rework"), lang), L("lv_open"), L("lv_overdue")], [])
    for level, table in assessment.areas.items():
        for code in sorted(table):
            f = table[code]
            entry = directory.get(code)
            ccs = f.case_count_score
            areas.rows.append([L(f"lv_level_{level}"), code, entry.name if entry else code, *_score(f.score),
                               *_rate(f.citizen_first), None if ccs is None else round(float(ccs), 1),
                               *_rate(f.closure), *_rate(f.on_time_closure), *_rate(f.discovery_timeliness),
                               *_rate(f.discovery_accuracy), *_rate(f.coverage), *_rate(f.verification.both),
                               *_rate(f.rework), f.open, f.overdue])
    depts = Table(L("lv_sheet_departments"), [
        L("lv_code"), L("lv_department"), *_rate_head(L("lv_on_time_handling"), lang),
        *_rate_head(L("lv_rework"), lang), L("lv_avg_handling_hours"), L("lv_holding")], [])
    for code in sorted(assessment.departments):
        f = assessment.departments[code]
        depts.rows.append([code, department_name(code, departments, lang), *_rate(f.on_time_handling),
                           *_rate(f.rework), _hours(f.average_handling_hours), f.open])
    return [people, areas, depts]


def month_label(assessment: Assessment) -> str:
    return f"{assessment.period.start.astimezone(assessment.period.zone):%Y-%m}"


def period_line(assessment: Assessment, lang: str) -> str:
    p = assessment.period
    last = p.end.astimezone(p.zone).date() - timedelta(days=1)
    return t("lv_export_title", lang).format(month=month_label(assessment),
                                             first=f"{p.start.astimezone(p.zone):%Y-%m-%d}", last=f"{last:%Y-%m-%d}")


def to_csv(tables: Sequence[Table], title: str) -> bytes:
    """One CSV: a title line, then each table under its name, a blank line between (UTF-8 with a BOM, so
    spreadsheet programs read the Chinese). A value with nothing due is written "—"."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([title])
    for table in tables:
        w.writerow([])
        w.writerow([table.name])
        w.writerow(table.header)
        w.writerows([[DASH if c is None else c for c in row] for row in table.rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


HEAD_FILL = PatternFill("solid", fgColor="0A1C3A")
TOP_FILL = PatternFill("solid", fgColor="FFF3C4")


def to_xlsx(tables: Sequence[Table], title: str) -> bytes:
    """One workbook, a sheet per table: the title in A1, the header in row 2, numbers as numbers, "—" where
    nothing was due; the top three patrollers' rows filled. Written as a stream (openpyxl's write-only mode):
    the evidence sheets of a city's month hold hundreds of thousands of rows."""
    book = Workbook(write_only=True)
    for table in tables:
        sheet = book.create_sheet(table.name[:31])
        sheet.freeze_panes = "A3"
        for k, head in enumerate(table.header, start=1):
            sheet.column_dimensions[get_column_letter(k)].width = max(8, min(28, len(head) * 1.6))
        sheet.append([_styled(sheet, title, font=Font(bold=True, size=13))])
        sheet.append([_styled(sheet, head, font=Font(bold=True, color="FFFFFF"), fill=HEAD_FILL)
                      for head in table.header])
        for k, row in enumerate(table.rows):
            values = [DASH if c is None else c for c in row]
            if k < len(table.marked) and table.marked[k]:
                sheet.append([_styled(sheet, v, fill=TOP_FILL) for v in values])
            else:
                sheet.append(values)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _styled(sheet: Any, value: Cell, font: Font | None = None, fill: PatternFill | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    return cell
