"""The OsmAnd protocol read as Traccar reads it: the requests of traccar/traccar's OsmAndProtocolDecoderTest
go in, and the position Traccar decodes comes out (or, where Traccar would take the last known location,
a refusal saying why)."""
from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.adapters.osmand import KNOT_MPS, Reading, Refused, read_request, to_fix
from feeds.schemas import PatrolPosition

ZONE = ZoneInfo("Asia/Shanghai")


def query(path: str) -> Reading:
    """A GET request as Traccar's test writes it: '/?a=1&b=2'."""
    return read_request(path.split("?", 1)[1], b"", None, ZONE)


def posted(body: str, content_type: str = "application/json") -> Reading:
    return read_request("", body.encode(), content_type, ZONE)


# ------------------------------------------------------------------------- testDecodeQuery, one by one

def test_iso_time_hdop_and_speed_in_knots():
    r = query("/?id=902064&lat=42.06288&lon=-88.23412&timestamp=2016-01-27T18%3A55%3A47Z&hdop=6.0"
              "&altitude=224.0&speed=0.0")
    assert r == Reading("902064", 42.06288, -88.23412, datetime(2016, 1, 27, 18, 55, 47, tzinfo=UTC), 0.0, 30.0)


def test_a_timestamp_above_two_to_the_31_is_milliseconds():
    r = query("/?id=902064&lat=42.06288&lon=-88.23412&timestamp=1442068686579&hdop=6.0&altitude=224.0&speed=0.0")
    assert r.fix_at == datetime(2015, 9, 12, 14, 38, 6, 579000, tzinfo=UTC)


def test_a_local_time_is_in_the_sites_zone_and_the_id_may_come_last():
    r = query("/?lat=49.60688&lon=6.15788&timestamp=2014-06-04+09%3A10%3A11&altitude=384.7&speed=0.0"
              "&id=353861053849681")
    assert r.device_id == "353861053849681"
    assert r.fix_at == datetime(2014, 6, 4, 9, 10, 11, tzinfo=ZONE) == datetime(2014, 6, 4, 1, 10, 11, tzinfo=UTC)


def test_unix_seconds_bearing_and_zero_hdop():
    r = query("/?id=123456&timestamp=1377177267&lat=60.0&lon=30.0&speed=0.0&bearing=0.0&altitude=0&hdop=0.0")
    assert r == Reading("123456", 60.0, 30.0, datetime(2013, 8, 22, 13, 14, 27, tzinfo=UTC), 0.0, 0.0)


def test_the_fewest_parameters():
    assert query("/?id=123456&timestamp=1377177267&lat=60.0&lon=30.0") == \
        Reading("123456", 60.0, 30.0, datetime(2013, 8, 22, 13, 14, 27, tzinfo=UTC), None, None)


def test_deviceid_heading_and_horizontal_accuracy_without_a_time():
    r = query("/?lat=60.0&lon=30.0&speed=0.0&heading=0.0&vacc=0&hacc=0&altitude=0&deviceid=123456")
    assert r == Reading("123456", 60.0, 30.0, None, 0.0, 0.0)  # no time: the time it arrived


def test_battery_and_no_time():
    r = query("/?id=861001000719969&lat=41.666667&lon=-0.883333&altitude=350.059479&speed=0.000000&batt=87")
    assert (r.device_id, r.lat, r.lon, r.fix_at) == ("861001000719969", 41.666667, -0.883333, None)


def test_location_as_one_parameter():
    r = query("/?id=123456&timestamp=1377177267&location=60.0,30.0")
    assert (r.lat, r.lon) == (60.0, 30.0)


def test_speed_in_knots_becomes_metres_per_second_and_vehicle_attributes_are_ignored():
    r = query("/?id=123456789012345&timestamp=1504763810&lat=40.7232948571&lon=-74.0061408571"
              "&bearing=7.19889788244&speed=40&ignition=true&rpm=933&fuel=24")
    assert r.speed_mps == pytest.approx(20.5778, abs=1e-4) and r.lat == 40.7232948571


