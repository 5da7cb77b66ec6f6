"""The leader page's figures as view models: pure functions from feeds.kpis.figures values to plain text and rows.

Every rate is shown with its numerator and denominator; a rate with nothing due is "—", never 0% or 100%.
A change is against the period before (环比): yesterday, last week, last month, or the same number of days
just before a custom range; rates change in percentage points, counts and hours in their own units.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.i18n import t
from feeds.kpis.evidence import WITH_EVIDENCE
from feeds.kpis.figures import AreaFigures, DepartmentFigures, Mean, Period, Ranked, Rate, Score
from feeds.kpis.load import AreaEntry

DASH = "—"
PERIOD_KINDS = ("today", "week", "month", "custom")
TREND_DAYS = 30
MAX_CUSTOM_DAYS = 366


# ---------------------------------------------------------------------------------------------- periods


def period_for(kind: str, now: datetime, zone: ZoneInfo, first: date | None = None,
               last: date | None = None) -> Period:
    """The period the picker names: today, this week (Mon–Sun), this month, or a custom range of days."""
    if kind == "today":
        return Period.today(now, zone)
    if kind == "week":
        return Period.this_week(now, zone)
    if kind == "month":
        return Period.this_month(now, zone)
    if kind == "custom":
        if first is None or last is None:
            raise ValueError("a custom range needs a first and a last day")
        if last < first:
            raise ValueError(f"a custom range must end on or after its first day: {first} – {last}")
        if (last - first).days >= MAX_CUSTOM_DAYS:
            raise ValueError(f"a custom range is at most {MAX_CUSTOM_DAYS} days")
        return Period.dates(first, last, zone)
    raise ValueError(f"unknown period {kind!r}; one of {', '.join(PERIOD_KINDS)}")


def previous_period(kind: str, period: Period) -> Period:
    """The period before, to compare with: the day, week or month before, or as many days just before."""
    zone = period.zone
    first = period.start.astimezone(zone).date()
    last = period.end.astimezone(zone).date() - timedelta(days=1)
    if kind == "month":
        before = first - timedelta(days=1)
        return Period.month(before.year, before.month, zone)
    length = (last - first).days + 1
    return Period.dates(first - timedelta(days=length), first - timedelta(days=1), zone)


def trend_days(now: datetime, zone: ZoneInfo, days: int = TREND_DAYS) -> list[date]:
    """The `days` local days ending today, oldest first."""
    today = now.astimezone(zone).date()
    return [today - timedelta(days=days - 1 - k) for k in range(days)]


def period_label(period: Period, lang: str) -> str:
    first = period.start.astimezone(period.zone).date()
    last = period.end.astimezone(period.zone).date() - timedelta(days=1)
    return f"{first:%Y-%m-%d}" if first == last else f"{first:%Y-%m-%d} – {last:%Y-%m-%d}"


# ---------------------------------------------------------------------------------------------- numbers


def rate_text(rate: Rate) -> str:
    v = rate.percent
    return DASH if v is None else f"{v:.1f}%"


def fraction_text(rate: Rate) -> str:
    return f"{rate.numerator:,}/{rate.denominator:,}"


def hours_text(mean: Mean, lang: str) -> str:
    v = mean.value
    return DASH if v is None else t("lv_hours", lang).format(n=f"{v:.1f}")


def score_text(score: Score) -> str:
    v = score.shown
    return DASH if v is None else f"{v:.1f}"


def grade_text(score: Score) -> str:
    g = score.grade
    return DASH if g is None else g.value


@dataclass(frozen=True)
class Change:
    text: str  # "+2.5 pp", "−3", "—"
    tone: str  # better, worse, flat, none


def _signed(delta: float, digits: int) -> str:
    if round(delta, digits) == 0:
        return f"±{0:.{digits}f}"
    return f"{'+' if delta > 0 else '−'}{abs(delta):.{digits}f}"


def change(current: float | None, previous: float | None, *, higher_is_better: bool, unit: str = "",
           digits: int = 1) -> Change:
    """The change from the period before; no change ("—") when either side has no value."""
    if current is None or previous is None:
        return Change(DASH, "none")
    delta = current - previous
    if round(delta, digits) == 0:
        return Change(_signed(0, digits) + unit, "flat")
    better = (delta > 0) == higher_is_better
    return Change(_signed(delta, digits) + unit, "better" if better else "worse")


# ---------------------------------------------------------------------------------------------- KPI cards


@dataclass(frozen=True)
class Card:
    key: str
    label: str
    value: str
    detail: str  # numerator/denominator, or what an average is over
    hint: str  # the tooltip: what the numerator and denominator are
    change: Change
    group: str  # rates, closure, load
    unit: str = ""  # shown small after the value (hours)


# key, label key, hint key, higher is better, group
RATE_CARDS: tuple[tuple[str, str, str, bool, str], ...] = (
    ("discovery_timeliness", "lv_discovery_timeliness", "lv_hint_discovery_timeliness", True, "rates"),
    ("discovery_accuracy", "lv_discovery_accuracy", "lv_hint_discovery_accuracy", True, "rates"),
    ("coverage", "lv_coverage", "lv_hint_coverage", True, "rates"),
    ("verification", "lv_verification", "lv_hint_verification", True, "rates"),
    ("closure", "lv_closure", "lv_hint_closure", True, "closure"),
    ("on_time_closure", "lv_on_time_closure", "lv_hint_on_time_closure", True, "closure"),
    ("rework", "lv_rework", "lv_hint_rework", False, "closure"),
    ("on_time_handling", "lv_on_time_handling", "lv_hint_on_time_handling", True, "closure"),
)


def _rate_of(figures: AreaFigures, key: str) -> Rate:
    if key == "verification":
        return figures.verification.both
    rate = getattr(figures, key)
    assert isinstance(rate, Rate)
    return rate


def kpi_cards(current: AreaFigures, previous: AreaFigures, lang: str) -> list[Card]:
    """The cards of the KPI panel: the four rates, closure, on-time closure, rework and on-time handling
    (each with numerator/denominator), open and overdue cases, the average handling and dispatch times, and
    the area's composite score, each with its change against the period before."""
    cards = []
    for key, label, hint, higher, group in RATE_CARDS:
        now_rate, before = _rate_of(current, key), _rate_of(previous, key)
        cards.append(Card(key, t(label, lang), rate_text(now_rate), fraction_text(now_rate), t(hint, lang),
                          change(now_rate.percent, before.percent, higher_is_better=higher,
                                 unit=t("lv_pp", lang)), group))
    for key, label in (("open", "lv_open"), ("overdue", "lv_overdue")):
        n, m = getattr(current, key), getattr(previous, key)
        cards.append(Card(key, t(label, lang), f"{n:,}", t("lv_at_end", lang), t(f"lv_hint_{key}", lang),
                          change(n, m, higher_is_better=False, digits=0), "load"))
    for key, label in (("average_handling_hours", "lv_avg_handling"), ("average_dispatch_hours", "lv_avg_dispatch")):
        mean, before_mean = getattr(current, key), getattr(previous, key)
        value = mean.value
        cards.append(Card(key, t(label, lang), DASH if value is None else f"{value:.1f}",
                          t("lv_over_cases", lang).format(n=f"{mean.count:,}"), t(f"lv_hint_{key}", lang),
                          change(value, before_mean.value, higher_is_better=False, unit=t("lv_h", lang)),
                          "load", "" if value is None else t("lv_h", lang).strip()))
    score, before_score = current.score, previous.score
    cards.append(Card("score", t("lv_area_score", lang), score_text(score),
                      t("lv_grade", lang).format(g=grade_text(score)), t("lv_hint_area_score", lang),
                      change(score.value, before_score.value, higher_is_better=True), "load"))
    return cards


