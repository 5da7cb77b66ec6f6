"""The KPI caches change no figure: every panel computed with the caches filled equals the panel computed
from nothing but the cases, their trails and the raw fixes (SQLite and PostgreSQL), on the hand-made
district of test_figures and on a simulated history; drills never enter them."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from feeds.kpis.board import comparison_periods
from feeds.kpis.cache import CASE_DAYS, DUTY_DAYS, cached_days, refresh
from feeds.kpis.figures import LATE_FIX_LIMIT, Period, Rate
from feeds.kpis.load import (
    area_panel,
    area_panels,
    daily_series,
    departments_in,
    departments_panel,
    leader_figures,
    load_cells,
    load_territory,
    monthly_assessment,
    patroller_ranking,
)
from feeds.kpis.visits import COMMIT_MARGIN, tracked_days
from feeds.store.models import (
    CaseFactsRow,
    CellVisitRow,
    CoverageDayRow,
    GridDayRow,
    LiveVisitRow,
    TallyBatch,
    UnitDayRow,
    VisitCursorRow,
    VisitTailRow,
)
from feeds.store.writes import write_batch
from feeds.taxonomy import load as load_taxonomy
from simulators.fast import simulate
from simulators.furnishings import build_furnishings, save_furnishings
from simulators.geography import build_district, save_district
from simulators.simulation import Simulation
from tests import factories
from tests.integration.feeds.kpis.test_figures import CST, LAT, LON, MON, NOW, RULES, WEEK, _scenario, at
from tests.oracles import area_table


def _forget(engine) -> None:
    """Empty every cache: what follows is computed from the cases, trails and fixes alone."""
    with engine.begin() as conn:
        for table in (CASE_DAYS, DUTY_DAYS, UnitDayRow.__table__, CaseFactsRow.__table__, TallyBatch.__table__,
                      CellVisitRow.__table__,
                      GridDayRow.__table__, CoverageDayRow.__table__, LiveVisitRow.__table__, VisitTailRow.__table__,
                      VisitCursorRow.__table__):
            conn.execute(delete(table))


def _cached(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (CaseFactsRow.__table__, TallyBatch.__table__, CASE_DAYS, DUTY_DAYS, CoverageDayRow.__table__,
                          UnitDayRow.__table__)}


def _areas(conn, grids: int | None) -> list[str]:
    """Every area above the grids, and the first `grids` grids (None: all)."""
    level = load_territory(conn).level
    return sorted(a for a in level if level[a] != "grid") + sorted(a for a in level if level[a] == "grid")[:grids]


def _everything(engine, now: datetime, first: date, days: int, drills: tuple[str | None, ...] = (None,),
                grids: int | None = None) -> Any:
    """Every figure the screens show, for many periods and every area, as of `now`."""
    last = first + timedelta(days=days - 1)
    periods = [Period.dates(first, last, CST), *(Period.dates(d, d, CST) for d in (first + timedelta(k)
                                                                                   for k in range(days))),
               Period.month(first.year, first.month, CST), Period.today(now, CST), Period.this_week(now, CST),
               Period(datetime.combine(first, datetime.min.time(), CST).replace(hour=13), now + timedelta(hours=1),
                      CST)]
    out: list[Any] = []
    with engine.connect() as conn:
        areas = _areas(conn, grids)
        for drill in drills:
            for p in periods:
                out += [(a, p, area_panel(conn, RULES, a, p, now, drill_id=drill)) for a in areas]
                out += [(lvl, p, area_table(conn, RULES, lvl, p, now, drill_id=drill))
                        for lvl in ("grid", "community", "street", "district")]
                out.append(departments_panel(conn, RULES, p, now, drill_id=drill))
                out.append(patroller_ranking(conn, RULES, p, now, drill_id=drill))
            for a in areas:
                out.append(area_panels(conn, RULES, a, periods[:3], now, drill_id=drill))
                out.append(daily_series(conn, RULES, a, last, days, now, drill_id=drill))
                out.append(departments_in(conn, RULES, a, periods[0], now, drill_id=drill))
                out.append(leader_figures(conn, RULES, a, Period.dates(last, last, CST),
                                          Period.dates(last - timedelta(1), last - timedelta(1), CST), now,
                                          drill_id=drill))
                out.append(leader_figures(conn, RULES, a, Period.today(now, CST),
                                          Period.today(now - timedelta(days=1), CST), now, drill_id=drill))
            out.append(monthly_assessment(conn, RULES, first.year, first.month, now, drill_id=drill))
        # the wall's board: today and this month, against yesterday and last month up to the same time
        for w in comparison_periods(now, CST).values():
            out += [(a, w.period, w.now, area_panel(conn, RULES, a, w.period, w.now)) for a in areas[:2]]
    return out


def _assert_same(fresh: list[Any], cached: list[Any]) -> None:
    assert len(fresh) == len(cached)
    for a, b in zip(fresh, cached, strict=True):
        assert a == b


@pytest.fixture
def district(engine):
    with engine.begin() as conn:
        _scenario(conn)
        # a fix that reached the centre more than LATE_FIX_LIMIT after it was taken: it never counts
        late = factories.position("P0002", lat=LAT + 0.0005, lon=LON + 0.0015, at=at(3, 9))
        write_batch(conn, [late], [], at(3, 9) + LATE_FIX_LIMIT + timedelta(seconds=1))
    return engine


@pytest.mark.parametrize("job_at", [NOW, datetime.combine(MON + timedelta(days=3), datetime.min.time(), CST)
                                    + timedelta(hours=2)])
def test_the_caches_change_no_figure_of_the_hand_made_district(district, job_at) -> None:
    fresh = _everything(district, NOW, MON, 7, drills=(None, "DR1"))
    with district.connect() as conn:
        cells = load_cells(conn)
    refresh(district, RULES, job_at, CST, cells)
    stored = _cached(district)
    assert stored["kpi_case_facts"] > 0 and stored["kpi_tally_batches"] == 1 and stored["kpi_case_days"] > 0
    assert stored["kpi_coverage_days"] > 0 and stored["kpi_duty_days"] > 0 and stored["kpi_unit_days"] > 0
    assert refresh(district, RULES, job_at, CST, cells).tallied == 0  # nothing new: no second batch
    _assert_same(fresh, _everything(district, NOW, MON, 7, drills=(None, "DR1")))


def test_the_late_fix_counts_neither_way(district) -> None:
    day = Period.dates(MON + timedelta(days=3), MON + timedelta(days=3), CST)
    with district.connect() as conn:
        assert area_panel(conn, RULES, "G1", day, NOW).coverage.numerator == 0
        cells = load_cells(conn)
    refresh(district, RULES, NOW, CST, cells)
    with district.connect() as conn:
        assert area_panel(conn, RULES, "G1", day, NOW).coverage.numerator == 0
        assert str(area_panel(conn, RULES, "D", Period.dates(date(2026, 10, 1), date(2026, 10, 1), CST), NOW).closure) \
            == "—"  # nothing due: a zero denominator, never 0% or 100%


def test_a_changed_rule_is_not_read_from_tallies_made_under_the_old_one(district) -> None:
    with district.connect() as conn:
        cells = load_cells(conn)
    refresh(district, RULES, NOW, CST, cells)
    other = type(RULES)(RULES.taxonomy, RULES.calendar, discovery_limit=timedelta(minutes=5))
    with district.connect() as conn:
        cached = area_panel(conn, other, "D", WEEK, NOW)
    _forget(district)
    with district.connect() as conn:
        assert cached == area_panel(conn, other, "D", WEEK, NOW)
    refresh(district, other, NOW, CST, cells)  # the job under the new rule starts over
    with district.connect() as conn:
        assert area_panel(conn, other, "D", WEEK, NOW) == cached
        assert conn.execute(select(func.count()).select_from(TallyBatch.__table__)).scalar_one() == 1


START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # Monday 08:00 in Beijing


@pytest.mark.timeout(600)
def test_the_caches_change_no_figure_of_a_simulated_history(engine) -> None:
    """Two days of a small district, the job running along the way, checked on Tuesday afternoon (Monday
    settled), just after midnight (Tuesday, "yesterday up to the same time", still in the running tally) and on
    Wednesday morning (Tuesday settled and stored)."""
    district = build_district(5, 12)
    with engine.begin() as conn:
        save_district(conn, district)
        save_furnishings(conn, district, build_furnishings(district, 5), load_taxonomy())
    with engine.connect() as conn:
        cells = load_cells(conn)
    sim = Simulation(district, seed=11, run_id="k", problems_per_day=300)
    first = START.astimezone(CST).date()
    moment = START
    for hours in (30, 10, 8):  # Tuesday afternoon; just after midnight (Tuesday still in the tally); Wednesday
        end = moment + timedelta(hours=hours)
        simulate(sim, engine, moment, end, step=timedelta(minutes=3))
        moment = end + COMMIT_MARGIN  # every fix received is in the running tally of cell visits
        refresh(engine, RULES, moment, CST, cells, tally_budget_s=600)
        counts = _cached(engine)
        assert counts["kpi_case_facts"] > 0 and counts["kpi_duty_days"] > 0  # rankings read from the tallies
        assert counts["kpi_unit_days"] > 0 or counts["kpi_coverage_days"] == 0
        with engine.connect() as conn:  # the day under way is read from the tally (started with its first day)
            today = moment.astimezone(CST).date()
            assert tracked_days(conn, [today], moment, CST) == {today}
            yesterday = today - timedelta(days=1)
            if hours == 10:  # the board's yesterday is read from the tally, up to the same time
                assert tracked_days(conn, [yesterday], moment, CST) == {yesterday}
            if hours == 8:  # from the stored day
                assert cached_days(conn, [yesterday]) == {yesterday}
        cached = _everything(engine, moment, first, 3, grids=3)
        _forget(engine)
        _assert_same(_everything(engine, moment, first, 3, grids=3), cached)
        refresh(engine, RULES, moment, CST, cells)


def test_a_cell_two_of_a_patrollers_ids_visited_on_one_day_counts_once(district) -> None:
    """GW-P0001 carries unit P0001; a fix sent under their person id in a cell P0001 walked the same Monday
    adds nothing, read from raw fixes or from the stored days; one in G1 on Wednesday adds a cell-day."""
    y = LAT + 0.0005
    with district.begin() as conn:
        for fix in (factories.position("GW-P0001", lat=y, lon=LON + 0.0005, at=at(0, 15)),
                    factories.position("GW-P0001", lat=y, lon=LON + 0.0015, at=at(2, 15))):
            write_batch(conn, [fix], [], fix.fix_at)

    def coverage_of_gw_p0001() -> Rate:
        with district.connect() as conn:
            (gw,) = [r for r in patroller_ranking(conn, RULES, WEEK, NOW) if r.person.id == "GW-P0001"]
        return gw.figures.coverage

    assert coverage_of_gw_p0001() == Rate(3, 14)  # Monday both cells of G1, Wednesday one; of 2 cells × 7 days
    with district.connect() as conn:
        cells = load_cells(conn)
    refresh(district, RULES, NOW, CST, cells)
    assert _cached(district)["kpi_unit_days"] > 0
    assert coverage_of_gw_p0001() == Rate(3, 14)
