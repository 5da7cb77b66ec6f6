"""Replay (回放) of a past period, pure: the screen's state at the period's start and the frames that follow.

A replay is built from what was persisted, never from the live state: patrol fixes, incident reports and
camera alerts as stored, and every case rebuilt from its row and its audit trail (a case opens as
"reported", version 1, at the grid level; each audit row's `after` holds the fields that changed). The
frames have exactly the shape of a live delta (feeds/ingest/state.py), so a screen applies them the way it applies
pushed deltas. Frame `k` holds what happened in [start + (k-1)·FRAME_MS, start + k·FRAME_MS): the latest
fix per unit, the new incidents and alerts (newest first), each changed case as it became (None: it left
the view), and the counts of the frame. Its `at` is the replayed time of its last event. Frames without
events are left out, so `seq` increases with gaps; a frame's seq says where it lies in the period.

The invariant, tested on SQLite and PostgreSQL: the snapshot at A with the frames of [A, B) applied equals
the snapshot built directly at B (patrols on duty at B, incidents, alerts, open cases; the counts of a
replay start at zero and count what the period holds).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from feeds.calendar import WorkingCalendar
from feeds.cases.escalation import with_clock
from feeds.cases.writes import case_view
from feeds.clock import ms
from feeds.ingest.state import COUNTERS, FINAL_STATES, ON_DUTY_S, Delta, Snapshot, apply_delta, camera_view
from feeds.taxonomy import Taxonomy

FRAME_MS = 1000  # one frame per second of replayed time
MAX_PERIOD = timedelta(days=7)
RECENT = 30  # incidents and alerts a screen keeps, as the live snapshot does
# what a case looks like when its first report opens it (feeds/cases/writes.py, open_cases)
OPENED = {"state": "reported", "version": 1, "level": "grid", "department": None, "assignee": None,
          "extended_hours": 0.0, "reworks": 0}
_FOLDED = ("state", "version", "level", "department", "assignee", "extended_hours", "reworks")


class PeriodError(ValueError):
    """A period that cannot be replayed; the message says why."""


@dataclass(frozen=True)
class Period:
    """What is replayed: [start, end) of the live situation (drill_id None) or of one drill."""

    start: datetime
    end: datetime
    drill_id: str | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise PeriodError("times need a zone")
        if self.end <= self.start:
            raise PeriodError(f"the end ({self.end.isoformat()}) must be after the start ({self.start.isoformat()})")
        if self.end - self.start > MAX_PERIOD:
            raise PeriodError(f"a replay covers at most {MAX_PERIOD.days} days; asked for "
                              f"{(self.end - self.start).total_seconds() / 86400:.1f}")

    @property
    def start_ms(self) -> int:
        return ms(self.start)

    @property
    def end_ms(self) -> int:
        return ms(self.end)

    @property
    def last_seq(self) -> int:
        """The seq of the period's last frame."""
        return -(-(self.end_ms - self.start_ms) // FRAME_MS)

    def seq_of(self, t_ms: int) -> int:
        """The frame an event at `t_ms` (within the period) belongs to."""
        return (t_ms - self.start_ms) // FRAME_MS + 1

    def frame_start(self, seq: int) -> int:
        """Epoch ms where frame `seq + 1` starts: the time a replay resumes from after frame `seq`."""
        return min(self.end_ms, self.start_ms + seq * FRAME_MS)


# ---- views, from rows (mappings of the stored columns)

def patrol_view(row: Mapping[str, Any]) -> dict[str, Any]:
    fix = ms(row["fix_at"])
    sent = ms(row["sent_at"])
    return {"lat": round(row["lat"] * 1e6) / 1e6, "lon": round(row["lon"] * 1e6) / 1e6, "fix": fix,
            "sent": sent, "acc": row["accuracy_m"]}


def incident_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "category": row["category"], "text": row["description"], "lat": row["lat"],
            "lon": row["lon"], "grid": row["grid_code"], "channel": row["channel"], "urgent": row["urgent"],
            "at": ms(row["sent_at"])}


def alert_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "camera": row["camera_id"], "class": row["alert_class"],
            "confidence": row["confidence"], "lat": row["lat"], "lon": row["lon"], "at": ms(row["started_at"])}


