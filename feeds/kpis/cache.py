"""Caches of what the KPI figures can no longer change, kept by the KPI board's job (`refresh`), read by
feeds/kpis/load.py. The ingest never writes them. Why each is exact (docs/kpis.md, "Caching"):

- kpi_case_facts: a live case's facts (feeds.kpis.figures.case_facts) at its version. Every change of a case raises
  its version, so a row whose version is the case's equals a fresh replay of its trail. The versions are
  read before the trails, so a row is never stamped with a newer version than its trail.
- kpi_tally_batches / kpi_case_days: finished live cases (closed, rejected, voided, before the job's
  hour) counted once per grid, event day and hour they finished (feeds.kpis.figures.finished_tallies), in numbered
  batches written in one transaction each and never changed afterwards. A reader takes the newest batch M of
  its rules first; then sums the rows of batches ≤ M for the period's days whose cases finished before the
  hour of its `as_of`, and replays every other case the period needs. Both reads see the same batches ≤ M, so
  each case is counted exactly once, whatever the job commits meanwhile.
- kpi_cell_visits / kpi_grid_days / kpi_coverage_days: the unit cells visited on a settled local day (over
  for longer than LATE_FIX_LIMIT + SETTLE_MARGIN): no fix that counts for that day can still arrive.

One job writes (feeds/kpis/board.py); several may read.
"""
from __future__ import annotations

import gc
import hashlib
import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine

from feeds.cases.machine import FINAL
from feeds.kpis import visits as visittally
from feeds.kpis.figures import (
    LATE_FIX_LIMIT,
    CaseFacts,
    CaseRecord,
    Cells,
    CellVisit,
    DutyKey,
    DutyTally,
    Holder,
    KpiRules,
    Patroller,
    Period,
    Rate,
    Tally,
    Track,
    TrailEvent,
    case_facts,
    cell_firsts,
    cell_visits,
    clock_for,
    coverage,
    facts_from_json,
    facts_to_json,
    finished_duty_tallies,
    finished_tallies,
    sum_by_key,
    utc_hour,
)
from feeds.store.engine import tuples
from feeds.store.models import (
    AUDIT,
    BATCHES,
    CASE_DAYS,
    CASES,
    COVERED_DAYS,
    DUTY_DAYS,
    DUTY_FIELDS,
    FACTS,
    FIXES,
    GRID_DAYS,
    INCIDENTS,
    TALLY_FIELDS,
    UNIT_DAYS,
    VISITS,
)

log = logging.getLogger(__name__)


# a settled day is over for longer than LATE_FIX_LIMIT and this: the time a received fix may take to commit
SETTLE_MARGIN = visittally.COMMIT_MARGIN
_TRAIL_ACTIONS = ("verify", "register", "reject", "dispatch", "send_back", "handle", "self_handle", "check_pass",
                  "check_fail", "close", "extend", "park", "restore", "void", "reassign")
_NEEDS_AFTER = frozenset({"dispatch", "reassign", "reject", "extend", "restore"})
_FINAL = [s.value for s in FINAL]
_CHUNK = 1000  # ids per IN (...)


def drill_filter(column: Any, drill_id: str | None) -> ColumnElement[bool]:
    return column.is_(None) if drill_id is None else column == drill_id


# how the figures count (raised when a rule of the figure modules changes what a finished case adds to a tally)
COUNTING = 2


def rules_key(rules: KpiRules) -> str:
    """A fingerprint of what deadlines depend on and of how cases are counted: a tally made under other
    rules is not used."""
    text = repr((COUNTING, rules.taxonomy, rules.calendar, sorted(rules.discovery_limits.items()),
                 rules.discovery_limit))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ---------------------------------------------------------------------------------------------- case facts


_RECORD_COLUMNS = (CASES.c.id, CASES.c.category, CASES.c.urgent, CASES.c.channel, CASES.c.grid_code,
                   INCIDENTS.c.reporter_id, CASES.c.occurred_at, CASES.c.reported_at, CASES.c.drill_id)


def trails_of(conn: Connection, ids: Sequence[str]) -> dict[str, list[TrailEvent]]:
    """The audit rows of these cases that the facts need, in time order."""
    trails: dict[str, list[TrailEvent]] = {}
    for chunk in _chunks(sorted(ids)):
        for case_id, action, by, at, after in tuples(conn.execute(
                select(AUDIT.c.case_id, AUDIT.c.action, AUDIT.c.by, AUDIT.c.at, AUDIT.c.after)
                .where(AUDIT.c.case_id.in_(chunk), AUDIT.c.action.in_(_TRAIL_ACTIONS))
                .order_by(AUDIT.c.case_id, AUDIT.c.at, AUDIT.c.id))):
            trails.setdefault(case_id, []).append(
                TrailEvent(action, by, at, json.loads(after) if action in _NEEDS_AFTER else {}))
    return trails


