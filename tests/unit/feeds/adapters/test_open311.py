"""Open311 GeoReport v2, read and written as the spec (open311/open311.github.io, GeoReport/v2) has it: our
taxonomy as its services, its POSTed request as our report, our case as its request's status, in XML and
JSON."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.adapters.open311 import (
    Gazetteer,
    Open311Error,
    RequestRow,
    read_post,
    read_query,
    render,
    request_view,
    service_definition,
    service_list,
    service_notice,
    to_report,
)
from feeds.schemas import ReportChannel
from feeds.taxonomy import load
from simulators.geography import build_district, to_geojson

TAXONOMY = load()
DISTRICT = build_district(3, 12)
WHERE = Gazetteer([(a.code, a.name, a.level.value, to_geojson(a.geometry)) for a in DISTRICT.areas])
INSIDE = next(p for p in WHERE.places if p.level == "grid").point
NOW = datetime(2026, 12, 5, 1, 30, tzinfo=UTC)

# The spec's "Example Request" (POST Service Request), with one of our service codes and a place in our district
SPEC_POST = ("api_key=xyz&jurisdiction_id=city.gov&service_code=env.garbage&lat={lat}&long={lon}"
             "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456"
             "&first_name=john&last_name=smith&phone=111111111&description=A+large+sinkhole+is+destroying+the+street"
             "&media_url=http%3A%2F%2Fcity.gov.s3.amazonaws.com%2Frequests%2Fmedia%2F638344.jpg")


def spec_form(**changes: str) -> dict[str, str]:
    form = dict(parse_qsl(SPEC_POST.format(lat=INSIDE.y, lon=INSIDE.x)))
    form.update(changes)
    return {k: v for k, v in form.items() if v != "-"}


def test_every_sub_class_is_a_service_grouped_by_its_class():
    services = service_list(TAXONOMY)
    assert len(services) == len(TAXONOMY.categories)
    garbage = next(s for s in services if s["service_code"] == "env.garbage")
    category = TAXONOMY["env.garbage"]
    assert (garbage["service_name"], garbage["group"], garbage["type"], garbage["metadata"]) == \
        (category.zh, category.class_zh, "realtime", True)
    assert category.en in garbage["keywords"]


def test_a_service_definition_lists_urgency_and_when_it_arose():
    definition = service_definition(TAXONOMY, "env.garbage")
    assert [a["code"] for a in definition["attributes"]] == ["urgent", "occurred_at"]
    assert [v["key"] for v in definition["attributes"][0]["values"]] == ["yes", "no"]
    with pytest.raises(Open311Error) as missing:
        service_definition(TAXONOMY, "no.such")
    assert missing.value.status == 404


def test_the_specs_example_request_becomes_our_report():
    posted = read_post(spec_form(), TAXONOMY, WHERE)
    report = to_report(posted, "o311-0123456789abcdef", ReportChannel.HOTLINE, NOW)
    assert (report.category, report.channel, report.source, report.urgent) == \
        ("env.garbage", ReportChannel.HOTLINE, "open311", False)
    assert report.reporter_id.startswith("acct-") and "123456" not in report.reporter_id  # a pseudonym
    assert report.reporter_id == to_report(read_post(spec_form(), TAXONOMY, WHERE), "o311-2", ReportChannel.HOTLINE,
                                           NOW).reporter_id  # the same account, the same reporter
    grid = next(a for a in DISTRICT.areas if a.code == report.grid_code)
    assert grid.level.value == "grid" and grid.geometry.covers(INSIDE)  # routed by the grid it lies in
    assert (report.lat, report.lon) == (INSIDE.y, INSIDE.x)
    assert report.description == "A large sinkhole is destroying the street"
    assert report.media_url == "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg"
    assert report.address == "1234 5th street"
    assert "smith" not in report.model_dump_json() and "111111111" not in report.model_dump_json()  # no personal data


def test_attributes_set_urgency_and_the_time_it_arose():
    posted = read_post(spec_form(**{"attribute[urgent]": "yes", "attribute[occurred_at]": "2026-12-05T08:05:00+08:00"}),
                       TAXONOMY, WHERE)
    assert posted.urgent and posted.occurred_at == datetime(2026, 12, 5, 0, 5, tzinfo=UTC)


def test_an_address_naming_a_community_is_placed_there():
    community = next(a for a in DISTRICT.areas if a.level.value == "community")
    form = spec_form(lat="-", long="-", address_string=f"宜昌市{community.name}菜市场门口")
    posted = read_post(form, TAXONOMY, WHERE)
    place = next(p for p in WHERE.places if p.name == community.name)
    assert (posted.lat, posted.lon) == (place.point.y, place.point.x)
    grid = next(a for a in DISTRICT.areas if a.level.value == "grid")
    posted = read_post(spec_form(lat="-", long="-", address_string=f"{grid.name}3栋"), TAXONOMY, WHERE)
    assert WHERE.place(f"{grid.name}3栋").level == "grid"  # the grid's name holds its community's: most precise wins


def test_the_notice_says_who_handles_it_and_within_what_time():
    notice = service_notice(TAXONOMY, "env.garbage", urgent=False)
    assert notice.startswith("已受理，由") and "处置时限" in notice


@pytest.mark.parametrize(("changes", "status", "description"), [
    ({"service_code": "-"}, 400, "service_code was not provided"),
    ({"service_code": "no.such"}, 404, "service_code 'no.such' not found"),
    ({"lat": "-", "long": "-", "address_string": "-"}, 400, "a location is required"),
    ({"lat": "-", "long": "-", "address_string": "-", "address_id": "545483"}, 400, "address_id is not supported"),
    ({"lat": "-", "long": "-", "address_string": "1234 5th street"}, 400, "address_string names no street"),
    ({"long": "-"}, 400, "lat and long must be sent together"),
    ({"lat": "north"}, 400, "lat must be a number, not 'north'"),
    ({"lat": "inf"}, 400, "lat must be a finite number"),
    ({"lat": "95"}, 400, "lat must lie in −90…90"),
    ({"lat": "37.76524078", "long": "-122.4212043"}, 400, "the location 37.765241, -122.421204 lies outside"),
    ({"description": "x" * 4001}, 400, "description is longer than 4000 characters"),
    ({"attribute[urgent]": "maybe"}, 400, "attribute[urgent] must be yes or no"),
    ({"attribute[occurred_at]": "yesterday"}, 400, "attribute[occurred_at] must be an ISO 8601 time"),
    ({"attribute[occurred_at]": "2026-12-05T08:05:00"}, 400, "attribute[occurred_at] must name its zone"),
])
def test_each_bad_request_says_what_is_wrong(changes, status, description):
    with pytest.raises(Open311Error) as refused:
        read_post(spec_form(**changes), TAXONOMY, WHERE)
    assert refused.value.status == status and refused.value.description.startswith(description)


@pytest.mark.parametrize(("changes", "description"), [
    ({"media_url": "javascript:alert(1)"}, "media_url: String should match pattern"),
    ({"description": "bad\x00byte"}, "description: Value error, text must not contain NUL characters"),
])
def test_what_our_schema_refuses_is_a_400_with_its_reason(changes, description):
    with pytest.raises(Open311Error) as refused:
        to_report(read_post(spec_form(**changes), TAXONOMY, WHERE), "o311-1", ReportChannel.CITIZEN, NOW)
    assert refused.value.status == 400 and refused.value.description.startswith(description)


# ------------------------------------------------------------------------------------------ status

def row(**changes) -> RequestRow:
    base = {"id": "o311-1", "service_code": "env.garbage", "description": "垃圾满溢", "address": None,
            "lat": INSIDE.y, "lon": INSIDE.x, "media_url": None, "requested_at": NOW, "state": "dispatched",
            "department": "sanitation", "updated_at": NOW + timedelta(hours=1),
            "expected_at": NOW + timedelta(hours=5)}
    return RequestRow(**{**base, **changes})


@pytest.mark.parametrize(("state", "status", "notes"), [
    (None, "open", "已受理，待登记"), ("reported", "open", "待核实"), ("dispatched", "open", "处置中"),
    ("handled", "open", "待核查"), ("parked", "open", "已挂账"), ("closed", "closed", "已结案"),
    ("rejected", "closed", "不予立案"), ("void", "closed", "已作废"),
])
def test_a_cases_state_is_its_requests_status(state, status, notes):
    view = request_view(row(state=state), TAXONOMY)
    assert (view["status"], view["status_notes"]) == (status, notes)
    assert (view["expected_datetime"] is None) == (status == "closed")


def test_a_request_view_has_the_specs_fields():
    view = request_view(row(), TAXONOMY)
    assert list(view) == ["service_request_id", "status", "status_notes", "service_name", "service_code",
                          "description", "agency_responsible", "service_notice", "requested_datetime",
                          "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
                          "long", "media_url"]
    assert view["agency_responsible"] == TAXONOMY.departments["sanitation"]
    assert view["requested_datetime"] == "2026-12-05T01:30:00+00:00"


def test_xml_is_the_specs_shape_and_json_a_list():
    body, mimetype = render([request_view(row(), TAXONOMY)], "service_requests", "xml")
    assert mimetype == "text/xml; charset=utf-8" and body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(body)
    assert root.tag == "service_requests" and [c.tag for c in root] == ["request"]
    assert root.find("request/status").text == "open" and root.find("request/address_id").text is None
    body, mimetype = render(service_definition(TAXONOMY, "env.garbage"), "service_definition", "xml")
    root = ET.fromstring(body)
    assert root.find("attributes/attribute/values/value/key").text == "yes"
    assert root.find("attributes/attribute/variable").text == "true"
    body, mimetype = render([{"code": 403, "description": "Invalid api_key"}], "errors", "json")
    assert json.loads(body) == [{"code": 403, "description": "Invalid api_key"}]
    errors = ET.fromstring(render([{"code": 403, "description": "x"}], "errors", "xml")[0])
    assert errors.find("error/code").text == "403"


def test_a_query_spans_at_most_ninety_days():
    q = read_query({}, NOW)
    assert (q.start, q.end, q.statuses, q.ids) == (NOW - timedelta(days=90), NOW, {"open", "closed"}, None)
    q = read_query({"start_date": "2026-11-01T00:00:00Z", "status": "open", "service_code": "env.garbage,a.b"}, NOW)
    assert q.start == datetime(2026, 11, 1, tzinfo=UTC) and q.end == datetime(2027, 1, 30, tzinfo=UTC)
    assert q.service_codes == ["env.garbage", "a.b"] and q.statuses == {"open"}
    for args, description in (({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-12-01T00:00:00Z"},
                               "start_date and end_date may not span more than 90 days"),
                              ({"start_date": "2026-12-02T00:00:00Z", "end_date": "2026-12-01T00:00:00Z"},
                               "end_date is before start_date"),
                              ({"status": "pending"}, "status is open, closed, or both"),
                              ({"end_date": "soon"}, "end_date must be an ISO 8601 time")):
        with pytest.raises(Open311Error) as refused:
            read_query(args, NOW)
        assert refused.value.status == 400 and refused.value.description.startswith(description)


# ------------------------------------------------------------------------------------------ hostile

FIELDS = st.sampled_from(["service_code", "lat", "long", "address_string", "address_id", "description",
                          "media_url", "attribute[urgent]", "attribute[occurred_at]", "account_id", "device_id"])


@settings(max_examples=3000, deadline=None)
@given(st.dictionaries(FIELDS, st.one_of(st.text(max_size=40), st.sampled_from(
    ["env.garbage", str(INSIDE.y), str(INSIDE.x), "nan", "1e999", "yes", "2026-12-05T08:00:00+08:00",
     "http://x/y.jpg", DISTRICT.areas[2].name])), max_size=11))
def test_any_form_is_a_report_or_a_refusal_with_a_reason(form):
    try:
        report = to_report(read_post(form, TAXONOMY, WHERE), "o311-1", ReportChannel.CITIZEN, NOW)
    except Open311Error as refused:
        assert refused.status in (400, 404) and refused.description
        return
    assert WHERE.contains(report.lat, report.lon) and report.category in TAXONOMY.categories


@settings(max_examples=1000, deadline=None)
@given(st.dictionaries(st.sampled_from(["service_request_id", "service_code", "start_date", "end_date", "status"]),
                       st.text(max_size=40), max_size=5))
def test_any_query_is_read_or_refused_with_a_reason(args):
    try:
        q = read_query(args, NOW)
    except Open311Error as refused:
        assert refused.status == 400 and refused.description
        return
    assert q.end - q.start <= timedelta(days=90)


# ------------------------------------------------------------------------ reading an upstream server

# The spec's "GET Service Requests" JSON example, its codes quoted: as printed, "service_code":006 is not JSON
SPEC_REQUESTS = b"""[
  {"service_request_id":638344, "status":"closed", "status_notes":"Duplicate request.",
   "service_name":"Sidewalk and Curb Issues", "service_code":"006", "description":null,
   "agency_responsible":null, "service_notice":null, "requested_datetime":"2010-04-14T06:37:38-08:00",
   "updated_datetime":"2010-04-14T06:37:38-08:00", "expected_datetime":"2010-04-15T06:37:38-08:00",
   "address":"8TH AVE and JUDAH ST", "address_id":545483, "zipcode":94122, "lat":37.762221815,
   "long":-122.4651145, "media_url":"http://city.gov.s3.amazonaws.com/requests/media/638344.jpg "},
  {"service_request_id":638349, "status":"open", "status_notes":null, "service_name":"Sidewalk and Curb Issues",
   "service_code":"006", "description":null, "agency_responsible":null, "service_notice":null,
   "requested_datetime":"2010-04-19T06:37:38-08:00", "updated_datetime":"2010-04-19T06:37:38-08:00",
   "expected_datetime":"2010-04-19T06:37:38-08:00", "address":"8TH AVE and JUDAH ST", "address_id":545483,
   "zipcode":94122, "lat":37.762221815, "long":-122.4651145,
   "media_url":"http://city.gov.s3.amazonaws.com/requests/media/638349.jpg"}
]"""


def test_the_specs_request_list_read_from_an_upstream_server():
    from feeds.adapters.open311_client import read_requests, report_id

    polled = read_requests("https://sf.example/open311/v2", SPEC_REQUESTS, NOW, WHERE, {"006": "road.pavement"},
                           ReportChannel.HOTLINE)
    assert polled.refused == [] and len(polled.reports) == 2
    first = polled.reports[0]
    assert first.id == report_id("https://sf.example/open311/v2", "638344") != polled.reports[1].id
    assert (first.category, first.channel, first.source, first.lat, first.lon) == \
        ("road.pavement", ReportChannel.HOTLINE, "open311-poll", 37.762221815, -122.4651145)
    assert first.ts == datetime(2010, 4, 14, 14, 37, 38, tzinfo=UTC) and first.address == "8TH AVE and JUDAH ST"
    assert first.media_url == "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg"
    assert polled.up_to == datetime(2010, 4, 19, 14, 37, 38, tzinfo=UTC)


def test_an_upstream_request_placed_by_its_address_or_kept_when_it_cannot_be():
    from feeds.adapters.open311_client import read_requests

    community = next(a for a in DISTRICT.areas if a.level.value == "community")
    body = json.dumps([
        {"service_request_id": "A1", "service_code": "env.garbage", "requested_datetime": "2026-12-05T09:00:00+08:00",
         "address": f"{community.name}南门", "lat": None, "long": None},
        {"service_request_id": "A2", "service_code": "env.garbage", "requested_datetime": "2026-12-05T09:01:00+08:00",
         "address": "nowhere"},
        {"service_request_id": "A3", "requested_datetime": "yesterday", "lat": 1, "long": 2},
        "not a request",
    ]).encode()
    polled = read_requests("u", body, NOW, WHERE, {}, ReportChannel.CITIZEN)
    assert [r.category for r in polled.reports] == ["env.garbage"]
    assert polled.reports[0].address == f"{community.name}南门"
    assert [r.reason for r in polled.refused] == [
        "request A2 has no lat/long, and its address names no place of the district",
        "Invalid isoformat string: 'yesterday'", "a request must be an object"]
    assert read_requests("u", b"<html>", NOW, WHERE, {}, ReportChannel.CITIZEN).refused[0].reason.startswith(
        "the server's answer is not JSON")
