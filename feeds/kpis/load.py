"""The KPI panels' I/O edge: load the facts of a period and an area from the database, hand them to the pure
figures of feeds/kpis/figures.py. SQLAlchemy Core, only the columns needed, on SQLite and PostgreSQL.

Which cases a period needs: those reported before its `as_of` that are still open, or that changed state
on or after the period's start (a finished case's `step_started_at` is when it finished). Every event a
figure counts for the period falls on or after its start, so older finished cases cannot count.
"""
from __future__ import annotations

import bisect
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import shapely
from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from feeds.cases.machine import FINAL
from feeds.kpis.cache import (
    CaseLoad,
    drill_filter,
    grid_coverage,
    load_case_loads,
    load_facts,
    patroller_coverage,
    rules_key,
    settled,
    visits,
)
from feeds.kpis.evidence import (
    FIGURES,
    HOLDERS,
    WITH_EVIDENCE,
    Evidence,
    coverage_evidence,
    department_evidence,
    evidence,
    holders_evidence,
    person_evidence,
    score_evidence,
)
from feeds.kpis.figures import (
    NO_RATE,
    AreaFigures,
    CaseFacts,
    Cells,
    DepartmentFigures,
    DutyKey,
    DutyTally,
    KpiRules,
    Patroller,
    Period,
    Ranked,
    Territory,
    WorkingClock,
    area_figures,
    clock_for,
    departments_of,
    duties_of,
    figures_by_area,
    figures_of_grids,
    in_scope,
    ranking_of,
    sum_by_key,
    tallies_by_grid,
)
from feeds.store.engine import tuples
from feeds.store.models import AREAS, CASE_REPORTS, CASES, FIXES, PEOPLE

PATROL_ROLES = ("grid_worker", "patroller_outer", "patroller_inner")
_FINAL = [s.value for s in FINAL]


def _relevant(period: Period, now: datetime, grids: Collection[str] | None, drill_id: str | None) -> list[Any]:
    # live: written so that no index on drill_id is used (all live cases have none: SQLite would walk it all)
    live_or_drill = (func.coalesce(CASES.c.drill_id, "") == "" if drill_id is None
                     else drill_filter(CASES.c.drill_id, drill_id))
    where = [CASES.c.reported_at < period.as_of(now), live_or_drill,
             or_(CASES.c.state.not_in(_FINAL), CASES.c.step_started_at >= period.start)]
    if grids is not None:
        where.append(CASES.c.grid_code.in_(sorted(grids)))
    return where


def load_cases(conn: Connection, period: Period, now: datetime, *, grids: Collection[str] | None = None,
               drill_id: str | None = None) -> list[CaseFacts]:
    """The facts of every case the period's figures may count, in `grids` (None: the whole district, cases
    filed under no grid too), live or of one drill (stored facts where current, replayed otherwise)."""
    return load_facts(conn, _relevant(period, now, grids, drill_id))


def load_counted(conn: Connection, rules: KpiRules, windows: Sequence[tuple[Period, datetime]], *,
                 grids: Collection[str] | None = None, drill_id: str | None = None,
                 by_grid: bool = False, with_duties: bool = False) -> list[CaseLoad]:
    """For each (period, now): the finished cases counted already (kpi_case_days; per grid when `by_grid`,
    else for all `grids` together; per person, grid and department in kpi_duty_days `with_duties`) and the
    facts of the others the period may count."""
    return load_case_loads(conn, rules, windows, lambda p, now: _relevant(p, now, grids, drill_id), grids,
                           drill_id, by_grid, with_duties)


def load_territory(conn: Connection) -> Territory:
    """Areas above the patrol cells: district, streets, communities, grids."""
    rows = tuples(conn.execute(select(AREAS.c.code, AREAS.c.parent_code, AREAS.c.level)
                        .where(AREAS.c.level != "cell")))
    parent: dict[str, str | None] = {}
    level: dict[str, str] = {}
    for code, up, lvl in rows:
        parent[code] = up
        level[code] = lvl
    return Territory(parent, level)


_CELLS: dict[tuple[Any, ...], Cells] = {}  # the cells last parsed, by what they were parsed from


