"""The OsmAnd protocol as Traccar speaks it (traccar/traccar OsmAndProtocolDecoder), read into patrol fixes.
Pure: a request's parts in, a `Reading` or a `Refused` with its HTTP status and reason out.

Three shapes, as Traccar accepts them:
- query or form (Traccar Client, OsmAnd, GPSLogger…): `id`/`deviceid`, `lat` + `lon` or `location=lat,lon`,
  `timestamp` (Unix seconds or milliseconds, ISO 8601, or "yyyy-MM-dd HH:mm:ss" in the site's zone),
  `speed` in knots, `accuracy`/`hacc` in metres or else `hdop`; the parameters are read from the URL's
  query, or from the form body when the query has none;
- JSON (Traccar Client 9+, Transistorsoft's background geolocation): `device_id`, `location.timestamp`,
  `location.coords.{latitude, longitude, speed (m/s; negative: unknown), accuracy}`;
- Traccar's JSON forwarding (`forward.type = json`): `{"position": {...}, "device": {"uniqueId": …}}`,
  `fixTime`, `latitude`, `longitude`, `speed` in knots, `accuracy`.

What Traccar does and we do not: a request without coordinates (cell towers or Wi-Fi only) takes Traccar's
last known location; here it is refused, as a fix must say where the phone was. Bearing, altitude, battery
and the rest are read by Traccar into attributes; our fixes do not carry them, so they are ignored.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from feeds.schemas import PatrolPosition, describe

KNOT_MPS = 1852 / 3600  # one knot in metres per second
HDOP_METRES = 5.0  # a position's accuracy from its HDOP, with a typical 5 m user-equivalent range error
MAX_DEVICE_ID = 100
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


class Refused(Exception):
    """A request that gives no fix: its HTTP status (400 malformed, 404 unknown device) and why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Reading:
    """One position as the device reported it."""

    device_id: str
    lat: float
    lon: float
    fix_at: datetime | None  # None: the device sent no time (Traccar then takes the time it arrived)
    speed_mps: float | None
    accuracy_m: float | None


def read_request(query: str, body: bytes, content_type: str | None, zone: ZoneInfo) -> Reading:
    """An OsmAnd request (GET or POST, query, form or JSON) as Traccar's decoder reads it."""
    if (content_type or "").lower().startswith("application/json"):
        return read_json(body)
    params = parse_qsl(query, keep_blank_values=True)
    if not params and body:
        try:
            form = body.decode("ascii")
        except UnicodeDecodeError:
            raise Refused(400, "the form body is not URL-encoded ASCII") from None
        params = parse_qsl(form, keep_blank_values=True)
    return read_params(dict(params), zone)


def read_params(params: dict[str, str], zone: ZoneInfo) -> Reading:
    """The query/form shape (later repeats of a parameter win, as in Traccar)."""
    device = params.get("id") or params.get("deviceid")
    if not device:
        raise Refused(400, "no device: the request needs id or deviceid")
    lat = _number(params, "lat")
    lon = _number(params, "lon")
    if "location" in params:
        parts = params["location"].split(",")
        if len(parts) != 2:
            raise Refused(400, f"location must be 'lat,lon', not {params['location'][:40]!r}")
        lat, lon = (_parse_number("location", p) for p in parts)
    if lat is None or lon is None:
        raise Refused(400, "no position: the request needs lat and lon, or location")
    speed = _number(params, "speed")
    accuracy = _number(params, "accuracy")
    if accuracy is None:
        accuracy = _number(params, "hacc")
    hdop = _number(params, "hdop")
    if accuracy is None and hdop is not None:
        accuracy = hdop * HDOP_METRES
    stamp = params.get("timestamp")
    return Reading(_device(device), lat, lon, None if not stamp else _time(stamp, zone),
                   None if speed is None else speed * KNOT_MPS, accuracy)


def read_json(body: bytes) -> Reading:
    """The JSON shape: {"device_id": …, "location": {"timestamp": …, "coords": {…}}}."""
    root = _object(body)
    if "position" in root and "device" in root:
        return read_forward(root)
    device = root.get("device_id")
    location = root.get("location")
    if not isinstance(device, str | int) or isinstance(device, bool) or str(device) == "":
        raise Refused(400, "no device: the JSON needs device_id")
    if not isinstance(location, dict):
        raise Refused(400, "no location: the JSON needs a location object")
    coords = location.get("coords")
    if not isinstance(coords, dict):
        raise Refused(400, "no position: location.coords is missing")
    stamp = location.get("timestamp")
    if not isinstance(stamp, str):
        raise Refused(400, "location.timestamp must be an ISO 8601 time")
    speed = _json_number(coords, "speed", "location.coords")
    accuracy = _json_number(coords, "accuracy", "location.coords")
    return Reading(_device(str(device)), _required(coords, "latitude", "location.coords"),
                   _required(coords, "longitude", "location.coords"), _iso(stamp),
                   speed if speed is not None and speed >= 0 else None,  # negative: unknown
                   accuracy if accuracy is not None and accuracy >= 0 else None)


