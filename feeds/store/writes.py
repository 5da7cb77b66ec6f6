"""The ingest's writes: a batch of feed messages and refusals in one transaction, a message id written once."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import orjson
from sqlalchemy import case, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from feeds.bus.lease import Fenced
from feeds.schemas import CameraStatus, FeedMessage, IncidentReport, PatrolPosition, Rejection
from feeds.store.arrays import ARRAY_OF
from feeds.store.models import DEAD_LETTERS, CameraAlertRow, CameraStatusRow, FenceRow, IncidentRow, PatrolFix

log = logging.getLogger(__name__)
_TABLE_OF: dict[str, Any] = {
    "patrol_position": PatrolFix.__table__,
    "incident_report": IncidentRow.__table__,
    "camera_alert": CameraAlertRow.__table__,
    "camera_status": CameraStatusRow.__table__,
}

def _row(m: FeedMessage, received_at: datetime) -> dict[str, Any]:
    row = m.model_dump(exclude={"kind", "schema_version", "ts"})
    row["sent_at"] = m.ts
    row["received_at"] = received_at
    if isinstance(m, IncidentReport):
        row["channel"] = m.channel.value
    elif isinstance(m, CameraStatus):
        row["state"] = m.state.value
    return row


def _insert_ignoring_known(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> set[str]:
    """Insert rows whose id is new; return the ids actually inserted (a replay inserts nothing)."""
    dialect = conn.dialect.name
    insert: Callable[..., Any] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect]
    stmt = insert(table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
    return set(conn.execute(stmt, rows).scalars().all())


_FIX_COLUMNS = ("id", "source", "drill_id", "sent_at", "received_at", "unit_id", "lat", "lon", "accuracy_m",
                "speed_mps", "fix_at")


def _known_fix_ids(conn: Connection, ids: list[str]) -> set[str]:
    """The ids among `ids` already stored (SQLite): one statement with a single parameter, a JSON array, whatever
    the batch size."""
    sql = "SELECT id FROM patrol_fixes WHERE id IN (SELECT value FROM json_each(?))"
    return {row[0] for row in conn.exec_driver_sql(sql, (orjson.dumps(ids).decode(),))}  # text: a blob is JSONB


def sqlite_stamper() -> Callable[[datetime], str]:
    """A function giving the text SQLite stores for a UTC datetime, as the UTC column type would store it
    ('2026-11-22 10:00:05.123000'). The part up to the minute is formatted once per minute: isoformat is
    the slowest step of building a fix's row."""
    minutes: dict[tuple[int, int, int, int, int], str] = {}

    def stamp(t: datetime) -> str:  # t is in UTC (validated messages hold UTC datetimes)
        key = (t.year, t.month, t.day, t.hour, t.minute)
        head = minutes.get(key)
        if head is None:
            head = minutes[key] = t.isoformat(" ")[:17]
        return f"{head}{t.second:02d}.{t.microsecond:06d}"

    return stamp


_ROWS_PER_INSERT = 200  # rows per multi-row INSERT: one statement step for many rows (2,200 parameters)
# On PostgreSQL the rows go as ten arrays, unnested: the statement stays short, so the driver parses it once
# (psycopg parses a statement for its placeholders in Python, and does not keep one of 2,200 placeholders). The
# batch's one receipt time goes once, and a fix's sending time only when it is not the time it was taken (a fix
# is mostly sent when it is taken): writing out 5,000 moments took an eighth of the ingest's time.
_PG_FIX_TYPES = ("text", "text", "text", "timestamptz", "text", "float8", "float8", "float8", "float8", "timestamptz")
_PG_INSERT_FIXES = (
    f"INSERT INTO patrol_fixes ({', '.join(_FIX_COLUMNS)}) SELECT id, source, drill_id, coalesce(sent_at, fix_at), "
    "%s::timestamptz, unit_id, lat, lon, accuracy_m, speed_mps, fix_at FROM unnest("
    + ", ".join(f"%s::{t}[]" for t in _PG_FIX_TYPES)
    + ") AS f(id, source, drill_id, sent_at, unit_id, lat, lon, accuracy_m, speed_mps, fix_at)"
    " ON CONFLICT (id) DO NOTHING RETURNING id")


