"""Street cameras (天网) at intersections and their AI alerts.

A camera sees the problems of the classes its AI knows that arise within its range, a few minutes after
they arise, and raises at most one alert per cooldown. Like every such AI it also raises false alerts:
for each true alert of a class, on average (1 − precision) / precision false ones of that class at some
camera in the next hours, so that a class's precision lands where the field reports it (0.6–0.85).

Cameras also fail, as the field's do: a power cut or a broken line takes one offline for an hour or two
(mean OUTAGE_H), so that about OFFLINE_SHARE of them are offline at any time (districts report 90–98 % of
their cameras online); more rarely its recording fails while its AI still runs (degraded). An offline camera
sees nothing: the problems in its range that it would have raised are not raised. Each change of health is a
`camera_status`.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from feeds.schemas import SCHEMA_VERSION, CameraAlert, CameraState, CameraStatus, ReportChannel
from feeds.taxonomy import Taxonomy
from simulators.geography import District
from simulators.incidents import Known, Ledger, Problem, Truth
from simulators.timing import as_utc

SOURCE = "simulator"
GRIDS_PER_CAMERA = 2
RANGE_M = 40.0
COOLDOWN_S = 300.0  # of simulated time: a camera raises at most one alert in this long
DETECT_MIN = (1.0, 15.0)
FALSE_WITHIN_H = 4.0
CONFIDENCE_TRUE = (0.65, 0.98)
CONFIDENCE_FALSE = (0.55, 0.85)
PRECISION: dict[str, float] = {  # alert class -> share of its alerts that are true
    "garbage_overflow": 0.80,
    "illegal_parking": 0.84,
    "street_vendor": 0.75,
    "waterlogging": 0.72,
    "crowd_gathering": 0.64,
    "smoke_fire": 0.68,
}
OFFLINE_SHARE = 0.04  # of cameras offline at any time
OUTAGE_H = 1.5  # mean length of an outage
DEGRADED_SHARE = 0.2  # of failures that take the recording only (the AI still alerts)
WATCHED = frozenset({"env.garbage", "order.parking", "order.vendor", "env.waterlogging", "people.crowd"})


@dataclass(frozen=True, slots=True)
class Camera:
    camera_id: str
    lat: float
    lon: float
    site: str  # the intersection it watches, e.g. 清江路与和平大道路口


def place_cameras(district: District, seed: int) -> tuple[Camera, ...]:
    """About one camera per two grids, at seeded intersections; ids CAM0001... from north to south."""
    rng = random.Random(f"{seed}:camera-sites")
    count = min(len(district.intersections), max(1, len(district.grid_areas()) // GRIDS_PER_CAMERA))
    sites = sorted(rng.sample(district.intersections, count), key=lambda s: (-s.lat, s.lon))
    return tuple(Camera(f"CAM{n:04d}", s.lat, s.lon, s.label) for n, s in enumerate(sites, start=1))


@dataclass(frozen=True, slots=True)
class _Pending:
    at: datetime
    camera: Camera
    alert_class: str
    problem: Problem | None  # None: a false alert


class CameraNetwork:
    """The cameras of a district: what they saw, waiting to be raised, and the alerts raised."""

    def __init__(self, district: District, seed: int, taxonomy: Taxonomy, ledger: Ledger, run_id: str,
                 drill_id: str | None = None, cooldown_s: float = COOLDOWN_S) -> None:
        self.cameras = place_cameras(district, seed)
        self._xy = [district.frame.to_xy(c.lon, c.lat) for c in self.cameras]
        self._frame = district.frame
        self._class_of = {spec.category: name for name, spec in taxonomy.alert_classes.items()}
        self.cooldown = timedelta(seconds=cooldown_s)
        self._rng = random.Random(f"{seed}:camera-alerts")
        self._pending: list[_Pending] = []
        self._last_alert: dict[str, datetime] = {}
        self.ledger = ledger
        self.run_id = run_id
        self.drill_id = drill_id
        self._counter = 0
        self._health_rng = random.Random(f"{seed}:camera-health")
        self._said = 0
        self.health: dict[str, CameraState] = {}  # camera id -> its health now (all online until the first tick)
        self._turns: dict[str, datetime] = {}  # camera id -> when its health next changes

    def failures(self, now: datetime) -> list[CameraStatus]:
        """The cameras whose health changed up to `now` (at the first call, those found failed), each a
        `camera_status` with ids f"{run_id}-h{n}". Up time and outages are exponential: a camera is offline
        OFFLINE_SHARE of the time, for OUTAGE_H on average."""
        now = as_utc(now)
        rng = self._health_rng
        up_h = OUTAGE_H * (1 - OFFLINE_SHARE) / OFFLINE_SHARE
        out = []
        if not self._turns:  # the start: each camera found as it would be at a random moment
            for cam in self.cameras:
                failed = rng.random() < OFFLINE_SHARE
                self.health[cam.camera_id] = self._failure(rng) if failed else CameraState.ONLINE
                self._turns[cam.camera_id] = now + timedelta(hours=rng.expovariate(1 / (OUTAGE_H if failed else up_h)))
                if failed:
                    out.append(self._status(cam.camera_id, now, now))
            return out
        for cam in self.cameras:
            cid = cam.camera_id
            while self._turns[cid] <= now:
                at = self._turns[cid]
                failed = self.health[cid] == CameraState.ONLINE
                self.health[cid] = self._failure(rng) if failed else CameraState.ONLINE
                self._turns[cid] = at + timedelta(hours=rng.expovariate(1 / (OUTAGE_H if failed else up_h)))
                out.append(self._status(cid, at, now))
        return out

    @staticmethod
    def _failure(rng: random.Random) -> CameraState:
        return CameraState.DEGRADED if rng.random() < DEGRADED_SHARE else CameraState.OFFLINE

    def _status(self, camera_id: str, since: datetime, now: datetime) -> CameraStatus:
        self._said += 1
        state = self.health[camera_id]
        detail = {CameraState.ONLINE: "detect: online · record: online",
                  CameraState.DEGRADED: "detect: online · record: offline",
                  CameraState.OFFLINE: "detect: offline · record: offline"}.get(state)
        return CameraStatus(schema_version=SCHEMA_VERSION, id=f"{self.run_id}-h{self._said}", source=SOURCE,
                            ts=now, drill_id=self.drill_id, kind="camera_status", camera_id=camera_id,
                            state=state, since=since, detail=detail)

    def sees(self, camera_id: str) -> bool:
        return self.health.get(camera_id, CameraState.ONLINE) != CameraState.OFFLINE

    def watch(self, problems: list[Problem], *, scripted: str | None = None) -> None:
        """New problems: those a camera can see are raised a few minutes after they arose. `scripted`
        forces an alert class for a scripted problem (a drill's fire)."""
        for problem in problems:
            alert_class = scripted or (self._class_of.get(problem.kind.code)
                                       if problem.kind.code in WATCHED else None)
            if alert_class is None:
                continue
            camera = self._nearest(problem.x, problem.y)
            if camera is None:
                continue
            delay = timedelta(minutes=self._rng.uniform(*DETECT_MIN))
            self._pending.append(_Pending(problem.occurred_at + delay, camera, alert_class, problem))

    def _nearest(self, x: float, y: float) -> Camera | None:
        best = min(range(len(self.cameras)), key=lambda k: math.hypot(self._xy[k][0] - x, self._xy[k][1] - y),
                   default=None)
        if best is None or math.hypot(self._xy[best][0] - x, self._xy[best][1] - y) > RANGE_M:
            return None
        return self.cameras[best]

    def due(self, now: datetime) -> list[CameraAlert]:
        """Alerts raised up to `now`, oldest first; ids f"{run_id}-c{n}". An alert falling in its camera's
        cooldown waits for the cooldown to end."""
        now = as_utc(now)
        out = []
        while True:
            self._pending.sort(key=lambda p: p.at)
            if not self._pending or self._pending[0].at > now:
                return out
            item = self._pending.pop(0)
            last = self._last_alert.get(item.camera.camera_id)
            if last is not None and item.at - last < self.cooldown:
                self._pending.append(_Pending(last + self.cooldown, item.camera, item.alert_class, item.problem))
                continue
            if not self.sees(item.camera.camera_id):
                continue  # offline when it would have seen it: nothing is raised
            self._last_alert[item.camera.camera_id] = item.at
            out.append(self._raise(item, now))

    def _raise(self, item: _Pending, now: datetime) -> CameraAlert:
        rng = self._rng
        self._counter += 1
        alert_id = f"{self.run_id}-c{self._counter}"
        problem = item.problem
        if problem is None:
            known = Known(Truth.UNTRUE, None, ReportChannel.CAMERA, None)
            confidence = rng.uniform(*CONFIDENCE_FALSE)
        else:
            known = Known(Truth.DUPLICATE if problem.reported else Truth.TRUE, problem.id, ReportChannel.CAMERA,
                          problem.grid.code)
            problem.reported = True
            confidence = rng.uniform(*CONFIDENCE_TRUE)
            precision = PRECISION.get(item.alert_class, 0.75)
            false_alerts = _poisson(rng, (1 - precision) / precision)
            for _ in range(false_alerts):
                at = item.at + timedelta(hours=rng.uniform(0.1, FALSE_WITHIN_H))
                self._pending.append(_Pending(at, rng.choice(self.cameras), item.alert_class, None))
        self.ledger.note(alert_id, known)
        return CameraAlert(
            schema_version=SCHEMA_VERSION, id=alert_id, source=SOURCE, ts=max(now, item.at), drill_id=self.drill_id,
            kind="camera_alert", camera_id=item.camera.camera_id, alert_class=item.alert_class,
            confidence=round(confidence, 2), lat=item.camera.lat, lon=item.camera.lon, started_at=item.at,
        )


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; the means here are below one."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k
