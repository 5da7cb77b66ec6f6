"""The evidence behind a figure, as a leader reads it (feeds/kpis/evidence.py makes it): a title, the count
that equals the card, and one row per item with the fact that decided it in words ("首报 14:32,发生 11:05,
时限 2 小时 → 超时"). Pure: rows and names in, dicts for the table out."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.i18n import t
from dashboard.views.assessment import Cell, Table
from dashboard.views.leader import (
    DASH,
    RATE_CARDS,
    department_name,
    fraction_text,
    grade_text,
    rate_text,
    score_text,
)
from dashboard.views.queue import Names
from feeds.kpis.areas import Territory
from feeds.kpis.evidence import (
    COUNTS,
    DEPARTMENT_FIGURES,
    MEANS,
    PERSON_FIGURES,
    WITH_EVIDENCE,
    Evidence,
    mean_of,
    rate_of,
    score_of,
)
from feeds.kpis.load import AreaEntry, HoldersEvidence

LABELS = {key: label for key, label, *_ in RATE_CARDS} | {
    "open": "lv_open", "overdue": "lv_overdue", "average_handling_hours": "lv_avg_handling",
    "average_dispatch_hours": "lv_avg_dispatch", "score": "lv_area_score"}
# a patroller's and a department's figures (feeds/kpis/evidence.py HOLDERS), as their tables name them
HOLDER_LABELS = {
    "person": {"valid_reports": "lv_valid_reports", "missed": "lv_missed", "verification": "lv_verification",
               "verify": "lv_verify_on_time", "check": "lv_check_on_time", "coverage": "lv_coverage",
               "score": "lv_score"},
    "department": {"on_time_handling": "lv_on_time_handling", "rework": "lv_rework",
                   "average_handling_hours": "lv_avg_handling", "holding": "lv_holding"},
}
MISSED_SHOWN = 6  # cells missed named in a coverage row (the rest as "…")


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    return "—" if moment is None else moment.astimezone(zone).strftime("%m-%d %H:%M")


def _hours(h: float) -> str:
    return f"{h:g}" if h == int(h) else f"{h:.1f}"


def _span(h: float, lang: str) -> str:
    """A delay: in minutes under an hour, else in hours."""
    return t("ev_minutes", lang).format(m=round(h * 60)) if h < 1 else t("ev_hours", lang).format(h=_hours(round(h, 1)))


def _then(moment: datetime | None, before: datetime | None, zone: ZoneInfo) -> str:
    """A second time after a first: without its date when on the same day."""
    if moment is None or before is None or moment.astimezone(zone).date() != before.astimezone(zone).date():
        return _when(moment, zone)
    return moment.astimezone(zone).strftime("%H:%M")


def _by(facts: Mapping[str, Any], names: Names, lang: str) -> str:
    """Who did it (a department), as the fact says it; nothing when nobody is named."""
    department = facts.get("department")
    return t("ev_by", lang).format(name=department_name(department, names.departments, lang)) if department else ""


def _share(facts: Mapping[str, Any]) -> str:
    """What a part of the score adds to it: its value × its weight."""
    return f"{float(facts['weight'] * facts['value']):.1f}"


def fact_text(row: Evidence, names: Names, lang: str, zone: ZoneInfo) -> str:
    """What decided the row, in words."""
    f = row.facts
    if row.fact == "discovery":
        limit = t("ev_hours", lang).format(h=_hours(f["limit_h"]))
        if f["occurred"] is None:
            return t("ev_discovery_unknown", lang).format(reported=_when(f["reported"], zone),
                                                          by=t(f"ev_ch_{f['first_by']}", lang))
        return t("ev_discovery", lang).format(occurred=_when(f["occurred"], zone),
                                              reported=_then(f["reported"], f["occurred"], zone),
                                              delay=_span(f["delay_h"], lang), limit=limit)
    if row.fact == "registered":
        return t("ev_registered", lang).format(registered=_when(f["registered"], zone),
                                               by=t(f"ev_ch_{f['first_by']}", lang),
                                               verdict=t("ev_missed" if row.counted else "ev_not_missed", lang))
    if row.fact == "decision":
        outcome = f["outcome"]
        return t("ev_decided", lang).format(at=_when(row.at, zone), outcome=t(f"ev_outcome_{outcome}", lang))
    if row.fact == "run":
        return t("ev_run", lang).format(step=t(f"ev_step_{f['step']}", lang), who=_by(f, names, lang),
                                        deadline=_when(f["deadline"], zone),
                                        done=_then(f["done"], f["deadline"], zone) if f["done"]
                                        else t("ev_not_done", lang))
    if row.fact == "open":
        if f["step"] is None:
            return t("ev_open_between", lang).format(reported=_when(f["reported"], zone))
        return t("ev_open_overdue" if f["overdue"] else "ev_open_step", lang).format(
            step=t(f"ev_step_{f['step']}", lang), since=_when(f["since"], zone), deadline=_when(f["deadline"], zone))
    if row.fact == "span":
        return t(f"ev_span_{f['kind']}", lang).format(who=_by(f, names, lang), start=_when(f["start"], zone),
                                                      end=_then(f["end"], f["start"], zone))
    if row.fact == "part":  # the part's name first: the table's narrow columns are a case's
        name = t(f"ev_part_{f['part']}", lang) + t("ev_colon", lang)
        if f["value"] is None:
            return name + t("ev_part_none", lang)
        said = t("ev_part", lang).format(value=f"{float(f['value']):.1f}", weight=f"{float(f['weight']) * 100:g}",
                                         contribution=_share(f))
        return name + said + (t("ev_part_grids", lang).format(n=f["grids"]) if f["grids"] is not None else "")
    if row.fact == "coverage":
        missed = f["missed"]
        shown = "、".join(missed[:MISSED_SHOWN]) + ("…" if len(missed) > MISSED_SHOWN else "")
        return t("ev_coverage" if missed else "ev_coverage_all", lang).format(
            day=f"{f['day']:%m-%d}", visited=f["visited"], cells=f["cells"], missed=shown)
    if row.fact == "closure":
        closed = _then(f["closed"], f["deadline"], zone) if f["closed"] else t("ev_not_closed", lang)
        return t("ev_closure", lang).format(deadline=_when(f["deadline"], zone), closed=closed)
    return t("ev_rework", lang).format(handled=_when(f["handled"], zone))


def evidence_rows(rows: Sequence[Evidence], names: Names, lang: str, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The table's rows: the case, its grid, category and source, when it fell in the period, the fact, and
    whether it counts in the numerator; a case counted twice (two verifications) has two rows."""
    return [{"key": f"{r.case_id or r.grid}#{n}", "case": r.case_id,
             "grid": names.grids.get(r.grid or "", r.grid or "—"),
             "category": "" if r.fact == "part" else names.categories.get(r.category, r.category),
             "channel": t(f"ev_ch_{r.channel}", lang) if r.channel else "",
             "at": "" if r.fact == "part" else r.at.astimezone(zone).strftime("%m-%d") if r.fact == "coverage"
             else _when(r.at, zone),
             "fact": fact_text(r, names, lang, zone),
             "counted": _counted(r, lang),
             "hit": r.counted, "part": r.numerator, "whole": r.whole}
            for n, r in enumerate(rows)]


