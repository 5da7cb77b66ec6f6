"""What goes to the screens is what feeds/bus/screens.py declares, and the live state replays the same in Python
and in the browser (tests/browser/test_live_state.py replays the same fixture)."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.bus.push import RecordingPusher
from feeds.bus.screens import OffVocabulary, ScreenEvent, check, check_snapshot
from feeds.ingest.state import apply_delta, batch_delta, empty_snapshot
from tests import factories

FIXTURE = json.loads((Path(__file__).parents[3] / "fixtures" / "live_state.json").read_text())


def test_the_fixture_is_in_the_vocabulary_and_its_deltas_lead_to_its_result():
    check_snapshot(FIXTURE["snapshot"])
    for delta in FIXTURE["deltas"]:
        check(ScreenEvent.DELTA, delta)
    snap = FIXTURE["snapshot"]
    for delta in FIXTURE["deltas"]:
        snap = apply_delta(snap, delta, FIXTURE["recent"])
    assert snap == FIXTURE["result"]
    # by hand: the counts add up, the newest three reports stay, C-2 left the live view, P0003 appeared
    assert snap["counts"] == {"fixes": 812 + 57 + 61, "incidents": 5, "alerts": 2, "rejected": 4}
    assert [i["id"] for i in snap["incidents"]] == ["INC-5", "INC-4", "INC-3"]
    assert {cid: (v["state"], v["version"]) for cid, v in snap["cases"].items()} == {
        "C-1": ("verified", 2), "C-3": ("registered", 3)}
    assert sorted(snap["patrols"]) == ["P0001", "P0002", "P0003"] and snap["seq"] == 44
    assert {cam: h["state"] for cam, h in snap["cameras"].items()} == {  # CAM0012 came back, CAM0021 turned off
        "CAM0007": "online", "CAM0012": "online", "CAM0021": "disabled"}


def test_what_the_ingest_builds_is_in_the_vocabulary():
    messages = [factories.position("P1"), factories.position("P2"), factories.incident(), factories.alert()]
    delta = batch_delta(1, datetime.now(UTC), messages, rejected=2)
    assert check(ScreenEvent.DELTA, delta).counts.rejected == 2
    check_snapshot(apply_delta(empty_snapshot(), delta, recent=30))


@pytest.mark.parametrize("change, reason", [
    (lambda d: {**d, "urgent": True}, "urgent: Extra inputs are not permitted"),
    (lambda d: {k: v for k, v in d.items() if k != "counts"}, "counts: Field required"),
    (lambda d: {**d, "seq": "44"}, "seq: Input should be a valid integer"),
    (lambda d: {**d, "patrols": {"P1": {"lat": 30.7, "lon": 111.3, "fix": 1, "sent": 1}}},
     "patrols.P1.acc: Field required"),
    (lambda d: {**d, "cases": {"C-1": {**FIXTURE["snapshot"]["cases"]["C-1"], "state": "lost"}}},
     "cases.C-1.state: Input"),
])
def test_a_payload_off_the_vocabulary_is_refused_with_what_is_wrong(change, reason):
    with pytest.raises(OffVocabulary) as refused:
        check("delta", change(FIXTURE["deltas"][0]))
    assert reason in str(refused.value)


def test_an_event_no_screen_listens_to_is_refused():
    with pytest.raises(OffVocabulary, match="unknown screen event 'deltas'"):
        check("deltas", FIXTURE["deltas"][0])


def test_the_test_pusher_refuses_what_a_screen_could_not_read():
    pusher = RecordingPusher()
    pusher.push(ScreenEvent.DELTA, FIXTURE["deltas"][0])
    pusher.push(ScreenEvent.HEARTBEAT, {"seq": 44, "at": 1_796_000_003_000, "drill": None})
    with pytest.raises(OffVocabulary):
        pusher.push(ScreenEvent.HEARTBEAT, {"seq": 44})
    assert len(pusher.pushed) == 1 and len(pusher.heartbeats) == 1
