"""Street cameras (天网) at intersections and their AI alerts, with a cooldown per camera."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from feeds.schemas import SCHEMA_VERSION, CameraAlert
from simulators.geography import District
from simulators.timing import PoissonArrivals, as_utc

SOURCE = "simulator"
GRIDS_PER_CAMERA = 2
COOLDOWN_S = 300.0  # of simulated time: a camera raises at most one alert in this long
CONFIDENCE = (0.55, 0.98)
ALERT_CLASSES: dict[str, float] = {  # class -> relative frequency
    "garbage_overflow": 25,
    "illegal_parking": 25,
    "street_vendor": 20,
    "waterlogging": 12,
    "crowd_gathering": 12,
    "smoke_fire": 6,
}


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


class CameraNetwork:
    """Alerts at a rate over all cameras, each to a camera not cooling down (dropped when none is free)."""

    def __init__(self, cameras: tuple[Camera, ...], seed: int, alerts_per_hour: float,
                 cooldown_s: float = COOLDOWN_S) -> None:
        self.cameras = cameras
        self.cooldown = timedelta(seconds=cooldown_s)
        self._rng = random.Random(f"{seed}:camera-alerts")
        self._arrivals = PoissonArrivals(alerts_per_hour, random.Random(f"{seed}:camera-arrivals"))
        self._last_alert: dict[str, datetime] = {}
        self._counter = 0

    def due(self, now: datetime, run_id: str) -> list[CameraAlert]:
        """The alerts that started up to `now` and were not returned before; ids f"{run_id}-c{n}"."""
        now = as_utc(now)
        out = []
        for started in self._arrivals.until(now):
            free = [c for c in self.cameras
                    if (last := self._last_alert.get(c.camera_id)) is None or started - last >= self.cooldown]
            if not free:
                continue
            camera = self._rng.choice(free)
            self._last_alert[camera.camera_id] = started
            self._counter += 1
            out.append(CameraAlert(
                schema_version=SCHEMA_VERSION, id=f"{run_id}-c{self._counter}", source=SOURCE, ts=now,
                drill_id=None, kind="camera_alert", camera_id=camera.camera_id,
                alert_class=self._rng.choices(list(ALERT_CLASSES), weights=list(ALERT_CLASSES.values()))[0],
                confidence=round(self._rng.uniform(*CONFIDENCE), 2), lat=camera.lat, lon=camera.lon,
                started_at=started,
            ))
        return out
