"""Drill traffic has a live state of its own: live screens never see it, the drill's screens see only it."""
import pytest

from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import MemorySnapshotStore
from feeds.ingest.pipeline import Ingest
from tests import factories
from tests.factories import send

DRILL = "market-fire-d1"


@pytest.fixture
def pusher():
    return RecordingPusher()


@pytest.fixture
def ingest(engine, pusher):
    factories.started_drill(engine, DRILL)
    return Ingest(engine, MemorySnapshotStore(), pusher)


def test_one_batch_with_live_and_drill_traffic_makes_one_delta_for_each(ingest, pusher):
    live_report, drill_report = factories.incident("井盖缺失"), factories.incident("市场起火", drill_id=DRILL)
    live = send(ingest, factories.position("P0001"), live_report, factories.position("P0001", drill_id=DRILL),
                drill_report, factories.alert(drill_id=DRILL))
    # the live delta holds the live traffic only
    assert list(live["patrols"]) == ["P0001"] and [i["text"] for i in live["incidents"]] == ["井盖缺失"]
    assert set(live["cases"]) == {live_report.id} and live["alerts"] == []
    assert live["counts"] == {"fixes": 1, "incidents": 1, "alerts": 0, "rejected": 0}
    # the drill's delta, with a sequence of its own, goes to the drill's room only
    drill = ingest.drill_deltas[DRILL]
    assert drill["seq"] == 1 and [i["text"] for i in drill["incidents"]] == ["市场起火"]
    assert set(drill["cases"]) >= {drill_report.id} and live_report.id not in drill["cases"]
    assert pusher.rooms == ["live", f"drill:{DRILL}"]
    # and the snapshots a screen loads are apart
    snapshots = ingest._scope(None).store
    assert set(snapshots.load()["cases"]) == {live_report.id}
    assert drill_report.id in snapshots.for_drill(DRILL).load()["cases"]


def test_a_batch_of_drill_traffic_only_leaves_the_live_state_as_it_was(ingest, pusher):
    send(ingest, factories.incident("井盖缺失"))
    before = ingest._scope(None).store.load()
    live = send(ingest, factories.incident("市场起火", drill_id=DRILL), factories.position("P0002", drill_id=DRILL))
    assert live is None and ingest.seq == before["seq"]
    assert ingest._scope(None).store.load() == before
    assert pusher.rooms == ["live", f"drill:{DRILL}"]


def test_a_command_on_a_drill_case_changes_the_drill_state_not_the_live_one(ingest, pusher):
    report = factories.incident("市场起火", drill_id=DRILL)
    send(ingest, report)
    live = send(ingest, factories.command(report.id, "verify", 1))
    assert live is None
    assert ingest.drill_deltas[DRILL]["cases"][report.id]["state"] == "verified"
    assert report.id not in ingest._scope(None).store.load()["cases"]
