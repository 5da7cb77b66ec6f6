"""The Open311 endpoint on a real Redis and a real database (SQLite and PostgreSQL): the spec's example
request in, a case out through the stream and the ingest; its status back through GET as the case moves
along the loop, in XML and JSON; every refusal answered as the spec says and kept with its reason."""
from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from devstack.services import free_port, spawn, wait_for_http
from feeds.adapters.apikeys import issue_key, revoke_key
from feeds.adapters.open311_server import CHANNEL, PREFIX, create_app, load_gazetteer
from feeds.bus.channels import StreamBus, publish_messages, stream_for
from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.calendar import parse_calendar
from feeds.clock import utcnow
from feeds.ingest.pipeline import Ingest
from feeds.schemas import FEED_CHANNELS, channel_for
from feeds.store.models import DEAD_LETTERS, CaseRow
from feeds.taxonomy import load
from simulators.geography import build_district, save_district
from tests import factories
from tests.waiting import wait_until

TAXONOMY = load()
CALENDAR = parse_calendar("08:30-12:00,14:00-18:00", "1-5", "", "", "Asia/Shanghai")
STREAM = stream_for(channel_for("incident_report"))
SPEC_POST = ("jurisdiction_id=city.gov&service_code=env.garbage&lat={lat}&long={lon}"
             "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456"
             "&first_name=john&last_name=smith&phone=111111111&description=A+large+sinkhole+is+destroying+the+street"
             "&media_url=http%3A%2F%2Fcity.gov.s3.amazonaws.com%2Frequests%2Fmedia%2F638344.jpg")


def _letters(engine) -> list[tuple[str, str, str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(DEAD_LETTERS.c.channel, DEAD_LETTERS.c.stage,
                                                      DEAD_LETTERS.c.reason, DEAD_LETTERS.c.payload)
                                               .where(DEAD_LETTERS.c.channel == CHANNEL).order_by(DEAD_LETTERS.c.id))]


class Centre:
    def __init__(self, client, key, inside, engine):
        self.client, self.key, self.inside, self.engine = client, key, inside, engine

    def post(self, fmt="json", key=None, **changes):
        form = dict(parse_qsl(SPEC_POST.format(lat=self.inside.y, lon=self.inside.x)))
        form["api_key"] = self.key if key is None else key
        form.update(changes)
        return self.client.post(f"{PREFIX}/requests.{fmt}", data={k: v for k, v in form.items() if v != "-"})

    def get(self, path):
        return self.client.get(PREFIX + path)


@pytest.fixture
def centre(engine, redis_client):
    """The endpoint's test client on a district of 12 grids, a hotline key, and an ingest reading the streams."""
    with engine.begin() as conn:
        save_district(conn, build_district(3, 12))
        key, _ = issue_key(conn, "12345 热线", "hotline", utcnow(), per_minute=1000)
    bus = StreamBus(redis_client)
    where = load_gazetteer(engine)
    app = create_app(engine, bus, redis_client, TAXONOMY, CALENDAR, where, contact="值班室")
    stop = threading.Event()
    ingest = Ingest(engine, RedisSnapshotStore(redis_client), RecordingPusher(), window_s=0.01)
    thread = threading.Thread(target=ingest.run, args=(bus.subscribe(FEED_CHANNELS), stop), daemon=True)
    thread.start()
    yield Centre(app.test_client(), key, next(p for p in where.places if p.level == "grid").point, engine)
    stop.set()
    thread.join(5)


def _case(engine, case_id):
    with engine.connect() as conn:
        return conn.execute(select(CaseRow.__table__).where(CaseRow.id == case_id)).first()


def test_the_specs_example_opens_a_case_whose_status_follows_it_to_closed(centre, engine, redis_client):
    answer = centre.post()
    assert answer.status_code == 200 and answer.content_type == "application/json; charset=utf-8"
    [made] = answer.json
    request_id = made["service_request_id"]
    assert made["account_id"] == "123456" and made["service_notice"].startswith("已受理，由环卫负责处置")
    wait_until(lambda: _case(engine, request_id), 10, "the case the request opened")
    case = _case(engine, request_id)
    assert (case.channel, case.category, case.state) == ("hotline", "env.garbage", "reported")
    assert case.grid_code is not None  # routed to the grid the place lies in

    [view] = centre.get(f"/requests/{request_id}.json").json
    assert (view["status"], view["status_notes"], view["service_code"], view["media_url"]) == \
        ("open", "待核实", "env.garbage", "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg")
    assert view["expected_datetime"].endswith("+08:00") and view["address"] == "1234 5th street"

    xml = ET.fromstring(centre.get(f"/requests/{request_id}.xml").data)
    assert xml.tag == "service_requests" and xml.find("request/status_notes").text == "待核实"
    assert xml.find("request/service_request_id").text == request_id

    steps = [("verify", {}), ("register", {}), ("dispatch", {"department": "sanitation"})]
    publish_messages(StreamBus(redis_client), [factories.command(request_id, a, v, **f)
                                               for v, (a, f) in enumerate(steps, start=1)])
    wait_until(lambda: _case(engine, request_id).state == "dispatched", 10, "the case dispatched")
    [view] = centre.get(f"/requests/{request_id}.json").json
    assert (view["status"], view["status_notes"], view["agency_responsible"]) == ("open", "处置中", "环卫")
    publish_messages(StreamBus(redis_client), [factories.command(request_id, a, v) for v, a in
                                               enumerate(("handle", "check_pass", "close"), start=4)])
    wait_until(lambda: _case(engine, request_id).state == "closed", 10, "the case closed")
    [view] = centre.get(f"/requests/{request_id}.json").json
    assert (view["status"], view["status_notes"], view["expected_datetime"]) == ("closed", "已结案", None)
    assert view["updated_datetime"] >= view["requested_datetime"]