def replay(conn: Connection, records: Sequence[Sequence[Any]]) -> list[CaseFacts]:
    """Facts of cases from their records (the columns of _RECORD_COLUMNS) and their trails, read after."""
    trails = trails_of(conn, [r[0] for r in records]) if records else {}
    return [case_facts(CaseRecord(*r), trails.get(r[0], ())) for r in records]


_DECODED: dict[tuple[str, int], tuple[str, CaseFacts]] = {}  # (case, version) -> (stored JSON, its facts)
# a city's month of cases (~100,000) fits; each decoded case holds about 3.8 KB (a district-level evidence click
# left 380 MB in the process), so 300,000 could hold 1.1 GB in every dashboard process
_DECODED_MAX = 120_000


def decoded(case_id: str, version: int, text: str) -> CaseFacts:
    """`facts_from_json(text)`, kept in the process: the open cases are read by every panel, and a case's
    facts at a version never change. A kept entry is used only when its JSON is the same text."""
    found = _DECODED.get((case_id, version))
    if found is not None and found[0] == text:
        return found[1]
    facts = facts_from_json(text)
    if len(_DECODED) >= _DECODED_MAX:
        _DECODED.clear()
    _DECODED[(case_id, version)] = (text, facts)
    return facts


class _BulkLoad:
    """Python's cyclic garbage collector paused while many objects are made that all stay alive (a city's month
    of facts: some five million), and resumed when the last such load in any thread ends. Its collections,
    triggered again and again as the objects pile up, took a third of the time of decoding 100,000 cases'
    facts; none of these objects is garbage, so a pause collects nothing less."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loads = 0
        self._was_enabled = True

    def __enter__(self) -> None:
        with self._lock:
            if self._loads == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._loads += 1

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._loads -= 1
            if self._loads == 0 and self._was_enabled:
                gc.enable()


bulk_load = _BulkLoad()


def load_facts(conn: Connection, where: Sequence[ColumnElement[bool]]) -> list[CaseFacts]:
    """The facts of the cases matching `where` (on cases, kpi_case_facts): from kpi_case_facts where its
    version is the case's, replayed from the trail otherwise. The records a replay needs are read only for
    the cases it is needed for (the others are many: every open case, in every window of a trend)."""
    rows = list(tuples(conn.execute(
        select(CASES.c.id, CASES.c.version, FACTS.c.version, FACTS.c.facts)
        .select_from(CASES.outerjoin(FACTS, FACTS.c.case_id == CASES.c.id))
        .where(*where))))
    with bulk_load:
        out = [decoded(case_id, stored, text) for case_id, version, stored, text in rows
               if stored is not None and stored == version]
    stale = [case_id for case_id, version, stored, _ in rows if stored is None or stored != version]
    for chunk in _chunks(stale):
        out += replay(conn, conn.execute(select(*_RECORD_COLUMNS)
                                         .select_from(CASES.outerjoin(INCIDENTS, INCIDENTS.c.id == CASES.c.id))
                                         .where(CASES.c.id.in_(chunk))).all())
    return out


def refresh_facts(conn: Connection, limit: int | None = None) -> int:
    """Write the facts of live cases that have none, or none for their version. Returns how many."""
    query = (select(*_RECORD_COLUMNS, CASES.c.version, CASES.c.state)
             .select_from(CASES.outerjoin(INCIDENTS, INCIDENTS.c.id == CASES.c.id)
                          .outerjoin(FACTS, FACTS.c.case_id == CASES.c.id))
             .where(CASES.c.drill_id.is_(None), or_(FACTS.c.version.is_(None), FACTS.c.version != CASES.c.version))
             .order_by(CASES.c.reported_at))
    rows = conn.execute(query.limit(limit) if limit else query).all()
    for chunk in _chunks(rows, 5000):
        facts = replay(conn, [r[:-2] for r in chunk])
        ids = [r[0] for r in chunk]
        conn.execute(delete(FACTS).where(FACTS.c.case_id.in_(ids), FACTS.c.tallied.is_(None)))
        conn.execute(insert(FACTS), [
            {"case_id": f.id, "version": r[-2], "tallied": None, "facts": facts_to_json(f),
             "reported_hour": utc_hour(f.reported_at),
             "finished_hour": (utc_hour(f.finished_at) if r[-1] in _FINAL and f.finished_at is not None
                               else None)}
            for f, r in zip(facts, chunk, strict=True)])
    return len(rows)


# ---------------------------------------------------------------------------------------------- tallies


def newest_batch(conn: Connection, key: str) -> int | None:
    return conn.execute(select(func.max(BATCHES.c.batch)).where(BATCHES.c.rules_key == key)).scalar()


def forget_other_rules(conn: Connection, key: str) -> None:
    """Drop the tallies made under other rules (in one transaction: their cases become uncounted)."""
    old = select(BATCHES.c.batch).where(BATCHES.c.rules_key != key)
    if conn.execute(old.limit(1)).first() is None:
        return
    conn.execute(update(FACTS).where(FACTS.c.tallied.in_(old)).values(tallied=None))
    conn.execute(delete(CASE_DAYS).where(CASE_DAYS.c.batch.in_(old)))
    conn.execute(delete(DUTY_DAYS).where(DUTY_DAYS.c.batch.in_(old)))
    conn.execute(delete(BATCHES).where(BATCHES.c.rules_key != key))


def tally_finished(conn: Connection, rules: KpiRules, now: datetime, zone: ZoneInfo) -> int:
    """Count the finished live cases not counted yet (finished before the current hour) into a new batch.
    Returns how many cases it counted."""
    key = rules_key(rules)
    forget_other_rules(conn, key)
    rows = list(tuples(conn.execute(select(FACTS.c.case_id, FACTS.c.facts)
                        .where(FACTS.c.tallied.is_(None), FACTS.c.finished_hour < utc_hour(now)))))
    if not rows:
        return 0
    facts = [facts_from_json(text) for _, text in rows]
    clock = clock_for(rules.calendar, facts, now)
    tallies = finished_tallies(rules, clock, facts, zone)
    batch = (conn.execute(select(func.max(BATCHES.c.batch))).scalar() or 0) + 1
    conn.execute(insert(BATCHES), {"batch": batch, "rules_key": key, "made_at": now})
    conn.execute(insert(CASE_DAYS), [
        {"batch": batch, "finished_hour": hour, "grid_code": grid or "", "day": day.isoformat(),
         "month": day.isoformat()[:7], **dict(zip(TALLY_FIELDS, t.counts, strict=True))}
        for (hour, grid, day), t in tallies.items()])
    duties = finished_duty_tallies(rules, clock, facts, zone)
    for chunk in _chunks(list(duties.items()), 20_000):
        conn.execute(insert(DUTY_DAYS), [
            {"batch": batch, "finished_hour": hour, "day": day.isoformat(), "grid_code": grid or "",
             "holder_kind": kind.value, "holder": holder, **dict(zip(DUTY_FIELDS, t.counts, strict=True))}
            for (hour, day, (kind, holder, grid)), t in chunk])
    for chunk in _chunks([case_id for case_id, _ in rows]):
        conn.execute(update(FACTS).where(FACTS.c.case_id.in_(chunk)).values(tallied=batch))
    return len(rows)


def whole_days(period: Period) -> bool:
    """Whether the period starts and ends at local midnights (what the daily caches can answer)."""
    return all(moment.astimezone(period.zone).time() == time() for moment in (period.start, period.end))


@dataclass(frozen=True)
class CaseLoad:
    """The cases a period's figures need: `cases` to count from their facts, and per grid (None: no grid)
    the tally of the finished cases counted already (`counted`), and their duty tallies (`duties`)."""

    cases: list[CaseFacts]
    counted: dict[str | None, Tally]  # empty unless loaded by grid
    counted_in_all: Tally | None = None  # of all the grids asked for
    duties: dict[DutyKey, DutyTally] = field(default_factory=dict)  # empty unless loaded with duties

    def total(self) -> Tally | None:
        """The counted tally of all the grids asked for; None when nothing is counted."""
        return self.counted_in_all if self.counted_in_all is not None else Tally.total(self.counted.values())


def load_case_loads(conn: Connection, rules: KpiRules | None, windows: Sequence[tuple[Period, datetime]],
                    where_of: Callable[[Period, datetime], list[ColumnElement[bool]]],
                    grids: Collection[str] | None, drill_id: str | None, by_grid: bool = False,
                    with_duties: bool = False) -> list[CaseLoad]:
    """For each (period, now): the relevant cases (`where_of(period, now)`), split into the tallied ones
    summed from kpi_case_days (and kpi_duty_days `with_duties`: live cases, periods of whole days, finished
    before the hour of the period's `as_of`) and the others as facts."""
    usable = rules is not None and drill_id is None and all(whole_days(p) for p, _ in windows)
    key = rules_key(rules) if usable and rules is not None else None
    batch = newest_batch(conn, key) if key is not None else None
    out = []
    for period, now in windows:
        where = where_of(period, now)
        if batch is None or key is None:
            out.append(CaseLoad(load_facts(conn, where), {}))
            continue
        as_of_hour = utc_hour(period.as_of(now))
        cases = _uncounted(conn, where, batch, as_of_hour)
        duties = _summed(conn, "duties", key, batch, period, as_of_hour, grids) if with_duties else {}
        if by_grid:
            out.append(CaseLoad(cases, _summed(conn, "by_grid", key, batch, period, as_of_hour, grids),
                                duties=duties))
        else:
            out.append(CaseLoad(cases, {}, _summed(conn, "all", key, batch, period, as_of_hour, grids),
                                duties=duties))
    return out


def _uncounted(conn: Connection, where: list[ColumnElement[bool]], batch: int, as_of_hour: str) -> list[CaseFacts]:
    """The facts of the cases matching `where` that batches up to `batch` do not count before `as_of_hour`:
    those whose facts are not tallied (open, or finished since the job's last pass), tallied later or
    finished in that hour or after, and those with no facts yet (new since the job's last pass). Found from
    kpi_case_facts first, so that a month of finished cases is not read."""
    later = [FACTS.c.tallied.is_(None), FACTS.c.tallied > batch]
    newest = conn.execute(select(func.max(BATCHES.c.made_at)).where(BATCHES.c.batch <= batch)).scalar()
    if newest is None or as_of_hour < utc_hour(newest):  # else every case counted finished before as_of's hour
        later.append((FACTS.c.finished_hour >= as_of_hour) & (FACTS.c.reported_hour <= as_of_hour))
    out = load_facts(conn, [*where, CASES.c.id.in_(select(FACTS.c.case_id).where(or_(*later)))])
    live = conn.execute(select(func.count()).select_from(CASES).where(CASES.c.drill_id.is_(None))).scalar_one()
    if conn.execute(select(func.count()).select_from(FACTS)).scalar_one() < live:  # facts of live cases only
        out += load_facts(conn, [*where, ~select(FACTS.c.case_id).where(FACTS.c.case_id == CASES.c.id).exists()])
    return out


def _counted_rows(table: Any, key: str, batch: int, period: Period, as_of_hour: str,
                  grids: Collection[str] | None, after: int | None = None) -> list[ColumnElement[bool]]:
    days = period.days()
    where = [table.c.batch <= batch, table.c.batch > (after if after is not None else -1),
             table.c.batch.in_(select(BATCHES.c.batch).where(BATCHES.c.rules_key == key)),
             table.c.day >= days[0].isoformat(), table.c.day <= days[-1].isoformat(),
             table.c.finished_hour < as_of_hour]
    if grids is not None:
        where.append(table.c.grid_code.in_(sorted(grids)))
    return where


def _grown_one(old: Tally | None, more: Tally | None) -> Tally | None:
    return more if old is None else old if more is None else old + more


# Sums of tally rows, kept by each process: the rows of a batch never change, so a sum up to batch M' becomes
# the sum up to batch M by adding the rows of the batches after M' (a tick's worth). Keyed by the database and
# what was summed; a sum is grown only while its batch M' is there as it was (caches emptied and filled again
# start over).
_SUMS: dict[tuple[Any, ...], tuple[int, Any, Any]] = {}


def _summed(conn: Connection, what: str, key: str, batch: int, period: Period, as_of_hour: str,
            grids: Collection[str] | None) -> Any:
    """What `_counted` ("by_grid"), `_counted_in_all` ("all") or `_counted_duties` ("duties") sums, grown
    from the sum made last time where there is one."""
    ways: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
        "by_grid": (_counted, sum_by_key), "all": (_counted_in_all, _grown_one),
        "duties": (_counted_duties, sum_by_key)}
    count, grow = ways[what]
    memo = (str(conn.engine.url), what, key, period.start, period.end, as_of_hour,
            None if grids is None else frozenset(grids))

    def made(b: int) -> Any:
        return conn.execute(select(BATCHES.c.made_at).where(BATCHES.c.batch == b)).scalar()

    found = _SUMS.get(memo)
    if found is not None and found[0] <= batch and made(found[0]) == found[1]:
        result = found[2] if found[0] == batch else grow(found[2], count(conn, key, batch, period, as_of_hour,
                                                                         grids, found[0]))
    else:
        result = count(conn, key, batch, period, as_of_hour, grids)
    if len(_SUMS) >= 512:
        _SUMS.clear()
    _SUMS[memo] = (batch, made(batch), result)
    return dict(result) if isinstance(result, dict) else result


