"""Every figure answers "which cases?": the evidence behind each figure of the leader page, for the district,
the street, the community and each grid of the hand-computed scenario (SQLite and PostgreSQL). Its counted rows
are the figure's numerator and all its rows the denominator, with the KPI cache cold and warm; the facts that
decided each row are those worked out by hand; events after the period change nothing in it."""
from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard.views.leader import _rate_of
from feeds.kpis.cache import refresh
from feeds.kpis.evidence import (
    COUNTS,
    DEPARTMENT_FIGURES,
    MEANS,
    PERSON_FIGURES,
    WITH_EVIDENCE,
    mean_of,
    rate_of,
    score_of,
)
from feeds.kpis.figures import Mean, Rate
from feeds.kpis.load import figure_evidence, holder_evidence, leader_figures
from feeds.kpis.scores import Score
from tests.integration.feeds.kpis.test_figures import CST, NOW, RULES, WEEK, _act, _report, _scenario, at
from tests.integration.feeds.kpis.test_leader_figures import LAST_WEEK

pytestmark = pytest.mark.integration
AREAS = ("D", "S", "C", "G1", "G2")


@pytest.fixture
def district(engine):
    with engine.begin() as conn:
        _scenario(conn)
    return engine


def _card(shown, figure: str) -> Rate | Mean | Score:  # type: ignore[no-untyped-def]
    """What a card says as numerator / denominator: a count is its every row; an average, its hours over its cases."""
    if figure in COUNTS:
        return Rate(getattr(shown, figure), getattr(shown, figure))
    if figure in MEANS or figure == "score":
        return getattr(shown, figure)
    return _rate_of(shown, figure)


def _figure_of(rows, figure: str) -> Rate | Mean | Score:  # type: ignore[no-untyped-def]
    return mean_of(rows) if figure in MEANS else score_of(rows) if figure == "score" else rate_of(rows)


def _all_evidence(engine, now=NOW):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return {(area, figure): figure_evidence(conn, RULES, area, figure, WEEK, now)
                for area in AREAS for figure in WITH_EVIDENCE}


def test_the_evidence_of_every_figure_at_every_level_makes_the_figure(district):
    for warm in (False, True):  # the leader's figures from the cases' facts, then from the KPI cache
        if warm:
            refresh(district, RULES, NOW, CST)
        with district.connect() as conn:
            for area in AREAS:
                shown = leader_figures(conn, RULES, area, WEEK, LAST_WEEK, NOW).current
                for figure in WITH_EVIDENCE:
                    rows = figure_evidence(conn, RULES, area, figure, WEEK, NOW)
                    assert _figure_of(rows, figure) == _card(shown, figure), (warm, area, figure, rows)


