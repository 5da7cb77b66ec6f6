"""Scores are exact: a score on a grade's boundary gets that grade (kpi.md's weights sum to 100%)."""
from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.kpis.figures import Grade, Rate, area_score, patroller_score

FLOORS = ((90, Grade.A), (75, Grade.B), (60, Grade.C), (40, Grade.D))


def _oracle(weights_pct: list[int], parts: list[tuple[int, int]]) -> Grade:
    """The grade by integers only: Σ w·(100·n/d) / 100 ≥ floor  ⟺  Σ w·100·n·(D/d) ≥ floor·100·D."""
    common = 1
    for _, d in parts:
        common *= d
    total = sum(w * 100 * n * (common // d) for w, (n, d) in zip(weights_pct, parts, strict=True))
    for floor, grade in FLOORS:
        if total >= floor * 100 * common:
            return grade
    return Grade.E


def test_a_score_of_exactly_60_gets_c_and_shows_60():
    # 100 × 40% + (100 − 33⅓) × 20% + 11⅑ × 20% + 22⅖ × 20% = 40 + 13⅓ + 2⅖ + 4⅘ = 60
    score = patroller_score(Rate(1, 1), Rate(1, 3), Rate(1, 9), Rate(2, 9))
    assert score.exact == 60 and score.grade is Grade.C and score.shown == 60.0
    floating = (0.4 * 100 + 0.2 * (100 - 100 / 3) + 0.2 * (100 / 9) + 0.2 * (200 / 9)) / (0.4 + 0.2 + 0.2 + 0.2)
    assert floating < 60  # what the sum in floating point made of it: grade D


def test_every_patroller_score_with_small_denominators_gets_its_true_grade():
    rates = [(n, d) for d in range(1, 6) for n in range(d + 1)]
    wrong = []
    for valid, missed, verify, check in itertools.product(rates, repeat=4):
        got = patroller_score(Rate(*valid), Rate(*missed), Rate(*verify), Rate(*check)).grade
        not_missed = (missed[1] - missed[0], missed[1])
        if got is not _oracle([40, 20, 20, 20], [valid, not_missed, verify, check]):
            wrong.append((valid, missed, verify, check, got))
    assert wrong == []


@settings(max_examples=2000)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 50)).filter(lambda r: r[0] <= r[1]), min_size=3,
                max_size=3), st.sampled_from([0, 40, 60, 75, 90, 100]))
def test_every_area_score_gets_its_true_grade(parts, case_count):
    (cn, cd), (closed, due), (on_time, due2) = parts
    got = area_score(Rate(cn, cd), case_count, Rate(closed, due), Rate(on_time, due2)).grade
    assert got is _oracle([10, 20, 30, 40], [(cd - cn, cd), (case_count, 100), (closed, due), (on_time, due2)])
