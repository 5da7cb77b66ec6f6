"""What goes to the screens, declared once: the events pushed on Socket.IO namespace /live, the live snapshot
a screen loads, and the views of a patrol, an incident, a camera alert, a camera's health and a case inside them.

The ingest builds these as plain dicts on its hot path (10,000 fixes a second: no model per fix); the models
here say what those dicts hold, field by field, and `check` holds a payload to them (the test twins of the
pusher and the snapshot store check everything they are given; docs/feeds.md lists the events). The browser
reads the same names in dashboard/assets/live.js; tests/fixtures/live_state.json is replayed by both sides.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from feeds.cases.machine import CaseState
from feeds.schemas import CameraState, ReportChannel, describe


class ScreenEvent(StrEnum):
    """The Socket.IO events on /live, each to the room of the live situation or of one drill."""

    DELTA = "delta"  # the live state's next change (Delta), from the ingest, in sequence
    HEARTBEAT = "heartbeat"  # every second from the ingest (Heartbeat): silence means the feed is down
    KPIS = "kpis"  # the wall's KPI board (KpiBoard), from python -m feeds.kpis.board
    DRILL = "drill"  # a drill's status (DrillStatusView), from the drill desk, to the drill's room


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


V = TypeVar("V", bound=_View)


Ms = Annotated[int, Field(ge=0)]  # epoch milliseconds


class PatrolView(_View):
    """The latest fix of a unit."""

    lat: float
    lon: float
    fix: Ms  # when the fix was taken
    sent: Ms  # when its producer sent it (publish → paint is measured from here)
    acc: float | None  # accuracy in metres


class IncidentView(_View):
    """A report, as the ticker shows it."""

    id: str
    category: str
    text: str
    lat: float
    lon: float
    grid: str | None
    channel: ReportChannel
    urgent: bool
    at: Ms


class AlertView(_View):
    """A camera alert, as the ticker and the camera layer show it."""

    model_config = ConfigDict(populate_by_name=True)
    id: str
    camera: str
    alert_class: str = Field(alias="class")
    confidence: float
    lat: float
    lon: float
    at: Ms  # when the camera saw it


class CameraHealthView(_View):
    """A camera's health, as its video system last said it: the camera layer draws one that is not online."""

    state: CameraState
    since: Ms
    detail: str | None


class CaseView(_View):
    """An open case with its step clock: green before `amber`, amber to `deadline`, red after."""

    id: str
    category: str
    urgent: bool
    state: CaseState
    version: Annotated[int, Field(ge=1)]
    level: str
    department: str | None
    assignee: str | None
    lat: float
    lon: float
    grid: str | None
    step_started: Ms
    extended_hours: float
    text: str
    channel: ReportChannel
    reported: Ms
    reworks: int
    drill: str | None
    deadline: Ms | None  # None: no open step, or a category without a limit
    amber: Ms | None


class Counts(_View):
    """Messages accepted (fixes, incidents, alerts) and refused, since the live state began."""

    fixes: int
    incidents: int
    alerts: int
    rejected: int


class Snapshot(_View):
    """The live state at `seq`: what a screen loads, then keeps up to date with the deltas after it."""

    seq: Annotated[int, Field(ge=0)]
    at: Ms  # the last change
    patrols: dict[str, PatrolView]  # unit id → latest fix
    incidents: list[IncidentView]  # newest first, the most recent few
    alerts: list[AlertView]  # newest first
    counts: Counts
    cases: dict[str, CaseView]  # the open cases
    cameras: dict[str, CameraHealthView]  # camera id → health, for every camera whose video system said one


class Delta(_View):
    """One change of the live state: applied to the snapshot at seq − 1, it gives the snapshot at seq."""

    seq: Annotated[int, Field(ge=1)]
    at: Ms
    patrols: dict[str, PatrolView]  # the units that moved, their latest fix
    incidents: list[IncidentView]  # new, newest first
    alerts: list[AlertView]
    counts: Counts  # increments
    cases: dict[str, CaseView | None]  # changed cases; None: it left the live view (closed, rejected, void)
    cameras: dict[str, CameraHealthView]  # the cameras whose health changed


class Heartbeat(_View):
    seq: Annotated[int, Field(ge=0)]  # the live state's (or the drill's) last seq: a screen behind it reloads
    at: Ms
    drill: str | None


class BoardPeriod(_View):
    start: str  # ISO 8601
    as_of: str


class KpiBoard(_View):
    """The wall's six headline rates for today, yesterday, this month and last month, as (numerator,
    denominator): each screen formats them in its own language."""

    version: int
    area: str
    computed_at: str
    computed_ms: Ms
    interval_s: float
    periods: dict[str, BoardPeriod]
    rates: dict[str, dict[str, tuple[int, int]]]


class DrillStatusView(_View):
    """A drill's status (feeds.drills.control.DrillStatus.to_dict)."""

    id: str
    scenario: str
    zh: str
    en: str
    state: str
    speed: float
    started_at: Ms
    started_by: str
    duration_min: float
    starts_at: str
    targets: dict[str, float]
    clock: list[tuple[int, int, float]]  # segments: (wall ms, drill ms, speed)
    elapsed_ms: int
    progress: float
    updated_at: Ms
    ended_at: Ms | None
    ended_by: str | None
    injected: int
    staff: bool
    note: str
    injections: list[tuple[Ms, dict[str, Any]]]  # each event injected by hand: (drill ms, the event as sent)
    carried: int  # times another drill desk took the drill over


PAYLOADS: dict[ScreenEvent, type[_View]] = {
    ScreenEvent.DELTA: Delta,
    ScreenEvent.HEARTBEAT: Heartbeat,
    ScreenEvent.KPIS: KpiBoard,
    ScreenEvent.DRILL: DrillStatusView,
}


class OffVocabulary(ValueError):
    """A payload for the screens that is not what the vocabulary declares."""


def check(event: str, data: Any) -> _View:
    """The payload of `event` as its model, read as the screen reads it (as JSON); OffVocabulary says what is
    wrong: an unknown event, a field missing, extra or of the wrong type."""
    try:
        model = PAYLOADS[ScreenEvent(event)]
    except ValueError:
        raise OffVocabulary(f"unknown screen event {event!r}") from None
    return _as(model, data, event)


def check_snapshot(data: Any) -> Snapshot:
    return _as(Snapshot, data, "snapshot")


def _as(model: type[V], data: Any, what: str) -> V:
    try:
        return model.model_validate_json(orjson.dumps(data))
    except (ValidationError, TypeError) as err:
        raise OffVocabulary(f"{what}: {describe(err) if isinstance(err, ValidationError) else err}") from None