def test_each_row_carries_the_fact_that_decided_it(district):
    evidence = _all_evidence(district)
    timely = {r.case_id: r for r in evidence[("D", "discovery_timeliness")]}
    # A found 15 min after it arose (limit 2 h); B first reported by a citizen, no time of arising known: late;
    # E the camera's, an hour after; H an hour after; C and F never registered
    assert {k: r.counted for k, r in timely.items()} == {"A": True, "B": False, "E": True, "H": True}
    assert timely["A"].facts["delay_h"] == 0.25 and timely["A"].facts["limit_h"] == 2.0
    assert timely["B"].facts["occurred"] is None and timely["B"].facts["first_by"] == "citizen"
    decided = {r.case_id: (r.counted, r.facts["outcome"]) for r in evidence[("D", "discovery_accuracy")]}
    assert decided == {"A": (True, "registered"), "B": (True, "registered"), "C": (False, "untrue"),
                       "E": (True, "registered"), "F": (False, "out_of_scope"), "H": (True, "registered")}
    late_verify = [r for r in evidence[("G1", "verification")] if r.case_id == "B" and r.facts["step"] == "verify"]
    assert len(late_verify) == 1 and not late_verify[0].counted
    assert late_verify[0].facts["deadline"] == at(0, 11) and late_verify[0].facts["done"] == at(0, 11, 30)
    assert {r.case_id for r in evidence[("G2", "verification")]} <= {"C", "E", "F"}  # a grid's own only
    assert [(r.case_id, r.counted) for r in evidence[("D", "rework")]] == [("A", False), ("B", True), ("H", False)]
    assert all(r.grid == "G1" for r in evidence[("G1", "closure")])
    assert {r.case_id for r in evidence[("D", "open")]} == {"B", "E"}  # at the week's end: B to close, E to dispatch
    assert {r.case_id for r in evidence[("D", "overdue")]} <= {"B", "E"}
    assert all(r.facts["overdue"] for r in evidence[("D", "overdue")])
    # coverage: P0001 walked G1-U01, G1-U02 and G2-U01 on Monday, P0002 G2-U02 on Tuesday (the drill's fix not)
    days = {(r.grid, r.facts["day"].day): (r.part, r.whole, r.facts["missed"]) for r in evidence[("D", "coverage")]}
    assert len(days) == 2 * 7 and days[("G1", 23)] == (2, 2, []) and days[("G2", 23)] == (1, 2, ["G2-U02"])
    assert days[("G2", 24)] == (1, 2, ["G2-U01"]) and days[("G1", 25)] == (0, 2, ["G1-U01", "G1-U02"])
    assert rate_of(evidence[("D", "coverage")]) == rate_of(evidence[("G1", "coverage")] + evidence[("G2", "coverage")])


def test_events_after_the_period_do_not_move_its_evidence(district):
    before = _all_evidence(district)
    with district.begin() as conn:  # the next week: B closed late, E dispatched, a new report
        _act(conn, "B", "close", at(8, 9))
        _act(conn, "E", "dispatch", at(8, 9, 30), department="urban_mgmt")
        _report(conn, "N", at(8, 10), "G2", 0.0025, channel="citizen")
    assert _all_evidence(district, NOW + timedelta(days=8)) == before


def test_the_monthly_workbook_carries_a_sheet_of_evidence_per_figure_with_the_figure_s_counts(district):
    """What a street gets to check its own grade: every figure's items, with their street, community and grid."""
    import io

    from openpyxl import load_workbook

    from dashboard.i18n import t
    from dashboard.views.assessment import to_xlsx
    from dashboard.views.evidence import LABELS, evidence_tables
    from dashboard.views.queue import Names
    from feeds.kpis.load import area_directory, area_evidence, area_panel, monthly_assessment

    with district.connect() as conn:
        month = monthly_assessment(conn, RULES, 2026, 11, NOW).period
        shown = area_panel(conn, RULES, "D", month, NOW)
        tables = evidence_tables(area_evidence(conn, RULES, "D", month, NOW), Names(), area_directory(conn), "zh",
                                 CST)
    book = load_workbook(io.BytesIO(to_xlsx(tables, "2026-11")))
    for figure in WITH_EVIDENCE:
        sheet = book[f"明细-{t(LABELS[figure], 'zh')}"[:31]]
        rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
        figure_shown = _card(shown, figure)
        if figure == "score":  # its four parts, each what it adds
            assert [row[7].split(":")[0] for row in rows] == ["非市民首报(100 − 市民首报率)", "案件数得分", "结案率",
                                                               "按期结案率"]
            parts = figure_shown.parts
            assert [row[-1] for row in rows] == [f"{float(w * v):.1f}" if v is not None else "—" for _, w, v in parts]
            continue
        if figure in MEANS:  # each case's span in hours, to the hundredth
            spans = [float(row[-1].split()[0]) for row in rows]
            assert len(spans) == figure_shown.count and figure_shown.count > 0, figure
            assert abs(sum(spans) - figure_shown.total_hours) <= 0.005 * len(spans), figure
            continue
        if figure == "coverage":  # a grid's day: cells walked of its cells
            counts = [tuple(map(int, row[-1].split("/"))) for row in rows]
            found = (sum(n for n, _ in counts), sum(d for _, d in counts))
        else:
            found = (sum(row[-1] == "是" for row in rows), len(rows))
        assert found == (figure_shown.numerator, figure_shown.denominator), figure
        assert all(row[1] == "S" and row[2] == "C" and row[3] in ("G1", "G2") for row in rows), rows[:2]


