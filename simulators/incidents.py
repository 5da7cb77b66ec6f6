"""Incidents reported from the field (patrol, citizen, hotline) and the cameras' alerts, at modest rates.

Pure and seeded: the same seed and the same sequence of `now` values give the same messages.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import shapely

from feeds.schemas import SCHEMA_VERSION, CameraAlert, IncidentReport, ReportChannel
from simulators.cameras import Camera, CameraNetwork, place_cameras
from simulators.geography import Area, District
from simulators.patrols import patrol_units
from simulators.timing import PoissonArrivals, as_utc

SOURCE = "simulator"
PATROL_LEAD_MIN = (1.0, 20.0)  # a patrol reports what it found a few minutes ago
OTHER_LEAD_MIN = (5.0, 120.0)
UNKNOWN_ONSET = 0.4  # share of citizen / hotline reports that cannot say when the problem arose
ESTATE_SUFFIXES = ("小区", "花园", "家园", "新村", "苑")
NEAR_M = 15.0


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of case: code, Chinese label, how often it comes, by which channels, how often urgent."""

    code: str
    label: str
    weight: float
    channels: tuple[float, float, float]  # patrol, citizen, hotline
    urgent: float
    amount: tuple[int, int]  # the range of {n} in the descriptions
    descriptions: tuple[str, ...]  # {place}: near an intersection; {estate}: a building of a housing estate


CHANNELS = (ReportChannel.PATROL, ReportChannel.CITIZEN, ReportChannel.HOTLINE)
CATEGORIES: tuple[Category, ...] = (
    Category("env.garbage", "暴露垃圾", 18, (0.70, 0.20, 0.10), 0.03, (1, 5),
             ("{place}暴露垃圾约{n}立方米，未及时清运", "{place}垃圾桶满溢，周边散落生活垃圾")),
    Category("order.parking", "违章停车", 15, (0.60, 0.30, 0.10), 0.03, (2, 8),
             ("{place}有{n}辆机动车违章停放，占用人行道", "{place}车辆占用消防通道停放")),
    Category("order.vendor", "占道经营", 14, (0.75, 0.15, 0.10), 0.02, (1, 5),
             ("{place}流动摊贩占道经营，约{n}个摊位", "{place}店外占道经营，堆放货物影响通行")),
    Category("road.pothole", "道路破损", 10, (0.65, 0.20, 0.15), 0.08, (1, 6),
             ("{place}路面出现坑槽，面积约{n}平方米", "{place}人行道板松动破损约{n}块")),
    Category("facility.streetlight", "路灯不亮", 9, (0.45, 0.35, 0.20), 0.03, (2, 6),
             ("{place}连续{n}盏路灯不亮", "{place}路灯整夜不亮，行人反映夜间出行不便")),
    Category("safety.fire_hazard", "消防隐患", 8, (0.60, 0.20, 0.20), 0.35, (2, 10),
             ("{estate}楼道堆放杂物，堵塞消防通道", "{estate}电动车在楼道内充电，存在火灾隐患",
              "{estate}{n}具灭火器过期失效")),
    Category("people.dispute", "邻里纠纷", 8, (0.35, 0.30, 0.35), 0.10, (1, 3),
             ("{estate}住户因楼上漏水发生邻里纠纷，需上门调解", "{estate}两户居民因噪音问题发生争吵")),
    Category("env.waterlogging", "道路积水", 6, (0.50, 0.30, 0.20), 0.20, (10, 40),
             ("{place}路面积水深约{n}厘米，影响车辆行人通行", "{place}雨水箅子堵塞，路面积水")),
    Category("facility.manhole", "井盖缺失", 6, (0.55, 0.25, 0.20), 0.30, (1, 2),
             ("{place}雨水井盖缺失，已临时设置警示", "{place}污水井盖破损下沉，存在安全隐患")),
    Category("env.tree", "树木倒伏", 6, (0.50, 0.30, 0.20), 0.25, (1, 3),
             ("{place}行道树倒伏，阻碍交通", "{place}有{n}处树枝折断悬挂，存在坠落风险")),
)
_DIRECTIONS = ("东", "东北", "北", "西北", "西", "西南", "南", "东南")


