"""Frigate (the open-source NVR whose object detection runs on the district's cameras), read from its MQTT
messages (docs/docs/integrations/mqtt.md in blakeblackshear/frigate) into camera alerts. Pure: a payload in,
an alert or a refusal out; the MQTT edge is feeds/adapters/frigate_bridge.py.

- `frigate/reviews`: a review item of severity `alert` becomes a `camera_alert` keyed on the review's id
  (`frigate-<id>`), so a message received twice changes nothing. Its `update`s raise its confidence and add
  what it saw; its `end` ends it (the ingest follows the alert's row; the case it opened stays as it is).
  A review of severity `detection` is not an alert and is left alone.
- `frigate/events`: each tracked object's label, top score and snapshot/clip flags, remembered so a review's
  alert carries the best score among its detections and links to the best snapshot and a clip.
- `frigate/<camera>/status/<role>` (online, offline, disabled for `detect`, `record`, `audio`) and
  `frigate/available` (online, offline, stopped) become each mapped camera's `camera_status`, said when it
  changes: offline when its detection is down or Frigate itself is away (no alert can come from it),
  degraded when detection runs but another role is down, disabled when it is turned off.
- A mapping (TOML) says which Frigate camera is which of ours, and which objects (in which zones) make which
  alert class; it is refused with a clear error when it names a camera or an alert class we do not have.
"""
from __future__ import annotations

import json
import math
import tomllib
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from feeds.schemas import CameraAlert, CameraState, CameraStatus, describe

SOURCE = "frigate"
DEFAULT_SCORE = 0.5  # an alert's confidence while none of its tracked objects' scores is known yet
EVENTS_KEPT = 5000  # tracked objects remembered for their scores
ROLE_STATES = ("online", "offline", "disabled")  # what frigate/<camera>/status/<role> says
ROLES = ("detect", "record", "audio")


def camera_state(roles: Mapping[str, str], frigate_up: bool) -> tuple[CameraState, str | None]:
    """A camera's health from what Frigate says of its roles (role -> online/offline/disabled) and of itself."""
    said = " · ".join(f"{role}: {roles[role]}" for role in ROLES if role in roles) or None
    if not frigate_up:
        return CameraState.OFFLINE, "Frigate unavailable"
    detect = roles.get("detect")
    if roles and all(v == "disabled" for v in roles.values()):
        return CameraState.DISABLED, said
    if detect == "offline":
        return CameraState.OFFLINE, said
    if detect == "disabled":
        return CameraState.DISABLED, said
    if any(v == "offline" for v in roles.values()):
        return CameraState.DEGRADED, said
    return CameraState.ONLINE, said


class MappingError(ValueError):
    """A mapping file that cannot be used, and why."""


class Refused(ValueError):
    """A message that makes no alert, and why (kept as a dead letter)."""


@dataclass(frozen=True)
class Rule:
    objects: frozenset[str]
    zones: frozenset[str]  # empty: anywhere in the camera's view
    alert_class: str

    def matches(self, objects: Collection[str], zones: Collection[str]) -> bool:
        return bool(self.objects & set(objects)) and (not self.zones or bool(self.zones & set(zones)))


@dataclass(frozen=True)
class Camera:
    camera_id: str
    lat: float
    lon: float


@dataclass(frozen=True)
class FrigateMapping:
    url: str  # Frigate's API, for the snapshot and clip links
    topic_prefix: str
    cameras: dict[str, Camera]  # Frigate's camera name -> ours
    rules: tuple[Rule, ...]
    default_score: float = DEFAULT_SCORE


