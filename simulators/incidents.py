"""Problems arising in the district, and how they come to be reported.

A problem (暴露垃圾, a missing manhole cover, a dispute…) arises at a place and time, more by day than by
night. It is then found the way problems are found in the field: the grid worker notices it when the round
passes within sight (so patrol coverage drives discovery timeliness), a citizen or the 12345 hotline
reports some first and some again later (duplicates), a camera sees the classes it knows
(simulators/cameras.py). Some reports are untrue or not the district's business. The simulator keeps the
truth of every report in a ledger, so that the people acting on cases can decide as they would on site.

Pure and seeded: the same seed and the same sequence of calls give the same problems and reports.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import accumulate, pairwise

import shapely

from feeds.schemas import SCHEMA_VERSION, IncidentReport, ReportChannel
from simulators.geography import Area, District, Level
from simulators.patrols import ZONE, PatrolFleet, on_duty, patrol_units
from simulators.timing import PoissonArrivals, as_utc

SOURCE = "simulator"
SIGHT_M = 40.0  # a grid worker notices a problem this close to the round
ON_ROUTE = 0.7  # share of problems on the streets and lanes walked; the rest inside estates
DUPLICATE_AFTER = 0.3  # share of problems reported first by a patrol that a citizen reports again later
FAR_REPORT = 0.2  # share of citizen reports placed 40–120 m off (described from a distance)
FALSE_PER_CITIZEN_REPORT = 0.12  # untrue (2/3) or not the district's business (1/3)
FALSE_PER_PATROL_REPORT = 0.02
NEAR_M = 15.0
ESTATE_SUFFIXES = ("小区", "花园", "家园", "新村", "苑")
# problems arising in each local hour, relative to the daily mean (more in the day, some at night)
HOURLY = (0.25, 0.2, 0.15, 0.15, 0.2, 0.35, 0.7, 1.1, 1.4, 1.5, 1.5, 1.4,
          1.3, 1.3, 1.4, 1.5, 1.5, 1.5, 1.4, 1.3, 1.1, 0.8, 0.5, 0.35)
_PEAK = max(HOURLY)
_MEAN = sum(HOURLY) / 24


class Truth(StrEnum):
    """What a report really is, as the person who verifies it on site finds out."""

    TRUE = "true"
    UNTRUE = "untrue"
    OUT_OF_SCOPE = "out_of_scope"
    DUPLICATE = "duplicate"  # of a problem reported before


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of problem: its category, how often it arises, how it is found, how often it is urgent."""

    code: str
    weight: float
    visible: float  # chance a grid worker passing within sight notices it
    citizen: float  # chance citizens report it at all
    citizen_mean_h: float  # mean delay of the first citizen report after it arises
    hotline: float  # share of citizen reports that come by the 12345 hotline
    urgent: float
    amount: tuple[int, int]  # the range of {n} in the descriptions
    descriptions: tuple[str, ...]  # {place}: near an intersection; {estate}: a building of a housing estate


