"""The OsmAnd endpoint on a real Redis and a real database (SQLite and PostgreSQL): a phone's request in, the
patrol fix in the database out, through the stream and the ingest like any producer's; every refusal
answered with Traccar's status and kept as a dead letter with its reason."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from devstack.services import free_port, spawn, wait_for_http
from feeds.adapters.devices import DeviceDirectory, add_device, retire_device
from feeds.adapters.osmand_server import CHANNEL, create_app
from feeds.bus.channels import StreamBus, stream_for
from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.clock import utcnow
from feeds.ingest.pipeline import Ingest
from feeds.schemas import FEED_CHANNELS, channel_for
from feeds.store.models import DEAD_LETTERS, PatrolFix
from tests.waiting import wait_until

ZONE = ZoneInfo("Asia/Shanghai")
STREAM = stream_for(channel_for("patrol_position"))
PHONE, UNIT = "861001000719969", "P0001"


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _letters(engine) -> list[tuple[str, str, str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(DEAD_LETTERS.c.channel, DEAD_LETTERS.c.stage,
                                                      DEAD_LETTERS.c.reason, DEAD_LETTERS.c.payload)
                                               .order_by(DEAD_LETTERS.c.id))]


@pytest.fixture
def phones(engine, redis_client):
    """The endpoint's Flask test client, with one registered phone, and an ingest reading the stream."""
    with engine.begin() as conn:
        add_device(conn, PHONE, UNIT, utcnow(), note="网格员 张伟")
        add_device(conn, "lost-phone", "P0002", utcnow())
        retire_device(conn, "lost-phone", utcnow())
    bus = StreamBus(redis_client)
    app = create_app(DeviceDirectory(engine, refresh_s=0.0), bus, engine, ZONE)
    stop = threading.Event()
    ingest = Ingest(engine, RedisSnapshotStore(redis_client), RecordingPusher(), window_s=0.01,
                    max_age_s=30 * 86400)  # as the ingest's entry point runs it
    thread = threading.Thread(target=ingest.run, args=(bus.subscribe(FEED_CHANNELS), stop), daemon=True)
    thread.start()
    yield app.test_client()
    stop.set()
    thread.join(5)


def _stamp(seconds_ago: float = 0) -> int:
    return int((utcnow() - timedelta(seconds=seconds_ago)).timestamp())


