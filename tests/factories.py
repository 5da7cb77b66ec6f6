"""Message factories for tests: valid by default, any field overridable."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from feeds.calendar import DEFAULT_TIMEZONE
from feeds.schemas import CameraAlert, CameraStatus, CaseCommand, IncidentReport, PatrolPosition, encode

_ids = itertools.count(1)
ZONE = DEFAULT_TIMEZONE  # the demo site's zone, as its settings give it
CENTRE = (30.6920, 111.2865)


def now() -> datetime:
    return datetime.now(UTC)


def _common(kind: str, at: datetime | None, fields: dict[str, Any]) -> dict[str, Any]:
    base = {"schema_version": 1, "id": f"t-{kind}-{next(_ids)}", "source": "test", "ts": at or now(),
            "drill_id": None, "kind": kind}
    return {**base, **fields}


def position(unit_id: str = "P0001", lat: float = CENTRE[0], lon: float = CENTRE[1], at: datetime | None = None,
             **fields: Any) -> PatrolPosition:
    t = at or now()
    return PatrolPosition(**_common("patrol_position", t, {
        "unit_id": unit_id, "lat": lat, "lon": lon, "accuracy_m": 5.0, "speed_mps": 1.2, "fix_at": t, **fields}))


def incident(description: str = "解放路口暴露垃圾约2立方米", at: datetime | None = None,
             **fields: Any) -> IncidentReport:
    return IncidentReport(**_common("incident_report", at, {
        "category": "env.garbage", "description": description, "lat": CENTRE[0], "lon": CENTRE[1],
        "grid_code": "D01-S01-C01-G001", "channel": "patrol", "reporter_id": "P0001", "urgent": False,
        "occurred_at": None, **fields}))


def alert(camera_id: str = "CAM0001", at: datetime | None = None, **fields: Any) -> CameraAlert:
    t = at or now()
    return CameraAlert(**_common("camera_alert", t, {
        "camera_id": camera_id, "alert_class": "garbage_overflow", "confidence": 0.8, "lat": CENTRE[0],
        "lon": CENTRE[1], "started_at": t, **fields}))


def status(camera_id: str = "CAM0001", state: str = "offline", at: datetime | None = None,
           **fields: Any) -> CameraStatus:
    t = at or now()
    return CameraStatus(**_common("camera_status", t, {
        "camera_id": camera_id, "state": state, "since": t, "detail": "detect: offline", **fields}))


def command(case_id: str, action: str, version: int, by: str = "dispatcher-1", reason: str = "按规定处理",
            at: datetime | None = None, **fields: Any) -> CaseCommand:
    return CaseCommand(**_common("case_command", at, {
        "case_id": case_id, "action": action, "by": by, "reason": reason, "expected_version": version,
        "department": None, "assignee": None, "reject_reason": None, "hours": None, **fields}))


def send(ingest: Any, *messages: Any) -> Any:
    """Hand messages to an ingest as its subscription would, then flush: the live delta (None: none)."""
    for m in messages:
        ingest.receive(f"cc.{m.kind}", encode(m))
    return ingest.flush()


def started_drill(engine: Any, drill_id: str, at: datetime | None = None) -> str:
    """Record a drill as the drill desk does when it starts one: the ingest takes drill messages of started
    drills only."""
    from feeds.store.models import DrillRow

    with engine.begin() as conn:
        conn.execute(DrillRow.__table__.insert().values(
            id=drill_id, scenario="test", title_zh="测试演练", title_en="test drill", targets="{}", duration_min=60.0,
            starts_at="09:00", started_at=at or now(), started_by="trainer", ended_at=None, ended_by=None,
            clock="[]"))
    return drill_id


def camera(engine: Any, camera_id: str = "CAM0001", grid: str = "D01-S01-C01-G001") -> str:
    """A camera in the register (an asset in a grid), as the district's furnishing puts it: the ingest takes
    the health of registered cameras only."""
    from sqlalchemy import select

    from feeds.store.models import Area, Asset

    with engine.begin() as conn:
        if conn.execute(select(Area.code).where(Area.code == grid)).first() is None:
            conn.execute(Area.__table__.insert().values(code=grid, level="grid", parent_code=None, name="测试网格",
                                                        households=0, population=0, geometry="{}"))
        if conn.execute(select(Asset.id).where(Asset.id == camera_id)).first() is None:
            conn.execute(Asset.__table__.insert().values(id=camera_id, kind="camera", grid_code=grid,
                                                         name="测试摄像头", lat=CENTRE[0], lon=CENTRE[1]))
    return camera_id


def publish_through_failover(bus: Any, messages: Any, within_s: float = 15.0) -> None:
    """As a producer does: publish, and while Redis is away (a failover under way) publish again."""
    import time

    import redis

    from feeds.bus.channels import publish_messages

    deadline = time.monotonic() + within_s
    while True:
        try:
            publish_messages(bus, messages)
            return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
