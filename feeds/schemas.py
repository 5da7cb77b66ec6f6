"""The one vocabulary: every message on every channel is one of these typed, versioned models.

A channel carries exactly one kind (``cc.<kind>``). A payload on the wire is a JSON object or a JSON
array of objects (producers batch fixes). Unknown fields are rejected, timestamps must carry a zone and
are held in UTC, every field is required (nullable where a producer may not know the value).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

SCHEMA_VERSION = 1
MAX_BATCH = 10_000


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
Text = Annotated[str, AfterValidator(_no_nul)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]


class ReportChannel(StrEnum):
    """How a problem reached the centre (the case's source)."""

    PATROL = "patrol"
    CITIZEN = "citizen"
    CAMERA = "camera"
    HOTLINE = "hotline"


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    id: Code
    source: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.\-]{0,31}$")]
    ts: UtcDatetime  # when the producer sent it
    drill_id: Code | None  # set on every message of a drill; live figures never include these


class PatrolPosition(Message):
    """One GPS fix of a patroller or grid worker."""

    kind: Literal["patrol_position"]
    unit_id: Code
    lat: Latitude
    lon: Longitude
    accuracy_m: Annotated[float, Field(ge=0, le=10_000)]
    speed_mps: Annotated[float, Field(ge=0, le=100)] | None
    fix_at: UtcDatetime


class IncidentReport(Message):
    """A problem reported from the field: by a patroller, a citizen, a camera or the hotline."""

    kind: Literal["incident_report"]
    category: Code
    description: Annotated[Text, Field(max_length=1000)]
    lat: Latitude
    lon: Longitude
    grid_code: Code | None
    channel: ReportChannel
    reporter_id: Code | None
    urgent: bool
    occurred_at: UtcDatetime | None  # when the source knows when it arose


class CameraAlert(Message):
    """An AI alert from a street camera (video patrol)."""

    kind: Literal["camera_alert"]
    camera_id: Code
    alert_class: Code
    confidence: Annotated[float, Field(ge=0, le=1)]
    lat: Latitude
    lon: Longitude
    started_at: UtcDatetime


class CaseCommand(Message):
    """A person acting on a case (verify, register, dispatch, reassign, close…): who, what, why, and the
    version of the case they saw, so that a concurrent change is refused instead of overwritten."""

    kind: Literal["case_command"]
    case_id: Code
    action: Annotated[str, Field(pattern=r"^[a-z_]{3,20}$")]  # one of feeds.cases.ActionKind
    by: Code
    reason: Annotated[Text, Field(min_length=1, max_length=500)]
    expected_version: Annotated[int, Field(ge=1)]
    department: Code | None
    assignee: Code | None
    reject_reason: Literal["untrue", "out_of_scope", "duplicate"] | None
    hours: Annotated[float, Field(gt=0, le=720)] | None


FeedMessage = PatrolPosition | IncidentReport | CameraAlert | CaseCommand
MODELS: dict[str, type[Message]] = {
    "patrol_position": PatrolPosition,
    "incident_report": IncidentReport,
    "camera_alert": CameraAlert,
    "case_command": CaseCommand,
}
CHANNEL_PREFIX = "cc."


def channel_for(kind: str) -> str:
    return f"{CHANNEL_PREFIX}{kind}"


FEED_CHANNELS: tuple[str, ...] = tuple(channel_for(kind) for kind in MODELS)
_LIST_ADAPTERS = {kind: TypeAdapter(list[model]) for kind, model in MODELS.items()}  # type: ignore[valid-type]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A payload (or one item of it) that was refused, with a reason a person can read."""

    channel: str
    payload: str
    reason: str
    stage: Literal["decode", "schema", "filter", "persist", "refused"]


def describe(err: ValidationError) -> str:
    """One line per problem: 'lat: Input should be less than or equal to 90'."""
    parts = []
    for e in err.errors(include_url=False):
        where = ".".join(str(p) for p in e["loc"]) or "message"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)


def decode(channel: str, raw: bytes | str) -> tuple[list[FeedMessage], list[Rejection]]:
    """Turn one payload into its valid messages and the rejections of the rest. Never raises."""
    kind = channel.removeprefix(CHANNEL_PREFIX)
    if channel.startswith(CHANNEL_PREFIX) and kind in MODELS and raw[:1] in (b"[", "["):
        try:  # fast path: a valid batch, parsed and validated in one pass by pydantic-core
            batch = _LIST_ADAPTERS[kind].validate_json(raw)
            if len(batch) <= MAX_BATCH:
                return batch, []
        except ValidationError:
            pass
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if not channel.startswith(CHANNEL_PREFIX) or kind not in MODELS:
        return [], [Rejection(channel, text, f"unknown channel {channel!r}", "decode")]
    try:
        body: Any = json.loads(text)
    except ValueError as err:
        return [], [Rejection(channel, text, f"not JSON: {err}", "decode")]
    items = body if isinstance(body, list) else [body]
    if len(items) > MAX_BATCH:
        return [], [Rejection(channel, text[:2000], f"batch of {len(items)} exceeds {MAX_BATCH}", "decode")]
    model = MODELS[kind]
    good: list[FeedMessage] = []
    bad: list[Rejection] = []
    for item in items:
        if isinstance(item, dict) and "kind" in item and item["kind"] != kind:
            bad.append(Rejection(channel, _dump(item), f"kind {item['kind']!r} sent on {channel}", "schema"))
            continue
        try:
            good.append(model.model_validate(item))  # type: ignore[arg-type]
        except ValidationError as err:
            bad.append(Rejection(channel, _dump(item), describe(err), "schema"))
    return good, bad


def encode(messages: list[FeedMessage] | FeedMessage) -> bytes:
    if isinstance(messages, Message):
        return messages.model_dump_json().encode()
    return b"[" + b",".join(m.model_dump_json().encode() for m in messages) + b"]"


def _dump(item: Any) -> str:
    try:
        return json.dumps(item, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(item)