KINDS: tuple[Kind, ...] = (
    Kind("env.garbage", 18, 0.95, 0.35, 5.0, 0.3, 0.02, (1, 5),
         ("{place}暴露垃圾约{n}立方米，未及时清运", "{place}垃圾桶满溢，周边散落生活垃圾")),
    Kind("order.parking", 15, 0.95, 0.45, 2.0, 0.4, 0.03, (2, 8),
         ("{place}有{n}辆机动车违章停放，占用人行道", "{place}车辆占用消防通道停放")),
    Kind("order.vendor", 14, 0.95, 0.25, 3.0, 0.3, 0.02, (1, 5),
         ("{place}流动摊贩占道经营，约{n}个摊位", "{place}店外占道经营，堆放货物影响通行")),
    Kind("road.pothole", 10, 0.9, 0.35, 8.0, 0.5, 0.08, (1, 6),
         ("{place}路面出现坑槽，面积约{n}平方米", "{place}人行道板松动破损约{n}块")),
    Kind("facility.streetlight", 9, 0.7, 0.5, 10.0, 0.5, 0.03, (2, 6),
         ("{place}连续{n}盏路灯不亮", "{place}路灯整夜不亮，行人反映夜间出行不便")),
    Kind("safety.fire_hazard", 8, 0.85, 0.3, 12.0, 0.4, 0.35, (2, 10),
         ("{estate}楼道堆放杂物，堵塞消防通道", "{estate}电动车在楼道内充电，存在火灾隐患",
          "{estate}{n}具灭火器过期失效")),
    Kind("people.dispute", 8, 0.3, 0.8, 1.0, 0.6, 0.10, (1, 3),
         ("{estate}住户因楼上漏水发生邻里纠纷，需上门调解", "{estate}两户居民因噪音问题发生争吵")),
    Kind("env.waterlogging", 4, 0.95, 0.6, 1.0, 0.5, 0.20, (10, 40),
         ("{place}路面积水深约{n}厘米，影响车辆行人通行", "{place}雨水箅子堵塞，路面积水")),
    Kind("facility.manhole", 6, 0.9, 0.5, 3.0, 0.6, 0.30, (1, 2),
         ("{place}雨水井盖缺失，已临时设置警示", "{place}污水井盖破损下沉，存在安全隐患")),
    Kind("env.tree", 5, 0.95, 0.6, 2.0, 0.5, 0.25, (1, 3),
         ("{place}行道树倒伏，阻碍交通", "{place}有{n}处树枝折断悬挂，存在坠落风险")),
    Kind("people.crowd", 1, 0.9, 0.7, 0.5, 0.7, 0.50, (20, 80),
         ("{place}约{n}人聚集，情绪激动", "{place}有{n}余人聚集围观，影响通行")),
)
KIND_BY_CODE = {k.code: k for k in KINDS}


@dataclass(frozen=True, slots=True)
class Character:
    """What kind of place a street (街道) is, and so what goes wrong there and who reports it."""

    name: str
    problems: float  # problems arising per grid, relative to the district's mean
    citizen: float  # how readily its residents report a problem, relative to the kind's own chance
    kinds: tuple[tuple[str, float], ...] = ()  # kinds more (or less) common here than in the district

    def weights(self) -> list[float]:
        more = dict(self.kinds)
        return [k.weight * more.get(k.code, 1.0) for k in KINDS]


# the streets in turn, north-west first: an old town whose older residents call the hotline, a market street,
# new estates whose property companies see to much themselves, and a mixed one
CHARACTERS: tuple[Character, ...] = (
    Character("old_town", 1.3, 1.4, (("facility.streetlight", 1.5), ("safety.fire_hazard", 1.8),
                                     ("people.dispute", 1.8), ("facility.manhole", 1.4), ("env.waterlogging", 1.5))),
    Character("market", 1.3, 1.0, (("order.vendor", 2.5), ("order.parking", 1.8), ("env.garbage", 1.5),
                                   ("people.crowd", 2.0))),
    Character("new_estates", 0.6, 0.7, (("order.parking", 1.3), ("people.dispute", 0.6), ("road.pothole", 0.6),
                                        ("facility.streetlight", 0.5))),
    Character("mixed", 0.8, 1.0),
)


def _street_of(district: District, grid: Area) -> str | None:
    community = district.find(grid.parent_code) if grid.parent_code else None
    return community.parent_code if community is not None else None


def street_characters(district: District) -> dict[str, Character]:
    """Each street's character, by its code: the characters in turn, in the order of the streets' codes."""
    streets = sorted(a.code for a in district.areas if a.level is Level.STREET)
    return {code: CHARACTERS[n % len(CHARACTERS)] for n, code in enumerate(streets)}
OUT_OF_SCOPE = ("{estate}住户反映网购商品质量纠纷，要求社区出面处理", "{estate}住户咨询个人社保缴费问题",
                "{estate}住户反映与装修公司合同纠纷，要求代为索赔")
UNTRUE = "（现场核实未发现）"
_DIRECTIONS = ("东", "东北", "北", "西北", "西", "西南", "南", "东南")


