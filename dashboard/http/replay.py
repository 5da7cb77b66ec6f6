"""GET /api/replay: a past period's start snapshot and its frames, in chunks. Read-only.

    /api/replay?from=2026-11-23T09:00&to=2026-11-23T10:00            the live situation (times without a zone
                                                                     are the command centre's, CC_TIMEZONE)
    /api/replay?drill=<id>                                           a drill, from its start to its end
    /api/replay?from=…&to=…&after_seq=300&limit=300                  the next chunk

The first chunk (`after_seq` 0) carries the snapshot at `from`; every chunk carries at most `limit` frames
(≤ 600, one per second of replayed time with events) and about 20,000 views, `next_after_seq` to ask for
the next, and `done`. A bad request gets 400 with the reason. Nothing is written, and the live state in
Redis is not read: a replay is built from the database alone (feeds/replay/reads.py).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from flask import Flask, Response, request
from sqlalchemy.engine import Engine

from dashboard.http import realtime
from feeds.clock import ms
from feeds.drills.control import DrillRecord, drill_record
from feeds.replay.frames import FRAME_MS, Period, PeriodError
from feeds.replay.reads import replay_chunk, replay_start
from feeds.settings import Settings
from feeds.taxonomy import load as load_taxonomy

REPLAY_PATH = "/api/replay"
DEFAULT_LIMIT, MAX_LIMIT = 300, 600
MAX_ITEMS = 20_000


def parse_when(value: str, zone: str) -> datetime:
    """A time as the form or a script sends it: ISO 8601 (without a zone: the command centre's) or epoch ms."""
    text = value.strip()
    if text.isdigit():
        try:
            return datetime.fromtimestamp(int(text) / 1000, UTC)
        except (OverflowError, ValueError, OSError) as err:
            raise PeriodError(f"not a time: {text[:40]!r}") from err
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise PeriodError(f"not a time: {text[:40]!r} (use ISO 8601, e.g. 2026-11-23T09:00, or epoch ms)") from err
    return (t.replace(tzinfo=ZoneInfo(zone)) if t.tzinfo is None else t).astimezone(UTC)


def period_of(args: Mapping[str, str], zone: str, find_drill: Callable[[str], DrillRecord | None],
              now: datetime) -> tuple[Period, DrillRecord | None]:
    """The period a request asks for, or PeriodError with the reason. A drill without `from`/`to` is replayed
    from its start to its end (to now while it runs)."""
    drill_id = args.get("drill") or None
    record = None
    if drill_id is not None:
        if not realtime.valid_drill(drill_id):
            raise PeriodError(f"not a drill id: {drill_id[:80]!r}")
        record = find_drill(drill_id)
        if record is None:
            raise PeriodError(f"no drill {drill_id!r}")
    start_text, end_text = args.get("from") or None, args.get("to") or None
    if record is None and (start_text is None or end_text is None):
        raise PeriodError("from and to are required (or a drill)")
    start = parse_when(start_text, zone) if start_text else record.started_at  # type: ignore[union-attr]
    end = parse_when(end_text, zone) if end_text else (record.ended_at or now)  # type: ignore[union-attr]
    if record is not None and not end_text and end <= start:
        end = start + timedelta(seconds=1)  # a drill that ended as it started: one second
    return Period(start, end, drill_id), record


def _int(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as err:
        raise PeriodError(f"{name} must be a whole number, not {raw[:20]!r}") from err
    if not low <= value <= high:
        raise PeriodError(f"{name} must be between {low} and {high}, not {value}")
    return value


def attach(server: Flask, engine: Engine, settings: Settings, clock: Callable[[], datetime] | None = None) -> None:
    taxonomy, calendar = load_taxonomy(), settings.working_calendar()
    now = clock or (lambda: datetime.now(UTC))

    def _json(data: Any, status: int = 200) -> Response:
        return Response(orjson.dumps(data), status=status, mimetype="application/json",
                        headers={"Cache-Control": "no-store"})

    @server.get(REPLAY_PATH)
    def _replay() -> Response:
        with engine.connect() as conn:
            try:
                period, record = period_of(request.args, settings.timezone, lambda d: drill_record(conn, d), now())
                after_seq = _int(request.args, "after_seq", 0, 0, period.last_seq)
                limit = _int(request.args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
            except PeriodError as err:
                return _json({"error": str(err)}, 400)
            chunk = replay_chunk(conn, period, after_seq, taxonomy, calendar, limit=limit, max_items=MAX_ITEMS)
            body: dict[str, Any] = {
                "period": {"from": period.start_ms, "to": period.end_ms, "drill": period.drill_id,
                           "frame_ms": FRAME_MS, "last_seq": period.last_seq,
                           "title_zh": record.zh if record else None, "title_en": record.en if record else None},
                "frames": chunk.frames, "next_after_seq": chunk.next_after_seq, "done": chunk.done,
                "served_at": ms(now())}
            if after_seq == 0:
                body["snapshot"] = replay_start(conn, period, taxonomy, calendar)
            conn.rollback()  # read only: nothing to keep
        return _json(body)