def counted_heading(figure: str) -> str:
    """The heading (its key) of the column saying what each row of `figure` puts in it."""
    return ("ev_counted_hours" if figure in MEANS else "ev_counted_part" if figure == "score"
            else "ev_counted_cells" if figure == "coverage" else "ev_counted")


def _counted(row: Evidence, lang: str) -> str:
    """What the row puts in the figure: its cells walked of its cells, its span, or whether it counts."""
    if row.fact == "coverage":
        return f"{row.numerator}/{row.whole}"
    if row.fact == "part":  # what the part adds to the score (before the weights of parts without a value)
        return DASH if row.facts["value"] is None else _share(row.facts)
    if row.fact == "span":  # hours to the hundredth: an auditor adds them up
        return t("ev_hours", lang).format(h=f"{row.facts['span_us'] / 3_600_000_000:.2f}")
    return t("ev_yes" if row.counted else "ev_no", lang)


SHOWN_MAX = 10_000  # rows sent to the screen at most (a city's month holds ~100,000: those are in the workbook)


def shown_rows(rows: Sequence[Evidence], limit: int = SHOWN_MAX) -> list[Evidence]:
    """What the screen lists of a figure's rows: all of them, or when there are more than `limit`, those that
    are not (wholly) counted first, then the others, oldest first in each, up to `limit`."""
    if len(rows) <= limit:
        return list(rows)
    return ([r for r in rows if r.numerator < r.whole] + [r for r in rows if r.numerator == r.whole])[:limit]