def load_cells(conn: Connection, grids: Collection[str] | None = None) -> Cells:
    """The unit cells (单元网格) of `grids` (None: all) with their polygons. Parsing tens of thousands of
    polygons takes longer than a panel may: the last cells parsed are kept, keyed by the database, the grids
    and a fingerprint of the cell rows (their number, last code and total geometry length), and parsed
    again when any of these changes."""
    where = [AREAS.c.level == "cell"]
    if grids is not None:
        where.append(AREAS.c.parent_code.in_(sorted(grids)))
    fingerprint = conn.execute(select(func.count(), func.max(AREAS.c.code), func.sum(func.length(AREAS.c.geometry)))
                               .where(*where)).one()
    key = (str(conn.engine.url), None if grids is None else frozenset(grids), *fingerprint)
    found = _CELLS.get(key)
    if found is not None:
        return found
    rows = list(tuples(conn.execute(select(AREAS.c.code, AREAS.c.parent_code, AREAS.c.geometry).where(*where)
                        .order_by(AREAS.c.code))))
    polygons = shapely.from_geojson([g for _, _, g in rows]) if rows else []
    cells = Cells.of([(code, grid, poly) for (code, grid, _), poly in zip(rows, polygons, strict=True)])
    if len(_CELLS) >= 64:
        _CELLS.clear()
    _CELLS[key] = cells
    return cells


def load_patrollers(conn: Connection, territory: Territory, area_code: str | None = None) -> list[Patroller]:
    """Grid workers and patrollers (answering for `area_code` or anywhere under it), with the grids they
    answer for and the ids they act under (person id, GPS unit)."""
    rows = list(tuples(conn.execute(select(PEOPLE.c.id, PEOPLE.c.name, PEOPLE.c.area_code, PEOPLE.c.unit_id)
                        .where(PEOPLE.c.role.in_(PATROL_ROLES)).order_by(PEOPLE.c.id))))
    out = []
    for pid, name, area, unit in rows:
        if area is None or (area_code is not None and area_code not in territory.chain(area)):
            continue
        out.append(Patroller(pid, name, frozenset({pid, unit} - {None}), territory.grids_under(area),
                             tracked=unit is not None))
    return out


def _area_grids(territory: Territory, area_code: str) -> frozenset[str] | None:
    """The grids of an area; None for the district (all cases, those under no grid too)."""
    if territory.level.get(area_code) == "district":
        return None
    if area_code not in territory.level:
        raise KeyError(f"unknown area {area_code!r}")
    return territory.grids_under(area_code)


def area_panel(conn: Connection, rules: KpiRules, area_code: str, period: Period, now: datetime, *,
               drill_id: str | None = None, with_coverage: bool = True) -> AreaFigures:
    """Every figure of one area (grid, community, street or the district) for a period."""
    return area_panels(conn, rules, area_code, [period], now, drill_id=drill_id, with_coverage=with_coverage)[0]


def departments_panel(conn: Connection, rules: KpiRules, period: Period, now: datetime, *,
                      drill_id: str | None = None) -> dict[str, DepartmentFigures]:
    (load,) = load_counted(conn, rules, [(period, now)], drill_id=drill_id, with_duties=True)
    return departments_of(_duties(rules, load, period, now, drill_id))


def patroller_ranking(conn: Connection, rules: KpiRules, period: Period, now: datetime, *,
                      area_code: str | None = None, drill_id: str | None = None,
                      with_coverage: bool = True) -> list[Ranked]:
    """The patrollers of an area (None: the district) ranked by composite score; the top three flagged."""
    territory = load_territory(conn)
    grids = None if area_code is None else _area_grids(territory, area_code)
    (load,) = load_counted(conn, rules, [(period, now)], grids=grids, drill_id=drill_id, with_duties=True)
    return _ranked(conn, load_patrollers(conn, territory, area_code), _duties(rules, load, period, now, drill_id),
                   period, now, load_cells(conn, grids) if with_coverage else None, drill_id)


def _ranked(conn: Connection, people: list[Patroller], duties: Mapping[DutyKey, DutyTally], period: Period,
            now: datetime, cells: Cells | None, drill_id: str | None) -> list[Ranked]:
    """The patrollers ranked from the duty tallies; coverage from their units' cells per grid and day."""
    covered = patroller_coverage(conn, cells, period, now, people, drill_id=drill_id) if cells else {}
    return ranking_of(people, duties, lambda p: covered.get(p.id, NO_RATE))