def _counted_in_all(conn: Connection, key: str, batch: int, period: Period, as_of_hour: str,
                    grids: Collection[str] | None, after: int | None = None) -> Tally | None:
    """The counted tally of all the grids together (of batches after `after`, up to `batch`): one row of
    sums, and the registered cases per grid and month for the case-count score."""
    where = _counted_rows(CASE_DAYS, key, batch, period, as_of_hour, grids, after)
    sums = conn.execute(select(func.count(), *(func.sum(CASE_DAYS.c[n]) for n in TALLY_FIELDS)).where(*where)).one()
    if not sums[0]:
        return None
    registered = {(grid, int(month[:4]), int(month[5:7])): int(n) for grid, month, n in tuples(conn.execute(
        select(CASE_DAYS.c.grid_code, CASE_DAYS.c.month, func.sum(CASE_DAYS.c.registered))
        .where(*where, CASE_DAYS.c.grid_code != "", CASE_DAYS.c.registered > 0)
        .group_by(CASE_DAYS.c.grid_code, CASE_DAYS.c.month)))}
    return Tally(tuple(int(v or 0) for v in sums[1:]), registered)


def _counted(conn: Connection, key: str, batch: int, period: Period, as_of_hour: str,
             grids: Collection[str] | None, after: int | None = None) -> dict[str | None, Tally]:
    query = (select(CASE_DAYS.c.grid_code, CASE_DAYS.c.month, *(func.sum(CASE_DAYS.c[n]) for n in TALLY_FIELDS))
             .where(*_counted_rows(CASE_DAYS, key, batch, period, as_of_hour, grids, after))
             .group_by(CASE_DAYS.c.grid_code, CASE_DAYS.c.month))
    parts: dict[str | None, list[Tally]] = defaultdict(list)
    registered = TALLY_FIELDS.index("registered")
    for grid_code, month, *sums in tuples(conn.execute(query)):
        grid = grid_code or None
        counts = tuple(int(v or 0) for v in sums)
        per_month = {} if grid is None else {(grid, int(month[:4]), int(month[5:7])): counts[registered]}
        parts[grid].append(Tally(counts, per_month))
    return {grid: t for grid, ts in parts.items() if (t := Tally.total(ts)) is not None}


