"""A fix is stored exactly as it came, on SQLite and on PostgreSQL (where a batch's fixes go as eleven array
literals the server parses): every column of every generated fix reads back equal, a fix sent again is not
stored twice, and the insert says which fixes were new."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import hypothesis
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from sqlalchemy import delete, select

from feeds.schemas import PatrolPosition
from feeds.store.models import FIXES
from feeds.store.writes import write_batch

pytestmark = pytest.mark.integration

CODE = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-", min_size=1, max_size=64)
MOMENT = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                      timezones=st.sampled_from([UTC, *(datetime.now(UTC).astimezone().tzinfo,)]))
FIX = st.builds(
    lambda id_, source, drill, unit, lat, lon, acc, speed, fix_at, sent_later: PatrolPosition(
        kind="patrol_position", schema_version=1, id=id_, source=source, drill_id=drill, unit_id=unit, lat=lat, lon=lon,
        accuracy_m=acc, speed_mps=speed, fix_at=fix_at, ts=fix_at + sent_later),
    CODE, st.from_regex(r"^[a-z][a-z0-9_.\-]{0,31}$", fullmatch=True), st.none() | CODE, CODE,
    st.floats(-90, 90), st.floats(-180, 180), st.floats(0, 10_000), st.none() | st.floats(0, 100), MOMENT,
    st.sampled_from([timedelta(0), timedelta(seconds=3), timedelta(microseconds=1)]))


def _stored(conn) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    return {r.id: (r.source, r.drill_id, r.unit_id, r.lat, r.lon, r.accuracy_m, r.speed_mps, r.fix_at, r.sent_at)
            for r in conn.execute(select(FIXES))}


@hypothesis.settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fixes=st.lists(FIX, min_size=1, max_size=60, unique_by=lambda f: f.id))
def test_every_fix_reads_back_as_it_came(engine, fixes):
    received = datetime(2026, 12, 5, 2, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(delete(FIXES))
        assert write_batch(conn, fixes, [], received) == {f.id for f in fixes}
        assert write_batch(conn, fixes[:3], [], received) == set()  # sent again: not new, not stored twice
    with engine.connect() as conn:
        stored = _stored(conn)
        received_at = set(conn.execute(select(FIXES.c.received_at)).scalars())
    assert received_at == {received}
    assert stored == {f.id: (f.source, f.drill_id, f.unit_id, f.lat, f.lon, f.accuracy_m, f.speed_mps, f.fix_at, f.ts)
                      for f in fixes}
