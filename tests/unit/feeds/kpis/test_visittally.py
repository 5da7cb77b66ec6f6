"""The running tally of cell visits (pure part): what new fixes change in a track's pieces."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shapely.geometry import box

from feeds.kpis import coverage
from feeds.kpis.coverage import track_pieces
from feeds.kpis.figures import Cells, Track, cell_firsts, cell_pieces, cell_visits
from feeds.kpis.visits import fixes_of, pieces_added

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=CST)
CELLS = Cells.of([(f"U{k}", "G", box(111 + 0.001 * k, 30, 111 + 0.001 * (k + 1), 30.001)) for k in range(3)])


def fix(unit: str, seconds: int, x: float, y: float) -> tuple[str, datetime, float, float]:
    """A fix at (x, y) in thousandths of a degree from the cells' corner."""
    return unit, T0 + timedelta(seconds=seconds), 111 + x / 1000, 30 + y / 1000


def visits(*fixes) -> set[str]:
    units, times, lons, lats = zip(*fixes, strict=True)
    return {c for _, _, c in cell_visits(CELLS, Track(units, times, lons, lats), CST)}


def test_a_late_fix_that_bends_the_walk_takes_back_the_cell_the_straight_segment_crossed() -> None:
    a, c = fix("P1", 0, 0.5, 0.5), fix("P1", 120, 2.5, 0.5)
    b = fix("P1", 60, 1.5, 5.0)  # taken between them, well north of the cells, sent late
    assert visits(a, c) == {"U0", "U1", "U2"}
    assert visits(a, b, c) == {"U0", "U2"}
    day = T0.date()
    assert pieces_added(CELLS, fixes_of([a, c]), fixes_of([b]), CST).change == {(day, "P1", "U1"): -1}


def test_fixes_later_than_the_newest_need_only_it() -> None:
    a, b, c = fix("P1", 0, 0.5, 0.5), fix("P1", 60, 1.5, 0.5), fix("P1", 120, 2.5, 0.5)
    day = T0.date()
    # the segment a-b touches U0 and U1, b lies in U1, b-c touches U1 and U2, c lies in U2
    assert pieces_added(CELLS, fixes_of([a]), fixes_of([b, c]), CST).change == {
        (day, "P1", "U0"): 1, (day, "P1", "U1"): 3, (day, "P1", "U2"): 2}
    assert pieces_added(CELLS, fixes_of([]), fixes_of([a]), CST).change == {(day, "P1", "U0"): 1}
    far = fix("P1", 120 + 11 * 60, 0.5, 0.5)  # more than ten minutes later: not joined to c
    assert pieces_added(CELLS, fixes_of([c]), fixes_of([far]), CST).change == {(day, "P1", "U0"): 1}


def test_adding_fixes_in_any_order_and_any_batches_gives_the_pieces_of_the_whole_track() -> None:
    rng = random.Random(5)
    track = [fix(f"P{rng.randint(1, 3)}", rng.randint(0, 1800), rng.uniform(-0.5, 3.5), rng.uniform(-0.5, 1.5))
             for _ in range(300)]
    arrived = track[:]
    rng.shuffle(arrived)
    counts: dict = {}
    firsts: dict = {}
    found_again = 0
    seen: list = []
    for start in range(0, len(arrived), 17):
        new = arrived[start:start + 17]
        # what the tally passes as known: every fix of those units within ten minutes of the new ones
        known = [f for f in seen if any(f[0] == n[0] and abs(f[1] - n[1]) <= timedelta(minutes=10) for n in new)]
        added = pieces_added(CELLS, fixes_of(known), fixes_of(new), CST, watched={"P1", "P2", "P3"})
        for key, n in added.change.items():
            counts[key] = counts.get(key, 0) + n
        for key, t in added.firsts.items():
            firsts[key] = min(t, firsts.get(key, t))
        seen += new
        # a visit that lost its first piece has its first found again from every fix so far
        whole = track_pieces(CELLS, fixes_of(seen), CST).firsts()
        for key, t in added.taken.items():
            if firsts.get(key) == t and key in whole:
                firsts[key] = whole[key]
                found_again += 1
        assert {k: t for k, t in firsts.items() if counts.get(k)} == whole
    units, times, lons, lats = zip(*track, strict=True)
    assert {k: n for k, n in counts.items() if n} == cell_pieces(CELLS, Track(units, times, lons, lats), CST)
    assert min(counts.values()) >= 0
    assert found_again > 0  # fixes sent late did bend segments that made a visit first


def test_the_pieces_do_not_depend_on_how_many_geometries_are_made_at_a_time(monkeypatch) -> None:
    rng = random.Random(11)
    track = [fix(f"P{rng.randint(1, 4)}", rng.randint(0, 3600), rng.uniform(-0.5, 3.5), rng.uniform(-0.5, 1.5))
             for _ in range(500)]
    whole = cell_pieces(CELLS, fixes_of(track), CST)
    monkeypatch.setattr(coverage, "GEOMETRIES_AT_ONCE", 7)
    assert cell_pieces(CELLS, fixes_of(track), CST) == whole
    assert sum(whole.values()) > 500  # fixes inside cells and segments crossing them, not only a few


def test_a_track_cut_at_a_moment_makes_the_visits_first_made_before_it() -> None:
    """What "yesterday up to the same time" reads from the visits' first moments equals the visits of the
    fixes taken before that moment."""
    rng = random.Random(3)
    track = [fix(f"P{rng.randint(1, 3)}", rng.randint(0, 3600), rng.uniform(-0.5, 3.5), rng.uniform(-0.5, 1.5))
             for _ in range(400)]
    firsts = cell_firsts(CELLS, Track(*zip(*track, strict=True)), CST)
    for cut in [*sorted({f[1] for f in track})[::7], T0, T0 + timedelta(hours=2)]:
        before = [f for f in track if f[1] < cut]
        made = cell_visits(CELLS, Track(*zip(*before, strict=True)), CST) if before else set()
        assert {k for k, t in firsts.items() if t < cut} == made
    assert len(firsts) >= 6