def _duties(rules: KpiRules, load: CaseLoad, period: Period, now: datetime, drill_id: str | None,
            clock: WorkingClock | None = None) -> dict[DutyKey, DutyTally]:
    """The duty tallies of a load: of its cases from their facts, plus those counted already."""
    return duties_of(rules, load.cases, period, now, drill_id=drill_id, counted=load.duties, clock=clock)


# ---------------------------------------------------------------------------------------------- leader page


def area_panels(conn: Connection, rules: KpiRules, area_code: str, periods: Sequence[Period], now: datetime, *,
                drill_id: str | None = None, with_coverage: bool = True) -> list[AreaFigures]:
    """`area_panel` for several periods of one area (a period and the one before it, the days of a trend)."""
    if not periods:
        return []
    return _panels(conn, rules, area_code, [(p, now) for p in periods], drill_id=drill_id,
                   with_coverage=with_coverage)


def _panels(conn: Connection, rules: KpiRules, area_code: str, windows: Sequence[tuple[Period, datetime]], *,
            drill_id: str | None = None, with_coverage: bool = True,
            territory: Territory | None = None) -> list[AreaFigures]:
    """An area's figures for each (period, now): the finished cases counted already plus the others from
    their facts; coverage from the stored days and the raw fixes of the rest."""
    territory = territory or load_territory(conn)
    grids = _area_grids(territory, area_code)
    loads = load_counted(conn, rules, windows, grids=grids, drill_id=drill_id)
    cells = load_cells(conn, grids) if with_coverage else None
    loaded = {c.id: c for load in loads for c in load.cases}
    clock = clock_for(rules.calendar, in_scope(list(loaded.values()), drill_id), max(now for _, now in windows))
    all_grids = grids if grids is not None else territory.grids_under(area_code)
    out = []
    for (period, now), load in zip(windows, loads, strict=True):
        covered = grid_coverage(conn, cells, period, now, drill_id=drill_id) if cells is not None else {}
        out.append(area_figures(rules, load.cases, period, now, grids=all_grids,
                                include_ungridded=grids is None, coverage_of_grids=covered, drill_id=drill_id,
                                clock=clock, counted=load.total()))
    return out