@dataclass
class Problem:
    """Something wrong somewhere in the district (the ground truth), found or not yet."""

    id: str
    kind: Kind
    grid: Area
    x: float  # local metres
    y: float
    lon: float
    lat: float
    occurred_at: datetime
    urgent: bool
    citizen_at: datetime | None  # when a citizen will report it, if ever
    drill_id: str | None = None
    reported: bool = False  # someone reported it already: the grid worker sees it in the app and moves on
    note: str | None = None  # a scripted description (drills)


@dataclass(frozen=True, slots=True)
class Known:
    """What the simulator knows of one report: its truth, and the problem it is about (if any)."""

    truth: Truth
    problem: str | None
    channel: ReportChannel
    grid: str | None


@dataclass
class Ledger:
    """The truth of every report and camera alert the simulator sent, by message id."""

    known: dict[str, Known] = field(default_factory=dict)

    def note(self, message_id: str, known: Known) -> None:
        self.known[message_id] = known

    def get(self, message_id: str) -> Known | None:
        return self.known.get(message_id)


def _segment_distance(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    dx, dy = bx - ax, by - ay
    span = dx * dx + dy * dy
    t = 0.0 if span == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / span))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def passes_within(path: list[tuple[float, float]], x: float, y: float, radius: float) -> bool:
    return any(_segment_distance(x, y, *a, *b) <= radius for a, b in pairwise(path))


