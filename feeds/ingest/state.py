"""Live state: what the screens show right now, as a snapshot with a sequence number and ordered deltas.

Pure functions only. The ingest folds each accepted batch into a delta (``batch_delta``) and applies it
(``apply_delta``); a screen does the same in the browser. The invariant, tested: a snapshot at sequence N
with the deltas N+1..M applied equals the snapshot at M.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypedDict

from feeds.cases.machine import FINAL
from feeds.clock import ms
from feeds.schemas import CameraAlert, CameraStatus, FeedMessage, IncidentReport, PatrolPosition

COUNTERS = ("fixes", "incidents", "alerts", "rejected")
ON_DUTY_S = 300.0  # a unit heard from within this long is on duty: drawn, counted and suggested


class Snapshot(TypedDict):
    seq: int
    at: int  # epoch ms of the last change
    patrols: dict[str, dict[str, Any]]  # unit id -> latest fix
    incidents: list[dict[str, Any]]  # newest first, at most `recent` of them
    alerts: list[dict[str, Any]]  # newest first
    counts: dict[str, int]
    cases: dict[str, dict[str, Any]]  # open cases: id -> view
    cameras: dict[str, dict[str, Any]]  # camera id -> its health, for every camera whose video system said one


class Delta(TypedDict):
    seq: int
    at: int
    patrols: dict[str, dict[str, Any]]  # the latest fix per unit that moved
    incidents: list[dict[str, Any]]  # new ones, newest first
    alerts: list[dict[str, Any]]
    counts: dict[str, int]  # increments
    cases: dict[str, dict[str, Any] | None]  # changed cases; None: it left the live view (closed, rejected, void)
    cameras: dict[str, dict[str, Any]]  # the newest health of each camera whose health changed


_SHOWN = (PatrolPosition, IncidentReport, CameraAlert, CameraStatus)
FINAL_STATES = frozenset(state.value for state in FINAL)


def empty_snapshot() -> Snapshot:
    return Snapshot(seq=0, at=0, patrols={}, incidents=[], alerts=[], counts=dict.fromkeys(COUNTERS, 0), cases={},
                    cameras={})


def patrol_view(m: PatrolPosition) -> dict[str, Any]:
    return _patrol_view(m, ms(m.fix_at))


def _patrol_view(m: PatrolPosition, fix: int) -> dict[str, Any]:
    # to the micro-degree (~0.1 m); round(x * 1e6) / 1e6 is three times cheaper than round(x, 6)
    return {"lat": round(m.lat * 1e6) / 1e6, "lon": round(m.lon * 1e6) / 1e6, "fix": fix,
            "sent": fix if m.ts == m.fix_at else ms(m.ts), "acc": m.accuracy_m}


def incident_view(m: IncidentReport) -> dict[str, Any]:
    return {"id": m.id, "category": m.category, "text": m.description, "lat": m.lat, "lon": m.lon,
            "grid": m.grid_code, "channel": m.channel.value, "urgent": m.urgent, "at": ms(m.ts)}


def alert_view(m: CameraAlert) -> dict[str, Any]:
    return {"id": m.id, "camera": m.camera_id, "class": m.alert_class, "confidence": m.confidence,
            "lat": m.lat, "lon": m.lon, "at": ms(m.started_at)}


def camera_view(state: str, since: int, detail: str | None) -> dict[str, Any]:
    return {"state": state, "since": since, "detail": detail}


def batch_delta(seq: int, at: datetime, messages: Iterable[FeedMessage], rejected: int,
                known_fix: dict[str, int] | None = None, cases: dict[str, dict[str, Any]] | None = None,
                known_health: dict[str, int] | None = None) -> Delta:
    """The delta for one accepted batch: latest fix per unit (older fixes than `known_fix` are ignored), and
    latest health per camera (older than `known_health` ignored)."""
    newest: dict[str, tuple[int, PatrolPosition]] = {}  # unit -> (fix ms, fix); views made for these only
    incidents: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    cameras: dict[str, dict[str, Any]] = {}
    fixes = 0
    known = (known_fix or {}).get
    health = known_health or {}
    for m in messages:
        if isinstance(m, PatrolPosition):
            fixes += 1
            fix = int(m.fix_at.timestamp() * 1000)  # ms(), inline: this runs once per fix
            unit = m.unit_id
            held = newest.get(unit)
            if fix >= (known(unit, -1) if held is None else held[0]):
                newest[unit] = (fix, m)
        elif isinstance(m, IncidentReport):
            incidents.append(incident_view(m))
        elif isinstance(m, CameraAlert):
            alerts.append(alert_view(m))
        elif isinstance(m, CameraStatus):
            since, cam = ms(m.since), m.camera_id
            if since >= cameras.get(cam, {}).get("since", health.get(cam, -1)):
                cameras[cam] = camera_view(m.state.value, since, m.detail)
    patrols = {unit: _patrol_view(m, fix) for unit, (fix, m) in newest.items()}  # a view per unit that moved
    counts = {"fixes": fixes, "incidents": len(incidents), "alerts": len(alerts), "rejected": rejected}
    changed = {cid: (None if view["state"] in FINAL_STATES else view) for cid, view in (cases or {}).items()}
    return Delta(seq=seq, at=ms(at), patrols=patrols, incidents=incidents[::-1], alerts=alerts[::-1],
                 counts=counts, cases=changed, cameras=cameras)


def by_drill(messages: Sequence[FeedMessage], cases: dict[str, dict[str, Any]]
             ) -> dict[str | None, tuple[list[FeedMessage], dict[str, dict[str, Any]]]]:
    """A batch split by the drill it belongs to (None: live), so that each drill has a live state of its own
    and live screens never see drill traffic. A case belongs to the drill that opened it, whoever acts on it."""
    if not any(m.drill_id for m in messages) and not any(v.get("drill") for v in cases.values()):
        return {None: (list(messages), cases)}  # the usual batch: all live, split at no cost (a command shows nothing)
    out: dict[str | None, tuple[list[FeedMessage], dict[str, dict[str, Any]]]] = {}
    for m in messages:
        if isinstance(m, _SHOWN):  # a command shows only through the case it changed
            out.setdefault(m.drill_id, ([], {}))[0].append(m)
    for cid, view in cases.items():
        out.setdefault(view.get("drill"), ([], {}))[1][cid] = view
    return out


def apply_delta(snap: Snapshot, delta: Delta, recent: int) -> Snapshot:
    """The snapshot after the delta. Refuses a delta that is not the next in sequence."""
    if delta["seq"] != snap["seq"] + 1:
        raise ValueError(f"delta {delta['seq']} does not follow snapshot {snap['seq']}")
    return Snapshot(
        seq=delta["seq"],
        at=delta["at"],
        patrols={**snap["patrols"], **delta["patrols"]},
        incidents=(delta["incidents"] + snap["incidents"])[:recent],
        alerts=(delta["alerts"] + snap["alerts"])[:recent],
        counts={k: snap["counts"].get(k, 0) + delta["counts"].get(k, 0) for k in COUNTERS},
        cases={cid: view for cid, view in {**snap["cases"], **delta["cases"]}.items() if view is not None},
        cameras={**snap["cameras"], **delta["cameras"]},
    )
