"""Whatever arrives on a channel, the ingest takes it or keeps it as a dead letter with a reason, and goes on.

Property-based: hypothesis throws generated hostile payloads at every channel of an in-process ingest on
SQLite and PostgreSQL. Each payload owes its outcomes (stored or dead-lettered), and none may raise.
tests/integration/feeds/ingest/test_fuzz_ingest.py does the same against the real ingest process over Redis.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import MemorySnapshotStore
from feeds.ingest.pipeline import Bounds, Ingest
from feeds.schemas import channel_for, decode
from feeds.store.models import DeadLetter
from tests import factories, hostile

AREA = Bounds(south=30.60, west=111.20, north=30.80, east=111.40)
FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])


@pytest.fixture
def ingest(engine):
    factories.camera(engine)  # the camera whose health the generated messages say
    return Ingest(engine, MemorySnapshotStore(), RecordingPusher(), bounds=AREA, max_age_s=30 * 86400)


@pytest.mark.parametrize("kind", hostile.KINDS)
@FUZZ
@given(data=st.data())
def test_every_hostile_payload_is_stored_or_refused_and_the_ingest_goes_on(ingest, engine, kind, data):
    raw = data.draw(hostile.payload(kind))
    with engine.connect() as conn:
        before = hostile.accounted(conn)
    ingest.receive(channel_for(kind), raw)
    ingest.flush()
    with engine.connect() as conn:
        stored, dead = hostile.accounted(conn)
    assert (stored - before[0]) + (dead - before[1]) == hostile.units(raw), raw[:300]


@FUZZ
@given(raw=st.one_of(st.binary(max_size=300), st.text(max_size=300)), channel=st.text(max_size=30))
def test_decode_never_raises(raw, channel):
    good, bad = decode(channel, raw)
    assert good or bad or raw in (b"[]", "[]") or raw.strip() in (b"[]", "[]")


EDGE_STAMPS = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z",
               "1900-01-01T00:00:00Z"]


@pytest.mark.parametrize("stamp", EDGE_STAMPS)
@pytest.mark.parametrize("field", ["ts", "occurred_at"])
def test_a_time_at_the_edge_of_the_calendar_is_refused_with_its_reason(ingest, engine, stamp, field):
    item = hostile.valid_item("incident_report") | {field: stamp}
    ingest.receive("cc.incident_report", json.dumps(item))
    ingest.flush()
    with engine.connect() as conn:
        [letter] = conn.execute(select(DeadLetter.__table__)).all()
    assert letter.reason == f"{field}: Value error, time must lie in the years 2000–2099"


def test_a_report_older_than_the_window_is_refused(ingest, engine):
    from datetime import timedelta
    report = factories.incident(at=factories.now() - timedelta(days=45))
    ingest.receive("cc.incident_report", report.model_dump_json())
    ingest.flush()
    with engine.connect() as conn:
        [letter] = conn.execute(select(DeadLetter.__table__)).all()
    assert letter.stage == "filter" and "45 days old: the centre takes messages of the last 30 days" in letter.reason


def test_one_bad_report_does_not_cost_its_batch(ingest, engine):
    good, unknown = hostile.valid_item("incident_report"), hostile.valid_item("incident_report")
    unknown["category"] = "no.such"
    surrogate = hostile.valid_item("incident_report") | {"description": "井盖\ud800"}
    ingest.receive("cc.incident_report", json.dumps([good, unknown]))
    ingest.receive("cc.incident_report", json.dumps(surrogate).encode("utf-8", "surrogatepass"))
    ingest.receive("cc.incident_report", json.dumps(surrogate))  # the escape \ud800 in the JSON text
    ingest.flush()
    with engine.connect() as conn:
        stored, _ = hostile.accounted(conn)
        reasons = [r.reason for r in conn.execute(select(DeadLetter.__table__).order_by(DeadLetter.id))]
    assert stored == 1
    assert reasons[0] == "category 'no.such' is not in the taxonomy (docs/taxonomy.md)"
    assert reasons[1].startswith("not JSON") and reasons[2].startswith("not JSON")
    assert "lone surrogate" in reasons[2]


def test_loose_types_are_refused(ingest, engine):
    item = hostile.valid_item("incident_report") | {"urgent": "true"}
    fix = hostile.valid_item("patrol_position") | {"lat": "30.69"}
    ingest.receive("cc.incident_report", json.dumps(item))
    ingest.receive("cc.patrol_position", json.dumps([fix]))
    ingest.flush()
    with engine.connect() as conn:
        reasons = sorted(r.reason for r in conn.execute(select(DeadLetter.__table__)))
    assert reasons == ["lat: Input should be a valid number", "urgent: Input should be a valid boolean"]


def test_a_message_of_a_drill_nobody_started_is_refused(ingest, engine):
    ingest.receive("cc.incident_report", factories.incident(drill_id="nosuchdrill").model_dump_json())
    ingest.receive("cc.patrol_position", factories.position(drill_id="nosuchdrill").model_dump_json())
    assert ingest.flush()["counts"]["rejected"] == 2
    assert set(ingest._scopes) == {None}  # no live state was made for it
    factories.started_drill(engine, "drill-ok")
    ingest.receive("cc.incident_report", factories.incident(drill_id="drill-ok").model_dump_json())
    ingest.flush()
    assert set(ingest._scopes) == {None, "drill-ok"}


def test_a_failure_met_by_one_message_costs_only_that_message(ingest, engine, monkeypatch):
    """Not only what the database refuses: any error while storing one message sets it aside."""
    from feeds.ingest import pipeline

    real = pipeline.open_cases

    def fragile(conn, sightings):
        if any(s.description == "炸弹" for s in sightings):
            raise KeyError("boom")
        return real(conn, sightings)

    monkeypatch.setattr(pipeline, "open_cases", fragile)
    factories.send(ingest, factories.incident("路灯不亮"), factories.incident("炸弹"), factories.position("P1"))
    with engine.connect() as conn:
        stored, _ = hostile.accounted(conn)
        [letter] = conn.execute(select(DeadLetter.__table__)).all()
    assert stored == 2 and letter.stage == "persist" and letter.reason == "could not be stored: KeyError: 'boom'"