class IncidentSource:
    """Incident reports at `incidents_per_hour` and camera alerts at `camera_alerts_per_hour` (Poisson)."""

    def __init__(self, district: District, seed: int, *, incidents_per_hour: float,
                 camera_alerts_per_hour: float) -> None:
        self._district = district
        self._grids = district.grid_areas()
        self._units = patrol_units(district)
        self._frame = district.frame
        self._crossings = [(*self._frame.to_xy(s.lon, s.lat), s.label) for s in district.intersections]
        self._rng = random.Random(f"{seed}:incidents")
        self._arrivals = PoissonArrivals(incidents_per_hour, random.Random(f"{seed}:incident-arrivals"))
        self._counter = 0
        self.camera_network = CameraNetwork(place_cameras(district, seed), seed, camera_alerts_per_hour)

    @property
    def cameras(self) -> tuple[Camera, ...]:
        return self.camera_network.cameras

    def due(self, now: datetime, run_id: str) -> list[IncidentReport | CameraAlert]:
        """Reports and alerts that arose up to `now` and were not returned before, stamped `now`."""
        now = as_utc(now)
        out: list[IncidentReport | CameraAlert] = [
            self._report(at, now, run_id) for at in self._arrivals.until(now)]
        out.extend(self.camera_network.due(now, run_id))
        return out

    def _report(self, at: datetime, now: datetime, run_id: str) -> IncidentReport:
        rng = self._rng
        category = rng.choices(CATEGORIES, weights=[c.weight for c in CATEGORIES])[0]
        channel = rng.choices(CHANNELS, weights=category.channels)[0]
        grid = rng.choice(self._grids)
        lon, lat = self._point_in(grid)
        text = rng.choice(category.descriptions).format(
            place=self._place(lon, lat), estate=self._estate(grid), n=rng.randint(*category.amount))
        if channel is ReportChannel.PATROL:
            occurred: datetime | None = at - timedelta(minutes=rng.uniform(*PATROL_LEAD_MIN))
        elif rng.random() < UNKNOWN_ONSET:
            occurred = None
        else:
            occurred = at - timedelta(minutes=rng.uniform(*OTHER_LEAD_MIN))
        self._counter += 1
        return IncidentReport(
            schema_version=SCHEMA_VERSION, id=f"{run_id}-i{self._counter}", source=SOURCE, ts=now,
            drill_id=None, kind="incident_report", category=category.code, description=text,
            lat=round(lat, 7), lon=round(lon, 7), grid_code=grid.code, channel=channel,
            reporter_id=self._units[grid.code] if channel is ReportChannel.PATROL else None,
            urgent=rng.random() < category.urgent, occurred_at=occurred,
        )

    def _point_in(self, grid: Area) -> tuple[float, float]:
        west, south, east, north = grid.geometry.bounds
        while True:
            lon, lat = self._rng.uniform(west, east), self._rng.uniform(south, north)
            if shapely.contains_xy(grid.geometry, lon, lat):
                return lon, lat

    def _place(self, lon: float, lat: float) -> str:
        """Where, in the words of a report: 清江路与和平大道路口东北侧约40米."""
        x, y = self._frame.to_xy(lon, lat)
        cx, cy, label = min(self._crossings, key=lambda c: (c[0] - x) ** 2 + (c[1] - y) ** 2)
        distance = math.hypot(x - cx, y - cy)
        if distance < NEAR_M:
            return label
        sector = round(math.atan2(y - cy, x - cx) / (math.pi / 4)) % 8
        return f"{label}{_DIRECTIONS[sector]}侧约{max(10, round(distance, -1)):.0f}米"

    def _estate(self, grid: Area) -> str:
        """A building in the grid: 桃园小区12栋."""
        word = self._district.find(grid.parent_code or "").name.removesuffix("社区")
        return f"{word}{self._rng.choice(ESTATE_SUFFIXES)}{self._rng.randint(1, 24)}栋"