def test_without_an_id_there_is_no_fix():  # Traccar: verifyNull
    with pytest.raises(Refused) as refused:
        query("/?timestamp=1377177267&lat=60.0&lon=30.0")
    assert (refused.value.status, refused.value.reason) == (400, "no device: the request needs id or deviceid")


def test_cell_towers_and_wifi_alone_are_refused_for_want_of_a_position():
    """Traccar answers this one with the device's last known location; a patrol fix must say where it was."""
    with pytest.raises(Refused, match="no position: the request needs lat and lon, or location"):
        query("/?id=123456&timestamp=1377177267&cell=257,02,16,2224&cell=257,02,16,2223,-90"
              "&wifi=00-14-22-01-23-45,-80&wifi=00-1C-B3-09-85-15,-70")


def test_a_form_body_is_read_when_the_query_is_empty():
    r = read_request("", b"id=123456&lat=60.0&lon=30.0&timestamp=1377177267", "application/x-www-form-urlencoded",
                     ZONE)
    assert (r.device_id, r.lat, r.lon) == ("123456", 60.0, 30.0)


# -------------------------------------------------------------------------- testDecodeJson, one by one

def test_json_traccar_client():
    r = posted('{"location":{"timestamp":"2025-06-15T13:45:12.862Z","coords":{"latitude":37.4219983,'
               '"longitude":-122.084,"accuracy":5,"speed":0,"heading":-1,"altitude":5},"is_moving":false,'
               '"odometer":0,"event":"motionchange","battery":{"level":1,"is_charging":false},'
               '"activity":{"type":"still"},"extras":{},"_":"&id=48241179&lat=37.4219983&lon=-122.084'
               '&timestamp=2025-06-15T13:45:12.862Z&"},"device_id":"48241179"}')
    assert r == Reading("48241179", 37.4219983, -122.084, datetime(2025, 6, 15, 13, 45, 12, 862000, tzinfo=UTC),
                        0.0, 5.0)


def test_json_with_extras_of_every_type():
    r = posted('{"location":{"timestamp":"2025-06-15T13:45:12.862Z","coords":{"latitude":37.4219983,'
               '"longitude":-122.084,"accuracy":5,"speed":0,"heading":-1,"altitude":5},"is_moving":false,'
               '"odometer":0,"event":"motionchange","battery":{"level":1,"is_charging":false},'
               '"activity":{"type":"still"},"extras":{"device_string_test":"long_device_id","device_bool_test":true,'
               '"device_bool_false_test":false,"device_integer_test":1,"device_integer_twelve_test":12,'
               '"device_double_test":1.345,"device_very_long_double_test":1763636.3442},"_":"&id=48241179"},'
               '"device_id":"48241179"}')
    assert r.device_id == "48241179" and r.lat == 37.4219983


def test_json_from_a_mock_location_with_unknown_speed():
    r = posted('{"location":{"extras":{},"mock":true,"coords":{"speed_accuracy":-1,"speed":-1,'
               '"longitude":-122.406417,"ellipsoidal_altitude":0,"floor":null,"heading_accuracy":-1,'
               '"latitude":37.785834000000001,"accuracy":5,"altitude_accuracy":-1,"altitude":0,"heading":-1},'
               '"is_moving":false,"age":188,"odometer":0,"uuid":"2FB04C65-99CF-42AB-8DD3-EBCB4B108BF8",'
               '"event":"motionchange","battery":{"level":-1,"is_charging":false},'
               '"activity":{"type":"unknown","confidence":100},"timestamp":"2025-05-09T04:11:30.579Z"},'
               '"device_id":"658765"}')
    assert (r.device_id, r.speed_mps, r.accuracy_m) == ("658765", None, 5.0)  # speed -1: unknown
    assert r.fix_at == datetime(2025, 5, 9, 4, 11, 30, 579000, tzinfo=UTC)