def read_forward(root: dict[str, Any]) -> Reading:
    """Traccar's JSON forwarding: {"position": {...}, "device": {"uniqueId": …}}."""
    position, device = root.get("position"), root.get("device")
    if not isinstance(position, dict) or not isinstance(device, dict):
        raise Refused(400, "a Traccar forward needs position and device objects")
    unique = device.get("uniqueId")
    if not isinstance(unique, str) or not unique:
        raise Refused(400, "no device: device.uniqueId is missing")
    if position.get("valid") is False:
        raise Refused(400, "Traccar marks this position invalid (no satellite fix)")
    stamp = position.get("fixTime")
    if not isinstance(stamp, str):
        raise Refused(400, "position.fixTime must be an ISO 8601 time")
    speed = _json_number(position, "speed", "position")
    accuracy = _json_number(position, "accuracy", "position")
    return Reading(_device(unique), _required(position, "latitude", "position"),
                   _required(position, "longitude", "position"), _iso(stamp),
                   None if speed is None else speed * KNOT_MPS,
                   accuracy if accuracy is not None and accuracy > 0 else None)  # Traccar writes 0 for "not given"


# ------------------------------------------------------------------------------------------------ parts

def _device(text: str) -> str:
    if len(text) > MAX_DEVICE_ID or not text.isprintable() or text.strip() != text:
        raise Refused(400, f"device id must be at most {MAX_DEVICE_ID} printable characters, "
                           f"without spaces around it")
    return text


def _object(body: bytes) -> dict[str, Any]:
    try:
        root = json.loads(body)
    except (ValueError, RecursionError):
        raise Refused(400, "the body is not valid JSON") from None
    if not isinstance(root, dict):
        raise Refused(400, "the JSON must be an object")
    return root


def _parse_number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise Refused(400, f"{name} must be a number, not {text[:40]!r}") from None
    if not math.isfinite(value):
        raise Refused(400, f"{name} must be a finite number, not {text[:40]!r}")
    return value


def _number(params: dict[str, str], name: str) -> float | None:
    text = params.get(name)
    return None if text is None or text == "" else _parse_number(name, text)


def _json_number(obj: dict[str, Any], name: str, where: str) -> float | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Refused(400, f"{where}.{name} must be a number")
    return float(value)


def _required(obj: dict[str, Any], name: str, where: str) -> float:
    value = _json_number(obj, name, where)
    if value is None:
        raise Refused(400, f"no position: {where}.{name} is missing")
    return value


def _iso(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Refused(400, f"time must be ISO 8601, not {text[:40]!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _time(text: str, zone: ZoneInfo) -> datetime:
    """Unix seconds or milliseconds (a number below 2^31 is seconds, as in Traccar), ISO 8601 (UTC when it
    names no zone), or "yyyy-MM-dd HH:mm:ss" in the site's zone."""
    if text.isdigit():
        number = int(text)
        try:
            return datetime.fromtimestamp(number if number < 2**31 - 1 else number / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            raise Refused(400, f"timestamp {text[:40]!r} is out of range") from None
    if "T" in text:
        return _iso(text)
    if _LOCAL_TIME.match(text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=zone)
        except ValueError:
            pass
    raise Refused(400, f"timestamp must be Unix seconds or milliseconds, ISO 8601 or "
                       f"'yyyy-MM-dd HH:mm:ss', not {text[:40]!r}")


def to_fix(reading: Reading, unit_id: str, received_at: datetime, source: str = "osmand") -> PatrolPosition:
    """The fix our pipeline takes. Its id is the unit and the fix's time, so the same fix sent twice (a phone
    retrying after a lost reply) is one fix. A value our schema refuses (a latitude of 91, a speed of 500 m/s)
    is refused with the schema's reason."""
    fix_at = reading.fix_at or received_at
    try:
        return PatrolPosition.model_validate({
            "schema_version": 1, "id": f"{source}-{unit_id}-{int(fix_at.timestamp() * 1000)}"[:64],
            "source": source, "ts": received_at, "drill_id": None, "kind": "patrol_position", "unit_id": unit_id,
            "lat": reading.lat, "lon": reading.lon, "accuracy_m": reading.accuracy_m or 0.0,
            "speed_mps": reading.speed_mps, "fix_at": fix_at})
    except ValidationError as err:
        raise Refused(400, describe(err)) from None
