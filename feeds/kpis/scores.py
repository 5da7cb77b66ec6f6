"""Scores and grades of patrollers and areas (kpi.md's weights)."""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from feeds.kpis.coverage import GridMonth
from feeds.kpis.facts import CaseFacts
from feeds.kpis.values import Grade, Period, Rate


def grade(score: Fraction | float | None) -> Grade | None:
    """A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, else E."""
    if score is None:
        return None
    for floor, g in ((90, Grade.A), (75, Grade.B), (60, Grade.C), (40, Grade.D)):
        if score >= floor:
            return g
    return Grade.E


@dataclass(frozen=True)
class Score:
    """A composite score 0–100: Σ weight × part over the parts that have a value, scaled back to 100% when
    some part has none (nothing was due); no score when no part has one. Computed exactly (fractions), so a
    score on a grade's boundary gets that grade; only what is shown is rounded, to one decimal."""

    parts: tuple[tuple[str, Fraction, Fraction | None], ...]  # (name, weight, value 0–100 or None)

    @property
    def exact(self) -> Fraction | None:
        have = [(w, v) for _, w, v in self.parts if v is not None]
        weight = sum((w for w, _ in have), Fraction(0))
        return sum((w * v for w, v in have), Fraction(0)) / weight if weight else None

    @property
    def value(self) -> float | None:
        exact = self.exact
        return None if exact is None else float(exact)

    @property
    def shown(self) -> float | None:
        """The score as screens and exports show it: the exact score rounded half up to one decimal."""
        exact = self.exact
        return None if exact is None else math.floor(exact * 10 + Fraction(1, 2)) / 10

    @property
    def grade(self) -> Grade | None:
        return grade(self.exact)


def _pct(rate: Rate) -> Fraction | None:
    return rate.exact_percent


def patroller_score(valid_reports: Rate, missed: Rate, verify_on_time: Rate, check_on_time: Rate) -> Score:
    """Valid-report rate × 40% + (1 − missed rate) × 20% + on-time 核实 × 20% + on-time 核查 × 20%."""
    missed_pct = _pct(missed)
    return Score((("valid_reports", Fraction(40, 100), _pct(valid_reports)),
                  ("not_missed", Fraction(20, 100), None if missed_pct is None else 100 - missed_pct),
                  ("verify_on_time", Fraction(20, 100), _pct(verify_on_time)),
                  ("check_on_time", Fraction(20, 100), _pct(check_on_time))))


def case_count_score(cases: int) -> float:
    """Per grid per month: 0 → 100, < 3 → 90, < 5 → 75, < 7 → 60, < 9 → 40, otherwise 0."""
    for below, score in ((1, 100.0), (3, 90.0), (5, 75.0), (7, 60.0), (9, 40.0)):
        if cases < below:
            return score
    return 0.0


def registered_by_grid_month(cases: Iterable[CaseFacts], period: Period, now: datetime) -> dict[GridMonth, int]:
    """Cases registered in the period (by `as_of`) per grid and local calendar month."""
    as_of = period.as_of(now)
    counts: dict[GridMonth, int] = defaultdict(int)
    for c in cases:
        if c.grid is not None and c.registered_at is not None and c.registered_at in period \
                and c.registered_at <= as_of:
            local = c.registered_at.astimezone(period.zone)
            counts[(c.grid, local.year, local.month)] += 1
    return dict(counts)


def area_case_count_score(cases: Iterable[CaseFacts], grids: Collection[str], period: Period,
                          now: datetime) -> Fraction | None:
    """The case-count score of an area: the mean over its grids and the calendar months the period touches
    of each grid's score for the cases registered there in that month (within the period)."""
    return case_count_score_of(registered_by_grid_month(cases, period, now), grids, period)


def case_count_score_of(registered: Mapping[GridMonth, int], grids: Collection[str],
                        period: Period) -> Fraction | None:
    if not grids:
        return None
    scores = [case_count_score(registered.get((g, y, m), 0)) for g in grids for y, m in period.months]
    return Fraction(int(sum(scores)), len(scores))


def area_score(citizen_first: Rate, case_count: Fraction | None, closure_rate: Rate,
               on_time_closure: Rate) -> Score:
    """(100 − citizen-first rate) × 10% + case-count score × 20% + closure rate × 30% + on-time closure × 40%."""
    citizen_pct = _pct(citizen_first)
    return Score((("not_citizen_first", Fraction(10, 100), None if citizen_pct is None else 100 - citizen_pct),
                  ("case_count", Fraction(20, 100), None if case_count is None else Fraction(case_count)),
                  ("closure", Fraction(30, 100), _pct(closure_rate)),
                  ("on_time_closure", Fraction(40, 100), _pct(on_time_closure))))
