"""The engine factory (SQLite tuned for several processes, PostgreSQL pre-pinged) and the migrations (Alembic)."""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import (
    create_engine,
    event,
)
from sqlalchemy.engine import Connection, Engine

ROOT = Path(__file__).resolve().parent.parent.parent  # the project: alembic.ini, alembic/


def make_engine(url: str) -> Engine:
    """An engine; SQLite files get WAL, NORMAL sync and a busy timeout (several processes share them)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA wal_autocheckpoint=10000")  # fewer, larger checkpoints under a steady feed
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(url: str) -> None:
    """Bring the database to the newest schema with Alembic."""
    from alembic.config import Config

    from alembic import command

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")




def tuples(result: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    """A Core query's rows, typed as the tuples they unpack into (`for code, name in tuples(conn.execute(q))`):
    mypy reads a Row of untyped columns as `object` when it is unpacked."""
    return iter(result)


def administer(url: str, act: Callable[[Connection], None], refused: type[Exception]) -> int:
    """An administrator's command (python -m …) as one transaction on the database at `url`: 0 when it is done;
    2, with the reason on stderr and nothing changed, when it is `refused`."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            act(conn)
    except refused as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0
