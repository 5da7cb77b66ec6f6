"""Drill scenarios (应急演练): scripted timelines of problems layered on normal life, kept as data files in
simulators/scenarios/*.toml.

Each event of a scenario makes `count` problems of a category, `at_min` minutes after the drill starts
(spread over `spread_min`), in a kind of place (`riverside`, `centre`, `market`, `any`), and says how they
are first reported: by the hotline or a citizen a few minutes later, by the grid's patroller, by a camera
(with its alert class), or `found` (left to the patrols, citizens and cameras of normal life). Every
message of a drill carries its drill id, so live figures never include it.
"""
from __future__ import annotations

import math
import random
import tomllib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import shapely

from feeds.schemas import ReportChannel
from feeds.taxonomy import Taxonomy
from simulators.cameras import place_cameras
from simulators.geography import Area, District
from simulators.incidents import KIND_BY_CODE, Kind

DIRECTORY = Path(__file__).parent / "scenarios"
WHERE = ("riverside", "centre", "market", "any")
REPORTS = ("hotline", "citizen", "patrol", "camera", "found")
MARKET_OFFSET_M = 10.0  # each way from its camera


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class Event:
    at_min: float
    spread_min: float
    category: str
    count: int
    where: str
    urgent: bool
    report: str
    alert: str | None
    text: str | None


@dataclass(frozen=True)
class Scenario:
    id: str
    zh: str
    en: str
    duration_min: float
    starts_at: time
    targets: dict[str, float]
    events: tuple[Event, ...]


def parse(raw: dict[str, Any], taxonomy: Taxonomy, where: str) -> Scenario:
    """A checked scenario; every problem is a ScenarioError naming the file and the event."""
    try:
        events = []
        for n, e in enumerate(raw.get("event", []), start=1):
            at = f"{where} event {n}"
            if e["category"] not in taxonomy.categories:
                raise ScenarioError(f"{at}: unknown category {e['category']!r}")
            if e.get("where", "any") not in WHERE:
                raise ScenarioError(f"{at}: where must be one of {', '.join(WHERE)}")
            if e.get("report", "found") not in REPORTS:
                raise ScenarioError(f"{at}: report must be one of {', '.join(REPORTS)}")
            if e.get("report") == "camera" and e.get("alert") not in taxonomy.alert_classes:
                raise ScenarioError(f"{at}: a camera report needs a known alert class, not {e.get('alert')!r}")
            if not 0 <= float(e["at_min"]) <= float(raw["duration_min"]) or int(e.get("count", 1)) < 1:
                raise ScenarioError(f"{at}: at_min must fall within the drill and count be at least 1")
            events.append(Event(float(e["at_min"]), float(e.get("spread_min", 0)), e["category"],
                                int(e.get("count", 1)), e.get("where", "any"), bool(e.get("urgent", False)),
                                e.get("report", "found"), e.get("alert"), e.get("text")))
        if not events:
            raise ScenarioError(f"{where}: a scenario needs at least one event")
        return Scenario(raw["id"], raw["zh"], raw["en"], float(raw["duration_min"]),
                        time.fromisoformat(raw.get("starts_at", "09:00")),
                        {k: float(v) for k, v in raw.get("targets", {}).items()}, tuple(events))
    except KeyError as err:
        raise ScenarioError(f"{where}: missing {err.args[0]!r}") from None
    except (TypeError, ValueError) as err:
        if isinstance(err, ScenarioError):
            raise
        raise ScenarioError(f"{where}: {err}") from None


def load(name: str, taxonomy: Taxonomy, directory: Path = DIRECTORY) -> Scenario:
    path = directory / f"{name}.toml"
    if not path.is_file():
        raise ScenarioError(f"no scenario {name!r}; there are: {', '.join(available(directory))}")
    with path.open("rb") as f:
        return parse(tomllib.load(f), taxonomy, path.name)


def available(directory: Path = DIRECTORY) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.toml"))


@dataclass(frozen=True)
class Planned:
    """One scripted problem: when it arises, where, how it is first reported."""

    at: datetime
    event: Event
    grid: Area
    spot: tuple[float, float] | None  # local metres, for events that happen at one place (the market)


class Script:
    """A scenario laid out on a district from a start time: the scripted problems, in time order."""

    def __init__(self, scenario: Scenario, district: District, start: datetime, seed: int) -> None:
        self.scenario = scenario
        self.start = start
        rng = random.Random(f"{seed}:drill:{scenario.id}")
        grids = district.grid_areas()
        by_lat = sorted(grids, key=lambda g: g.geometry.centroid.y)
        riverside = by_lat[:max(1, len(grids) // 8)]  # the southern edge, along the river
        cx, cy = district.area.geometry.centroid.x, district.area.geometry.centroid.y
        centre = sorted(grids, key=lambda g: math.hypot(g.geometry.centroid.x - cx, g.geometry.centroid.y - cy))
        centre = centre[:max(1, len(grids) // 10)]
        # the market: in view of the camera nearest the district's centre, in the grid beside it
        frame = district.frame
        camera = min(place_cameras(district, seed), key=lambda c: math.hypot(c.lon - cx, c.lat - cy))
        mx, my = frame.to_xy(camera.lon, camera.lat)
        mx, my = mx + MARKET_OFFSET_M * rng.choice((-1, 1)), my + MARKET_OFFSET_M * rng.choice((-1, 1))
        market = next((g for g in grids if shapely.contains_xy(g.geometry, *frame.to_lonlat(mx, my))), centre[0])
        self.market = frame.to_lonlat(mx, my)
        self._rng, self._market_xy = rng, (mx, my)
        self._pools = {"riverside": riverside, "centre": centre, "market": [market], "any": grids}
        planned = []
        for event in scenario.events:
            planned.extend(self._lay_out(event, start, event.at_min))
        self._planned = sorted(planned, key=lambda p: p.at)

    def _lay_out(self, event: Event, origin: datetime, at_min: float) -> list[Planned]:
        rng, (mx, my) = self._rng, self._market_xy
        out = []
        for _ in range(event.count):
            at = origin + timedelta(minutes=at_min + rng.uniform(0, event.spread_min))
            spot = ((mx + rng.uniform(-5, 5), my + rng.uniform(-5, 5)) if event.where == "market" else None)
            out.append(Planned(at, event, rng.choice(self._pools[event.where]), spot))
        return out

    def add(self, event: Event, at: datetime) -> int:
        """An extra event a trainer injects during the drill, arising from `at` (simulated time): the
        number of problems it adds."""
        added = self._lay_out(event, at, 0.0)
        self._planned = sorted(self._planned + added, key=lambda p: p.at)
        return len(added)

    @property
    def remaining(self) -> int:
        return len(self._planned)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.scenario.duration_min)

    def due(self, now: datetime) -> list[Planned]:
        out = []
        while self._planned and self._planned[0].at <= now:
            out.append(self._planned.pop(0))
        return out

    def progress(self, now: datetime) -> float:
        return max(0.0, min(1.0, (now - self.start) / (self.end - self.start)))


def kind_for(category: str, text: str | None) -> Kind:
    """The kind of problem a scripted event makes: the ordinary one, or one made from the taxonomy."""
    base = KIND_BY_CODE.get(category)
    if base is not None:
        return base
    return Kind(category, 0.0, 0.9, 0.6, 1.0, 0.5, 0.5, (1, 3), (text or "{place}发生突发情况，请尽快处置",))


def channel_of(report: str) -> ReportChannel | None:
    return {"hotline": ReportChannel.HOTLINE, "citizen": ReportChannel.CITIZEN,
            "patrol": ReportChannel.PATROL}.get(report)