def _counted_duties(conn: Connection, key: str, batch: int, period: Period, as_of_hour: str,
                    grids: Collection[str] | None, after: int | None = None) -> dict[DutyKey, DutyTally]:
    """The duty tallies counted per holder, over the cases of `grids` (None: all)."""
    query = (select(DUTY_DAYS.c.holder_kind, DUTY_DAYS.c.holder, *(func.sum(DUTY_DAYS.c[n]) for n in DUTY_FIELDS))
             .where(*_counted_rows(DUTY_DAYS, key, batch, period, as_of_hour, grids, after))
             .group_by(DUTY_DAYS.c.holder_kind, DUTY_DAYS.c.holder))
    return {(Holder(kind), holder): DutyTally(tuple(int(v or 0) for v in sums))
            for kind, holder, *sums in tuples(conn.execute(query))}


# ---------------------------------------------------------------------------------------------- coverage


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return datetime.combine(day, time(), zone), datetime.combine(day + timedelta(days=1), time(), zone)


def settled(day: date, now: datetime, zone: ZoneInfo) -> bool:
    """Whether no fix that counts for the day can still arrive (LATE_FIX_LIMIT) or be uncommitted."""
    return day_bounds(day, zone)[1] + LATE_FIX_LIMIT + SETTLE_MARGIN <= now