class IncidentSource:
    """Problems arising at `problems_per_day` (daily mean, shaped by the hour), found by patrols passing by
    and reported by citizens, plus the untrue and out-of-scope reports every centre receives."""

    def __init__(self, district: District, seed: int, *, problems_per_day: float, ledger: Ledger,
                 run_id: str, drill_id: str | None = None) -> None:
        self._district = district
        self._grids = district.grid_areas()
        characters = street_characters(district)
        self._character = {g.code: characters.get(_street_of(district, g), CHARACTERS[-1]) for g in self._grids}
        self._grid_weights = list(accumulate(self._character[g.code].problems for g in self._grids))
        self._kind_weights = {c: list(accumulate(c.weights())) for c in set(self._character.values())}
        self._units = patrol_units(district)
        self._frame = district.frame
        self._crossings = [(*self._frame.to_xy(s.lon, s.lat), s.label) for s in district.intersections]
        self._rng = random.Random(f"{seed}:incidents")
        self._arrivals = PoissonArrivals(problems_per_day / 24 * _PEAK / _MEAN,
                                         random.Random(f"{seed}:incident-arrivals"))
        self.ledger = ledger
        self.run_id = run_id
        self.drill_id = drill_id
        self.open: list[Problem] = []  # not yet reported by anyone
        self._citizen: list[tuple[datetime, Problem, ReportChannel | None, str | None]] = []  # reports to come
        self._false: list[tuple[datetime, ReportChannel, Area, Truth]] = []
        self._problems = 0
        self._counter = 0

    # the world

    def arise(self, now: datetime) -> list[Problem]:
        """Problems that arose up to `now` (thinned by the hour of day)."""
        new = []
        for at in self._arrivals.until(as_utc(now)):
            if self._rng.random() * _PEAK < HOURLY[at.astimezone(ZONE).hour]:
                grid = self._rng.choices(self._grids, cum_weights=self._grid_weights)[0]
                kind = self._rng.choices(KINDS, cum_weights=self._kind_weights[self._character[grid.code]])[0]
                new.append(self.place(kind, grid, at))
        return new

    def place(self, kind: Kind, grid: Area, at: datetime, *, urgent: bool | None = None,
              note: str | None = None, citizen: bool = True, spot: tuple[float, float] | None = None) -> Problem:
        """A problem of `kind` arising in `grid` at `at`: on the route walked, or inside an estate (or at
        `spot`, local metres)."""
        rng = self._rng
        x, y = spot or self._spot(grid)
        lon, lat = self._frame.to_lonlat(x, y)
        citizen_at = None
        if citizen and rng.random() < min(0.95, kind.citizen * self._character[grid.code].citizen):
            citizen_at = _daytime(at + timedelta(hours=rng.expovariate(1 / kind.citizen_mean_h)), rng)
        self._problems += 1
        problem = Problem(f"{self.run_id}-x{self._problems}", kind, grid, x, y, lon, lat, at,
                          rng.random() < kind.urgent if urgent is None else urgent, citizen_at,
                          self.drill_id, note=note)
        self.open.append(problem)
        if citizen_at is not None:
            self._citizen.append((citizen_at, problem, None, None))
        return problem

    def report_at(self, problem: Problem, at: datetime, channel: ReportChannel, note: str | None = None) -> None:
        """A scripted report of `problem` by `channel` at `at`, in the words of `note` (a patrol report comes
        from the grid's worker, on duty or not: drills happen at night too)."""
        self._citizen.append((at, problem, channel, note))

    def _spot(self, grid: Area) -> tuple[float, float]:
        rng = self._rng
        local = self._frame.project(grid.geometry)
        if rng.random() < ON_ROUTE:  # on a bounding street (the lanes are in patrols.Route)
            edge = local.exterior  # type: ignore[attr-defined]
            p = edge.interpolate(rng.uniform(0, edge.length))
            inward = shapely.Point(p.x, p.y).buffer(12.0).intersection(local)
            c = inward.representative_point() if not inward.is_empty else p
            return c.x, c.y
        x0, y0, x1, y1 = local.bounds
        while True:
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if shapely.contains_xy(local, x, y):
                return x, y

    # reports

    def due(self, now: datetime, fleet: PatrolFleet) -> list[IncidentReport]:
        """Reports made up to `now`: what the patrols saw on their way since the last call, citizens'
        reports that came due, and the false reports among them."""
        now = as_utc(now)
        out: list[IncidentReport] = []
        by_grid: dict[str, list[Problem]] = {}
        for problem in self.open:
            by_grid.setdefault(problem.grid.code, []).append(problem)
        duty = on_duty(now)
        for patrol in fleet.patrols:
            path = fleet.paths.get(patrol.unit_id)
            problems = by_grid.get(patrol.grid_code)
            if not path or not problems or not patrol.reporting(now, duty):
                continue
            for problem in problems:
                if (problem.occurred_at <= now and not problem.reported
                        and passes_within(path, problem.x, problem.y, SIGHT_M)
                        and self._rng.random() < problem.kind.visible):
                    out.append(self._patrol_report(problem, now, patrol.unit_id))
        self._citizen.sort(key=lambda item: item[0])
        while self._citizen and self._citizen[0][0] <= now:
            at, problem, channel, note = self._citizen.pop(0)
            if channel is ReportChannel.PATROL:
                out.append(self._patrol_report(problem, at, self._units[problem.grid.code], note))
                continue
            if channel is None and problem.reported and self._rng.random() >= DUPLICATE_AFTER:
                continue  # they saw it was being dealt with
            out.append(self._citizen_report(problem, at, channel, note))
        self._false.sort(key=lambda item: item[0])
        while self._false and self._false[0][0] <= now:
            at, channel, grid, truth = self._false.pop(0)
            out.append(self._false_report(at, channel, grid, truth))
        self.open = [p for p in self.open if not p.reported]
        return out

    def seen(self, problem: Problem) -> None:
        """Someone (a camera) reported it."""
        problem.reported = True

    def _patrol_report(self, problem: Problem, at: datetime, unit_id: str, note: str | None = None) -> IncidentReport:
        truth = Truth.DUPLICATE if problem.reported else Truth.TRUE
        problem.reported = True
        report = self._report(problem.kind, problem.grid, problem.lon, problem.lat, at, ReportChannel.PATROL,
                              unit_id, problem.urgent, problem.occurred_at, note or problem.note, jitter_m=8.0)
        self.ledger.note(report.id, Known(truth, problem.id, ReportChannel.PATROL, problem.grid.code))
        if self._rng.random() < FALSE_PER_PATROL_REPORT:
            self._schedule_false(at, ReportChannel.PATROL, Truth.UNTRUE)
        return report

    def _citizen_report(self, problem: Problem, at: datetime, channel: ReportChannel | None,
                        note: str | None = None) -> IncidentReport:
        rng = self._rng
        truth = Truth.DUPLICATE if problem.reported else Truth.TRUE
        problem.reported = True
        if channel is None:
            channel = ReportChannel.HOTLINE if rng.random() < problem.kind.hotline else ReportChannel.CITIZEN
        far = rng.random() < FAR_REPORT
        occurred = problem.occurred_at if rng.random() < 0.6 else None  # "since this morning", or not known
        report = self._report(problem.kind, problem.grid, problem.lon, problem.lat, at, channel, None,
                              problem.urgent, occurred, note or problem.note,
                              jitter_m=rng.uniform(40, 120) if far else 15.0)
        self.ledger.note(report.id, Known(truth, problem.id, channel, problem.grid.code))
        if rng.random() < FALSE_PER_CITIZEN_REPORT:
            self._schedule_false(at, channel, Truth.UNTRUE if rng.random() < 2 / 3 else Truth.OUT_OF_SCOPE)
        return report

    def _schedule_false(self, after: datetime, channel: ReportChannel, truth: Truth) -> None:
        at = after + timedelta(hours=self._rng.uniform(0.5, 6.0))
        grid = self._rng.choice(self._grids)
        if channel is not ReportChannel.PATROL:
            at = _daytime(at, self._rng)
        elif not on_duty(at):
            return  # a patrol reports on its rounds
        self._false.append((at, channel, grid, truth))

    def _false_report(self, at: datetime, channel: ReportChannel, grid: Area, truth: Truth) -> IncidentReport:
        rng = self._rng
        kind = rng.choices(KINDS, weights=[k.weight for k in KINDS])[0]
        x, y = self._spot(grid)
        lon, lat = self._frame.to_lonlat(x, y)
        note = None
        if truth is Truth.OUT_OF_SCOPE:
            kind = KIND_BY_CODE["people.dispute"]
            note = rng.choice(OUT_OF_SCOPE).format(estate=self._estate(grid))
        reporter = self._units[grid.code] if channel is ReportChannel.PATROL else None
        report = self._report(kind, grid, lon, lat, at, channel, reporter, False, None, note, jitter_m=0.0)
        self.ledger.note(report.id, Known(truth, None, channel, grid.code))
        return report

    def _report(self, kind: Kind, grid: Area, lon: float, lat: float, at: datetime, channel: ReportChannel,
                reporter: str | None, urgent: bool, occurred: datetime | None, note: str | None,
                *, jitter_m: float) -> IncidentReport:
        rng = self._rng
        if jitter_m:
            x, y = self._frame.to_xy(lon, lat)
            for _ in range(20):  # stay in the grid
                angle = rng.uniform(0, 2 * math.pi)
                r = rng.uniform(0, jitter_m) if jitter_m < 40 else jitter_m
                nlon, nlat = self._frame.to_lonlat(x + r * math.cos(angle), y + r * math.sin(angle))
                if shapely.contains_xy(grid.geometry, nlon, nlat):
                    lon, lat = nlon, nlat
                    break
        text = (note or rng.choice(kind.descriptions)).format(
            place=self._place(lon, lat), estate=self._estate(grid), n=rng.randint(*kind.amount))
        self._counter += 1
        return IncidentReport(
            schema_version=SCHEMA_VERSION, id=f"{self.run_id}-i{self._counter}", source=SOURCE, ts=at,
            drill_id=self.drill_id, kind="incident_report", category=kind.code, description=text[:1000],
            lat=round(lat, 7), lon=round(lon, 7), grid_code=grid.code, channel=channel, reporter_id=reporter,
            urgent=urgent, occurred_at=occurred if occurred is None or occurred <= at else at,
        )

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


def _daytime(at: datetime, rng: random.Random) -> datetime:
    """Citizens call between 07:00 and 23:00: a report 'made' at night comes the next morning."""
    local = at.astimezone(ZONE)
    if 7 <= local.hour < 23:
        return at
    morning = local.replace(hour=7, minute=0, second=0, microsecond=0)
    if local.hour >= 23:
        morning += timedelta(days=1)
    return as_utc(morning + timedelta(minutes=rng.uniform(0, 120)))