def test_json_speed_is_already_metres_per_second():
    r = posted('{"location":{"event":"motionchange","is_moving":false,"uuid":"0e9a2473-a9a7-4c00-997b-fb97d2154e75",'
               '"timestamp":"2021-07-21T08:06:34.444Z","odometer":0,"coords":{"latitude":-6.1148096,'
               '"longitude":106.6837015,"accuracy":3.8,"speed":18.67,"speed_accuracy":0.26,"heading":63,'
               '"heading_accuracy":0.28,"altitude":35.7,"altitude_accuracy":3.8},"activity":{"type":"still",'
               '"confidence":100},"battery":{"is_charging":false,"level":0.79},"extras":{}},"device_id":"8737767034"}')
    assert (r.device_id, r.lat, r.lon, r.speed_mps, r.accuracy_m) == \
        ("8737767034", -6.1148096, 106.6837015, 18.67, 3.8)


# ------------------------------------------------------------------------------- Traccar's forwarding

FORWARD = {
    "position": {"id": 7, "attributes": {"batteryLevel": 87.0, "motion": False}, "deviceId": 3,
                 "protocol": "osmand", "serverTime": "2026-12-05T01:00:02.000+00:00",
                 "deviceTime": "2026-12-05T01:00:00.000+00:00", "fixTime": "2026-12-05T01:00:00.000+00:00",
                 "outdated": False, "valid": True, "latitude": 30.25, "longitude": 120.17, "altitude": 12.0,
                 "speed": 2.0, "course": 90.0, "address": None, "accuracy": 8.0, "network": None},
    "device": {"id": 3, "attributes": {}, "groupId": 0, "name": "网格员 张伟", "uniqueId": "861001000719969",
               "status": "online", "lastUpdate": "2026-12-05T01:00:02.000+00:00", "positionId": 7,
               "phone": None, "model": None, "contact": None, "category": None, "disabled": False},
}


def test_a_traccar_json_forward():
    r = posted(json.dumps(FORWARD))
    assert r == Reading("861001000719969", 30.25, 120.17, datetime(2026, 12, 5, 1, 0, tzinfo=UTC),
                        2.0 * KNOT_MPS, 8.0)


def test_a_forwarded_position_traccar_calls_invalid_is_refused():
    body = {**FORWARD, "position": {**FORWARD["position"], "valid": False}}
    with pytest.raises(Refused, match="invalid"):
        posted(json.dumps(body))


# ---------------------------------------------------------------------------------- every refusal

@pytest.mark.parametrize(("path", "reason"), [
    ("/?id=1&lat=north&lon=30", "lat must be a number, not 'north'"),
    ("/?id=1&lat=nan&lon=30", "lat must be a finite number, not 'nan'"),
    ("/?id=1&location=60.0", "location must be 'lat,lon', not '60.0'"),
    ("/?id=1&lat=60&lon=30&timestamp=yesterday", "timestamp must be Unix seconds or milliseconds"),
    ("/?id=1&lat=60&lon=30&timestamp=2014-13-45+09%3A10%3A11", "timestamp must be Unix seconds"),
    ("/?id=1&lat=60&lon=30&timestamp=99999999999999999999999", "timestamp '99999999999999999999999' is out of range"),
    ("/?id=%20padded&lat=60&lon=30", "device id must be at most 100 printable characters"),
    ("/?id=" + "x" * 101 + "&lat=60&lon=30", "device id must be at most 100"),
])
def test_each_malformed_query_says_what_is_wrong(path, reason):
    with pytest.raises(Refused) as refused:
        query(path)
    assert refused.value.status == 400 and refused.value.reason.startswith(reason)


@pytest.mark.parametrize(("body", "reason"), [
    ("{not json", "the body is not valid JSON"),
    ("[1, 2]", "the JSON must be an object"),
    ('{"location": {}}', "no device: the JSON needs device_id"),
    ('{"device_id": "1"}', "no location"),
    ('{"device_id": "1", "location": {"timestamp": "2025-01-01T00:00:00Z"}}', "no position: location.coords"),
    ('{"device_id": "1", "location": {"coords": {"latitude": 1, "longitude": 2}}}', "location.timestamp must"),
    ('{"device_id": "1", "location": {"timestamp": "2025-01-01T00:00:00Z", "coords": {"latitude": "1",'
     ' "longitude": 2}}}', "location.coords.latitude must be a number"),
    ('{"device_id": "1", "location": {"timestamp": "soon", "coords": {"latitude": 1, "longitude": 2}}}',
     "time must be ISO 8601"),
    ('{"device_id": true, "location": {}}', "no device"),
])
def test_each_malformed_json_says_what_is_wrong(body, reason):
    with pytest.raises(Refused) as refused:
        posted(body)
    assert refused.value.status == 400 and refused.value.reason.startswith(reason)