def fresh_visits(conn: Connection, cells: Cells, spans: Iterable[tuple[datetime, datetime]], *,
                 units: Collection[str] | None = None, drill_id: str | None = None,
                 zone: ZoneInfo) -> set[CellVisit]:
    """Cells visited, from the raw patrol fixes taken in `spans` (near the cells) that reached the centre
    within LATE_FIX_LIMIT of being taken."""
    track = _fresh_track(conn, cells, spans, units, drill_id)
    return set() if track is None else cell_visits(cells, track, zone)


def fresh_firsts(conn: Connection, cells: Cells, spans: Iterable[tuple[datetime, datetime]], *,
                 units: Collection[str] | None = None, drill_id: str | None = None,
                 zone: ZoneInfo) -> dict[CellVisit, datetime]:
    """`fresh_visits` with the moment each visit was first made."""
    track = _fresh_track(conn, cells, spans, units, drill_id)
    return {} if track is None else cell_firsts(cells, track, zone)


def _fresh_track(conn: Connection, cells: Cells, spans: Iterable[tuple[datetime, datetime]],
                 units: Collection[str] | None, drill_id: str | None) -> Track | None:
    spans = list(spans)
    if not cells.codes or not spans:
        return None
    west, south, east, north = visittally.near(cells)
    where = [or_(*((FIXES.c.fix_at >= a) & (FIXES.c.fix_at < b) for a, b in spans)),
             drill_filter(FIXES.c.drill_id, drill_id),
             FIXES.c.lon.between(west, east), FIXES.c.lat.between(south, north)]
    if units is not None:
        where.append(FIXES.c.unit_id.in_(sorted(units)))
    rows = conn.execute(select(FIXES.c.unit_id, FIXES.c.fix_at, FIXES.c.lon, FIXES.c.lat, FIXES.c.received_at)
                        .where(*where)).all()
    rows = [r for r in rows if r[4] - r[1] <= LATE_FIX_LIMIT]
    if not rows:
        return None
    units_, times, lons, lats, _ = zip(*rows, strict=True)
    return Track(units_, times, lons, lats)


