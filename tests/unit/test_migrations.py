from alembic import command
from alembic.config import Config

from feeds.store import ROOT


def test_the_migrations_match_the_models(db_url):
    """The db_url fixture is migrated to head; autogenerate must find nothing left to migrate."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.attributes["url"] = db_url
    cfg.attributes["configure_logger"] = False
    command.check(cfg)  # raises when the models and the migrations differ