# ------------------------------------------------------------------------------------- into our fix

NOW = datetime(2026, 12, 5, 1, 0, 5, tzinfo=UTC)


def test_a_reading_becomes_a_patrol_position_keyed_by_unit_and_time():
    reading = Reading("861001000719969", 30.25, 120.17, NOW - timedelta(seconds=5), 1.5, None)
    fix = to_fix(reading, "P0001", NOW)
    assert isinstance(fix, PatrolPosition)
    assert (fix.id, fix.source, fix.unit_id, fix.accuracy_m, fix.speed_mps) == \
        ("osmand-P0001-1796432400000", "osmand", "P0001", 0.0, 1.5)
    assert fix.fix_at == NOW - timedelta(seconds=5) and fix.ts == NOW
    assert to_fix(reading, "P0001", NOW + timedelta(seconds=9)).id == fix.id  # sent again: the same fix
    assert to_fix(Reading("x", 30.25, 120.17, None, None, None), "P0001", NOW).fix_at == NOW


@pytest.mark.parametrize(("reading", "reason"), [
    (Reading("d", 91.0, 0.0, NOW, None, None), "lat: Input should be less than or equal to 90"),
    (Reading("d", 0.0, 181.0, NOW, None, None), "lon: Input should be less than or equal to 180"),
    (Reading("d", 0.0, 0.0, NOW, 250.0, None), "speed_mps: Input should be less than or equal to 100"),
    (Reading("d", 0.0, 0.0, datetime(1999, 1, 1, tzinfo=UTC), None, None), "fix_at: Value error, time must lie"),
])
def test_a_value_our_schema_refuses_is_refused_with_its_reason(reading, reason):
    with pytest.raises(Refused) as refused:
        to_fix(reading, "P0001", NOW)
    assert refused.value.status == 400 and refused.value.reason.startswith(reason)


# ------------------------------------------------------------------------------------------ hostile

PARAMS = st.sampled_from(["id", "deviceid", "lat", "lon", "location", "timestamp", "speed", "hdop", "accuracy",
                          "hacc", "bearing", "batt", "x"])
VALUES = st.one_of(st.text(max_size=30), st.floats(allow_nan=True, allow_infinity=True).map(str),
                   st.integers().map(str), st.sampled_from(["", "60.0,30.0", "2026-12-05T01:00:00Z", "1e309"]))


@settings(max_examples=3000, deadline=None)
@given(params=st.lists(st.tuples(PARAMS, VALUES), max_size=8), body=st.binary(max_size=200),
       content_type=st.sampled_from([None, "application/json", "application/x-www-form-urlencoded", "text/plain"]))
def test_any_request_is_a_reading_or_a_refusal(params, body, content_type):
    from urllib.parse import urlencode
    try:
        r = read_request(urlencode(params), body, content_type, ZONE)
    except Refused as refused:
        assert refused.status in (400, 404) and refused.reason
        return
    assert math.isfinite(r.lat) and math.isfinite(r.lon) and r.device_id
    try:
        to_fix(r, "P0001", NOW)
    except Refused as refused:
        assert refused.status == 400 and refused.reason


@settings(max_examples=2000, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
                        st.sampled_from(["device_id", "location", "coords", "timestamp", "latitude", "longitude",
                                         "speed", "accuracy", "position", "device", "uniqueId", "fixTime", "valid"]),
                        kids, max_size=6), max_leaves=20))
def test_any_json_is_a_reading_or_a_refusal(doc):
    try:
        body = json.dumps(doc).encode()
    except ValueError:
        return
    try:
        r = read_request("", body, "application/json", ZONE)
    except Refused as refused:
        assert refused.status == 400 and refused.reason
        return
    assert math.isfinite(r.lat) and math.isfinite(r.lon)
