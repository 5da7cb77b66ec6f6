"""The one vocabulary: every message on every channel is one of these typed, versioned models.

A channel carries exactly one kind (``cc.<kind>``). A payload on the wire is a JSON object or a JSON
array of objects (producers batch fixes). Unknown fields are rejected, timestamps must carry a zone and
are held in UTC, every field is required (nullable where a producer may not know the value), and types are
strict: a number is never taken from a string, a boolean never from a number or "true", a time never from
a number. Whatever arrives, `decode` answers with messages and rejections; it never raises.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import from_json

SCHEMA_VERSION = 1
MAX_BATCH = 10_000
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024  # a full batch of fixes is about 3 MB
KEPT_OF_REFUSED = 4000  # characters of an oversized payload kept in its dead letter
# every time on the wire lies in these years: the edges of Python's dates are far away, so no arithmetic on a
# time can overflow; whether a time is plausible *now* (not too old, not ahead) is the filter's business
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _to_utc(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError(f"time must lie in the years {EARLIEST.year}–{LATEST.year - 1}")
    return utc


def _plain_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    if any("\ud800" <= c <= "\udfff" for c in value):
        raise ValueError("text must be valid Unicode (it holds a lone surrogate)")
    return value


def _an_int(value: Any) -> Any:
    if type(value) is not int:
        raise ValueError("must be an integer")
    return value


UtcDatetime = Annotated[AwareDatetime, Strict(), AfterValidator(_to_utc)]
Text = Annotated[str, AfterValidator(_plain_text)]
Number = Annotated[float, Strict()]  # an int or a float; never a string
Latitude = Annotated[Number, Field(ge=-90, le=90)]
Longitude = Annotated[Number, Field(ge=-180, le=180)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
MediaUrl = Annotated[str, Field(max_length=2000, pattern=r"^https?://[^\s<>\"]+$")]


class ReportChannel(StrEnum):
    """How a problem reached the centre (the case's source)."""

    PATROL = "patrol"
    CITIZEN = "citizen"
    CAMERA = "camera"
    HOTLINE = "hotline"


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    schema_version: Annotated[Literal[1], BeforeValidator(_an_int)]
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
    accuracy_m: Annotated[Number, Field(ge=0, le=10_000)]
    speed_mps: Annotated[Number, Field(ge=0, le=100)] | None
    fix_at: UtcDatetime


class IncidentReport(Message):
    """A problem reported from the field: by a patroller, a citizen, a camera or the hotline."""

    kind: Literal["incident_report"]
    category: Code
    description: Annotated[Text, Field(max_length=4000)]  # as Open311 allows
    lat: Latitude
    lon: Longitude
    grid_code: Code | None
    channel: ReportChannel
    reporter_id: Code | None
    urgent: Annotated[bool, Strict()]
    occurred_at: UtcDatetime | None  # when the source knows when it arose
    address: Annotated[Text, Field(max_length=400)] | None = None  # where, in the reporter's words
    media_url: MediaUrl | None = None  # a photo or video of it (a citizen's picture, a camera's snapshot)


class CameraAlert(Message):
    """An AI alert from a street camera (video patrol)."""

    kind: Literal["camera_alert"]
    camera_id: Code
    alert_class: Code
    confidence: Annotated[Number, Field(ge=0, le=1)]
    lat: Latitude
    lon: Longitude
    started_at: UtcDatetime
    # A source that follows an alert as it goes on (Frigate's reviews) sends it again under the same id: its
    # confidence may rise, what it saw grow, and its end come. The ingest keeps the alert's row up to date with
    # them; the case it opened stays as it is.
    ended_at: UtcDatetime | None = None
    seen: Annotated[Text, Field(max_length=200)] | None = None  # what the camera saw, e.g. "person, car · 菜场北门"
    snapshot_url: MediaUrl | None = None
    clip_url: MediaUrl | None = None


class CameraState(StrEnum):
    """How a camera is doing, as its video system says."""

    ONLINE = "online"  # streaming, analysed and recorded
    DEGRADED = "degraded"  # analysed, but a part of it (recording, audio) is down
    OFFLINE = "offline"  # no picture, or its video system is away: no alert can come from it
    DISABLED = "disabled"  # turned off on purpose


class CameraStatus(Message):
    """A camera's health changed (or was said again): its state since when, and what its video system said.
    The newest `since` per camera wins, so a repeated or late status changes nothing."""

    kind: Literal["camera_status"]
    camera_id: Code
    state: CameraState
    since: UtcDatetime
    detail: Annotated[Text, Field(max_length=200)] | None  # e.g. "detect: online · record: offline"


class ActionKind(StrEnum):
    """What a person may do to a case; feeds.cases.machine.RULES says from which states and to which."""

    VERIFY = "verify"
    REGISTER = "register"
    REJECT = "reject"
    DISPATCH = "dispatch"
    SEND_BACK = "send_back"
    HANDLE = "handle"
    SELF_HANDLE = "self_handle"
    CHECK_PASS = "check_pass"
    CHECK_FAIL = "check_fail"  # 返工: back to the department
    CLOSE = "close"
    EXTEND = "extend"
    PARK = "park"
    RESTORE = "restore"
    VOID = "void"
    ESCALATE = "escalate"
    REASSIGN = "reassign"


class CaseCommand(Message):
    """A person acting on a case (verify, register, dispatch, reassign, close…): who, what, why, and the
    version of the case they saw, so that a concurrent change is refused instead of overwritten."""

    kind: Literal["case_command"]
    case_id: Code
    action: ActionKind
    by: Code
    reason: Annotated[Text, Field(min_length=1, max_length=500)]
    expected_version: Annotated[int, Strict(), Field(ge=1)]
    department: Code | None
    assignee: Code | None
    reject_reason: Literal["untrue", "out_of_scope", "duplicate"] | None
    hours: Annotated[Number, Field(gt=0, le=720)] | None


FeedMessage = PatrolPosition | IncidentReport | CameraAlert | CameraStatus | CaseCommand
MODELS: dict[str, type[Message]] = {
    "patrol_position": PatrolPosition,
    "incident_report": IncidentReport,
    "camera_alert": CameraAlert,
    "camera_status": CameraStatus,
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
    stage: Literal["delivery", "decode", "schema", "filter", "persist", "refused"]


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
    known = channel.startswith(CHANNEL_PREFIX) and kind in MODELS
    if known and len(raw) <= MAX_PAYLOAD_BYTES and raw[:1] in (b"[", "["):
        try:  # fast path: a valid batch, parsed and validated in one pass by pydantic-core
            batch = _LIST_ADAPTERS[kind].validate_json(raw)
            if len(batch) <= MAX_BATCH:
                return batch, []
        except (ValidationError, ValueError):
            pass
    try:
        return _decode_each(channel, kind, known, raw)
    except Exception as err:
        return [], [Rejection(channel, _kept(as_text(raw)), f"could not be decoded: {type(err).__name__}: {err}",
                              "decode")]


def _decode_each(channel: str, kind: str, known: bool, raw: bytes | str) -> tuple[list[FeedMessage], list[Rejection]]:
    """The slow path: the payload item by item, each valid one kept and each other refused with why."""
    text = as_text(raw)
    if not known:
        return [], [Rejection(channel, _kept(text), f"unknown channel {channel!r}", "decode")]
    if len(raw) > MAX_PAYLOAD_BYTES:
        return [], [Rejection(channel, _kept(text), f"payload of {len(raw)} bytes exceeds {MAX_PAYLOAD_BYTES}",
                              "decode")]
    try:  # pydantic-core's parser: nesting is limited, lone surrogates refused, no RecursionError
        body: Any = from_json(raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass"))
    except ValueError as err:
        hint = " (a \\u escape that is no whole character, e.g. a lone surrogate)" if "hex escape" in str(err) else ""
        return [], [Rejection(channel, _kept(text), f"not JSON: {err}{hint}", "decode")]
    items = body if isinstance(body, list) else [body]
    if len(items) > MAX_BATCH:
        return [], [Rejection(channel, _kept(text), f"batch of {len(items)} exceeds {MAX_BATCH}", "decode")]
    model = MODELS[kind]
    good: list[FeedMessage] = []
    bad: list[Rejection] = []
    for item in items:
        dumped = _dump(item)
        if isinstance(item, dict) and "kind" in item and item["kind"] != kind:
            bad.append(Rejection(channel, dumped, f"kind {_short(item['kind'])} sent on {channel}", "schema"))
            continue
        try:  # in JSON mode, as the fast path: strict types apply as they do on the wire
            good.append(model.model_validate_json(dumped))  # type: ignore[arg-type]
        except ValidationError as err:
            bad.append(Rejection(channel, dumped, describe(err), "schema"))
    return good, bad


def encode(messages: Sequence[FeedMessage] | FeedMessage) -> bytes:
    if isinstance(messages, Message):
        return messages.model_dump_json().encode()
    return b"[" + b",".join(m.model_dump_json().encode() for m in messages) + b"]"


def _dump(item: Any) -> str:
    try:
        return json.dumps(item, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return repr(item)


def as_text(raw: Any) -> str:
    """A payload (or any part of one) as text a person can read: bytes decoded, bad UTF-8 replaced."""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _kept(text: str) -> str:
    """What a dead letter keeps of a refused payload: all of it, or the start of one too big to keep."""
    if len(text) <= KEPT_OF_REFUSED:
        return text
    return f"{text[:KEPT_OF_REFUSED]}… [{len(text) - KEPT_OF_REFUSED} more characters not kept]"


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:60] + "…"
