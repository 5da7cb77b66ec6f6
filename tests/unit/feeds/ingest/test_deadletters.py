import json

import pytest

from feeds.bus.channels import MemoryBus
from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import MemorySnapshotStore
from feeds.ingest.deadletters import get_dead_letter, list_dead_letters, main, redrive
from feeds.ingest.pipeline import Ingest
from feeds.schemas import FEED_CHANNELS
from tests import factories


@pytest.fixture
def refused(engine):
    """One bad position (latitude 91) and one garbage payload, refused by the ingest."""
    ingest = Ingest(engine, MemorySnapshotStore(), RecordingPusher())
    fix = json.loads(factories.position("P9").model_dump_json())
    fix["lat"] = 91
    ingest.receive("cc.patrol_position", json.dumps(fix))
    ingest.receive("cc.incident_report", b"{oops")
    ingest.flush()
    return ingest, fix


def test_an_operator_lists_what_was_refused_and_why(engine, refused):
    with engine.connect() as conn:
        letters = list_dead_letters(conn)
    assert [(d.channel, d.stage) for d in letters] == [("cc.incident_report", "decode"), ("cc.patrol_position",
                                                                                          "schema")]
    assert letters[1].reason == "lat: Input should be less than or equal to 90"


def test_a_fixed_payload_is_redriven_through_the_pipeline(engine, refused):
    ingest, fix = refused
    bus = MemoryBus()
    sub = bus.subscribe(FEED_CHANNELS)
    with engine.begin() as conn:
        letter = next(d for d in list_dead_letters(conn) if d.channel == "cc.patrol_position")
        fix["lat"] = 30.69
        done = redrive(conn, bus, letter.id, factories.now(), json.dumps(fix))
    assert done.redriven_at is not None
    delivery = sub.get(1)
    ingest.receive(delivery.channel, delivery.payload)
    delta = ingest.flush()
    assert delta["patrols"]["P9"]["lat"] == 30.69
    with engine.connect() as conn:
        assert [d.channel for d in list_dead_letters(conn)] == ["cc.incident_report"]  # the other still waits
        assert len(list_dead_letters(conn, include_redriven=True)) == 2


def test_a_letter_is_redriven_once(engine, refused):
    bus = MemoryBus()
    with engine.begin() as conn:
        letter = list_dead_letters(conn)[0]
        redrive(conn, bus, letter.id, factories.now())
        with pytest.raises(ValueError, match="already re-driven"):
            redrive(conn, bus, letter.id, factories.now())
        with pytest.raises(LookupError, match="no dead letter 999"):
            redrive(conn, bus, 999, factories.now())


def test_the_cli_lists_and_shows(engine, refused, db_url, monkeypatch, capsys):
    monkeypatch.setenv("CC_DATABASE_URL", db_url)
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "lat: Input should be less than or equal to 90" in out and "2 dead letter(s) waiting" in out
    with engine.connect() as conn:
        letter_id = list_dead_letters(conn)[0].id
    assert main(["show", str(letter_id)]) == 0
    assert "{oops" in capsys.readouterr().out
    assert main(["show", "999"]) == 1
    assert get_dead_letter(engine.connect(), letter_id).redriven_at is None


def test_an_adapters_refusal_is_fixed_at_its_source_not_redriven(engine):
    """A phone's request the OsmAnd adapter refused never reached the bus: re-driving it would publish it on a
    channel nobody reads, so it is refused with what to do instead."""
    from feeds.schemas import Rejection
    from feeds.store.writes import write_dead_letters

    with engine.begin() as conn:
        write_dead_letters(conn, [Rejection("osmand", "GET /?id=stranger&lat=30&lon=120", "device 'stranger' is not "
                                            "registered", "refused")], factories.now())
        letter = list_dead_letters(conn)[0]
        bus = MemoryBus()
        sub = bus.subscribe(["osmand"])
        with pytest.raises(ValueError, match="refused by the osmand adapter before it reached the bus"):
            redrive(conn, bus, letter.id, factories.now())
        assert sub.get(0.05) is None and get_dead_letter(conn, letter.id).redriven_at is None