def test_the_request_list_filters_as_the_spec_says(centre, engine):
    ids = [centre.post(service_code=code).json[0]["service_request_id"]
           for code in ("env.garbage", "env.garbage", "env.debris")]
    # the second is the first's problem reported again on the same spot: it joins the first's case, and shows it
    listed = wait_until(lambda: len(centre.get("/requests.json").json) == 3 and centre.get("/requests.json").json,
                        10, "three requests")
    assert _case(engine, ids[1]) is None and listed[1]["status_notes"] == listed[0]["status_notes"] == "待核实"
    assert [r["service_request_id"] for r in listed] == ids  # oldest first
    assert [r["service_request_id"] for r in centre.get("/requests.json?service_code=env.debris").json] == ids[2:]
    assert centre.get("/requests.json?status=closed").json == []
    picked = centre.get(f"/requests.json?service_request_id={ids[2]},{ids[0]}&status=closed").json  # ids override
    assert {r["service_request_id"] for r in picked} == {ids[0], ids[2]}
    later = (utcnow() + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert centre.get(f"/requests.json?start_date={later}").json == []
    assert len(ET.fromstring(centre.get("/requests.xml").data).findall("request")) == 3
    assert ET.fromstring(centre.get("/requests").data).tag == "service_requests"  # XML when no format is named


def test_discovery_services_and_definitions_in_both_formats(centre):
    services = centre.get("/services.json").json
    assert len(services) == len(TAXONOMY.categories) and services[0]["type"] == "realtime"
    xml = ET.fromstring(centre.get("/services.xml").data)
    assert len(xml.findall("service")) == len(TAXONOMY.categories)
    assert centre.get("/services/env.garbage.json").json["attributes"][0]["code"] == "urgent"
    found = centre.get("/discovery.json").json
    assert found["contact"] == "值班室" and found["endpoints"][0]["url"].endswith("/open311/v2")
    assert set(found["endpoints"][0]["formats"]) == {"text/xml", "application/json"}


@pytest.mark.parametrize(("make", "status", "description", "kept"), [
    (lambda c: c.post(key="-"), 403, "api_key was not provided", False),
    (lambda c: c.post(key="o311_wrong"), 403, "Invalid api_key received", False),
    (lambda c: c.post(service_code="no.such"), 404, "service_code 'no.such' not found", True),
    (lambda c: c.post(service_code="-"), 400, "service_code was not provided", True),
    (lambda c: c.post(lat="37.76524078", long="-122.4212043"), 400, "the location 37.765241, -122.421204 lies", True),
    (lambda c: c.post(lat="-", long="-"), 400, "address_string names no street, community or grid", True),
    (lambda c: c.post(description="x" * 4001), 400, "description is longer than 4000 characters", True),
    (lambda c: c.post(media_url="ftp://x"), 400, "media_url: String should match pattern", True),
    (lambda c: c.get("/services/no.such.json"), 404, "service_code 'no.such' not found", False),
    (lambda c: c.get("/requests/o311-nothing.json"), 404, "service_request_id 'o311-nothing' not found", False),
    (lambda c: c.get("/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-12-01T00:00:00Z"), 400,
     "start_date and end_date may not span more than 90 days", False),
    (lambda c: c.get("/services.yaml"), 404, "format 'yaml' is not served", False),
    (lambda c: c.get("/nothing"), 404, "no such resource", False),
])
def test_every_error_is_answered_as_the_spec_says_and_kept(centre, engine, caplog, make, status, description, kept):
    caplog.set_level(logging.WARNING, "feeds.adapters.open311_server")
    answer = make(centre)
    assert answer.status_code == status
    body = answer.json if answer.content_type.startswith("application/json") else [
        {"code": int(e.find("code").text), "description": e.find("description").text}
        for e in ET.fromstring(answer.data).findall("error")]
    assert body[0]["code"] == status and body[0]["description"].startswith(description)
    letters = _letters(engine)
    assert len(letters) == (1 if kept else 0)
    if kept:
        assert letters[0][2].startswith(description)
        assert all(secret not in letters[0][3] for secret in ("smith", "111111111", "smit333", centre.key))
    if status == 403:
        assert "api_key" in caplog.text


def test_a_revoked_key_and_a_key_past_its_rate_are_refused(centre, engine):
    with engine.begin() as conn:
        key, kept = issue_key(conn, "市民通 App", "citizen", utcnow(), per_minute=2)
    assert [centre.post(key=key).status_code for _ in range(3)] == [200, 200, 429]
    with engine.begin() as conn:
        revoke_key(conn, kept.id, utcnow())
    assert centre.post(key=key).status_code == 403


def test_with_the_bus_unreachable_the_sender_is_told_to_post_again(engine, redis_client):
    with engine.begin() as conn:
        save_district(conn, build_district(3, 12))
        key, _ = issue_key(conn, "12345 热线", "hotline", utcnow())
    dead = redis.Redis(port=free_port(), socket_connect_timeout=0.2)
    where = load_gazetteer(engine)
    client = create_app(engine, StreamBus(dead), dead, TAXONOMY, CALENDAR, where).test_client()
    point = where.places[0].point
    answer = client.post(f"{PREFIX}/requests.json", data={"api_key": key, "service_code": "env.garbage",
                                                           "lat": point.y, "long": point.x})
    assert answer.status_code == 503 and "post again" in answer.json[0]["description"]


HOSTILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@HOSTILE
@given(form=st.dictionaries(st.sampled_from(["service_code", "lat", "long", "address_string", "description",
                                             "media_url", "attribute[urgent]", "attribute[occurred_at]",
                                             "account_id", "api_key"]),
                            st.one_of(st.text(max_size=30), st.sampled_from(["env.garbage", "nan", "yes", "-"])),
                            max_size=10), keep_key=st.booleans())
def test_hostile_posts_never_break_the_endpoint_and_lose_nothing(centre, engine, redis_client, form, keep_key):
    """Each answer is 200 (a stream entry), 400/404 (a dead letter) or 403 (logged): nothing vanishes."""
    if keep_key:
        form["api_key"] = centre.key
    entries = redis_client.xlen(STREAM) if redis_client.exists(STREAM) else 0
    letters = len(_letters(engine))
    answer = centre.client.post(f"{PREFIX}/requests.json", data=form)
    assert answer.status_code in (200, 400, 403, 404), answer.data
    after = redis_client.xlen(STREAM) if redis_client.exists(STREAM) else 0
    grew = (after - entries, len(_letters(engine)) - letters)
    assert grew == {200: (1, 0), 400: (0, 1), 404: (0, 1), 403: (0, 0)}[answer.status_code]


def test_the_endpoint_as_its_own_process(tmp_path, redis_server, redis_client, engine, db_url):
    with engine.begin() as conn:
        save_district(conn, build_district(3, 12))
        key, _ = issue_key(conn, "12345 热线", "hotline", utcnow())
    port = free_port()
    child = spawn("open311", "feeds.adapters.open311_server",
                  {"CC_REDIS_URL": redis_server, "CC_DATABASE_URL": db_url, "CC_OPEN311_PORT": str(port),
                   "CC_DATA_DIR": str(tmp_path)}, quiet=True)
    try:
        base = f"http://127.0.0.1:{port}{PREFIX}"
        wait_for_http(f"{base}/discovery.json", 30, child)
        point = load_gazetteer(engine).places[0].point
        data = urlencode({"api_key": key, "service_code": "env.garbage", "lat": point.y, "long": point.x,
                          "description": "小区门口垃圾满溢"}).encode()
        with urllib.request.urlopen(f"{base}/requests.json", data=data, timeout=5) as answer:
            made = json.load(answer)
        assert made[0]["service_request_id"].startswith("o311-")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/requests.json", data=b"service_code=env.garbage", timeout=5)
        assert refused.value.code == 403
    finally:
        child.stop()


def test_our_own_client_reads_what_our_server_serves(centre, engine):
    """Conformance, read back: the poller (a centre reading a city's 12345 system) against our endpoint."""
    from feeds.adapters.open311_client import poll_once, report_id
    from feeds.schemas import ReportChannel

    ids = [centre.post(service_code=code, description=f"第{n}件").json[0]["service_request_id"]
           for n, code in enumerate(("env.garbage", "env.debris"))]
    wait_until(lambda: len(centre.get("/requests.json").json) == 2, 10, "both requests")

    def fetch(url: str) -> bytes:
        answer = centre.client.get(url.removeprefix("http://localhost"))
        assert answer.status_code == 200, answer.data
        return answer.data

    start = utcnow() - timedelta(hours=1)
    first = poll_once(f"http://localhost{PREFIX}", fetch, start, utcnow(), load_gazetteer(engine), {},
                      ReportChannel.HOTLINE)
    assert first.refused == []
    assert [r.id for r in first.reports] == [report_id(f"http://localhost{PREFIX}", i) for i in ids]
    assert [(r.category, r.description, r.channel) for r in first.reports] == \
        [("env.garbage", "第0件", ReportChannel.HOTLINE), ("env.debris", "第1件", ReportChannel.HOTLINE)]
    again = poll_once(f"http://localhost{PREFIX}", fetch, first.up_to, utcnow(), load_gazetteer(engine), {},
                      ReportChannel.HOTLINE)
    assert {r.id for r in again.reports} <= {r.id for r in first.reports}  # read again: the same reports
