"""What the wall's grid card shows of one grid, read from the territory tables: its name and community,
the people who answer for it (实名落图), its assets by kind and its patrol coverage today."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from feeds.kpis.figures import KpiRules, Period, Rate
from feeds.kpis.load import area_panel
from feeds.store.engine import tuples
from feeds.store.models import Area, Asset, Person

ASSET_KINDS = ("camera", "street_light", "manhole", "hydrant")


@dataclass(frozen=True)
class GridFacts:
    code: str
    name: str
    community: str | None
    people: tuple[tuple[str, str], ...]  # (role, name): the grid's own first, then its community's
    assets: dict[str, int]  # kind -> count, every kind of ASSET_KINDS present
    coverage: Rate
    households: int
    population: int


def grid_facts(conn: Connection, rules: KpiRules, code: str, now: datetime) -> GridFacts | None:
    """The grid's facts, or None when there is no such grid."""
    areas = Area.__table__
    grid = conn.execute(select(areas).where(areas.c.code == code, areas.c.level == "grid")).first()
    if grid is None:
        return None
    community = None
    if grid.parent_code:
        community = conn.execute(select(areas.c.name).where(areas.c.code == grid.parent_code)).scalar()
    people = Person.__table__
    rows = conn.execute(select(people.c.role, people.c.name, people.c.area_code)
                        .where(people.c.area_code.in_([code, grid.parent_code or code]))
                        .order_by(people.c.role, people.c.id)).all()
    own = [(r.role, r.name) for r in rows if r.area_code == code]
    theirs = [(r.role, r.name) for r in rows if r.area_code != code and r.role != "dispatcher"]
    assets = Asset.__table__
    counted: Counter[str] = Counter(dict(tuples(conn.execute(
        select(assets.c.kind, func.count()).where(assets.c.grid_code == code).group_by(assets.c.kind)))))
    coverage = area_panel(conn, rules, code, Period.today(now, rules.calendar.zone), now).coverage
    return GridFacts(code, grid.name, community, tuple(own + theirs), {k: counted.get(k, 0) for k in ASSET_KINDS},
                     coverage, grid.households, grid.population)


def camera_points(conn: Connection) -> list[dict[str, object]]:
    """Every camera of the district with its place, for the wall map."""
    assets = Asset.__table__
    return [{"id": r.id, "lat": r.lat, "lon": r.lon, "grid": r.grid_code}
            for r in conn.execute(select(assets.c.id, assets.c.lat, assets.c.lon, assets.c.grid_code)
                                  .where(assets.c.kind == "camera").order_by(assets.c.id))]