def _spans_of(period: Period, now: datetime, days: Sequence[date]) -> list[tuple[datetime, datetime]]:
    """Runs of consecutive days of the period as [start, end) moments, within [its start, its `as_of`)."""
    out: list[tuple[datetime, datetime]] = []
    for d in sorted(days):
        start, end = day_bounds(d, period.zone)
        start, end = max(start, period.start), min(end, period.as_of(now))
        if start >= end:
            continue
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def cached_days(conn: Connection, days: Sequence[date]) -> set[date]:
    if not days:
        return set()
    rows = tuples(conn.execute(select(COVERED_DAYS.c.day).where(COVERED_DAYS.c.day >= min(days).isoformat(),
                                                         COVERED_DAYS.c.day <= max(days).isoformat())))
    return {date.fromisoformat(d) for (d,) in rows} & set(days)


def _stored_days(conn: Connection, period: Period, now: datetime, drill_id: str | None) -> set[date]:
    """The days of the period whose stored visits it can use: live, whole days, over by its `as_of`."""
    if drill_id is not None or not whole_days(period):
        return set()
    as_of = period.as_of(now)
    return {d for d in cached_days(conn, period.days(now)) if day_bounds(d, period.zone)[1] <= as_of}


def _cut_day(conn: Connection, period: Period, now: datetime, drill_id: str | None) -> date | None:
    """The stored day the period's `as_of` falls in ("yesterday up to the same time"), when its stored visits
    can answer it: live, in a period of whole days, each visit with the moment it was first made."""
    if drill_id is not None or not whole_days(period):
        return None
    as_of = period.as_of(now)
    day = as_of.astimezone(period.zone).date()
    start, end = day_bounds(day, period.zone)
    if not period.start <= start < as_of < end or not cached_days(conn, [day]):
        return None
    unknown = conn.execute(select(VISITS.c.day).where(VISITS.c.day == day.isoformat(),
                                                      VISITS.c.first_at.is_(None)).limit(1)).first()
    return None if unknown else day


def _cut_visits(conn: Connection, day: date, before: datetime, units: Collection[str] | None = None) -> Any:
    """(unit, cell) of the stored visits of the day first made before `before`."""
    query = select(VISITS.c.unit_id, VISITS.c.cell_code).where(VISITS.c.day == day.isoformat(),
                                                               VISITS.c.first_at < before)
    if units is not None:
        query = query.where(VISITS.c.unit_id.in_(sorted(units)))
    return tuples(conn.execute(query))


def _tallied_days(conn: Connection, period: Period, now: datetime, days: Iterable[date],
                  drill_id: str | None) -> set[date]:
    """The days of the period (not stored) whose visits the running tally holds: live, counted in full
    since the day began, and inside the period from the day's start (a day its `as_of` cuts is read up to
    it: the visits first made before it)."""
    if drill_id is not None:
        return set()
    inside = [d for d in days if period.start <= day_bounds(d, period.zone)[0]]
    return visittally.tracked_days(conn, inside, now, period.zone)


