"""Figures computed the plain way, one function per question, to check the fast paths the screens use
against: they load everything a period may count and run the pure figures over it, with no cache and no
sharing between areas, periods or panels."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.engine import Connection

from feeds.kpis.cache import grid_coverage
from feeds.kpis.figures import (
    NO_RATE,
    AreaFigures,
    CaseFacts,
    Cells,
    CellVisit,
    KpiRules,
    Patroller,
    Period,
    Ranked,
    Rate,
    coverage,
    duties_of,
    figures_by_area,
    ranking_of,
)
from feeds.kpis.load import load_cells, load_counted, load_territory


def area_table(conn: Connection, rules: KpiRules, level: str, period: Period, now: datetime, *,
               drill_id: str | None = None, with_coverage: bool = True) -> dict[str, AreaFigures]:
    """Every figure for every area of a level (the ranking table of grids, communities or streets)."""
    territory = load_territory(conn)
    (load,) = load_counted(conn, rules, [(period, now)], drill_id=drill_id, by_grid=True)
    covered = grid_coverage(conn, load_cells(conn), period, now, drill_id=drill_id) if with_coverage else {}
    return figures_by_area(rules, load.cases, territory, level, period, now, coverage_of_grids=covered,
                           counted=load.counted, drill_id=drill_id)


def rank_patrollers(rules: KpiRules, cases: Sequence[CaseFacts], people: Iterable[Patroller], period: Period,
                    now: datetime, *, cells: Cells | None = None, visits: Iterable[CellVisit] = (),
                    drill_id: str | None = None) -> list[Ranked]:
    """The monthly ranking (or any period's): every patroller's figures and score, best first."""
    by_unit: dict[str, list[CellVisit]] = defaultdict(list)
    for v in visits:
        by_unit[v[1]].append(v)

    def coverage_of(p: Patroller) -> Rate:
        if cells is None:
            return NO_RATE
        return coverage(cells, [v for a in p.aliases for v in by_unit.get(a, ())], period, now, p.grids, p.aliases)

    return ranking_of(people, duties_of(rules, cases, period, now, drill_id=drill_id), coverage_of)