def evidence_title(figure: str, area_name: str, period_label: str, lang: str, holder: tuple[str, str] | None = None
                   ) -> str:
    """What the drawer lists: the figure, of whom (`holder`: its kind and name, for a patroller's or a
    department's figure; else the area's), where and when."""
    if holder is None:
        return f"{t(LABELS[figure], lang)} · {area_name} · {period_label}"
    kind, name = holder
    return f"{t(HOLDER_LABELS[kind][figure], lang)} · {name} · {area_name} · {period_label}"


def evidence_sum(rows: Sequence[Evidence], lang: str, figure: str = "") -> str:
    """The count, as the card shows it: counted / all = the rate; a count's, how many."""
    rate = rate_of(rows)
    listed = "" if len(rows) <= SHOWN_MAX else t("ev_listed", lang).format(n=f"{SHOWN_MAX:,}", all=f"{len(rows):,}")
    if figure in COUNTS:
        return t("ev_count", lang).format(n=f"{rate.denominator:,}") + listed
    if figure == "score":
        score = score_of(rows)
        return t("ev_score", lang).format(score=score_text(score), grade=grade_text(score)) + listed
    if figure in MEANS:
        mean = mean_of(rows)
        hours = t("ev_hours", lang)
        return t("ev_mean", lang).format(mean=DASH if mean.value is None else hours.format(h=f"{mean.value:.1f}"),
                                         total=hours.format(h=f"{mean.total_hours:,.1f}"),
                                         n=f"{mean.count:,}") + listed
    return t("ev_sum", lang).format(n=f"{rate.numerator:,}", d=f"{rate.denominator:,}", rate=rate_text(rate),
                                    fraction=fraction_text(rate)) + listed


def _streets(directory: Mapping[str, AreaEntry]) -> Callable[[str | None], tuple[str, str]]:
    """A grid's street and community, by name."""
    def up(code: str | None) -> tuple[str, str]:
        community = directory.get(directory[code].parent or "") if code in directory else None
        street = directory.get(community.parent or "") if community is not None else None
        return (street.name if street else "", community.name if community else "")
    return up


_CASE_HEAD = ("ev_case", "lv_level_street", "lv_level_community", "ev_grid", "ev_category", "ev_channel", "ev_at",
              "ev_fact", "ev_counted")


def _case_cells(rows: Sequence[Evidence], names: Names, up: Callable[[str | None], tuple[str, str]], lang: str,
                zone: ZoneInfo) -> list[list[Cell]]:
    """Each row as the sheets write it: the case, its street, community and grid, what decided it, whether it
    counted."""
    return [[r.case_id, *up(r.grid), shown["grid"], shown["category"], shown["channel"], shown["at"], shown["fact"],
             shown["counted"]] for r, shown in zip(rows, evidence_rows(rows, names, lang, zone), strict=True)]


