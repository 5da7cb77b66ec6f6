from alembic.config import Config
from sqlalchemy import text

from alembic import command
from feeds.store.engine import ROOT, make_engine


def test_the_migrations_match_the_models(db_url):
    """The db_url fixture is migrated to head; autogenerate must find nothing left to migrate."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.attributes["url"] = db_url
    cfg.attributes["configure_logger"] = False
    command.check(cfg)  # raises when the models and the migrations differ


def test_the_units_days_are_filled_from_the_stored_cell_visits(db_url):
    """0013: per day, unit and grid, the cells the unit visited, counted from kpi_cell_visits."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.attributes["url"] = db_url
    cfg.attributes["configure_logger"] = False
    command.downgrade(cfg, "0012")
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO areas (code, level, parent_code, name, households, population, geometry) "
                          "VALUES (:code, :level, :parent, :code, 0, 0, '{}')"),
                     [{"code": "D", "level": "district", "parent": None},
                      {"code": "G1", "level": "grid", "parent": "D"}, {"code": "G2", "level": "grid", "parent": "D"},
                      {"code": "G1-U1", "level": "cell", "parent": "G1"}, {"code": "G1-U2", "level": "cell",
                                                                           "parent": "G1"},
                      {"code": "G2-U1", "level": "cell", "parent": "G2"}])
        conn.execute(text("INSERT INTO kpi_cell_visits (day, unit_id, cell_code) VALUES (:day, :unit, :cell)"),
                     [{"day": "2026-11-23", "unit": "P1", "cell": "G1-U1"}, {"day": "2026-11-23", "unit": "P1",
                                                                             "cell": "G1-U2"},
                      {"day": "2026-11-23", "unit": "P1", "cell": "G2-U1"}, {"day": "2026-11-24", "unit": "P1",
                                                                             "cell": "G1-U2"},
                      {"day": "2026-11-23", "unit": "P2", "cell": "G1-U1"}])
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT day, unit_id, grid_code, visited FROM kpi_unit_days "
                                 "ORDER BY day, unit_id, grid_code")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("2026-11-23", "P1", "G1", 2), ("2026-11-23", "P1", "G2", 1),
                                        ("2026-11-23", "P2", "G1", 1), ("2026-11-24", "P1", "G1", 1)]