class SettledDays:
    """The figures of settled days (a 30-day trend's), kept in this process: a day's figures are a function of
    the events up to its end (the as-of rule), so once no fix for it can still arrive (`settled`) the only
    thing that can move them is a report that arrives late, stamped inside the day. Each day is kept with
    the number of reports stamped before its end; a late report changes that number, and the day is counted
    again. Kept per area, rules and coverage, at most `size` days."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._kept: dict[tuple[Any, ...], AreaFigures] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> AreaFigures | None:
        with self._lock:
            return self._kept.get(key)

    def put(self, key: tuple[Any, ...], figures: AreaFigures) -> None:
        with self._lock:
            if len(self._kept) >= self.size:
                self._kept.pop(next(iter(self._kept)))  # the oldest kept
            self._kept[key] = figures


def daily_series(conn: Connection, rules: KpiRules, area_code: str, last_day: date, days: int, now: datetime, *,
                 zone: ZoneInfo | None = None, drill_id: str | None = None,
                 with_coverage: bool = True, kept: SettledDays | None = None) -> list[tuple[date, AreaFigures]]:
    """The figures of an area for each of the `days` local days ending with `last_day` (a 30-day trend).
    With `kept`, settled days counted before (and not moved since by a late report) are not counted again."""
    if days < 1:
        raise ValueError(f"a series needs at least one day, not {days}")
    zone = zone or rules.calendar.zone
    dates = [last_day - timedelta(days=days - 1 - k) for k in range(days)]
    periods = [Period.dates(d, d, zone) for d in dates]
    keys: dict[date, tuple[Any, ...]] = {}
    if kept is not None and drill_id is None:
        settled_days = [(d, p) for d, p in zip(dates, periods, strict=True) if settled(d, now, zone)]
        marks = reports_before(conn, [p.end for _, p in settled_days])
        rules_mark = rules_key(rules)
        keys = {d: (area_code, d, with_coverage, rules_mark, marks[p.end]) for d, p in settled_days}
    found = {d: f for d, key in keys.items() if kept is not None and (f := kept.get(key)) is not None}
    missing = [(d, p) for d, p in zip(dates, periods, strict=True) if d not in found]
    panels = area_panels(conn, rules, area_code, [p for _, p in missing], now, drill_id=drill_id,
                         with_coverage=with_coverage)
    for (d, p), figures in zip(missing, panels, strict=True):
        if with_coverage and not _any_fix(conn, p, drill_id):
            figures = replace(figures, coverage=NO_RATE)
        found[d] = figures
        if kept is not None and d in keys:
            kept.put(keys[d], figures)
    return [(d, found[d]) for d in dates]


def reports_before(conn: Connection, ends: Sequence[datetime]) -> dict[datetime, int]:
    """How many reports (of any case) were stamped before each of `ends`: what a late report changes."""
    if not ends:
        return {}
    first = min(ends)
    before = conn.execute(select(func.count()).select_from(CASE_REPORTS).where(
        CASE_REPORTS.c.reported_at < first)).scalar_one()
    stamps: list[datetime] = sorted(conn.execute(select(CASE_REPORTS.c.reported_at).where(
        CASE_REPORTS.c.reported_at >= first, CASE_REPORTS.c.reported_at < max(ends))).scalars())
    return {end: before + bisect.bisect_left(stamps, end) for end in ends}


def _any_fix(conn: Connection, day: Period, drill_id: str | None) -> bool:
    """Whether any patrol unit sent a position taken on that day, anywhere: on a day without one (before the
    centre began, or with the patrol feed down all day) coverage cannot be told, so the trend has a gap
    there rather than a 0%."""
    return conn.execute(select(FIXES.c.id).where(FIXES.c.fix_at >= day.start, FIXES.c.fix_at < day.end,
                                                 drill_filter(FIXES.c.drill_id, drill_id)).limit(1)).first() is not None


def departments_in(conn: Connection, rules: KpiRules, area_code: str, period: Period, now: datetime, *,
                   drill_id: str | None = None) -> dict[str, DepartmentFigures]:
    """`departments_panel` for the cases of one area (the district: all of them)."""
    grids = _area_grids(load_territory(conn), area_code)
    (load,) = load_counted(conn, rules, [(period, now)], grids=grids, drill_id=drill_id, with_duties=True)
    return departments_of(_duties(rules, load, period, now, drill_id))


@dataclass(frozen=True)
class AreaEntry:
    code: str
    name: str
    level: str
    parent: str | None


def area_directory(conn: Connection) -> dict[str, AreaEntry]:
    """Names, levels and parents of the areas above the patrol cells (for breadcrumbs and tables)."""
    rows = tuples(conn.execute(select(AREAS.c.code, AREAS.c.name, AREAS.c.level, AREAS.c.parent_code)
                        .where(AREAS.c.level != "cell").order_by(AREAS.c.code)))
    return {code: AreaEntry(code, name, level, parent) for code, name, level, parent in rows}


CHILD_LEVEL = {"district": "street", "street": "community", "community": "grid"}


@dataclass(frozen=True)
class LeaderFigures:
    """What the leader page shows for one area and period: the figures, those of the period before, the
    sub-areas one level down, the grids under it, its patrollers ranked, the departments on its cases, and a
    daily series of its figures."""

    area: str
    current: AreaFigures
    previous: AreaFigures
    children: dict[str, AreaFigures]
    grids: dict[str, AreaFigures]
    patrollers: list[Ranked]
    departments: dict[str, DepartmentFigures]


def same_point(period: Period, previous: Period, now: datetime) -> datetime:
    """The moment in `previous` as far into it as `now` is into a running `period`, so that today so far is
    compared with yesterday up to the same time, like the wall's KPI board does; the end of `previous` when
    `period` is over."""
    elapsed = period.as_of(now) - period.start
    return min(previous.start + elapsed, previous.end) if period.as_of(now) < period.end else max(now, previous.end)


def leader_figures(conn: Connection, rules: KpiRules, area_code: str, period: Period, previous: Period,
                   now: datetime, *, drill_id: str | None = None) -> LeaderFigures:
    """The leader page's figures of an area in one load: the same figures as `area_panel` (for the period,
    and for the one before as it stood at the same point in it), `tests.oracles.area_table` (its sub-areas, its grids),
    `patroller_ranking` and `departments_in`. The cases of the period are loaded once, tallied per grid
    once (an area's tally is the sum of its grids'), and their duties once."""
    territory = load_territory(conn)
    grids = _area_grids(territory, area_code)
    all_grids = grids if grids is not None else territory.grids_under(area_code)
    back_then = same_point(period, previous, now)
    (load,) = load_counted(conn, rules, [(period, now)], grids=grids, drill_id=drill_id, by_grid=True,
                           with_duties=True)
    (earlier,) = load_counted(conn, rules, [(previous, back_then)], grids=grids, drill_id=drill_id)
    cells = load_cells(conn, grids)
    covered = grid_coverage(conn, cells, period, now, drill_id=drill_id)
    scoped = in_scope(load.cases, drill_id)
    clock = clock_for(rules.calendar, scoped + in_scope(earlier.cases, drill_id), now)
    per_grid = sum_by_key(tallies_by_grid(rules, clock, scoped, period, now), load.counted)
    before = area_figures(rules, earlier.cases, previous, back_then, grids=all_grids,
                          include_ungridded=grids is None, drill_id=drill_id, clock=clock, counted=earlier.total(),
                          coverage_of_grids=grid_coverage(conn, cells, previous, back_then, drill_id=drill_id))

    def level_table(level: str) -> dict[str, AreaFigures]:
        return {code: figures_of_grids(per_grid, period, territory.grids_under(code),
                                       include_ungridded=level == "district", coverage_of_grids=covered)
                for code in territory.at_level(level) if area_code in territory.chain(code)}

    child = CHILD_LEVEL.get(territory.level.get(area_code, ""))
    duties = _duties(rules, load, period, now, drill_id, clock)
    return LeaderFigures(
        area=area_code,
        current=figures_of_grids(per_grid, period, all_grids, include_ungridded=grids is None,
                                 coverage_of_grids=covered),
        previous=before,
        children=level_table(child) if child else {},
        grids=level_table("grid"),
        patrollers=_ranked(conn, load_patrollers(conn, territory, area_code), duties, period, now, cells, drill_id),
        departments=departments_of(duties),
    )


def area_evidence(conn: Connection, rules: KpiRules, area_code: str, period: Period, now: datetime, *,
                  figures: Sequence[str] = WITH_EVIDENCE, drill_id: str | None = None) -> dict[str, list[Evidence]]:
    """What makes each of an area's figures for a period (feeds/kpis/evidence.py): every item it counts, from the
    cases' facts and the cells' visits (never from the tallies kept for speed, so that the two are checked
    against each other)."""
    territory = load_territory(conn)
    grids = _area_grids(territory, area_code)
    out: dict[str, list[Evidence]] = {}
    if "coverage" in figures:
        cells = load_cells(conn, grids)
        out["coverage"] = coverage_evidence(cells, visits(conn, cells, period, now, drill_id=drill_id), period, now,
                                            territory.grids_under(area_code))
    if any(f in FIGURES or f == "score" for f in figures):
        cases = in_scope(load_cases(conn, period, now, grids=grids, drill_id=drill_id), drill_id)
        clock = clock_for(rules.calendar, cases, now)
        out.update({f: evidence(rules, clock, cases, period, now, f) for f in figures if f in FIGURES})
        if "score" in figures:
            out["score"] = score_evidence(cases, rules, clock, territory.grids_under(area_code), period, now)
    return {f: out[f] for f in figures}


def figure_evidence(conn: Connection, rules: KpiRules, area_code: str, figure: str, period: Period, now: datetime, *,
                    drill_id: str | None = None) -> list[Evidence]:
    """What makes one of an area's figures for a period."""
    return area_evidence(conn, rules, area_code, period, now, figures=[figure], drill_id=drill_id)[figure]