def read_mapping(doc: Mapping[str, Any], our_cameras: Mapping[str, tuple[float, float]],
                 alert_classes: Collection[str]) -> FrigateMapping:
    """The mapping, checked against the cameras we have (id -> lat, lon) and the taxonomy's alert classes."""
    head = doc.get("frigate", {})
    if not isinstance(head, dict):
        raise MappingError("[frigate] must be a table")
    url = str(head.get("url", "")).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise MappingError("[frigate] url must be Frigate's address, e.g. http://frigate.local:5000")
    cameras: dict[str, Camera] = {}
    table = doc.get("cameras", {})
    if not isinstance(table, dict) or not table:
        raise MappingError("[cameras] must map each Frigate camera name to one of our camera ids")
    for name, ours in table.items():
        if not isinstance(ours, str) or ours not in our_cameras:
            raise MappingError(f"[cameras] {name} = {ours!r}: we have no camera with that id")
        cameras[name] = Camera(ours, *our_cameras[ours])
    rules = []
    for k, rule in enumerate(doc.get("alerts", []), start=1):
        if not isinstance(rule, dict):
            raise MappingError(f"[[alerts]] number {k} must be a table")
        objects, zones, alert_class = rule.get("objects"), rule.get("zones", []), rule.get("alert_class")
        if not isinstance(objects, list) or not objects or not all(isinstance(o, str) for o in objects):
            raise MappingError(f"[[alerts]] number {k}: objects must list Frigate labels, e.g. [\"person\"]")
        if not isinstance(zones, list) or not all(isinstance(z, str) for z in zones):
            raise MappingError(f"[[alerts]] number {k}: zones must list Frigate zone names")
        if alert_class not in alert_classes:
            raise MappingError(f"[[alerts]] number {k}: alert_class {alert_class!r} is not one of ours "
                               f"({', '.join(sorted(alert_classes))})")
        rules.append(Rule(frozenset(objects), frozenset(zones), str(alert_class)))
    if not rules:
        raise MappingError("[[alerts]] must say which objects make which alert class")
    score = head.get("default_score", DEFAULT_SCORE)
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        raise MappingError("[frigate] default_score must be a number from 0 to 1")
    return FrigateMapping(url, str(head.get("topic_prefix", "frigate")), cameras, tuple(rules), float(score))


def load_mapping(path: Path, our_cameras: Mapping[str, tuple[float, float]],
                 alert_classes: Collection[str]) -> FrigateMapping:
    try:
        with path.open("rb") as f:
            doc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise MappingError(f"{path}: {err}") from None
    try:
        return read_mapping(doc, our_cameras, alert_classes)
    except MappingError as err:
        raise MappingError(f"{path}: {err}") from None


@dataclass(frozen=True)
class Tracked:
    label: str
    top_score: float
    has_snapshot: bool
    has_clip: bool


