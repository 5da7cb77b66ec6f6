from __future__ import annotations

import itertools
import math
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import Point
from shapely.ops import nearest_points
from sqlalchemy import select

from feeds.bus.channels import MemoryBus
from feeds.schemas import (
    FEED_CHANNELS,
    CameraAlert,
    IncidentReport,
    PatrolPosition,
    ReportChannel,
    channel_for,
    decode,
    encode,
)
from feeds.store.engine import make_engine, migrate
from feeds.store.models import Area
from simulators.cameras import COOLDOWN_S
from simulators.geography import District, build_district
from simulators.incidents import KINDS, Truth, street_characters
from simulators.patrols import SPEED_MPS, ZONE, PatrolFleet, on_duty, patrol_units
from simulators.runner import main, parse_args, redact, run
from simulators.simulation import Simulation

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def district() -> District:
    return build_district(7, 96)


def _clock(step_s: float, n: int) -> list[datetime]:
    return [T0 + timedelta(seconds=step_s * k) for k in range(n)]


def _metres(d: District, a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two (lon, lat) points."""
    (x0, y0), (x1, y1) = d.frame.to_xy(*a), d.frame.to_xy(*b)
    return math.hypot(x1 - x0, y1 - y0)


def _round_trips(messages: list) -> None:
    by_kind: dict[str, list] = defaultdict(list)
    for m in messages:
        by_kind[m.kind].append(m)
    for kind, batch in by_kind.items():
        good, bad = decode(channel_for(kind), encode(batch))
        assert bad == []
        assert good == batch


# patrols

def test_patrols_are_deterministic(district: District) -> None:
    def run_fleet(seed: int) -> list[dict]:
        fleet = PatrolFleet(district, seed)
        return [m.model_dump() for now in _clock(7.5, 40) for m in fleet.positions(now, "r1")]

    assert run_fleet(3) == run_fleet(3)
    assert run_fleet(3) != run_fleet(4)


def test_one_patrol_per_grid_with_stable_unit_ids(district: District) -> None:
    fleet = PatrolFleet(district, 1)
    fixes = fleet.positions(T0, "r1")
    assert [f.unit_id for f in fixes] == [f"P{n:04d}" for n in range(1, 97)]
    assert patrol_units(district) == {p.grid_code: p.unit_id for p in fleet.patrols}
    assert all(SPEED_MPS[0] <= p.speed_mps <= SPEED_MPS[1] for p in fleet.patrols)


def test_around_the_clock_every_grid_worker_walks_and_reports_off_shift(district: District) -> None:
    """Saturday 13:00 and Tuesday 03:00 in Beijing: nobody is on a day shift (the night watch only at night).
    A demo's fleet `around_the_clock` walks and reports anyway; a real one does not."""
    for off_shift in (datetime(2026, 12, 5, 13, 0, tzinfo=ZONE), datetime(2026, 12, 1, 13, 0, tzinfo=ZONE)
                      .replace(hour=3)):
        assert not on_duty(off_shift)
        real, demo = PatrolFleet(district, 4), PatrolFleet(district, 4, around_the_clock=True)
        later = off_shift + timedelta(minutes=5)
        for fleet in (real, demo):
            fleet.positions(off_shift, "r")
        real_fixes, demo_fixes = real.positions(later, "r"), demo.positions(later, "r")
        assert {f.unit_id for f in real_fixes} <= {p.unit_id for p in real.patrols if p.night_watch}
        if off_shift.hour == 13:
            assert real_fixes == [] and real.paths == {}
        assert len(demo_fixes) >= 0.9 * len(demo.patrols)  # a few phones may be offline
        assert len(demo.paths) == len(demo.patrols)  # every one walked the five minutes


def test_fixes_are_valid_unique_and_stamped_now(district: District) -> None:
    fleet = PatrolFleet(district, 2)
    fixes = [f for now in _clock(2.0, 10) for f in fleet.positions(now, "run-7")]
    assert len({f.id for f in fixes}) == len(fixes)
    assert all(f.id.startswith("run-7-p") and f.source == "simulator" and f.drill_id is None for f in fixes)
    assert all(f.ts == f.fix_at and f.ts.tzinfo is not None for f in fixes)
    assert all(3.0 <= f.accuracy_m <= 8.0 for f in fixes)
    assert all(f.speed_mps == 0.0 or SPEED_MPS[0] <= f.speed_mps <= SPEED_MPS[1] for f in fixes)
    _round_trips(fixes)


def test_patrols_walk_at_a_walking_pace_and_pause_now_and_then(district: District) -> None:
    fleet = PatrolFleet(district, 5)
    fleet.advance(T0)
    previous = [p.true_position() for p in fleet.patrols]
    stopped = 0
    for now in _clock(2.0, 600)[1:]:  # 20 minutes: about a lap of the grid
        fleet.advance(now)
        for k, p in enumerate(fleet.patrols):
            x, y = p.true_position()
            assert math.hypot(x - previous[k][0], y - previous[k][1]) / 2.0 <= SPEED_MPS[1] + 1e-6
            previous[k] = (x, y)
            stopped += not p.moving
    assert stopped > 0
    travelled = [p.at_m for p in fleet.patrols]
    assert len(set(travelled)) >= len(travelled) - 2  # not in lockstep (two may stand at their routes' start)


def test_noisy_fixes_stay_plausible_over_a_lap(district: District) -> None:
    fleet = PatrolFleet(district, 6)
    track: dict[str, list[PatrolPosition]] = defaultdict(list)
    for now in _clock(60.0, 21):
        for f in fleet.positions(now, "r"):
            track[f.unit_id].append(f)
    moved = []
    for fixes in track.values():
        steps = [_metres(district, (a.lon, a.lat), (b.lon, b.lat)) / 60.0
                 for a, b in itertools.pairwise(fixes)]
        assert max(steps) < 3.0
        moved.append(_metres(district, (fixes[0].lon, fixes[0].lat), (fixes[-1].lon, fixes[-1].lat)))
    assert sum(1 for m in moved if m > 20) > len(moved) / 2


def test_positions_stay_inside_the_district_near_their_grid(district: District) -> None:
    fleet = PatrolFleet(district, 8)
    grid_of = {p.unit_id: district.find(p.grid_code).geometry for p in fleet.patrols}
    west, south, east, north = district.bounds
    margin = 20 / district.frame.metres_per_degree_lon
    for now in _clock(45.0, 40):
        for f in fleet.positions(now, "r"):
            assert west - margin <= f.lon <= east + margin and south - margin <= f.lat <= north + margin
            nearest = nearest_points(grid_of[f.unit_id], Point(f.lon, f.lat))[0]
            assert _metres(district, (nearest.x, nearest.y), (f.lon, f.lat)) <= 20.0


def test_time_never_runs_backwards(district: District) -> None:
    fleet = PatrolFleet(district, 9)
    fleet.advance(T0 + timedelta(seconds=10))
    before = [p.at_m for p in fleet.patrols]
    fleet.advance(T0)
    assert [p.at_m for p in fleet.patrols] == before


def test_naive_times_are_refused(district: District) -> None:
    with pytest.raises(ValueError):
        PatrolFleet(district, 1).positions(datetime(2026, 1, 1), "r")


# problems, reports and camera alerts

def _world(district: District, seed: int = 4, per_day: float = 400.0) -> Simulation:
    return Simulation(district, seed=seed, run_id="w", problems_per_day=per_day, act_on_cases=False)


def _day_of(sim: Simulation, step_s: float = 60.0, hours: float = 24.0, start: datetime = T0) -> list:
    n = int(hours * 3600 / step_s) + 1
    return [m for k in range(n) for m in sim.tick(start + timedelta(seconds=step_s * k))
            if isinstance(m, IncidentReport | CameraAlert)]  # the reports: what the ledger knows the truth of


def test_problems_arise_more_by_day_than_by_night(district: District) -> None:
    source = _world(district).incidents
    start = datetime(2026, 5, 3, 16, 0, tzinfo=UTC)  # midnight in Beijing
    problems = [p for k in range(24 * 7) for p in source.arise(start + timedelta(hours=k + 1))]
    assert 400 * 7 * 0.85 <= len(problems) <= 400 * 7 * 1.15
    hours = Counter(p.occurred_at.astimezone(ZONE).hour for p in problems)
    assert sum(hours[h] for h in range(9, 18)) > 4 * sum(hours[h] for h in range(6))
    assert {p.kind.code for p in problems} == {k.code for k in KINDS}


def test_each_street_has_its_character_in_what_arises_and_who_reports_it(district: District) -> None:
    """Four streets: an old town (more problems, readier citizens), a market street (vendors and parking), new
    estates (fewer problems) and a mixed one; the district's total and its mix stay as calibrated."""
    characters = street_characters(district)
    assert [c.name for _, c in sorted(characters.items())] == ["old_town", "market", "new_estates", "mixed"]
    source = _world(district).incidents
    start = datetime(2026, 5, 3, 16, 0, tzinfo=UTC)
    problems = [p for k in range(24 * 28) for p in source.arise(start + timedelta(hours=k + 1))]
    grids = Counter(district.find(g.parent_code).parent_code for g in district.grid_areas())  # type: ignore[arg-type]
    street = {g.code: district.find(g.parent_code).parent_code for g in district.grid_areas()}  # type: ignore[arg-type]
    by = {code: [p for p in problems if street[p.grid.code] == code] for code in characters}
    per_grid = {characters[code].name: len(found) / grids[code] for code, found in by.items()}
    assert per_grid["old_town"] > 1.5 * per_grid["new_estates"] and per_grid["market"] > per_grid["mixed"]

    def share(name: str, kinds: set[str]) -> float:
        found = next(found for code, found in by.items() if characters[code].name == name)
        return sum(p.kind.code in kinds for p in found) / len(found)
    assert share("market", {"order.vendor"}) > 1.4 * share("new_estates", {"order.vendor"})  # 25 % against 16 %
    citizen = {characters[code].name: sum(p.citizen_at is not None for p in found) / len(found)
               for code, found in by.items()}
    assert citizen["old_town"] > citizen["mixed"] > citizen["new_estates"]


def test_patrols_find_what_they_pass_and_citizens_report_the_rest(district: District) -> None:
    messages = _day_of(_world(district), hours=48, start=datetime(2026, 5, 3, 16, 0, tzinfo=UTC))
    reports = [m for m in messages if isinstance(m, IncidentReport)]
    channels = Counter(r.channel for r in reports)
    assert set(channels) == {ReportChannel.PATROL, ReportChannel.CITIZEN, ReportChannel.HOTLINE}
    assert 0.55 <= channels[ReportChannel.PATROL] / len(reports) <= 0.85
    units = patrol_units(district)
    fleet_grid = {p.unit_id: p.grid_code for p in PatrolFleet(district, 4).patrols}
    for r in reports:
        grid = district.find(r.grid_code)  # type: ignore[arg-type]
        assert grid.geometry.buffer(1e-6).contains(Point(r.lon, r.lat))
        if r.channel is ReportChannel.PATROL:
            assert r.reporter_id == units[grid.code] and fleet_grid[r.reporter_id] == grid.code
            assert on_duty(r.ts, night_watch=True)  # a patrol reports on its rounds
        assert r.occurred_at is None or r.occurred_at <= r.ts
        assert r.description and any("\u4e00" <= ch <= "\u9fff" for ch in r.description)
    assert len({r.id for r in reports}) == len(reports)
    _round_trips(reports)


def test_the_ledger_knows_every_report_and_some_are_false_or_repeated(district: District) -> None:
    sim = _world(district)
    messages = _day_of(sim, hours=48, start=datetime(2026, 5, 3, 16, 0, tzinfo=UTC))
    truths = Counter(sim.ledger.get(m.id).truth for m in messages)  # type: ignore[union-attr]
    assert set(truths) == {Truth.TRUE, Truth.UNTRUE, Truth.OUT_OF_SCOPE, Truth.DUPLICATE}
    assert 0.80 <= truths[Truth.TRUE] / len(messages) <= 0.97


def test_cameras_see_their_classes_near_them_with_a_realistic_precision(district: District) -> None:
    sim = _world(district, per_day=1500)
    alerts = [m for m in _day_of(sim, step_s=120.0, hours=24 * 4) if isinstance(m, CameraAlert)]
    assert alerts
    cameras = {c.camera_id: c for c in sim.cameras.cameras}
    per_camera: dict[str, list[datetime]] = defaultdict(list)
    true = 0
    for a in alerts:
        camera = cameras[a.camera_id]
        assert (a.lat, a.lon) == (camera.lat, camera.lon) and a.started_at <= a.ts
        per_camera[a.camera_id].append(a.started_at)
        true += sim.ledger.get(a.id).truth is not Truth.UNTRUE  # type: ignore[union-attr]
    for starts in per_camera.values():
        assert all((b - a).total_seconds() >= COOLDOWN_S for a, b in itertools.pairwise(sorted(starts)))
    assert 0.6 <= true / len(alerts) <= 0.9
    _round_trips(alerts)


def test_cameras_sit_at_intersections(district: District) -> None:
    cameras = _world(district).cameras.cameras
    assert [c.camera_id for c in cameras] == [f"CAM{n:04d}" for n in range(1, 49)]
    crossings = {(s.lat, s.lon) for s in district.intersections}
    assert all((c.lat, c.lon) in crossings for c in cameras)


def test_no_problems_give_no_reports(district: District) -> None:
    assert _day_of(_world(district, per_day=0), step_s=600.0) == []


def test_the_same_seed_gives_the_same_stream(district: District) -> None:
    def stream(seed: int) -> list[dict]:
        return [m.model_dump() for m in _day_of(_world(district, seed), step_s=120.0, hours=12)]

    assert stream(3) == stream(3)
    assert stream(3) != stream(4)


# the simulation loop

def _fake_clock(step_s: float) -> Iterator[datetime]:
    now = T0
    while True:
        yield now
        now += timedelta(seconds=step_s)


def test_simulation_publishes_each_kind_on_its_channel(district: District) -> None:
    bus = MemoryBus()
    sub = bus.subscribe(FEED_CHANNELS)
    sim = _world(district, per_day=20_000)
    ticks = _fake_clock(30.0)
    totals = run(sim, bus, threading.Event(), interval_s=0.0, ticks=10, clock=lambda: next(ticks))
    payloads = []
    while (item := sub.get(timeout=0)) is not None:
        payloads.append(item)
    received: Counter[str] = Counter()
    for channel, payload, *_ in payloads:
        messages, rejections = decode(channel, payload)
        assert rejections == []
        assert {channel_for(m.kind) for m in messages} == {channel}
        received.update(m.kind for m in messages)
    assert received == totals
    assert 96 * 10 * 0.9 <= totals["patrol_position"] <= 96 * 10  # all on duty, a phone or two offline
    assert totals["incident_report"] > 0
    position_payloads = [d.payload for d in payloads if d.channel == channel_for("patrol_position")]
    assert len(position_payloads) == 10  # one batch per tick


def test_run_stops_when_asked(district: District) -> None:
    stop = threading.Event()
    stop.set()
    assert run(_world(district, per_day=0), MemoryBus(), stop, interval_s=0.0) == Counter()


def test_speed_moves_the_world_faster_but_stamps_wall_time(district: District) -> None:
    fast = Simulation(district, seed=7, run_id="fast", speed=10, problems_per_day=20_000, act_on_cases=False)
    slow = Simulation(district, seed=7, run_id="slow", problems_per_day=20_000, act_on_cases=False)
    fast.tick(T0)
    slow.tick(T0)
    wall = T0 + timedelta(seconds=60)
    messages = fast.tick(wall)
    slow.tick(T0 + timedelta(seconds=600))
    assert [p.at_m for p in fast.fleet.patrols] == [p.at_m for p in slow.fleet.patrols]
    for m in messages:
        assert abs((m.ts - wall).total_seconds()) < 1e-3 or (T0 <= m.ts <= wall)
        if isinstance(m, CameraAlert):
            assert T0 <= m.started_at <= m.ts
    assert sum(isinstance(m, IncidentReport) for m in messages) > 10
    _round_trips(messages)


def test_bad_run_ids_and_speeds_are_refused(district: District) -> None:
    with pytest.raises(ValueError):
        Simulation(district, seed=1, run_id="no spaces", problems_per_day=0)
    with pytest.raises(ValueError, match="speed"):
        Simulation(district, seed=1, run_id="ok", problems_per_day=0, speed=601)
    with pytest.raises(SystemExit):
        parse_args(["--run-id", "x" * 41])
    with pytest.raises(SystemExit):
        parse_args(["--speed", "1000"])


# the command line

def test_options_override_only_what_is_given() -> None:
    args = parse_args(["--grids", "120", "--patrol-interval", "0.5", "--speed", "5", "--ticks", "3"])
    assert (args.grids, args.patrol_interval_s, args.speed, args.ticks) == (120, 0.5, 5.0, 3)
    assert args.seed is None and args.problems_per_10k_day is None and args.run_id is None
    with pytest.raises(SystemExit):
        parse_args(["--speed", "0"])
    with pytest.raises(SystemExit):
        parse_args(["--no-load-district", "--district-only"])


def test_district_only_writes_the_territory_and_exits(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cc.sqlite'}"
    migrate(url)
    monkeypatch.setenv("CC_DATABASE_URL", url)
    for name in ("CC_REDIS_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    main(["--district-only", "--grids", "24", "--seed", "3"])
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            levels = Counter(conn.execute(select(Area.level)).scalars())
    finally:
        engine.dispose()
    assert levels["grid"] == 24 and levels["district"] == 1


def test_publishing_needs_a_redis_url(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CC_REDIS_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit, match="REDIS_URL"):
        main(["--no-load-district", "--ticks", "1"])


def test_invalid_settings_exit_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit, match="grids"):
        main(["--district-only", "--grids", "2"])


def test_passwords_are_kept_out_of_logs() -> None:
    assert redact("redis://:s3cret@host:6379/0") == "redis://:***@host:6379/0"
    assert redact("postgresql://cc:pw@db/cc") == "postgresql://cc:***@db/cc"
    assert redact("sqlite:///data/cc.sqlite") == "sqlite:///data/cc.sqlite"