def holder_evidence(conn: Connection, rules: KpiRules, area_code: str, holder: str, code: str, figure: str,
                    period: Period, now: datetime, *, drill_id: str | None = None) -> list[Evidence] | None:
    """What makes one figure of a patroller (`holder` "person", `code` their id) or a department ("department",
    its code) on the cases of an area, as the area's rankings count it (`leader_figures`); None for a person
    who is not among the area's patrollers."""
    if figure not in HOLDERS.get(holder, {}):
        raise ValueError(f"no evidence of a {holder}'s {figure!r}")
    territory = load_territory(conn)
    grids = _area_grids(territory, area_code)
    person = None
    if holder == "person":
        person = next((p for p in load_patrollers(conn, territory, area_code) if p.id == code), None)
        if person is None:
            return None
        if figure == "coverage":  # of the grids they answer for, by the units they act under
            if not person.tracked:
                return []
            cells = load_cells(conn, grids)
            seen = visits(conn, cells, period, now, units=person.aliases, drill_id=drill_id)
            return coverage_evidence(cells, seen, period, now, person.grids)
    cases = in_scope(load_cases(conn, period, now, grids=grids, drill_id=drill_id), drill_id)
    clock = clock_for(rules.calendar, cases, now)
    if person is not None:
        return person_evidence(rules, clock, cases, person, period, now, figure)
    return department_evidence(rules, clock, cases, code, period, now, figure)