def _person_shown(ranked, figure: str) -> Rate | Score:  # type: ignore[no-untyped-def]
    f = ranked.figures
    return {"valid_reports": f.valid_reports, "missed": f.missed, "verification": f.verification.both,
            "verify": f.verification.verify, "check": f.verification.check, "coverage": f.coverage,
            "score": f.score}[figure]


def _department_shown(figures, figure: str) -> Rate | Mean:  # type: ignore[no-untyped-def]
    return {"on_time_handling": figures.on_time_handling, "rework": figures.rework,
            "average_handling_hours": figures.average_handling_hours,
            "holding": Rate(figures.open, figures.open)}[figure]


def test_the_evidence_of_every_patroller_s_and_department_s_figure_makes_it_in_every_area(district):
    """The rankings' figures (the monthly assessment's per person and per department) list what makes them, as
    the area's table counts them, with the KPI cache cold and warm."""
    checked = 0
    for warm in (False, True):
        if warm:
            refresh(district, RULES, NOW, CST)
        with district.connect() as conn:
            for area in AREAS:
                shown = leader_figures(conn, RULES, area, WEEK, LAST_WEEK, NOW)
                for ranked in shown.patrollers:
                    for figure in PERSON_FIGURES:
                        rows = holder_evidence(conn, RULES, area, "person", ranked.person.id, figure, WEEK, NOW)
                        assert rows is not None
                        assert _figure_of(rows, figure) == _person_shown(ranked, figure), (warm, area, ranked, figure)
                        checked += 1
                for code, figures in shown.departments.items():
                    for figure in DEPARTMENT_FIGURES:
                        rows = holder_evidence(conn, RULES, area, "department", code, figure, WEEK, NOW)
                        assert rows is not None
                        assert _figure_of(rows, figure) == _department_shown(figures, figure), (warm, area, code,
                                                                                               figure)
                        checked += 1
    assert checked > 50


def test_a_patroller_s_and_a_department_s_rows_carry_what_decided_them(district):
    with district.connect() as conn:
        def rows(holder: str, code: str, figure: str, area: str = "D"):  # type: ignore[no-untyped-def]
            found = holder_evidence(conn, RULES, area, holder, code, figure, WEEK, NOW)
            assert found is not None
            return found

        # P0001 reported A and H (both registered; the drill's X not); P0002 reported C (untrue)
        assert [(r.case_id, r.counted) for r in rows("person", "GW-P0001", "valid_reports")] == [("A", True),
                                                                                                 ("H", True)]
        assert [(r.case_id, r.facts["outcome"]) for r in rows("person", "GW-P0002", "valid_reports")] == [
            ("C", "untrue")]
        # P0001 answers for G1: of A, B, H registered there, B was first reported by a citizen (missed)
        missed = rows("person", "GW-P0001", "missed")
        assert [(r.case_id, r.counted, r.facts["first_by"]) for r in missed] == [
            ("A", False, "patrol"), ("B", True, "citizen"), ("H", False, "patrol")]
        # P0001's 核实 of B at 11:30 against 11:00: late
        late = [r for r in rows("person", "GW-P0001", "verify") if r.case_id == "B"]
        assert len(late) == 1 and not late[0].counted and late[0].facts["done"] == at(0, 11, 30)
        # P0001 walked G1-U01 and G1-U02 on Monday: their grid's cells, by their unit only
        walked = {r.facts["day"].day: (r.part, r.whole) for r in rows("person", "GW-P0001", "coverage")}
        assert walked[23] == (2, 2) and walked[24] == (0, 2)
        parts = rows("person", "GW-P0001", "score")
        assert [r.facts["part"] for r in parts] == ["valid_reports", "not_missed", "verify_on_time", "check_on_time"]
        # urban_mgmt: A on time, B's first handling late, B's rework on time; B reworked; A and B handled
        handling = rows("department", "urban_mgmt", "on_time_handling")
        assert [(r.case_id, r.counted) for r in handling] == [("A", True), ("B", False), ("B", True)]
        assert [(r.case_id, r.counted) for r in rows("department", "urban_mgmt", "rework")] == [("A", False),
                                                                                               ("B", True)]
        spans = {r.case_id: r.facts["span_us"] for r in rows("department", "urban_mgmt", "average_handling_hours")}
        assert spans == {"A": 80 * 60 * 10**6, "B": (2 * 24 * 60 - 170) * 60 * 10**6}
        assert rows("department", "urban_mgmt", "holding") == []  # nothing with it at the week's end
        # a person not among a grid's patrollers has no evidence there
        assert holder_evidence(conn, RULES, "G2", "person", "GW-P0001", "valid_reports", WEEK, NOW) is None
        with pytest.raises(ValueError):
            holder_evidence(conn, RULES, "D", "department", "urban_mgmt", "valid_reports", WEEK, NOW)


