"""Alembic environment: migrations for feeds.store's models, on SQLite (batch mode) and PostgreSQL."""
from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from feeds.store.engine import make_engine
from feeds.store.models import Base, UtcDateTime

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    """The URL given by feeds.store.engine.migrate, else the one from the settings (alembic CLI)."""
    url = config.attributes.get("url")
    if url:
        return str(url)
    from feeds.settings import Settings  # the alembic CLI is an entry point of its own

    return Settings().db_url


def _render_item(type_: str, obj: object, _context: object) -> str | bool:
    """Migrations spell our UTC column type as the plain SQLAlchemy type it stores."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=Base.metadata, literal_binds=True, render_as_batch=True,
                      render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                          render_item=_render_item)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