class Frigate:
    """What the bridge knows of one Frigate: its tracked objects (from `events`), to make alerts of reviews."""

    def __init__(self, mapping: FrigateMapping) -> None:
        self.mapping = mapping
        self.tracked: OrderedDict[str, Tracked] = OrderedDict()
        self.roles: dict[str, dict[str, str]] = {name: {} for name in mapping.cameras}  # Frigate's word per role
        self.up = True  # Frigate itself (frigate/available); until it says otherwise, its cameras speak for it
        self.said: dict[str, tuple[CameraState, str | None]] = {}  # our camera id -> the health last said

    def role_status(self, camera_name: str, role: str, payload: bytes, now: datetime) -> list[CameraStatus]:
        """A `frigate/<camera>/status/<role>` message: the camera's health, if it changed."""
        if camera_name not in self.mapping.cameras:
            raise Refused(f"Frigate camera {camera_name[:64]!r} is not in the mapping's [cameras]")
        if role not in ROLES:
            raise Refused(f"role {role[:20]!r} is not one of {', '.join(ROLES)}")
        word = payload.decode("utf-8", "replace").strip()
        if word not in ROLE_STATES:
            raise Refused(f"status must be one of {', '.join(ROLE_STATES)}, not {word[:20]!r}")
        self.roles[camera_name][role] = word
        return self._changed([camera_name], now)

    def availability(self, payload: bytes, now: datetime) -> list[CameraStatus]:
        """A `frigate/available` message: every mapped camera offline while Frigate is away, and back to what
        its roles say when it is online again."""
        word = payload.decode("utf-8", "replace").strip()
        if word not in ("online", "offline", "stopped"):
            raise Refused(f"availability must be online, offline or stopped, not {word[:20]!r}")
        self.up = word == "online"
        return self._changed(list(self.mapping.cameras), now)

    def _changed(self, names: list[str], now: datetime) -> list[CameraStatus]:
        out = []
        for name in names:
            camera_id = self.mapping.cameras[name].camera_id
            health = camera_state(self.roles[name], self.up)
            if self.said.get(camera_id, (CameraState.ONLINE, None)) == health:
                continue  # nothing new: an unknown camera is taken as online, as the map draws it
            self.said[camera_id] = health
            key = f"{SOURCE}-health-{camera_id}-{int(now.timestamp() * 1000)}-{health[0].value}"
            out.append(CameraStatus(
                schema_version=1, id=key[:64],
                source=SOURCE, ts=now, drill_id=None, kind="camera_status", camera_id=camera_id,
                state=health[0], since=now, detail=health[1]))
        return out

    def event(self, payload: bytes) -> None:
        """A `frigate/events` message: remember the tracked object (its best score so far)."""
        after = _object(_object(_json(payload), "the message").get("after"), "after")
        event_id, label = after.get("id"), after.get("label")
        if not isinstance(event_id, str) or not isinstance(label, str):
            raise Refused("an event needs after.id and after.label")
        score = _score(after.get("top_score", after.get("score")), "after.top_score")
        known = self.tracked.pop(event_id, None)
        self.tracked[event_id] = Tracked(  # a saved snapshot or clip stays saved
            label, max(score, known.top_score if known else 0.0),
            after.get("has_snapshot") is True or bool(known and known.has_snapshot),
            after.get("has_clip") is True or bool(known and known.has_clip))
        while len(self.tracked) > EVENTS_KEPT:
            self.tracked.popitem(last=False)

    def review(self, payload: bytes, now: datetime) -> CameraAlert | None:
        """A `frigate/reviews` message: the alert it makes (new, updated or ended), or None for a detection."""
        message = _object(_json(payload), "the message")
        kind = message.get("type")
        if kind not in ("new", "update", "end"):
            raise Refused(f"type must be new, update or end, not {str(kind)[:20]!r}")
        after = _object(message.get("after"), "after")
        if after.get("severity") != "alert":
            return None  # a detection: Frigate's own lower tier, not an alert
        review_id, camera_name = after.get("id"), after.get("camera")
        if not isinstance(review_id, str) or not isinstance(camera_name, str):
            raise Refused("a review needs after.id and after.camera")
        camera = self.mapping.cameras.get(camera_name)
        if camera is None:
            raise Refused(f"Frigate camera {camera_name[:64]!r} is not in the mapping's [cameras]")
        data = _object(after.get("data", {}), "after.data")
        objects, zones = _names(data.get("objects"), "objects"), _names(data.get("zones"), "zones")
        rule = next((r for r in self.mapping.rules if r.matches(objects, zones)), None)
        if rule is None:
            raise Refused(f"no [[alerts]] rule maps objects {objects} in zones {zones} to an alert class")
        detections = [d for d in _names(data.get("detections"), "detections") if d in self.tracked]
        scores = [self.tracked[d].top_score for d in detections]
        snapshot = next((d for d in sorted(detections, key=lambda d: -self.tracked[d].top_score)
                         if self.tracked[d].has_snapshot), None)
        clip = next((d for d in detections if self.tracked[d].has_clip), None)
        seen = ", ".join(objects) + (f" · {', '.join(zones)}" if zones else "")
        try:
            return CameraAlert.model_validate({
                "schema_version": 1, "id": f"{SOURCE}-{review_id}"[:64], "source": SOURCE, "ts": now,
                "drill_id": None, "kind": "camera_alert", "camera_id": camera.camera_id,
                "alert_class": rule.alert_class,
                "confidence": max(scores) if scores else self.mapping.default_score,
                "lat": camera.lat, "lon": camera.lon, "started_at": _time(after.get("start_time"), "start_time"),
                "ended_at": _time(after.get("end_time"), "end_time") if kind == "end" and after.get("end_time")
                else None,
                "seen": seen[:200] or None,
                "snapshot_url": f"{self.mapping.url}/api/events/{snapshot}/snapshot.jpg" if snapshot else None,
                "clip_url": f"{self.mapping.url}/api/events/{clip}/clip.mp4" if clip else None,
            })
        except ValidationError as err:
            raise Refused(describe(err)) from None


def _json(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        raise Refused("the payload is not JSON") from None


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Refused(f"{what} must be a JSON object")
    return value


def _names(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Refused(f"after.data.{what} must be a list of names")
    return value


def _score(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise Refused(f"{what} must be a number from 0 to 1")
    return float(value)


def _time(value: Any, what: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Refused(f"after.{what} must be a Unix time in seconds")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise Refused(f"after.{what} {value!r} is out of range") from None