GROUPS = (("rates", "lv_four_rates"), ("closure", "lv_closure_group"), ("load", "lv_load_group"))


def card_panel(cards: Sequence[Card], lang: str) -> list[dict[str, Any]]:
    """The cards in three groups (the four rates, closure and handling, workload and speed), as the data the
    page draws them from (dash_clientside.leader.drawCards): a period switch then sends a few kilobytes and
    redraws a dozen cards, not a tree of Dash components."""
    return [{"group": group, "label": t(label, lang),
             "cards": [{"key": c.key, "label": c.label, "value": c.value, "unit": c.unit, "detail": c.detail,
                        "hint": c.hint, "change": c.change.text, "tone": c.change.tone,
                        "evidence": t("ev_open", lang) if c.key in WITH_EVIDENCE else ""}
                       for c in cards if c.group == group]}
            for group, label in GROUPS]


# ---------------------------------------------------------------------------------------------- areas


def area_trail(directory: Mapping[str, AreaEntry], code: str) -> list[AreaEntry]:
    """The breadcrumb: the district down to `code`."""
    if code not in directory:
        raise KeyError(f"unknown area {code!r}")
    out: list[AreaEntry] = []
    at: str | None = code
    while at is not None and at in directory and directory[at] not in out:
        out.append(directory[at])
        at = directory[at].parent
    return out[::-1]