def evidence_tables(evidence: Mapping[str, Sequence[Evidence]], names: Names, directory: Mapping[str, AreaEntry],
                    lang: str, zone: ZoneInfo) -> list[Table]:
    """A sheet per figure for the monthly assessment's workbook: every item with its street, community and
    grid (so that a street can check its own), the fact that decided it and whether it counted."""
    up = _streets(directory)
    return [Table(f"{t('ev_sheet', lang)}-{t(LABELS[figure], lang)}",
                  [*(t(k, lang) for k in _CASE_HEAD[:-1]), t(counted_heading(figure), lang)],
                  _case_cells(rows, names, up, lang, zone))
            for figure, rows in evidence.items()]


def holder_tables(found: HoldersEvidence, names: Names, directory: Mapping[str, AreaEntry], lang: str,
                  zone: ZoneInfo) -> list[Table]:
    """Two sheets for the monthly assessment's workbook: every item behind each patroller's figures (their rows
    in the ranking) and each department's, the person or department and the figure leading each row."""
    up = _streets(directory)
    people = Table(f"{t('ev_sheet', lang)}-{t('lv_sheet_patrollers', lang)}",
                   [t("lv_name", lang), t("lv_id", lang), t("ev_figure", lang), *(t(k, lang) for k in _CASE_HEAD)], [])
    for p in found.people:
        for figure in PERSON_FIGURES:
            rows = found.persons[p.id][figure]
            label = t(HOLDER_LABELS["person"][figure], lang)
            people.rows.extend([p.name, p.id, label, *cells] for cells in _case_cells(rows, names, up, lang, zone))
    departments = Table(f"{t('ev_sheet', lang)}-{t('lv_sheet_departments', lang)}",
                        [t("lv_department", lang), t("lv_code", lang), t("ev_figure", lang),
                         *(t(k, lang) for k in _CASE_HEAD)], [])
    for code, figures in found.departments.items():
        name = department_name(code, names.departments, lang)
        for figure in DEPARTMENT_FIGURES:
            label = t(HOLDER_LABELS["department"][figure], lang)
            departments.rows.extend([name, code, label, *cells]
                                    for cells in _case_cells(figures[figure], names, up, lang, zone))
    return [people, departments]


WORKBOOK_GRIDS_MAX = 300  # an area of more grids gets no evidence sheets (a city's month: ~800,000 rows, ~95 s)


def grids_under(directory: Mapping[str, AreaEntry], code: str) -> int:
    """How many grids lie in the area `code`."""
    return len(Territory({c: e.parent for c, e in directory.items()},
                         {c: e.level for c, e in directory.items()}).grids_under(code))


def too_big_table(name: str, grids: int, lang: str) -> Table:
    """In place of the evidence sheets of an area too big for them: where to get them."""
    return Table(t("ev_sheet", lang), [t("ev_fact", lang)],
                 [[t("ev_too_big", lang).format(area=name, grids=f"{grids:,}", most=WORKBOOK_GRIDS_MAX)]])


def is_evidenced(figure: object) -> bool:
    return isinstance(figure, str) and figure in WITH_EVIDENCE


# the columns of the patrollers' and departments' tables (dashboard/layouts/leader.py) that open their evidence,
# and the figure each shows
HOLDER_COLUMNS = {
    "person": {"score": "score", "valid_reports": "valid_reports", "verification": "verification",
               "coverage": "coverage"},
    "department": {"on_time_handling": "on_time_handling", "rework": "rework",
                   "average_handling": "average_handling_hours", "open": "holding"},
}


def holder_asked(kind: str, cell: object) -> tuple[str, str] | None:
    """(whose code, figure) of a click on a cell of a patroller's or a department's row; None for a cell that
    opens nothing (a name, a rank) or a click not made by the table (a forged one)."""
    if not isinstance(cell, dict):
        return None
    code, column = cell.get("rowId"), cell.get("colId")
    figure = HOLDER_COLUMNS.get(kind, {}).get(column) if isinstance(column, str) else None
    if not isinstance(code, str) or not code or len(code) > 128 or figure is None:
        return None
    return code, figure