def test_events_after_the_period_do_not_move_a_patroller_s_or_department_s_evidence(district):
    def everything(now):  # type: ignore[no-untyped-def]
        with district.connect() as conn:
            return {(code, figure): holder_evidence(conn, RULES, "D", holder, code, figure, WEEK, now)
                    for holder, code, figures in (("person", "GW-P0001", PERSON_FIGURES),
                                                  ("person", "GW-P0002", PERSON_FIGURES),
                                                  ("department", "urban_mgmt", DEPARTMENT_FIGURES))
                    for figure in figures}

    before = everything(NOW)
    with district.begin() as conn:
        _act(conn, "B", "close", at(8, 9))
        _act(conn, "E", "dispatch", at(8, 9, 30), department="urban_mgmt")
        _report(conn, "N", at(8, 10), "G1", 0.0025, reporter_id="P0001")
    assert everything(NOW + timedelta(days=8)) == before


def test_the_monthly_workbook_carries_the_evidence_of_every_patroller_and_department(district):
    """A person (or a department) checks their own row of the assessment: their items, figure by figure, count
    what the assessment says."""
    import io
    from collections import defaultdict

    from openpyxl import load_workbook

    from dashboard.views.assessment import to_xlsx
    from dashboard.views.evidence import holder_tables
    from dashboard.views.queue import Names
    from feeds.kpis.load import area_directory, area_holders_evidence, monthly_assessment

    with district.connect() as conn:
        month = monthly_assessment(conn, RULES, 2026, 11, NOW)
        tables = holder_tables(area_holders_evidence(conn, RULES, "D", month.period, NOW), Names(),
                               area_directory(conn), "zh", CST)
    book = load_workbook(io.BytesIO(to_xlsx(tables, "2026-11")))
    assert book.sheetnames == ["明细-巡查员考核", "明细-部门考核"]

    def counted(sheet, label_at: int):  # type: ignore[no-untyped-def]
        found: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for row in book[sheet].iter_rows(min_row=3, values_only=True):
            if row[2] in ("有效上报率", "核查及时率", "按期处置率", "返工率"):
                found[(row[label_at], row[2])][0] += row[-1] == "是"
                found[(row[label_at], row[2])][1] += 1
        return {k: tuple(v) for k, v in found.items()}

    people = counted("明细-巡查员考核", 1)
    for r in month.patrollers:
        for label, rate in (("有效上报率", r.figures.valid_reports), ("核查及时率", r.figures.verification.both)):
            assert people.get((r.person.id, label), (0, 0)) == (rate.numerator, rate.denominator), (r.person, label)
    departments = counted("明细-部门考核", 1)
    assert month.departments
    for code, f in month.departments.items():
        for label, rate in (("按期处置率", f.on_time_handling), ("返工率", f.rework)):
            assert departments.get((code, label), (0, 0)) == (rate.numerator, rate.denominator), (code, label)