def district_code(directory: Mapping[str, AreaEntry]) -> str:
    codes = [e.code for e in directory.values() if e.level == "district"]
    if not codes:
        raise LookupError("no district is loaded")
    return codes[0]


@dataclass(frozen=True)
class AreaRow:
    code: str
    name: str
    score: str
    grade: str
    closure: str
    closure_detail: str
    on_time_closure: str
    on_time_closure_detail: str
    discovery_timeliness: str
    discovery_timeliness_detail: str
    coverage: str
    coverage_detail: str
    open: int
    overdue: int


def area_rows(table: Mapping[str, AreaFigures], directory: Mapping[str, AreaEntry], *,
              by_score: bool = False) -> list[AreaRow]:
    """Rows of a table of areas: by code (the drill-down table) or best score first (the grid ranking;
    areas without a score last)."""
    codes = sorted(table)
    if by_score:
        codes.sort(key=lambda c: (table[c].score.exact is None, -(table[c].score.exact or 0), c))
    rows = []
    for code in codes:
        f = table[code]
        entry = directory.get(code)
        rows.append(AreaRow(code, entry.name if entry else code, score_text(f.score), grade_text(f.score),
                            rate_text(f.closure), fraction_text(f.closure),
                            rate_text(f.on_time_closure), fraction_text(f.on_time_closure),
                            rate_text(f.discovery_timeliness), fraction_text(f.discovery_timeliness),
                            rate_text(f.coverage), fraction_text(f.coverage), f.open, f.overdue))
    return rows


# ---------------------------------------------------------------------------------------------- rankings


@dataclass(frozen=True)
class PatrollerRow:
    rank: str
    name: str
    id: str
    score: str
    grade: str
    top_three: bool
    valid_reports: str
    valid_reports_detail: str
    verification: str
    verification_detail: str
    coverage: str
    coverage_detail: str


def patroller_rows(ranked: Sequence[Ranked]) -> list[PatrollerRow]:
    rows = []
    for r in ranked:
        f = r.figures
        both = f.verification.both
        rows.append(PatrollerRow(DASH if r.rank is None else str(r.rank), r.person.name, r.person.id,
                                 score_text(f.score), grade_text(f.score), r.top_three,
                                 rate_text(f.valid_reports), fraction_text(f.valid_reports),
                                 rate_text(both), fraction_text(both), rate_text(f.coverage),
                                 fraction_text(f.coverage)))
    return rows


