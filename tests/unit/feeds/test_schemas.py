import json
from datetime import UTC, datetime, timedelta, timezone

from feeds.schemas import FEED_CHANNELS, IncidentReport, channel_for, decode, encode
from tests import factories


def _raw(message) -> dict:
    return json.loads(message.model_dump_json())


def test_every_kind_has_its_own_channel():
    assert FEED_CHANNELS == ("cc.patrol_position", "cc.incident_report", "cc.camera_alert", "cc.camera_status",
                             "cc.case_command")


def test_a_batch_round_trips_through_the_wire_format():
    batch = [factories.position("P1"), factories.position("P2")]
    good, bad = decode(channel_for("patrol_position"), encode(batch))
    assert bad == []
    assert good == batch


def test_timestamps_are_held_in_utc():
    beijing = timezone(timedelta(hours=8))
    raw = _raw(factories.incident())
    raw["ts"] = "2026-11-22T20:00:00+08:00"
    [report], _ = decode("cc.incident_report", json.dumps(raw))
    assert report.ts == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert report.ts.tzinfo == UTC and datetime(2026, 11, 22, 20, tzinfo=beijing) == report.ts


def test_unknown_fields_are_rejected_with_the_field_named():
    raw = _raw(factories.position())
    raw["speed_kmh"] = 4
    good, [rejection] = decode("cc.patrol_position", json.dumps(raw))
    assert good == []
    assert rejection.stage == "schema"
    assert "speed_kmh: Extra inputs are not permitted" in rejection.reason
    assert json.loads(rejection.payload)["speed_kmh"] == 4  # the raw item is kept


def test_a_naive_timestamp_is_rejected():
    raw = _raw(factories.position())
    raw["fix_at"] = "2026-11-22T12:00:00"
    _, [rejection] = decode("cc.patrol_position", json.dumps(raw))
    assert rejection.reason.startswith("fix_at: Input should have timezone info")


def test_nullable_fields_must_still_be_present():
    raw = _raw(factories.incident())
    del raw["occurred_at"]
    _, [rejection] = decode("cc.incident_report", json.dumps(raw))
    assert rejection.reason == "occurred_at: Field required"


def test_out_of_range_values_are_rejected():
    raw = _raw(factories.position())
    raw["lat"] = 91
    _, [rejection] = decode("cc.patrol_position", json.dumps(raw))
    assert rejection.reason == "lat: Input should be less than or equal to 90"


def test_a_message_on_the_wrong_channel_is_rejected():
    _, [rejection] = decode("cc.patrol_position", encode(factories.incident()))
    assert rejection.reason == "kind 'incident_report' sent on cc.patrol_position"


def test_only_the_bad_items_of_a_batch_are_rejected():
    good_one, good_two = factories.position("P1"), factories.position("P2")
    items = [_raw(good_one), {"kind": "patrol_position", "lat": "north"}, _raw(good_two)]
    good, bad = decode("cc.patrol_position", json.dumps(items))
    assert good == [good_one, good_two]
    assert len(bad) == 1 and "lat: Input should be a valid number" in bad[0].reason


def test_garbage_is_rejected_as_not_json():
    good, [rejection] = decode("cc.camera_alert", b"\xff{not json")
    assert good == [] and rejection.stage == "decode" and rejection.reason.startswith("not JSON")


def test_an_unknown_channel_is_rejected():
    _, [rejection] = decode("cc.weather", b"{}")
    assert rejection.reason == "unknown channel 'cc.weather'"


def test_the_schema_version_is_checked():
    raw = _raw(factories.incident())
    raw["schema_version"] = 2
    _, [rejection] = decode("cc.incident_report", json.dumps(raw))
    assert rejection.reason == "schema_version: Input should be 1"


def test_models_are_immutable():
    report: IncidentReport = factories.incident()
    try:
        report.urgent = True  # type: ignore[misc]
    except Exception as err:
        assert "frozen" in str(err)
    else:
        raise AssertionError("a message could be changed after validation")


def test_text_with_nul_characters_is_rejected():
    raw = _raw(factories.incident())
    raw["description"] = "井盖\u0000缺失"
    _, [rejection] = decode("cc.incident_report", json.dumps(raw))
    assert rejection.reason == "description: Value error, text must not contain NUL characters"


def test_a_command_with_an_action_the_loop_does_not_know_is_rejected_naming_the_actions():
    raw = _raw(factories.command("C1", "verify", 1))
    raw["action"] = "teleport"
    _, [rejection] = decode("cc.case_command", json.dumps(raw))
    assert rejection.reason.startswith("action: Input should be 'verify', 'register'")
