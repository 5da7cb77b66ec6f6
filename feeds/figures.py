"""The KPI panels' I/O edge: load the facts of a period and an area from the database, hand them to the pure
figures of feeds/kpis.py. SQLAlchemy Core, only the columns needed, on SQLite and PostgreSQL.

Which cases a period needs: those reported before its `as_of` that are still open, or that changed state
on or after the period's start (a finished case's `step_started_at` is when it finished). Every event a
figure counts for the period falls on or after its start, so older finished cases cannot count.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import shapely
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.engine import Connection

from feeds.cases import FINAL
from feeds.kpis import (
    AreaFigures,
    CaseFacts,
    CaseRecord,
    Cells,
    CellVisit,
    DepartmentFigures,
    KpiRules,
    Patroller,
    Period,
    Ranked,
    Territory,
    Track,
    TrailEvent,
    area_figures,
    case_facts,
    cell_visits,
    clock_for,
    coverage_by_grid,
    department_figures,
    figures_by_area,
    in_scope,
    rank_patrollers,
)
from feeds.store import Area, CaseAudit, CaseRow, IncidentRow, PatrolFix, Person

CASES = CaseRow.__table__
AUDIT = CaseAudit.__table__
REPORTS = IncidentRow.__table__
AREAS = Area.__table__
PEOPLE = Person.__table__
FIXES = PatrolFix.__table__

PATROL_ROLES = ("grid_worker", "patroller_outer", "patroller_inner")
_TRAIL_ACTIONS = ("verify", "register", "reject", "dispatch", "send_back", "handle", "self_handle", "check_pass",
                  "check_fail", "close", "extend", "park", "restore", "void", "reassign")
_NEEDS_AFTER = frozenset({"dispatch", "reassign", "reject", "extend", "restore"})
_FINAL = [s.value for s in FINAL]


def _drill(column: Any, drill_id: str | None) -> ColumnElement[bool]:
    return column.is_(None) if drill_id is None else column == drill_id


def _relevant(period: Period, now: datetime, grids: Collection[str] | None, drill_id: str | None) -> list[Any]:
    where = [CASES.c.reported_at < period.as_of(now), _drill(CASES.c.drill_id, drill_id),
             or_(CASES.c.state.not_in(_FINAL), CASES.c.step_started_at >= period.start)]
    if grids is not None:
        where.append(CASES.c.grid_code.in_(sorted(grids)))
    return where


def load_cases(conn: Connection, period: Period, now: datetime, *, grids: Collection[str] | None = None,
               drill_id: str | None = None) -> list[CaseFacts]:
    """The facts of every case the period's figures may count, in `grids` (None: the whole district, cases
    filed under no grid too), live or of one drill."""
    where = _relevant(period, now, grids, drill_id)
    rows = conn.execute(
        select(CASES.c.id, CASES.c.category, CASES.c.urgent, CASES.c.channel, CASES.c.grid_code,
               REPORTS.c.reporter_id, CASES.c.occurred_at, CASES.c.reported_at, CASES.c.drill_id)
        .select_from(CASES.outerjoin(REPORTS, REPORTS.c.id == CASES.c.id))
        .where(*where)).all()
    if not rows:
        return []
    relevant = select(CASES.c.id).where(*where)
    trails: dict[str, list[TrailEvent]] = {}
    for case_id, action, by, at, after in conn.execute(
            select(AUDIT.c.case_id, AUDIT.c.action, AUDIT.c.by, AUDIT.c.at, AUDIT.c.after)
            .where(AUDIT.c.case_id.in_(relevant), AUDIT.c.action.in_(_TRAIL_ACTIONS))
            .order_by(AUDIT.c.case_id, AUDIT.c.at, AUDIT.c.id)):
        trails.setdefault(case_id, []).append(
            TrailEvent(action, by, at, json.loads(after) if action in _NEEDS_AFTER else {}))
    return [case_facts(CaseRecord(*row), trails.get(row[0], ())) for row in rows]


def load_territory(conn: Connection) -> Territory:
    """Areas above the patrol cells: district, streets, communities, grids."""
    rows = conn.execute(select(AREAS.c.code, AREAS.c.parent_code, AREAS.c.level).where(AREAS.c.level != "cell"))
    parent: dict[str, str | None] = {}
    level: dict[str, str] = {}
    for code, up, lvl in rows:
        parent[code] = up
        level[code] = lvl
    return Territory(parent, level)


def load_cells(conn: Connection, grids: Collection[str] | None = None) -> Cells:
    """The unit cells (单元网格) of `grids` (None: all) with their polygons."""
    query = select(AREAS.c.code, AREAS.c.parent_code, AREAS.c.geometry).where(AREAS.c.level == "cell")
    if grids is not None:
        query = query.where(AREAS.c.parent_code.in_(sorted(grids)))
    rows = conn.execute(query.order_by(AREAS.c.code)).all()
    polygons = shapely.from_geojson([g for _, _, g in rows]) if rows else []
    return Cells.of([(code, grid, poly) for (code, grid, _), poly in zip(rows, polygons)])


def load_visits(conn: Connection, cells: Cells, period: Period, now: datetime, *,
                units: Collection[str] | None = None, drill_id: str | None = None) -> set[CellVisit]:
    """Cells visited per day and unit, from the raw patrol fixes of the period (those near the cells)."""
    if not cells.codes:
        return set()
    west, south, east, north = shapely.total_bounds(cells.tree.geometries)
    where = [FIXES.c.fix_at >= period.start, FIXES.c.fix_at < period.as_of(now), _drill(FIXES.c.drill_id, drill_id),
             FIXES.c.lon.between(west - 0.01, east + 0.01), FIXES.c.lat.between(south - 0.01, north + 0.01)]
    if units is not None:
        where.append(FIXES.c.unit_id.in_(sorted(units)))
    rows = conn.execute(select(FIXES.c.unit_id, FIXES.c.fix_at, FIXES.c.lon, FIXES.c.lat).where(*where)).all()
    if not rows:
        return set()
    units_, times, lons, lats = zip(*rows)
    return cell_visits(cells, Track(units_, times, lons, lats), period.zone)


def load_patrollers(conn: Connection, territory: Territory, area_code: str | None = None) -> list[Patroller]:
    """Grid workers and patrollers (answering for `area_code` or anywhere under it), with the grids they
    answer for and the ids they act under (person id, GPS unit)."""
    rows = conn.execute(select(PEOPLE.c.id, PEOPLE.c.name, PEOPLE.c.area_code, PEOPLE.c.unit_id)
                        .where(PEOPLE.c.role.in_(PATROL_ROLES)).order_by(PEOPLE.c.id)).all()
    out = []
    for pid, name, area, unit in rows:
        if area is None or (area_code is not None and area_code not in territory.chain(area)):
            continue
        out.append(Patroller(pid, name, frozenset({pid, unit} - {None}), territory.grids_under(area)))
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
    territory = load_territory(conn)
    grids = _area_grids(territory, area_code)
    cases = load_cases(conn, period, now, grids=grids, drill_id=drill_id)
    covered = {}
    if with_coverage:
        cells = load_cells(conn, grids)
        covered = coverage_by_grid(cells, load_visits(conn, cells, period, now, drill_id=drill_id), period, now)
    all_grids = grids if grids is not None else territory.grids_under(area_code)
    return area_figures(rules, cases, period, now, grids=all_grids, include_ungridded=grids is None,
                        coverage_of_grids=covered, drill_id=drill_id)


def area_table(conn: Connection, rules: KpiRules, level: str, period: Period, now: datetime, *,
               drill_id: str | None = None, with_coverage: bool = True) -> dict[str, AreaFigures]:
    """Every figure for every area of a level (the ranking table of grids, communities or streets)."""
    territory = load_territory(conn)
    cases = load_cases(conn, period, now, drill_id=drill_id)
    cells = load_cells(conn) if with_coverage else None
    visits: Iterable[CellVisit] = load_visits(conn, cells, period, now, drill_id=drill_id) if cells else ()
    return figures_by_area(rules, cases, territory, level, period, now, cells=cells, visits=visits,
                           drill_id=drill_id)


def departments_panel(conn: Connection, rules: KpiRules, period: Period, now: datetime, *,
                      drill_id: str | None = None) -> dict[str, DepartmentFigures]:
    return department_figures(rules, load_cases(conn, period, now, drill_id=drill_id), period, now,
                              drill_id=drill_id)


def patroller_ranking(conn: Connection, rules: KpiRules, period: Period, now: datetime, *,
                      area_code: str | None = None, drill_id: str | None = None,
                      with_coverage: bool = True) -> list[Ranked]:
    """The patrollers of an area (None: the district) ranked by composite score; the top three flagged."""
    territory = load_territory(conn)
    people = load_patrollers(conn, territory, area_code)
    grids = None if area_code is None else _area_grids(territory, area_code)
    cases = load_cases(conn, period, now, grids=grids, drill_id=drill_id)
    cells = load_cells(conn, grids) if with_coverage else None
    units = {a for p in people for a in p.aliases}
    visits: Iterable[CellVisit] = (load_visits(conn, cells, period, now, units=units, drill_id=drill_id)
                                   if cells else ())
    return rank_patrollers(rules, cases, people, period, now, cells=cells, visits=visits, drill_id=drill_id)


# ---------------------------------------------------------------------------------------------- leader page


def span_of(periods: Collection[Period]) -> Period:
    """The one period covering all of `periods` (their earliest start to their latest end)."""
    if not periods:
        raise ValueError("no periods to span")
    first = min(periods, key=lambda p: p.start)
    return Period(first.start, max(p.end for p in periods), first.zone)


def relevant_to(cases: Iterable[CaseFacts], period: Period, now: datetime) -> list[CaseFacts]:
    """The cases `load_cases` would load for `period` alone, out of those loaded for a longer span: reported
    before its `as_of`, and not finished before it starts."""
    as_of = period.as_of(now)
    return [c for c in cases if c.reported_at < as_of and (c.finished_at is None or c.finished_at >= period.start)]


def area_panels(conn: Connection, rules: KpiRules, area_code: str, periods: Sequence[Period], now: datetime, *,
                drill_id: str | None = None, with_coverage: bool = True) -> list[AreaFigures]:
    """`area_panel` for several periods of one area (a period and the one before it, the days of a trend),
    loading the cases, cells and fixes once for the span of all of them."""
    if not periods:
        return []
    territory = load_territory(conn)
    grids = _area_grids(territory, area_code)
    span = span_of(periods)
    cases = load_cases(conn, span, now, grids=grids, drill_id=drill_id)
    cells = load_cells(conn, grids) if with_coverage else None
    visits = load_visits(conn, cells, span, now, drill_id=drill_id) if cells is not None else set()
    clock = clock_for(rules.calendar, in_scope(cases, drill_id), now)
    all_grids = grids if grids is not None else territory.grids_under(area_code)
    out = []
    for period in periods:
        covered = coverage_by_grid(cells, visits, period, now) if cells is not None else {}
        out.append(area_figures(rules, relevant_to(cases, period, now), period, now, grids=all_grids, include_ungridded=grids is None,
                                coverage_of_grids=covered, drill_id=drill_id, clock=clock))
    return out


def daily_series(conn: Connection, rules: KpiRules, area_code: str, last_day: date, days: int, now: datetime, *,
                 zone: ZoneInfo | None = None, drill_id: str | None = None,
                 with_coverage: bool = True) -> list[tuple[date, AreaFigures]]:
    """The figures of an area for each of the `days` local days ending with `last_day` (a 30-day trend)."""
    if days < 1:
        raise ValueError(f"a series needs at least one day, not {days}")
    zone = zone or rules.calendar.zone
    dates = [last_day - timedelta(days=days - 1 - k) for k in range(days)]
    periods = [Period.dates(d, d, zone) for d in dates]
    return list(zip(dates, area_panels(conn, rules, area_code, periods, now, drill_id=drill_id,
                                       with_coverage=with_coverage)))


def departments_in(conn: Connection, rules: KpiRules, area_code: str, period: Period, now: datetime, *,
                   drill_id: str | None = None) -> dict[str, DepartmentFigures]:
    """`departments_panel` for the cases of one area (the district: all of them)."""
    grids = _area_grids(load_territory(conn), area_code)
    return department_figures(rules, load_cases(conn, period, now, grids=grids, drill_id=drill_id), period, now,
                              drill_id=drill_id)


@dataclass(frozen=True)
class AreaEntry:
    code: str
    name: str
    level: str
    parent: str | None


def area_directory(conn: Connection) -> dict[str, AreaEntry]:
    """Names, levels and parents of the areas above the patrol cells (for breadcrumbs and tables)."""
    rows = conn.execute(select(AREAS.c.code, AREAS.c.name, AREAS.c.level, AREAS.c.parent_code)
                        .where(AREAS.c.level != "cell").order_by(AREAS.c.code))
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


def leader_figures(conn: Connection, rules: KpiRules, area_code: str, period: Period, previous: Period,
                   now: datetime, *, drill_id: str | None = None) -> LeaderFigures:
    """The leader page's figures of an area in one load: the same figures as `area_panel` (for the period
    and the one before), `area_table` (its sub-areas, its grids), `patroller_ranking` and `departments_in`,
    from the cases, cells and fixes of the span of both periods."""
    territory = load_territory(conn)
    grids = _area_grids(territory, area_code)
    span = span_of([period, previous])
    loaded = in_scope(load_cases(conn, span, now, grids=grids, drill_id=drill_id), drill_id)
    cases = relevant_to(loaded, period, now)
    cells = load_cells(conn, grids)
    visits = load_visits(conn, cells, span, now, drill_id=drill_id)
    clock = clock_for(rules.calendar, loaded, now)
    all_grids = grids if grids is not None else territory.grids_under(area_code)

    def figures(p: Period) -> AreaFigures:
        return area_figures(rules, relevant_to(loaded, p, now), p, now, grids=all_grids,
                            include_ungridded=grids is None, coverage_of_grids=coverage_by_grid(cells, visits, p, now),
                            drill_id=drill_id, clock=clock)

    def level_table(level: str) -> dict[str, AreaFigures]:
        table = figures_by_area(rules, cases, territory, level, period, now, cells=cells, visits=visits,
                                drill_id=drill_id)
        return {c: f for c, f in table.items() if area_code in territory.chain(c)}

    child = CHILD_LEVEL.get(territory.level.get(area_code, ""))
    people = load_patrollers(conn, territory, area_code)
    return LeaderFigures(
        area=area_code,
        current=figures(period),
        previous=figures(previous),
        children=level_table(child) if child else {},
        grids=level_table("grid"),
        patrollers=rank_patrollers(rules, cases, people, period, now, cells=cells, visits=visits,
                                   drill_id=drill_id),
        departments=department_figures(rules, cases, period, now, drill_id=drill_id),
    )


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
    """The figures of `patroller_ranking`, `area_table` (streets, communities, grids) and `departments_panel`
    for one calendar month, from one load of its cases, cells and fixes."""
    period = Period.month(year, month, rules.calendar.zone)
    territory = load_territory(conn)
    cases = in_scope(load_cases(conn, period, now, drill_id=drill_id), drill_id)
    cells = load_cells(conn)
    visits = load_visits(conn, cells, period, now, drill_id=drill_id)
    people = load_patrollers(conn, territory)
    return Assessment(
        period=period,
        patrollers=rank_patrollers(rules, cases, people, period, now, cells=cells, visits=visits,
                                   drill_id=drill_id),
        areas={level: figures_by_area(rules, cases, territory, level, period, now, cells=cells, visits=visits,
                                      drill_id=drill_id) for level in ASSESSED_LEVELS},
        departments=department_figures(rules, cases, period, now, drill_id=drill_id),
    )
