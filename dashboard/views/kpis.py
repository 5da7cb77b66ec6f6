"""The KPI board (feeds/kpis/board.py) as the wall shows it, pure: numerators and denominators in, text out.

A rate with nothing due (denominator 0) reads "—", never 0% or 100%. A rate is rounded to one decimal, but
never up to 100.0 while something is missing, nor down to 0.0 while something counts: 2,499 of 2,500
closed reads 99.9%, not 100.0%. The change against the previous period is in percentage points; all six
rates are better when higher.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dashboard.i18n import t
from feeds.kpis.board import RATES

NO_VALUE = "—"
# (the period shown, the period it is compared with)
COLUMNS = (("today", "yesterday"), ("month", "last_month"))
LABELS = {"today": "kpi_today", "yesterday": "kpi_yesterday", "month": "kpi_month", "last_month": "kpi_last_month"}
SAME_BELOW = 0.05  # points: a change that rounds to 0.0 is no change


@dataclass(frozen=True)
class Cell:
    """One rate for one period, as shown."""

    value: str  # "80.0", or "—"
    unit: str  # "%", or "" with no value
    ratio: str  # "12 / 15"
    change: str  # "▲ 8.6", "▼ 1.2", "持平", or "—"
    trend: str  # better / worse / same / none
    title: str  # the hover text: the numbers behind both periods


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    cells: tuple[Cell, ...]  # today, this month


def percent(num: int, den: int) -> float | None:
    return 100 * num / den if den else None


def percent_text(num: int, den: int) -> str:
    """One decimal; "—" with nothing due; 99.9 / 0.1 rather than a rounded 100.0 / 0.0 that is not so."""
    value = percent(num, den)
    if value is None:
        return NO_VALUE
    text = f"{value:.1f}"
    if text == "100.0" and num < den:
        return "99.9"
    if text == "0.0" and num > 0:
        return "0.1"
    return text


def grouped(n: int) -> str:
    return f"{n:,}"


def ratio_text(num: int, den: int) -> str:
    return f"{grouped(num)} / {grouped(den)}"


def change(now: tuple[int, int], before: tuple[int, int], lang: str = "zh") -> tuple[str, str]:
    """(text, trend) of the change in points from `before` to `now`; "—" when either has no value."""
    a, b = percent(*now), percent(*before)
    if a is None or b is None:
        return NO_VALUE, "none"
    points = a - b
    if abs(points) < SAME_BELOW:
        return t("kpi_same", lang), "same"
    return (f"▲ {points:.1f}", "better") if points > 0 else (f"▼ {-points:.1f}", "worse")


def _rate_line(num: int, den: int, lang: str) -> str:
    value = percent_text(num, den)
    if value == NO_VALUE:
        return f"{ratio_text(num, den)} = {NO_VALUE} ({t('kpi_no_value', lang)})"
    return f"{ratio_text(num, den)} = {value}%"


def cell(label: str, period: str, previous: str, now: tuple[int, int], before: tuple[int, int],
         lang: str = "zh") -> Cell:
    value = percent_text(*now)
    text, trend = change(now, before, lang)
    lines = [f"{label} · {t(LABELS[period], lang)}", _rate_line(*now, lang),
             f"{t(LABELS[previous], lang)}: {_rate_line(*before, lang)}"]
    if trend in ("better", "worse"):
        lines.append(f"{text} {t('kpi_points', lang)}")
    return Cell(value=value, unit="" if value == NO_VALUE else "%", ratio=ratio_text(*now), change=text,
                trend=trend, title="\n".join(lines))


def rows(board: dict[str, Any] | None, lang: str = "zh") -> list[Row]:
    """The six rates, each for today and this month; without a board every figure reads "—"."""
    out = []
    for key in RATES:
        label = t(f"kpi_{key}", lang)
        if board is None:
            empty = Cell(NO_VALUE, "", "", "", "none", label)
            out.append(Row(key, label, (empty, empty)))
            continue
        rates = board["rates"][key]
        out.append(Row(key, label, tuple(cell(label, shown, previous, tuple(rates[shown]), tuple(rates[previous]),
                                              lang)
                                         for shown, previous in COLUMNS)))
    return out


def today_head(board: dict[str, Any] | None, lang: str = "zh") -> str:
    """The head of today's column: the day so far ("今日 截至 02:30"), so that an early-morning figure next to
    the month's is read as what it is."""
    if board is None:
        return t("kpi_today", lang)
    return t("kpi_today_to", lang).format(time=datetime.fromisoformat(board["computed_at"]).strftime("%H:%M"))


def computed_text(board: dict[str, Any] | None, lang: str = "zh") -> str:
    if board is None:
        return t("kpi_waiting", lang)
    at = datetime.fromisoformat(board["computed_at"])
    return t("kpi_computed_at", lang).format(time=at.strftime("%H:%M:%S"))