_PG_ARRAYS = tuple(ARRAY_OF[t] for t in _PG_FIX_TYPES)  # each column as one array literal (feeds/store/arrays.py)


def _insert_fixes(conn: Connection, fixes: Sequence[PatrolPosition], received_at: datetime) -> set[str]:
    """The hot path (thousands of fixes a second), on the driver with no per-value type processing: on
    PostgreSQL one statement with a column per array parameter, which says which rows were new; on SQLite
    plain tuples in multi-row INSERTs, datetimes as the UTC column type would store them."""
    if conn.dialect.name == "postgresql":
        pg_rows: dict[str, tuple[Any, ...]] = {}
        for f in fixes:
            if f.id not in pg_rows:
                pg_rows[f.id] = (f.id, f.source, f.drill_id, None if f.ts == f.fix_at else f.ts, f.unit_id, f.lat,
                                 f.lon, f.accuracy_m, f.speed_mps, f.fix_at)
        if not pg_rows:
            return set()
        columns = zip(*pg_rows.values(), strict=True)
        inserted = conn.exec_driver_sql(_PG_INSERT_FIXES, (received_at.astimezone(UTC), *(
            array(column) for array, column in zip(_PG_ARRAYS, columns, strict=True))))
        return {row[0] for row in inserted}
    known = _known_fix_ids(conn, [f.id for f in fixes])  # SQLite
    stamp = sqlite_stamper()
    received = stamp(received_at.astimezone(UTC))
    rows: dict[str, tuple[Any, ...]] = {}
    for f in fixes:
        if f.id not in known and f.id not in rows:
            fix_at = stamp(f.fix_at)
            sent_at = fix_at if f.ts == f.fix_at else stamp(f.ts)  # a fix is mostly sent when it is taken
            rows[f.id] = (f.id, f.source, f.drill_id, sent_at, received, f.unit_id, f.lat, f.lon, f.accuracy_m,
                          f.speed_mps, fix_at)
    values = list(rows.values())
    one = "(" + ", ".join(["?"] * len(_FIX_COLUMNS)) + ")"
    for start in range(0, len(values), _ROWS_PER_INSERT):
        chunk = values[start:start + _ROWS_PER_INSERT]
        conn.exec_driver_sql(f"INSERT INTO patrol_fixes ({', '.join(_FIX_COLUMNS)}) "
                             f"VALUES {', '.join([one] * len(chunk))} ON CONFLICT (id) DO NOTHING",
                             tuple(chain.from_iterable(chunk)))
    return set(rows)


