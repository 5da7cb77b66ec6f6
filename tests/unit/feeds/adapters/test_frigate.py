"""Frigate's MQTT messages, as its docs print them (docs/docs/integrations/mqtt.md), read into camera alerts."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.adapters.frigate import DEFAULT_SCORE, Frigate, MappingError, Refused, read_mapping

OURS = {"CAM0007": (30.6921, 111.2866), "CAM0012": (30.6950, 111.2900)}
CLASSES = {"street_vendor", "illegal_parking", "crowd_gathering"}
MAPPING = {
    "frigate": {"url": "http://frigate.local:5000/"},
    "cameras": {"front_cam": "CAM0007", "front_door": "CAM0012"},
    "alerts": [{"objects": ["person"], "zones": ["front_yard"], "alert_class": "street_vendor"},
               {"objects": ["car"], "alert_class": "illegal_parking"}],
}
NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)

# frigate/reviews, the docs' example (its comments taken out)
REVIEW = {
    "type": "update",
    "before": {"id": "1718987129.308396-fqk5ka", "camera": "front_cam", "start_time": 1718987129.308396,
               "end_time": None, "severity": "detection",
               "thumb_path": "/media/frigate/clips/review/thumb-front_cam-1718987129.308396-fqk5ka.webp",
               "data": {"detections": ["1718987128.947436-g92ztx", "1718987148.879516-d7oq7r",
                                       "1718987126.934663-q5ywpt"],
                        "objects": ["person", "car"], "sub_labels": [], "zones": [], "audio": []}},
    "after": {"id": "1718987129.308396-fqk5ka", "camera": "front_cam", "start_time": 1718987129.308396,
              "end_time": None, "severity": "alert",
              "thumb_path": "/media/frigate/clips/review/thumb-front_cam-1718987129.308396-fqk5ka.webp",
              "data": {"detections": ["1718987128.947436-g92ztx", "1718987148.879516-d7oq7r",
                                      "1718987126.934663-q5ywpt"],
                       "objects": ["person", "car"], "sub_labels": ["Bob"], "zones": ["front_yard"], "audio": []}},
}


def event(event_id: str, label: str, top_score: float, snapshot: bool = False, clip: bool = False) -> bytes:
    """A frigate/events message in the docs' shape, with the fields the bridge reads set."""
    after = {"id": event_id, "camera": "front_cam", "frame_time": 1718987130.0, "label": label, "sub_label": None,
             "top_score": top_score, "false_positive": False, "start_time": 1718987128.9, "end_time": None,
             "score": top_score - 0.1, "current_zones": ["front_yard"], "entered_zones": ["front_yard"],
             "has_snapshot": snapshot, "has_clip": clip, "active": True, "stationary": False}
    return json.dumps({"type": "update", "before": after, "after": after}).encode()


def review(**after) -> bytes:
    return json.dumps({**REVIEW, "after": {**REVIEW["after"], **after}}).encode()


def frigate() -> Frigate:
    return Frigate(read_mapping(MAPPING, OURS, CLASSES))


def test_the_docs_review_becomes_an_alert_keyed_on_its_id():
    alert = frigate().review(json.dumps(REVIEW).encode(), NOW)
    assert (alert.id, alert.source, alert.camera_id, alert.alert_class) == \
        ("frigate-1718987129.308396-fqk5ka", "frigate", "CAM0007", "street_vendor")
    assert (alert.lat, alert.lon) == OURS["CAM0007"] and alert.confidence == DEFAULT_SCORE
    assert alert.started_at == datetime(2024, 6, 21, 16, 25, 29, 308396, tzinfo=UTC) and alert.ts == NOW
    assert alert.seen == "person, car · front_yard" and alert.ended_at is None and alert.snapshot_url is None


def test_its_tracked_objects_give_it_their_best_score_a_snapshot_and_a_clip():
    f = frigate()
    f.event(event("1718987128.947436-g92ztx", "person", 0.72, snapshot=True))
    f.event(event("1718987148.879516-d7oq7r", "car", 0.958984375, snapshot=True, clip=True))
    f.event(event("1718987148.879516-d7oq7r", "car", 0.81))  # a later frame scores lower: the best stays
    alert = f.review(json.dumps(REVIEW).encode(), NOW)
    assert alert.confidence == 0.958984375
    assert alert.snapshot_url == "http://frigate.local:5000/api/events/1718987148.879516-d7oq7r/snapshot.jpg"
    assert alert.clip_url == "http://frigate.local:5000/api/events/1718987148.879516-d7oq7r/clip.mp4"
    assert frigate().review(json.dumps(REVIEW).encode(), NOW).clip_url is None  # nothing known: no links


def test_the_end_ends_it_and_a_detection_is_no_alert():
    end = json.loads(review(end_time=1718987189.5))
    end["type"] = "end"
    alert = frigate().review(json.dumps(end).encode(), NOW)
    assert alert.ended_at == datetime(2024, 6, 21, 16, 26, 29, 500000, tzinfo=UTC)
    assert frigate().review(review(severity="detection"), NOW) is None
    assert frigate().review(review(data={"objects": ["car"], "zones": [], "detections": []}), NOW).alert_class == \
        "illegal_parking"  # the first rule that matches: a car anywhere