def grid_coverage(conn: Connection, cells: Cells, period: Period, now: datetime, *,
                  drill_id: str | None = None) -> dict[str, Rate]:
    """Per grid of `cells`: cell-days visited / (cells × days) over the days of the period that have begun,
    from kpi_grid_days for the settled days stored there (kpi_cell_visits for one its `as_of` cuts), from the
    running tally for the days it holds (feeds/kpis/visits.py), from raw fixes for the others."""
    days = period.days(now)
    as_of = period.as_of(now)
    size: dict[str, int] = defaultdict(int)
    for g in cells.grids:
        size[g] += 1
    visited: dict[str, int] = defaultdict(int)
    stored = _stored_days(conn, period, now, drill_id)
    if stored:
        for grid, n in tuples(conn.execute(
                select(GRID_DAYS.c.grid_code, func.sum(GRID_DAYS.c.visited))
                .where(GRID_DAYS.c.day.in_(sorted(d.isoformat() for d in stored)))
                .group_by(GRID_DAYS.c.grid_code))):
            if grid in size:
                visited[grid] += int(n)
    grid_of = dict(zip(cells.codes, cells.grids, strict=True))
    cut = _cut_day(conn, period, now, drill_id)
    if cut is not None:  # the cells any unit visited first before as_of (not every unit's visits: 20× fewer rows)
        for (cell,) in tuples(conn.execute(select(VISITS.c.cell_code).distinct().where(
                VISITS.c.day == cut.isoformat(), VISITS.c.first_at < as_of))):
            if cell in grid_of:
                visited[grid_of[cell]] += 1
        stored = stored | {cut}
    tallied = _tallied_days(conn, period, now, [d for d in days if d not in stored], drill_id)
    for grid, n in visittally.grid_cells_visited(conn, tallied, as_of).items():
        if grid in size:
            visited[grid] += n
    fresh = fresh_visits(conn, cells, _spans_of(period, now, [d for d in days if d not in stored | tallied]),
                         drill_id=drill_id, zone=period.zone)
    for _, cell in {(d, cell) for d, _, cell in fresh if cell in grid_of}:
        visited[grid_of[cell]] += 1
    return {g: Rate(visited.get(g, 0), n * len(days)) for g, n in size.items()}


def visits(conn: Connection, cells: Cells, period: Period, now: datetime, *, units: Collection[str] | None = None,
           drill_id: str | None = None) -> set[CellVisit]:
    """Cells visited per day and unit over the days of the period that have begun: the stored visits of
    settled days, the running tally's of the days it holds, and those of the other days from raw fixes."""
    days = period.days(now)
    as_of = period.as_of(now)
    stored = _stored_days(conn, period, now, drill_id)
    out: set[CellVisit] = set()
    codes = set(cells.codes)
    for chunk in _chunks(sorted(d.isoformat() for d in stored), 100):
        query = select(VISITS.c.day, VISITS.c.unit_id, VISITS.c.cell_code).where(VISITS.c.day.in_(chunk))
        if units is not None:
            query = query.where(VISITS.c.unit_id.in_(sorted(units)))
        out.update((date.fromisoformat(d), u, c) for d, u, c in tuples(conn.execute(query)) if c in codes)
    cut = _cut_day(conn, period, now, drill_id)
    if cut is not None:
        out.update((cut, u, c) for u, c in _cut_visits(conn, cut, as_of, units) if c in codes)
        stored = stored | {cut}
    tallied = _tallied_days(conn, period, now, [d for d in days if d not in stored], drill_id)
    out.update(v for v in visittally.visits_of(conn, tallied, units, as_of) if v[2] in codes)
    spans = _spans_of(period, now, [d for d in days if d not in stored | tallied])
    return out | fresh_visits(conn, cells, spans, units=units, drill_id=drill_id, zone=period.zone)


def patroller_coverage(conn: Connection, cells: Cells, period: Period, now: datetime, people: Iterable[Patroller],
                       *, drill_id: str | None = None) -> dict[str, Rate]:
    """Per patroller: `feeds.kpis.figures.coverage` of the grids they answer for by the units they act under, from
    the cells each unit visited per grid (kpi_unit_days for settled days, the running tally's, the raw fixes
    of the other days). When two of a person's ids visited the same grid in the period, a cell both visited
    on one day must count once: theirs are read cell by cell."""
    people = list(people)
    days = period.days(now)
    as_of = period.as_of(now)
    units = sorted({a for p in people for a in p.aliases})
    size: dict[str, int] = defaultdict(int)
    for g in cells.grids:
        size[g] += 1
    visited: dict[tuple[str, str], int] = defaultdict(int)  # (unit, grid) -> cell-days
    wanted = set(units)  # every unit's rows are summed and the others dropped: cheaper than a long IN (...)
    stored = _stored_days(conn, period, now, drill_id)
    if stored:
        query = (select(UNIT_DAYS.c.unit_id, UNIT_DAYS.c.grid_code, func.sum(UNIT_DAYS.c.visited))
                 .where(UNIT_DAYS.c.day.in_(sorted(d.isoformat() for d in stored)))
                 .group_by(UNIT_DAYS.c.unit_id, UNIT_DAYS.c.grid_code))
        for u, g, n in tuples(conn.execute(query)):
            if u in wanted:
                visited[(u, g)] += int(n)
    grid_of = dict(zip(cells.codes, cells.grids, strict=True))
    cut = _cut_day(conn, period, now, drill_id)
    if cut is not None:
        for u, cell in _cut_visits(conn, cut, as_of):
            if u in wanted and cell in grid_of:
                visited[(u, grid_of[cell])] += 1
        stored = stored | {cut}
    tallied = _tallied_days(conn, period, now, [d for d in days if d not in stored], drill_id)
    for (_, u, g), n in visittally.unit_cells_visited(conn, tallied, as_of).items():
        if u in wanted:
            visited[(u, g)] += n
    spans = _spans_of(period, now, [d for d in days if d not in stored | tallied])
    for _, u, cell in fresh_visits(conn, cells, spans, units=units, drill_id=drill_id, zone=period.zone):
        visited[(u, grid_of[cell])] += 1
    out: dict[str, Rate] = {}
    for p in people:
        mine = [(a, g) for a in p.aliases for g in p.grids if (a, g) in visited]
        if len({g for _, g in mine}) < len(mine):  # two of their ids in one grid
            seen = visits(conn, cells, period, now, units=p.aliases, drill_id=drill_id)
            out[p.id] = coverage(cells, seen, period, now, p.grids, p.aliases)
        else:
            out[p.id] = Rate(sum(visited[k] for k in mine), sum(size[g] for g in p.grids if g in size) * len(days))
    return out


