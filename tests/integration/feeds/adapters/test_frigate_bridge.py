"""The Frigate bridge on a real MQTT broker (mosquitto where installed, else amqtt's), a real Redis and a real
database: Frigate's documented payloads published on its topics come out as camera alerts through the ingest;
an alert's updates and end follow it; a replayed message changes nothing; every refusal is kept; the bridge
comes back by itself when the broker does; a mapping naming a camera we do not have stops it with why."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import func, select

from devstack.services import spawn, start_mqtt
from feeds.adapters.frigate import read_mapping
from feeds.adapters.frigate_bridge import CHANNEL, Bridge, connect, our_cameras
from feeds.bus.channels import StreamBus, stream_for
from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.ingest.pipeline import Ingest
from feeds.schemas import FEED_CHANNELS, channel_for
from feeds.store.models import DEAD_LETTERS, CameraAlertRow, CameraStatusRow, CaseRow
from feeds.taxonomy import load as load_taxonomy
from simulators.furnishings import build_furnishings, save_furnishings
from simulators.geography import build_district, save_district
from tests.waiting import wait_until

REVIEW_ID = "1718987129.308396-fqk5ka"
DETECTIONS = ["1718987128.947436-g92ztx", "1718987148.879516-d7oq7r", "1718987126.934663-q5ywpt"]


@pytest.fixture
def broker(tmp_path):
    child, url = start_mqtt(workdir=tmp_path)
    yield child, url
    child.stop()


@pytest.fixture
def cameras(engine):
    district = build_district(3, 12)
    with engine.begin() as conn:
        save_district(conn, district)
        save_furnishings(conn, district, build_furnishings(district, 3), load_taxonomy())
    return our_cameras(engine)


def mapping_doc(camera_id: str) -> dict:
    return {"frigate": {"url": "http://frigate.local:5000"}, "cameras": {"front_cam": camera_id},
            "alerts": [{"objects": ["person"], "zones": ["front_yard"], "alert_class": "street_vendor"}]}


def review(kind: str, start: float, **after) -> bytes:
    """frigate/reviews as the docs print it, its times recent (the ingest takes only the last 30 days)."""
    base = {"id": REVIEW_ID, "camera": "front_cam", "start_time": start, "end_time": None, "severity": "alert",
            "thumb_path": f"/media/frigate/clips/review/thumb-front_cam-{REVIEW_ID}.webp",
            "data": {"detections": DETECTIONS[:2], "objects": ["person"], "sub_labels": [], "zones": ["front_yard"],
                     "audio": []}}
    return json.dumps({"type": kind, "before": base, "after": {**base, **after}}).encode()


def event(event_id: str, label: str, score: float, start: float) -> bytes:
    after = {"id": event_id, "camera": "front_cam", "label": label, "sub_label": None, "top_score": score,
             "score": score, "false_positive": False, "start_time": start, "end_time": None,
             "current_zones": ["front_yard"], "entered_zones": ["front_yard"], "has_snapshot": True,
             "has_clip": True}
    return json.dumps({"type": "new", "before": after, "after": after}).encode()


class Publisher:
    def __init__(self, url: str) -> None:
        host, _, port = url.removeprefix("mqtt://").partition(":")
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.connect(host, int(port))
        self.client.loop_start()

    def send(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _alert(engine):
    with engine.connect() as conn:
        return conn.execute(select(CameraAlertRow.__table__).where(
            CameraAlertRow.id == f"frigate-{REVIEW_ID}")).first()


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _letters(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(DEAD_LETTERS.c.reason).where(DEAD_LETTERS.c.channel == CHANNEL)
                                 .order_by(DEAD_LETTERS.c.id)).scalars())


@pytest.fixture
def running(engine, redis_client, cameras, broker):
    bus = StreamBus(redis_client)
    camera_id = sorted(cameras)[0]
    bridge = Bridge(read_mapping(mapping_doc(camera_id), cameras, load_taxonomy().alert_classes), bus, engine)
    client = connect(bridge, broker[1])
    wait_until(lambda: client.is_connected(), 10, "the bridge connected")
    stop = threading.Event()
    ingest = Ingest(engine, RedisSnapshotStore(redis_client), RecordingPusher(), window_s=0.01)
    thread = threading.Thread(target=ingest.run, args=(bus.subscribe(FEED_CHANNELS), stop), daemon=True)
    thread.start()
    publisher = Publisher(broker[1])
    time.sleep(0.3)  # the bridge's subscriptions acknowledged
    yield publisher, camera_id, client
    publisher.close()
    client.loop_stop()
    stop.set()
    thread.join(5)


def test_frigates_messages_become_an_alert_that_follows_the_review_to_its_end(running, engine):
    publisher, camera_id, _ = running
    start = time.time() - 60
    publisher.send("frigate/available", b"online")
    publisher.send("frigate/events", event(DETECTIONS[0], "person", 0.72, start))
    publisher.send("frigate/events", event(DETECTIONS[1], "person", 0.88, start))
    publisher.send("frigate/reviews", review("new", start))
    row = wait_until(lambda: _alert(engine), 10, "the alert in the database")
    assert (row.camera_id, row.alert_class, row.confidence, row.seen) == \
        (camera_id, "street_vendor", 0.88, "person · front_yard")
    assert row.snapshot_url == f"http://frigate.local:5000/api/events/{DETECTIONS[1]}/snapshot.jpg"
    wait_until(lambda: _count(engine, CaseRow) == 1, 10, "the case the alert opened")

    publisher.send("frigate/events", event(DETECTIONS[2], "car", 0.97, start))
    publisher.send("frigate/reviews", review("update", start, data={
        "detections": DETECTIONS, "objects": ["person", "car"], "zones": ["front_yard"]}))
    wait_until(lambda: _alert(engine).seen == "person, car · front_yard", 10, "the update followed")
    assert _alert(engine).confidence == 0.97
    publisher.send("frigate/reviews", review("end", start, end_time=start + 50, data={
        "detections": DETECTIONS, "objects": ["person", "car"], "zones": ["front_yard"]}))
    wait_until(lambda: _alert(engine).ended_at is not None, 10, "the end followed")
    ended = _alert(engine)
    publisher.send("frigate/reviews", review("new", start))  # the first message again, late: nothing moves
    publisher.send("frigate/reviews", review("new", start, severity="detection", id="other"))  # not an alert
    time.sleep(0.5)
    assert _alert(engine) == ended and _count(engine, CaseRow) == 1 and _count(engine, CameraAlertRow) == 1
    assert _letters(engine) == []


def test_what_makes_no_alert_is_kept_with_why_and_the_bridge_goes_on(running, engine):
    publisher, _, _ = running
    start = time.time() - 60
    publisher.send("frigate/reviews", b"{not json")
    publisher.send("frigate/reviews", review("new", start, camera="back_yard"))
    publisher.send("frigate/reviews", review("new", start, data={"objects": ["dog"], "zones": []}))
    publisher.send("frigate/events", b'{"after": {"id": 5}}')
    wait_until(lambda: len(_letters(engine)) == 4, 10, "four dead letters")
    assert _letters(engine) == ["the payload is not JSON",
                                "Frigate camera 'back_yard' is not in the mapping's [cameras]",
                                "no [[alerts]] rule maps objects ['dog'] in zones [] to an alert class",
                                "an event needs after.id and after.label"]
    publisher.send("frigate/reviews", review("new", start))
    wait_until(lambda: _alert(engine), 10, "an alert after the refusals")


def _health(redis_client, camera_id):
    raw = redis_client.hget("cc:live:cameras", camera_id)
    return None if raw is None else json.loads(raw)


def test_frigates_word_on_its_cameras_streams_reaches_the_live_state(running, engine, redis_client):
    publisher, camera_id, _ = running
    publisher.send("frigate/front_cam/status/detect", b"online")
    publisher.send("frigate/front_cam/status/record", b"offline")
    seen = wait_until(lambda: (_health(redis_client, camera_id) or {}).get("state") == "degraded", 10,
                      "the camera's health in the live state") and _health(redis_client, camera_id)
    assert seen["detail"] == "detect: online · record: offline"
    publisher.send("frigate/available", b"offline")  # Frigate gone (its MQTT will): nothing can alert
    wait_until(lambda: _health(redis_client, camera_id)["state"] == "offline", 10, "offline with Frigate away")
    assert _health(redis_client, camera_id)["detail"] == "Frigate unavailable"
    publisher.send("frigate/available", b"online")
    publisher.send("frigate/front_cam/status/record", b"online")
    wait_until(lambda: _health(redis_client, camera_id)["state"] == "online", 10, "online again")
    publisher.send("frigate/back_yard/status/detect", b"offline")  # a camera the mapping does not name
    wait_until(lambda: _letters(engine), 10, "the refusal kept")
    assert _letters(engine) == ["Frigate camera 'back_yard' is not in the mapping's [cameras]"]
    with engine.connect() as conn:
        said = list(conn.execute(select(CameraStatusRow.state).order_by(CameraStatusRow.since,
                                                                       CameraStatusRow.received_at)).scalars())
    assert said == ["online", "degraded", "offline", "degraded", "online"]


def test_the_bridge_comes_back_with_the_broker(running, engine, broker, tmp_path):
    publisher, _, client = running
    child, url = broker
    child.stop()
    wait_until(lambda: not client.is_connected(), 10, "the bridge to see the broker gone")
    publisher.close()
    again, _ = start_mqtt(port=int(url.rsplit(":", 1)[1]), workdir=tmp_path / "again")
    try:
        wait_until(lambda: client.is_connected(), 20, "the bridge connected again")
        time.sleep(0.3)
        publisher = Publisher(url)
        publisher.send("frigate/reviews", review("new", time.time() - 30))
        wait_until(lambda: _alert(engine), 10, "an alert through the broker started again")
        publisher.close()
    finally:
        again.stop()


def test_the_bridge_as_its_own_process(tmp_path, engine, db_url, redis_server, redis_client, cameras, broker):
    camera_id = sorted(cameras)[0]
    mapping = tmp_path / "frigate.toml"
    mapping.write_text(f'[frigate]\nurl = "http://frigate.local:5000"\n[cameras]\nfront_cam = "{camera_id}"\n'
                       '[[alerts]]\nobjects = ["person"]\nzones = ["front_yard"]\nalert_class = "street_vendor"\n')
    env = {"CC_REDIS_URL": redis_server, "CC_DATABASE_URL": db_url, "CC_MQTT_URL": broker[1],
           "CC_FRIGATE_MAPPING": str(mapping), "CC_DATA_DIR": str(tmp_path)}
    child = spawn("frigate", "feeds.adapters.frigate_bridge", env, quiet=True)
    stream = stream_for(channel_for("camera_alert"))
    try:
        publisher = Publisher(broker[1])
        deadline = time.monotonic() + 20
        while not redis_client.exists(stream) and time.monotonic() < deadline:  # until it has subscribed
            publisher.send("frigate/reviews", review("new", time.time() - 30))
            time.sleep(0.3)
        assert redis_client.exists(stream), "no alert reached the stream"
        payload = json.loads(redis_client.xrange(stream, count=1)[0][1][b"payload"])
        assert payload[0]["id"] == f"frigate-{REVIEW_ID}" and payload[0]["camera_id"] == camera_id
        publisher.close()
    finally:
        child.stop()
    mapping.write_text(mapping.read_text().replace(camera_id, "CAM9999"))
    stopped = subprocess.run([sys.executable, "-m", "feeds.adapters.frigate_bridge"], env={**os.environ, **env},
                             capture_output=True, text=True, timeout=60)
    assert stopped.returncode != 0
    assert "[cameras] front_cam = 'CAM9999': we have no camera with that id" in stopped.stderr