def write_batch(
    conn: Connection, messages: Sequence[FeedMessage], rejections: Iterable[Rejection], received_at: datetime
) -> set[str]:
    """Persist one ingest batch in the caller's transaction. Returns the ids that were new."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    fixes: list[PatrolPosition] = []
    for m in messages:
        if isinstance(m, PatrolPosition):
            fixes.append(m)
        else:
            by_kind.setdefault(m.kind, []).append(_row(m, received_at))
    new_ids = _insert_fixes(conn, fixes, received_at) if fixes else set()
    for kind, rows in by_kind.items():
        new_ids |= _insert_ignoring_known(conn, _TABLE_OF[kind], rows)
    _follow_alerts(conn, [r for r in by_kind.get("camera_alert", []) if r["id"] not in new_ids])
    write_dead_letters(conn, rejections, received_at)
    return new_ids


def _follow_alerts(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """An alert sent again as it goes on: its confidence only rises (and its snapshot is the one of its best
    sighting), what it saw only grows, its clip and its end are kept once known. So a message sent again, or an
    earlier one arriving late, changes nothing."""
    table = CameraAlertRow.__table__
    for row in rows:
        kept = conn.execute(select(table.c.confidence, table.c.ended_at, table.c.seen, table.c.snapshot_url,
                                   table.c.clip_url).where(table.c.id == row["id"])).first()
        if kept is None:
            continue
        better = row["confidence"] > kept.confidence  # its snapshot is then of a better sighting
        values = {"confidence": max(kept.confidence, row["confidence"]), "ended_at": kept.ended_at or row["ended_at"],
                  "seen": _grown(kept.seen, row["seen"]),
                  "snapshot_url": row["snapshot_url"] if row["snapshot_url"] and (better or not kept.snapshot_url)
                  else kept.snapshot_url,
                  "clip_url": kept.clip_url or row["clip_url"]}
        if values != {k: getattr(kept, k) for k in values}:
            conn.execute(update(CameraAlertRow).where(CameraAlertRow.id == row["id"]).values(**values))


def _grown(kept: str | None, new: str | None) -> str | None:
    """What an alert saw only grows: "person · 北门" then "car" is "person, car · 北门", and an earlier message
    arriving late takes nothing away. Each side of " · " (objects, then places) is a comma-separated list."""
    if not kept or not new:
        return kept or new
    sides = [part.split(" · ", 1) for part in (kept, new)]
    merged = []
    for k in range(2):
        names = [n for side in sides if len(side) > k for n in side[k].split(", ") if n]
        merged.append(", ".join(dict.fromkeys(names)))
    return " · ".join(m for m in merged if m)[:200]


def keep_dead_letters(engine: Engine, rejections: Sequence[Rejection], received_at: datetime) -> bool:
    """Keep refused input in its own transaction, for a producer outside the ingest (an adapter) that has
    already answered the sender. With the database away, it is logged and False returned; the producer goes on."""
    try:
        with engine.begin() as conn:
            write_dead_letters(conn, rejections, received_at)
    except Exception:
        log.exception("could not keep %d refused message(s) as dead letters: %s", len(rejections),
                      "; ".join(r.reason for r in rejections)[:300])
        return False
    return True


def write_dead_letters(conn: Connection, rejections: Iterable[Rejection], received_at: datetime) -> None:
    """Keep refused input with its reason, in the caller's transaction."""
    dead = [
        {"channel": r.channel, "stage": r.stage, "reason": _storable(r.reason), "payload": _storable(r.payload),
         "received_at": received_at}
        for r in rejections
    ]
    if dead:
        conn.execute(DEAD_LETTERS.insert(), dead)


def _storable(text: str) -> str:
    """Text any database keeps: NUL (which PostgreSQL refuses) is written as the escape \\x00, and a lone
    surrogate (which no UTF-8 database takes) as its escape \\udxxx."""
    text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text




def fence_batch(conn: Connection, role: str, epoch: int, seq: int = 0) -> int:
    """In the caller's transaction: refuse it (Fenced) when a newer epoch of `role`'s lease has written, else
    record this epoch (and `seq`, the live state's sequence number this transaction may lead to, if higher)
    and count the transaction. Returns the count. Under PostgreSQL a concurrent transaction of the newer epoch
    holds the row until it commits; this one then sees its epoch and is refused."""
    stmt = (update(FenceRow).where(FenceRow.role == role, FenceRow.epoch <= epoch)
            .values(epoch=epoch, batches=FenceRow.batches + 1,
                    seq=case((FenceRow.seq < seq, seq), else_=FenceRow.seq))
            .returning(FenceRow.batches))
    counted = conn.execute(stmt).scalar_one_or_none()
    if counted is None:
        if conn.execute(select(FenceRow.epoch).where(FenceRow.role == role)).first() is not None:
            raise Fenced(f"the {role} lease of epoch {epoch} was taken over: this transaction is refused")
        conn.execute(insert(FenceRow).values(role=role, epoch=epoch, batches=1, seq=seq))
        counted = 1
    return int(counted)


def fence_state(conn: Connection, role: str) -> tuple[int, int, int]:
    """(the newest epoch that wrote, transactions committed, the highest seq recorded) for `role`; zeros
    before any."""
    row = conn.execute(select(FenceRow.epoch, FenceRow.batches, FenceRow.seq).where(FenceRow.role == role)).first()
    return (0, 0, 0) if row is None else (int(row.epoch), int(row.batches), int(row.seq))