@dataclass(frozen=True)
class DepartmentRow:
    code: str
    name: str
    on_time_handling: str
    on_time_handling_detail: str
    rework: str
    rework_detail: str
    average_handling: str
    open: int


def department_name(code: str, names: Mapping[str, str], lang: str) -> str:
    if lang == "zh":
        return names.get(code, code)
    key = f"lv_dept_{code}"
    try:
        return t(key, lang)
    except KeyError:
        return names.get(code, code)


def department_rows(departments: Mapping[str, DepartmentFigures], names: Mapping[str, str],
                    lang: str) -> list[DepartmentRow]:
    """Departments by on-time handling, best first; those with nothing due last (by code)."""
    codes = sorted(departments, key=lambda d: (departments[d].on_time_handling.value is None,
                                               -(departments[d].on_time_handling.value or 0.0), d))
    return [DepartmentRow(d, department_name(d, names, lang), rate_text(f.on_time_handling),
                          fraction_text(f.on_time_handling), rate_text(f.rework), fraction_text(f.rework),
                          hours_text(f.average_handling_hours, lang), f.open)
            for d in codes for f in (departments[d],)]


# ---------------------------------------------------------------------------------------------- trends

TREND_RATES: tuple[tuple[str, str, str], ...] = (
    ("discovery_timeliness", "lv_discovery_timeliness", "#38bdf8"),
    ("discovery_accuracy", "lv_discovery_accuracy", "#a78bfa"),
    ("coverage", "lv_coverage", "#f472b6"),
    ("verification", "lv_verification", "#facc15"),
    ("closure", "lv_closure", "#34d399"),
    ("on_time_closure", "lv_on_time_closure", "#fb923c"),
)
LOAD_SERIES = (("open", "lv_open", "#2b6cb0"), ("overdue", "lv_overdue", "#ef4444"))


def trend_data(series: Sequence[tuple[date, AreaFigures]], lang: str) -> dict[str, Any]:
    """The 30-day trends as data for the page's charts (drawn in the browser, assets/leader.js): per
    day, the four rates, closure and on-time closure in percent with their numerator/denominator (None where
    nothing was due: a gap in the line, never 0), and the open and overdue cases at the day's end."""
    rates = []
    for key, label, colour in TREND_RATES:
        values = [_rate_of(f, key) for _, f in series]
        rates.append({"label": t(label, lang), "colour": colour,
                      "values": [None if r.percent is None else round(r.percent, 1) for r in values],
                      "details": [fraction_text(r) for r in values]})
    return {
        "days": [d.isoformat() for d, _ in series],
        "rates": {"title": t("lv_trend_rates", lang), "series": rates},
        "load": {"title": t("lv_trend_load", lang), "unit": t("lv_cases", lang),
                 "series": [{"label": t(label, lang), "colour": colour, "values": [getattr(f, key) for _, f in series]}
                            for key, label, colour in LOAD_SERIES]},
    }


def recent_months(now: datetime, zone: ZoneInfo, count: int = 12) -> list[date]:
    """The first days of this month and the `count` − 1 before it, newest first (the export's choices)."""
    day = now.astimezone(zone).date().replace(day=1)
    out = []
    for _ in range(count):
        out.append(day)
        day = (day - timedelta(days=1)).replace(day=1)
    return out


# ---------------------------------------------------------------------------------------------- table rows


def area_records(rows: Sequence[AreaRow], *, ranked: bool = False) -> list[dict[str, Any]]:
    """The rows of a table of areas as the page's table takes them (`ranked`: with their rank, 1 first)."""
    return [{**asdict(r), **({"rank": str(k)} if ranked else {})} for k, r in enumerate(rows, start=1)]


def patroller_records(rows: Sequence[PatrollerRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]


def department_records(rows: Sequence[DepartmentRow]) -> list[dict[str, Any]]:
    return [{**asdict(r), "rank": str(k)} for k, r in enumerate(rows, start=1)]
