"""The simulated district behaves like a real one: a week of a ≈100-grid street, simulated as fast as
possible through the real pipeline into a real database, lands in the ranges the field reports
(shared/kpi.md, "Realistic levels"), computed by the same KPI functions the panels use."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from feeds.calendar import WorkingCalendar
from feeds.kpis.figures import KpiRules, Period
from feeds.kpis.load import area_panel
from feeds.settings import Settings
from feeds.store.engine import make_engine, migrate
from feeds.store.models import CameraAlertRow, IncidentRow
from feeds.taxonomy import load as load_taxonomy
from simulators.fast import simulate
from simulators.furnishings import build_furnishings, save_furnishings
from simulators.geography import build_district, save_district
from simulators.runner import residents
from simulators.simulation import Simulation

BEIJING = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.timeout(600)  # a simulated week takes about a minute on two cores
FIRST, LAST = date(2026, 11, 2), date(2026, 11, 8)  # Monday to Sunday


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """A week of a 96-grid street (about 100,000 residents) in a SQLite database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('calibration') / 'cc.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    district = build_district(7, 96)
    with engine.begin() as conn:
        save_district(conn, district)
        save_furnishings(conn, district, build_furnishings(district, 7), load_taxonomy())
    people = residents(district)
    rate = Settings.model_fields["problems_per_10k_day"].default
    simulation = Simulation(district, seed=7, run_id="cal", problems_per_day=rate * people / 10_000)
    start = datetime.combine(FIRST, datetime.min.time(), BEIJING)
    end = start + timedelta(days=7)
    outcome = simulate(simulation, engine, start, end, step=timedelta(minutes=2))
    yield engine, people, outcome, end
    engine.dispose()


def test_a_simulated_week_lands_in_the_realistic_ranges(week) -> None:
    engine, people, outcome, end = week
    rules = KpiRules(load_taxonomy(), WorkingCalendar())
    with engine.connect() as conn:
        figures = area_panel(conn, rules, "D01", Period.dates(FIRST, LAST, BEIJING), end)
        patrol_reports = conn.execute(select(func.count()).select_from(IncidentRow)
                                      .where(IncidentRow.channel == "patrol")).scalar_one()
        alerts = conn.execute(select(func.count()).select_from(CameraAlertRow)).scalar_one()
    per_100k_day = patrol_reports / 7 * 100_000 / people
    camera = figures.accuracy_by_channel["camera"]
    summary = (f"closure {figures.closure}, on time {figures.on_time_closure}, rework {figures.rework}, "
               f"camera precision {camera}, coverage {figures.coverage}, "
               f"{per_100k_day:.0f} patrol reports a day per 100k, {alerts / 7:.0f} camera alerts a day")
    print(summary)
    assert figures.closure.value is not None and figures.closure.value >= 0.99, summary
    assert figures.on_time_closure.value is not None and figures.on_time_closure.value >= 0.97, summary
    assert figures.rework.value is not None and figures.rework.value <= 0.01, summary
    assert camera.value is not None and 0.6 <= camera.value <= 0.85 and camera.denominator >= 50, summary
    assert figures.coverage.value is not None and figures.coverage.value >= 0.90, summary
    assert 200 <= per_100k_day <= 500, summary
    assert 10 <= alerts / 7 <= 60, summary
    assert outcome.sent["case_command"] > 3 * outcome.sent["incident_report"]  # cases move along the loop


def test_the_four_streets_differ_as_their_characters_do(week) -> None:
    """The old town (S01) has more cases per grid and more found by citizens first than the new estates (S03);
    every street stays in the field's ranges for closure."""
    engine, _, _, end = week
    rules = KpiRules(load_taxonomy(), WorkingCalendar())
    period = Period.dates(FIRST, LAST, BEIJING)
    with engine.connect() as conn:
        streets = {code: area_panel(conn, rules, code, period, end) for code in ("D01-S01", "D01-S02", "D01-S03",
                                                                                 "D01-S04")}
    lines = {code: f"{f.discovery_timeliness.denominator} cases, citizen first {f.citizen_first}, closure {f.closure}"
             for code, f in streets.items()}
    print(lines)
    old, estates = streets["D01-S01"], streets["D01-S03"]
    grids = {"D01-S01": 30, "D01-S02": 30, "D01-S03": 18, "D01-S04": 18}
    cases = {code: f.discovery_timeliness.denominator / grids[code] for code, f in streets.items()}  # per grid
    assert cases["D01-S01"] > 1.5 * cases["D01-S03"] and cases["D01-S02"] > cases["D01-S04"], lines
    assert old.citizen_first.value is not None and estates.citizen_first.value is not None
    assert old.citizen_first.value > estates.citizen_first.value, lines
    assert all(f.closure.value is not None and f.closure.value >= 0.98 for f in streets.values()), lines


def test_nothing_the_simulator_sent_was_rejected_except_races_with_the_escalator(week) -> None:
    from feeds.store.models import DeadLetter

    engine, *_ = week
    with engine.connect() as conn:
        letters = conn.execute(select(DeadLetter.reason)).scalars().all()
    assert all("changed by someone else" in reason for reason in letters), letters[:3]
    assert len(letters) < 40