@dataclass(frozen=True)
class HoldersEvidence:
    """What makes every figure of an area's patrollers (by id, then figure; coverage too) and of the departments
    on its cases (by code, then figure): the monthly assessment's evidence per person and per department."""

    people: list[Patroller]
    persons: dict[str, dict[str, list[Evidence]]]
    departments: dict[str, dict[str, list[Evidence]]]


def area_holders_evidence(conn: Connection, rules: KpiRules, area_code: str, period: Period, now: datetime, *,
                          drill_id: str | None = None) -> HoldersEvidence:
    """`holder_evidence` of every patroller of an area and every department on its cases, from one load."""
    territory = load_territory(conn)
    grids = _area_grids(territory, area_code)
    people = load_patrollers(conn, territory, area_code)
    cases = in_scope(load_cases(conn, period, now, grids=grids, drill_id=drill_id), drill_id)
    persons, departments = holders_evidence(rules, clock_for(rules.calendar, cases, now), cases, people, period, now)
    cells = load_cells(conn, grids)
    seen = visits(conn, cells, period, now, units={a for p in people for a in p.aliases}, drill_id=drill_id)
    for p in people:
        persons[p.id]["coverage"] = coverage_evidence(cells, {v for v in seen if v[1] in p.aliases}, period, now,
                                                      p.grids) if p.tracked else []
    return HoldersEvidence(people, persons, departments)


@dataclass(frozen=True)
class Assessment:
    """The monthly assessment (月度考核): patrollers ranked, every area of every level scored, departments."""

    period: Period
    patrollers: list[Ranked]
    areas: dict[str, dict[str, AreaFigures]]  # level (street, community, grid) -> code -> figures
    departments: dict[str, DepartmentFigures]


ASSESSED_LEVELS = ("street", "community", "grid")


def monthly_assessment(conn: Connection, rules: KpiRules, year: int, month: int, now: datetime, *,
                       drill_id: str | None = None) -> Assessment:
    """The figures of `patroller_ranking`, `tests.oracles.area_table` (streets, communities, grids) and
    `departments_panel` for one calendar month, from one load of its cases, cells and fixes."""
    period = Period.month(year, month, rules.calendar.zone)
    territory = load_territory(conn)
    (load,) = load_counted(conn, rules, [(period, now)], drill_id=drill_id, by_grid=True, with_duties=True)
    cells = load_cells(conn)
    covered = grid_coverage(conn, cells, period, now, drill_id=drill_id)
    duties = _duties(rules, load, period, now, drill_id)
    return Assessment(
        period=period,
        patrollers=_ranked(conn, load_patrollers(conn, territory), duties, period, now, cells, drill_id),
        areas={level: figures_by_area(rules, load.cases, territory, level, period, now, coverage_of_grids=covered,
                                      counted=load.counted, drill_id=drill_id) for level in ASSESSED_LEVELS},
        departments=departments_of(duties),
    )