@pytest.mark.parametrize(("payload", "reason"), [
    (b"{not json", "the payload is not JSON"),
    (b"[]", "the message must be a JSON object"),
    (json.dumps({**REVIEW, "type": "delete"}).encode(), "type must be new, update or end"),
    (review(camera="back_yard"), "Frigate camera 'back_yard' is not in the mapping's [cameras]"),
    (review(data={"objects": ["dog"], "zones": ["front_yard"]}), "no [[alerts]] rule maps objects ['dog']"),
    (review(data={"objects": "person"}), "after.data.objects must be a list of names"),
    (review(start_time="yesterday"), "after.start_time must be a Unix time in seconds"),
    (review(start_time=1e20), "after.start_time 1e+20 is out of range"),
    (review(start_time=100.0), "started_at: Value error, time must lie in the years 2000"),
])
def test_each_refusal_says_why(payload, reason):
    with pytest.raises(Refused) as refused:
        frigate().review(payload, NOW)
    assert str(refused.value).startswith(reason)


@pytest.mark.parametrize(("change", "reason"), [
    ({"cameras": {"front_cam": "CAM9999"}}, "[cameras] front_cam = 'CAM9999': we have no camera with that id"),
    ({"alerts": [{"objects": ["person"], "alert_class": "dancing"}]}, "[[alerts]] number 1: alert_class 'dancing'"),
    ({"alerts": []}, "[[alerts]] must say which objects make which alert class"),
    ({"frigate": {"url": "frigate.local"}}, "[frigate] url must be Frigate's address"),
    ({"alerts": [{"objects": "person", "alert_class": "street_vendor"}]}, "[[alerts]] number 1: objects must list"),
    ({"frigate": {"url": "http://f", "default_score": 3}}, "[frigate] default_score must be a number from 0 to 1"),
])
def test_a_mapping_naming_what_we_do_not_have_is_refused(change, reason):
    with pytest.raises(MappingError) as refused:
        read_mapping({**MAPPING, **change}, OURS, CLASSES)
    assert str(refused.value).startswith(reason)


@settings(max_examples=2000, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=12),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
                        st.sampled_from(["type", "after", "id", "camera", "severity", "data", "objects", "zones",
                                         "detections", "start_time", "end_time", "label", "top_score"]),
                        kids, max_size=6), max_leaves=25))
def test_any_message_is_an_alert_nothing_or_a_refusal(doc):
    f = frigate()
    try:
        payload = json.dumps(doc).encode()
    except ValueError:
        return
    for read in (lambda: f.event(payload), lambda: f.review(payload, NOW)):
        try:
            read()
        except Refused as refused:
            assert str(refused)


# ---- camera health: frigate/<camera>/status/<role> and frigate/available, with the docs' values

def health(statuses) -> list[tuple[str, str, str | None]]:
    return [(s.camera_id, s.state.value, s.detail) for s in statuses]


def test_a_cameras_health_follows_what_frigate_says_of_its_roles_and_is_said_when_it_changes():
    f = frigate()
    assert health(f.role_status("front_cam", "detect", b"online", NOW)) == [
        ("CAM0007", "online", "detect: online")]
    assert f.role_status("front_cam", "detect", b"online", NOW) == []  # said again: nothing new
    assert health(f.role_status("front_cam", "record", b"offline", NOW)) == [
        ("CAM0007", "degraded", "detect: online · record: offline")]  # it still alerts; recording is down
    [offline] = f.role_status("front_cam", "detect", b"offline", NOW)
    assert (offline.state.value, offline.since, offline.ts, offline.source) == ("offline", NOW, NOW, "frigate")
    assert offline.id.startswith("frigate-health-CAM0007-")
    assert health(f.role_status("front_door", "detect", b"disabled", NOW)) == [
        ("CAM0012", "disabled", "detect: disabled")]


def test_frigate_away_takes_every_camera_offline_and_its_return_gives_back_what_their_roles_say():
    f = frigate()
    f.role_status("front_cam", "detect", b"online", NOW)
    assert health(f.availability(b"offline", NOW)) == [("CAM0007", "offline", "Frigate unavailable"),
                                                      ("CAM0012", "offline", "Frigate unavailable")]
    assert f.availability(b"stopped", NOW) == []  # still away
    assert health(f.availability(b"online", NOW)) == [("CAM0007", "online", "detect: online"),
                                                     ("CAM0012", "online", None)]


@pytest.mark.parametrize(("read", "reason"), [
    (lambda f: f.role_status("back_yard", "detect", b"online", NOW),
     "Frigate camera 'back_yard' is not in the mapping's [cameras]"),
    (lambda f: f.role_status("front_cam", "motion", b"online", NOW), "role 'motion' is not one of detect, record"),
    (lambda f: f.role_status("front_cam", "detect", b"ON", NOW), "status must be one of online, offline, disabled"),
    (lambda f: f.availability(b"\xff\xfe", NOW), "availability must be online, offline or stopped"),
])
def test_each_health_refusal_says_why(read, reason):
    with pytest.raises(Refused) as refused:
        read(frigate())
    assert str(refused.value).startswith(reason)


@settings(max_examples=1000, deadline=None)
@given(camera=st.sampled_from(["front_cam", "front_door", "x"]) | st.text(max_size=20),
       role=st.sampled_from(["detect", "record", "audio"]) | st.text(max_size=10),
       word=st.sampled_from([b"online", b"offline", b"disabled", b"stopped"]) | st.binary(max_size=20))
def test_any_health_message_is_a_health_nothing_or_a_refusal(camera, role, word):
    f = frigate()
    for read in (lambda: f.role_status(camera, role, word, NOW), lambda: f.availability(word, NOW)):
        try:
            for status in read():
                assert status.camera_id in OURS.keys() and status.kind == "camera_status"
        except Refused as refused:
            assert str(refused)