def opened_view(case_row: Mapping[str, Any]) -> dict[str, Any]:
    """A case as its first report opened it (the case row holds it as it is now)."""
    view = case_view(case_row)
    return {**view, **OPENED, "step_started": view["reported"]}


def folded(view: dict[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The case view after one audit row (its `after`: the fields that changed)."""
    out = dict(view)
    for key in _FOLDED:
        if key in after:
            out[key] = after[key]
    if "step_started_at" in after:
        out["step_started"] = ms(datetime.fromisoformat(after["step_started_at"]))
    return out


def clocked(view: dict[str, Any], taxonomy: Taxonomy, calendar: WorkingCalendar) -> dict[str, Any] | None:
    """What a screen gets of a case: None once it ended, else its view with the step clock (as the ingest
    computes it; no clock for a category the taxonomy no longer has)."""
    if view["state"] in FINAL_STATES:
        return None
    if view["category"] not in taxonomy.categories:
        return {**view, "deadline": None, "amber": None}
    return with_clock(taxonomy, calendar, view)


@dataclass(frozen=True)
class CaseStep:
    """A case as one audit row left it, at the row's time (view None: the case ended)."""

    at: int  # epoch ms
    case_id: str
    view: dict[str, Any] | None


def case_steps(case_row: Mapping[str, Any], audit: Sequence[Mapping[str, Any]], taxonomy: Taxonomy,
               calendar: WorkingCalendar) -> list[CaseStep]:
    """Every change of one case, in the order its audit rows were written (rows: action, at, after as a dict).
    A merged duplicate report changes nothing a screen shows and makes no step. A step's time never goes
    back before the previous step's."""
    view = opened_view(case_row)
    out: list[CaseStep] = []
    last = 0
    for row in audit:
        view = folded(view, row["after"])
        if row["action"] == "merge":
            continue
        last = max(last, ms(row["at"]))
        out.append(CaseStep(last, view["id"], clocked(view, taxonomy, calendar)))
    return out


# ---- the snapshot at a time

def snapshot_at(at: datetime, fixes: Iterable[Mapping[str, Any]], incidents: Sequence[Mapping[str, Any]],
                alerts: Sequence[Mapping[str, Any]], cases: Iterable[CaseStep], recent: int = RECENT,
                health: Iterable[Mapping[str, Any]] = ()) -> Snapshot:
    """The screen's state at `at`: each unit's latest fix on duty (less than ON_DUTY_S before `at`), the newest
    `recent` incidents and alerts (rows newest first), every case open at `at` (the last step of each
    before `at`), and each camera's health said last before `at`. `seq` 0 (frames count from the start of the
    period); counts 0."""
    end = ms(at)
    since = end - int(ON_DUTY_S * 1000)
    patrols: dict[str, dict[str, Any]] = {}
    for row in fixes:
        view = patrol_view(row)
        held = patrols.get(row["unit_id"])
        if since < view["fix"] < end and (held is None or view["fix"] >= held["fix"]):
            patrols[row["unit_id"]] = view
    latest: dict[str, dict[str, Any] | None] = {}
    for step in sorted(cases, key=lambda s: s.at):
        if step.at < end:
            latest[step.case_id] = step.view
    cameras: dict[str, dict[str, Any]] = {}
    for row in health:
        view = health_view(row)
        if view["since"] < end and view["since"] >= cameras.get(row["camera_id"], {}).get("since", -1):
            cameras[row["camera_id"]] = view
    return Snapshot(seq=0, at=end, patrols=patrols, incidents=[incident_view(r) for r in incidents[:recent]],
                    alerts=[alert_view(r) for r in alerts[:recent]], counts=dict.fromkeys(COUNTERS, 0),
                    cases={cid: view for cid, view in latest.items() if view is not None}, cameras=cameras)


def health_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return camera_view(row["state"], ms(row["since"]), row["detail"])


# ---- frames

@dataclass(frozen=True)
class Chunk:
    frames: list[Delta]
    next_after_seq: int  # ask for frames after this one next
    done: bool  # the period has no frames after these


def frames_between(period: Period, after_seq: int, until_ms: int, fixes: Iterable[Mapping[Any, Any]],
                   incidents: Iterable[Mapping[Any, Any]], alerts: Iterable[Mapping[Any, Any]],
                   cases: Iterable[CaseStep], rejected: Iterable[datetime] = (), *, limit: int = 300,
                   max_items: int = 20_000, health: Iterable[Mapping[Any, Any]] = ()) -> Chunk:
    """The frames after `after_seq` up to `until_ms` (a frame boundary or the period's end), from the rows of
    that window (fixes by `fix_at`, incidents and alerts by when they were sent, case steps by their audit
    time, rejections by when they came, cameras' health by `since`). At most `limit` frames and about
    `max_items` views (fixes, items, cases, cameras) in all, but always one frame when there is one."""
    start = period.frame_start(after_seq)
    until = min(until_ms, period.end_ms)
    events: list[tuple[int, int, str, Any]] = []  # (time, kind order, id, payload)
    for row in fixes:
        view = patrol_view(row)
        events.append((view["fix"], 0, row["unit_id"], view))
    for row in incidents:
        events.append((ms(row["sent_at"]), 1, row["id"], incident_view(row)))
    for row in alerts:
        events.append((ms(row["sent_at"]), 2, row["id"], alert_view(row)))
    for step in cases:
        events.append((step.at, 3, step.case_id, step.view))
    for t in rejected:
        events.append((ms(t), 4, "", None))
    for row in health:
        view = health_view(row)
        events.append((view["since"], 5, row["camera_id"], view))
    events = sorted((e for e in events if start <= e[0] < until), key=lambda e: (e[0], e[1], e[2]))
    frames: list[Delta] = []
    items = 0
    i = 0
    while i < len(events):
        seq = period.seq_of(events[i][0])
        j = i
        while j < len(events) and period.seq_of(events[j][0]) == seq:
            j += 1
        frame = _frame(seq, events[i:j])
        size = (len(frame["patrols"]) + len(frame["incidents"]) + len(frame["alerts"]) + len(frame["cases"])
                + len(frame["cameras"]))
        if frames and (len(frames) >= limit or items + size > max_items):
            return Chunk(frames, frames[-1]["seq"], False)
        frames.append(frame)
        items += size
        i = j
    reached = period.seq_of(until) - 1 if until < period.end_ms else period.last_seq
    return Chunk(frames, max(reached, frames[-1]["seq"] if frames else after_seq), until >= period.end_ms)


def _frame(seq: int, events: Sequence[tuple[int, int, str, Any]]) -> Delta:
    patrols: dict[str, dict[str, Any]] = {}
    incidents: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    cases: dict[str, dict[str, Any] | None] = {}
    cameras: dict[str, dict[str, Any]] = {}
    counts = dict.fromkeys(COUNTERS, 0)
    for _, kind, key, payload in events:  # in time order: the last of each unit, case and camera wins
        if kind == 0:
            patrols[key] = payload
            counts["fixes"] += 1
        elif kind == 1:
            incidents.append(payload)
        elif kind == 2:
            alerts.append(payload)
        elif kind == 3:
            cases[key] = payload
        elif kind == 5:
            cameras[key] = payload
        else:
            counts["rejected"] += 1
    counts["incidents"], counts["alerts"] = len(incidents), len(alerts)
    return Delta(seq=seq, at=events[-1][0], patrols=patrols, incidents=incidents[::-1], alerts=alerts[::-1],
                 counts=counts, cases=cases, cameras=cameras)


def played(snap: Snapshot, frames: Iterable[Delta], recent: int = RECENT) -> Snapshot:
    """The snapshot with replay frames applied, as a screen applies them (their seq increases with gaps)."""
    for frame in frames:
        if frame["seq"] <= snap["seq"]:
            raise ValueError(f"frame {frame['seq']} does not come after {snap['seq']}")
        snap = apply_delta({**snap, "seq": frame["seq"] - 1}, frame, recent)
    return snap


def on_duty(snap: Snapshot, at: datetime) -> dict[str, dict[str, Any]]:
    """The patrols a screen shows at `at`: those heard from within ON_DUTY_S."""
    since = ms(at) - int(ON_DUTY_S * 1000)
    return {unit: p for unit, p in snap["patrols"].items() if p["fix"] > since}