def test_the_traccar_requests_become_fixes_of_the_registered_unit(phones, engine):
    """Traccar's test requests (their times made recent, as the ingest refuses fixes older than 30 days)."""
    now = utcnow()
    iso = (now - timedelta(seconds=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    local = (now - timedelta(seconds=30)).astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S")
    requests = [
        f"/?id={PHONE}&lat=30.25&lon=120.17&timestamp={iso}&hdop=6.0&altitude=224.0&speed=0.0",
        f"/?id={PHONE}&lat=30.2501&lon=120.1701&timestamp={_stamp(35) * 1000 + 579}&hdop=6.0&altitude=224.0",
        f"/?lat=30.2502&lon=120.1702&timestamp={local.replace(' ', '+')}&altitude=384.7&speed=0.0&id={PHONE}",
        f"/?id={PHONE}&timestamp={_stamp(25)}&lat=30.2503&lon=120.1703&speed=0.0&bearing=0.0&altitude=0&hdop=0.0",
        f"/?lat=30.2504&lon=120.1704&speed=0.0&heading=0.0&vacc=0&hacc=0&altitude=0&deviceid={PHONE}",
        f"/?id={PHONE}&timestamp={_stamp(15)}&location=30.2505,120.1705",
        f"/?id={PHONE}&timestamp={_stamp(10)}&lat=30.2506&lon=120.1706&bearing=7.19&speed=40&ignition=true&rpm=933",
    ]
    for path in requests:
        answer = phones.get(path)
        assert answer.status_code == 200 and answer.data == b"", (path, answer.data)
    answer = phones.post("/", data=json.dumps({
        "location": {"timestamp": (now - timedelta(seconds=5)).isoformat(), "is_moving": True,
                     "coords": {"latitude": 30.2507, "longitude": 120.1707, "accuracy": 3.8, "speed": 1.4,
                                "heading": 63, "altitude": 35.7},
                     "battery": {"level": 0.79, "is_charging": False}, "extras": {}},
        "device_id": PHONE}), content_type="application/json")
    assert answer.status_code == 200
    wait_until(lambda: _count(engine, PatrolFix) == 8, 10, "eight fixes in the database")
    with engine.connect() as conn:
        rows = conn.execute(select(PatrolFix.unit_id, PatrolFix.source, PatrolFix.lat, PatrolFix.speed_mps,
                                   PatrolFix.accuracy_m).order_by(PatrolFix.lat)).all()
    assert {r.unit_id for r in rows} == {UNIT} and {r.source for r in rows} == {"osmand"}
    assert rows[0].accuracy_m == 30.0  # HDOP 6 × 5 m
    assert rows[6].speed_mps == pytest.approx(40 * 1852 / 3600)  # 40 knots
    assert (rows[7].speed_mps, rows[7].accuracy_m) == (1.4, 3.8)  # JSON: already m/s
    assert _letters(engine) == []


def test_the_same_fix_sent_twice_is_one_fix(phones, engine, redis_client):
    path = f"/?id={PHONE}&lat=30.25&lon=120.17&timestamp={_stamp(3)}"
    assert phones.get(path).status_code == 200
    assert phones.get(path).status_code == 200  # the phone did not get the first reply and sent again
    wait_until(lambda: redis_client.xinfo_groups(STREAM)[0]["pending"] == 0
               and redis_client.xlen(STREAM) == 2, 10, "both entries read and acknowledged")
    assert _count(engine, PatrolFix) == 1


def test_a_traccar_server_forwarding_json_is_read(phones, engine):
    fix_time = (utcnow() - timedelta(seconds=2)).isoformat(timespec="milliseconds")
    body = {"position": {"id": 7, "deviceId": 3, "protocol": "h02", "fixTime": fix_time, "valid": True,
                         "latitude": 30.26, "longitude": 120.18, "speed": 2.0, "course": 90.0, "accuracy": 0.0,
                         "attributes": {"batteryLevel": 87}},
            "device": {"id": 3, "name": "张伟", "uniqueId": PHONE, "status": "online"}}
    assert phones.post("/", data=json.dumps(body), content_type="application/json").status_code == 200
    wait_until(lambda: _count(engine, PatrolFix) == 1, 10, "the forwarded fix")


@pytest.mark.parametrize(("method", "path", "body", "status", "stage", "reason"), [
    ("GET", "/?id=stranger&lat=30.25&lon=120.17", None, 404, "refused", "device 'stranger' is not registered"),
    ("GET", "/?id=lost-phone&lat=30.25&lon=120.17", None, 404, "refused", "device 'lost-phone' was retired"),
    ("GET", f"/?id={PHONE}&lat=91&lon=120.17", None, 400, "decode", "lat: Input should be less than or equal to 90"),
    ("GET", "/?lat=30.25&lon=120.17", None, 400, "decode", "no device: the request needs id or deviceid"),
    ("GET", f"/?id={PHONE}&lat=30.25&lon=120.17&timestamp=2001-01-01T00:00:00Z", None, 200, None, None),
    ("POST", "/", b"{oops", 400, "decode", "the body is not valid JSON"),
    ("POST", "/", b"x" * 70_000, 400, "decode", "the request is larger than 65536 bytes"),
])
def test_every_refusal_is_answered_and_kept_with_its_reason(phones, engine, method, path, body, status, stage,
                                                            reason):
    answer = phones.open(path, method=method, data=body,
                         content_type="application/json" if body else None)
    assert answer.status_code == status, answer.data
    letters = _letters(engine)
    if status == 200:  # taken here; the ingest's filter then refuses it as too old, with its own dead letter
        too_old = "days old: the centre takes messages of the last 30 days"
        wait_until(lambda: any(too_old in r for _, _, r, _ in _letters(engine)), 10, "the ingest's refusal")
        return
    assert answer.data.decode().strip().startswith(reason)
    assert len(letters) == 1
    channel, kept_stage, kept_reason, payload = letters[0]
    assert (channel, kept_stage) == (CHANNEL, stage) and kept_reason.startswith(reason)
    assert payload.startswith(f"{method} /")


def test_with_the_bus_unreachable_the_phone_is_told_to_send_again(engine):
    with engine.begin() as conn:
        add_device(conn, PHONE, UNIT, utcnow())
    dead = StreamBus(redis.Redis(port=free_port(), socket_connect_timeout=0.2))
    client = create_app(DeviceDirectory(engine), dead, engine, ZONE).test_client()
    answer = client.get(f"/?id={PHONE}&lat=30.25&lon=120.17")
    assert answer.status_code == 503 and b"send again" in answer.data
    assert _letters(engine) == []  # not the phone's fault: nothing to fix, nothing kept


HOSTILE = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@HOSTILE
@given(params=st.lists(st.tuples(st.sampled_from(["id", "deviceid", "lat", "lon", "location", "timestamp", "speed",
                                                  "hdop", "accuracy", "x"]),
                                 st.one_of(st.text(max_size=20), st.sampled_from([PHONE, "30.25", "120.17", "nan",
                                                                                  "30.25,120.17", ""]),
                                           st.floats().map(str))), max_size=6),
       body=st.binary(max_size=300), json_body=st.booleans())
def test_hostile_requests_never_break_the_endpoint_and_lose_nothing(phones, engine, redis_client, params, body,
                                                                    json_body):
    """Each answer is 200 (a stream entry written), or 400/404 (a dead letter kept): nothing vanishes."""
    entries, letters = redis_client.xlen(STREAM) if redis_client.exists(STREAM) else 0, len(_letters(engine))
    answer = phones.post("/?" + urlencode(params), data=body,
                         content_type="application/json" if json_body else "application/x-www-form-urlencoded")
    assert answer.status_code in (200, 400, 404), answer.data
    after = redis_client.xlen(STREAM) if redis_client.exists(STREAM) else 0
    if answer.status_code == 200:
        assert (after, len(_letters(engine))) == (entries + 1, letters)
    else:
        assert (after, len(_letters(engine))) == (entries, letters + 1)
        assert _letters(engine)[-1][2] == answer.data.decode().strip()


def test_the_endpoint_as_its_own_process(tmp_path, redis_server, engine, db_url):
    """`python -m feeds.adapters.osmand_server` on its port, as a site runs it: a phone's GET reaches the stream."""
    with engine.begin() as conn:
        add_device(conn, PHONE, UNIT, utcnow())
    port = free_port()
    child = spawn("osmand", "feeds.adapters.osmand_server",
                  {"CC_REDIS_URL": redis_server, "CC_DATABASE_URL": db_url, "CC_OSMAND_PORT": str(port),
                   "CC_DATA_DIR": str(tmp_path)}, quiet=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", 30, child)
        client = redis.Redis.from_url(redis_server)
        before = client.xlen(STREAM) if client.exists(STREAM) else 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/?id={PHONE}&lat=30.25&lon=120.17"
                                    f"&timestamp={_stamp()}", timeout=5) as answer:
            assert answer.status == 200
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/?id=stranger&lat=30.25&lon=120.17", timeout=5)
        assert refused.value.code == 404
        assert client.xlen(STREAM) == before + 1
        # the health checks left no dead letter; the stranger did
        assert [r for _, _, r, _ in _letters(engine)] == ["device 'stranger' is not registered: register it with "
                                                          "python -m feeds.adapters.devices add stranger --unit …"]
        entry = client.xrevrange(STREAM, count=1)[0][1]
        fix = json.loads(entry[b"payload"])
        fix = fix[0] if isinstance(fix, list) else fix
        assert (fix["unit_id"], fix["source"]) == (UNIT, "osmand")
        assert datetime.fromisoformat(fix["fix_at"].replace("Z", "+00:00")) <= datetime.now(UTC)
    finally:
        child.stop()