def store_settled_days(conn: Connection, cells: Cells, now: datetime, zone: ZoneInfo,
                       max_days: int | None = None) -> int:
    """Compute and store the live cell visits of settled days not stored yet, from the first live fix's day
    on; at most `max_days` of them. Returns how many days it stored."""
    first = conn.execute(select(func.min(FIXES.c.fix_at))).scalar()
    if first is None or not cells.codes:
        return 0
    day = first.astimezone(zone).date()
    candidates = []
    while settled(day, now, zone):
        candidates.append(day)
        day += timedelta(days=1)
    todo = [d for d in candidates if d not in cached_days(conn, candidates)][:max_days]
    grid_of = dict(zip(cells.codes, cells.grids, strict=True))
    at = visittally.cursor(conn)
    stored = 0
    for d in todo:
        if at is not None and at.since <= day_bounds(d, zone)[0] - visittally.HEAD_START:
            if at.through < day_bounds(d, zone)[1] + LATE_FIX_LIMIT:
                break  # the tally has not counted every fix of the day yet: next tick
            codes = set(cells.codes)
            seen = {v: t for v, t in visittally.first_visits(conn, [d]).items() if v[2] in codes}
        else:
            seen = fresh_firsts(conn, cells, [day_bounds(d, zone)], zone=zone)
        if seen:
            conn.execute(insert(VISITS), [{"day": v[0].isoformat(), "unit_id": v[1], "cell_code": v[2],
                                           "first_at": t} for v, t in sorted(seen.items()) if v[0] == d])
        per_grid: dict[str, int] = defaultdict(int)
        for cell in {c for day_, _, c in seen if day_ == d}:
            per_grid[grid_of[cell]] += 1
        if per_grid:
            conn.execute(insert(GRID_DAYS), [{"day": d.isoformat(), "grid_code": g, "visited": n}
                                             for g, n in sorted(per_grid.items())])
        per_unit: dict[tuple[str, str], int] = defaultdict(int)
        for _, unit, cell in (v for v in seen if v[0] == d):
            per_unit[(unit, grid_of[cell])] += 1
        if per_unit:
            conn.execute(insert(UNIT_DAYS), [{"day": d.isoformat(), "unit_id": u, "grid_code": g, "visited": n}
                                             for (u, g), n in sorted(per_unit.items())])
        conn.execute(insert(COVERED_DAYS), {"day": d.isoformat(), "computed_at": now})
        visittally.drop_day(conn, d)
        stored += 1
    return stored


# ---------------------------------------------------------------------------------------------- the job


@dataclass(frozen=True)
class Refreshed:
    facts: int
    tallied: int
    days: int
    fixes: int = 0  # fixes added to the running tally of cell visits


def refresh(engine: Engine, rules: KpiRules, now: datetime, zone: ZoneInfo, cells: Cells | None = None, *,
            max_days: int | None = None, tally_budget_s: float = 10.0) -> Refreshed:
    """One pass of the job: facts of changed cases, a tally batch of the newly finished, the fixes received
    since the last pass into the running tally of cell visits, the visits of newly settled days; each in
    its own transactions."""
    with engine.begin() as conn:
        facts = refresh_facts(conn)
    with engine.begin() as conn:
        tallied = tally_finished(conn, rules, now, zone)
    days = fixes = 0
    if cells is not None:
        fixes = visittally.track(engine, cells, now, zone, tally_budget_s)
        with engine.begin() as conn:
            days = store_settled_days(conn, cells, now, zone, max_days)
    if facts or tallied or days:
        log.info("KPI caches: %d case facts written, %d finished cases counted, %d fixes tallied, "
                 "%d days of visits stored", facts, tallied, fixes, days)
    return Refreshed(facts, tallied, days, fixes)
