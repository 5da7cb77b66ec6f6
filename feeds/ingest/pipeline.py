"""The ingest pipeline: decode → validate → filter → persist → apply to live state → push.

One ordered path for every feed. Bad input is rejected with a reason, counted and kept as a dead
letter; it never stops the loop. Accepted messages are written in one transaction per batch, and only
those the database had not seen are applied (a replayed message changes nothing). A batch the database
refuses, or that fails for any reason but an unreachable database, is written again message by message:
the one at fault becomes a dead letter with why, the others are kept.
"""
from __future__ import annotations

import gc
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from feeds.bus.channels import Delivery, Subscription
from feeds.bus.lease import Fenced, Lease
from feeds.bus.push import Pusher, room_of
from feeds.bus.screens import ScreenEvent
from feeds.bus.snapshots import SnapshotStore
from feeds.bus.verdicts import Outcome, Verdict, VerdictBoard
from feeds.calendar import WorkingCalendar
from feeds.cases.escalation import with_clock
from feeds.cases.writes import apply_commands, open_cases, sighting_of_report, sightings_of_alerts
from feeds.clock import ms, utcnow
from feeds.ingest.state import Delta, batch_delta, by_drill
from feeds.outage import Outage
from feeds.replay.reads import state_now
from feeds.schemas import (
    CameraAlert,
    CameraStatus,
    CaseCommand,
    FeedMessage,
    IncidentReport,
    PatrolPosition,
    Rejection,
    as_text,
    decode,
)
from feeds.store.models import Asset, DrillRow
from feeds.store.writes import fence_batch, fence_state, write_batch
from feeds.taxonomy import Taxonomy
from feeds.taxonomy import load as load_taxonomy

log = logging.getLogger(__name__)
ROLE = "ingest"  # its lease and its fence: one ingest is active, the others stand by
BATCH_MAX = 5000  # messages in one transaction at most, when what waits is taken into a batch


@dataclass(frozen=True, slots=True)
class Bounds:
    """The area positions must fall in (the district's bounding box with a margin)."""

    south: float
    west: float
    north: float
    east: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


@dataclass
class Written:
    """What one persisted batch changed: the message ids that were new, the cases as they are now, and
    the commands refused (with why)."""

    new_ids: set[str]
    cases: dict[str, dict[str, Any]]
    refused: list[Rejection]
    verdicts: list[Verdict] = field(default_factory=list)  # on each command, for the screen that sent it


@dataclass(frozen=True)
class CaseRules:
    """What the ingest needs to know of cases: categories (alert classes, limits) and the working calendar
    that turns limits into the deadlines every case view carries."""

    taxonomy: Taxonomy = field(default_factory=load_taxonomy)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)


def _persist(conn: Connection, messages: list[FeedMessage], at: datetime, rules: CaseRules) -> Written:
    """Feed rows, then a case for every new report and camera alert, then the commands, in the caller's
    transaction. Every changed case's view carries its step clock (deadline, amber)."""
    feed: list[FeedMessage] = []
    commands: list[CaseCommand] = []
    for m in messages:
        (commands if isinstance(m, CaseCommand) else feed).append(m)  # type: ignore[arg-type]
    new_ids = write_batch(conn, feed, [], at)
    sightings = [sighting_of_report(m) for m in feed if isinstance(m, IncidentReport) and m.id in new_ids]
    sightings += sightings_of_alerts(conn, [m for m in feed if isinstance(m, CameraAlert) and m.id in new_ids],
                                     rules.taxonomy)
    cases = open_cases(conn, sightings)
    changes = apply_commands(conn, commands, at)
    cases.update(changes.views)
    clocked = {cid: with_clock(rules.taxonomy, rules.calendar, view) for cid, view in cases.items()}
    return Written(new_ids | changes.applied, clocked, changes.refused, changes.verdicts)


_PLACED = (PatrolPosition, IncidentReport, CameraAlert)  # the messages that say where


def reject_reason(m: FeedMessage, now: datetime, future_tolerance_s: float, bounds: Bounds | None, *,
                  max_age_s: float | None = None, categories: Collection[str] | None = None) -> str | None:
    """The filter stage: None when the message may pass, else why not, in words a person can act on.
    A message stamped ahead of now (beyond the tolerance), or longer ago than `max_age_s`, is refused; so is
    a place outside the district, and a report of a category the taxonomy does not have."""
    stamps: dict[str, datetime | None] = {"ts": m.ts}
    if isinstance(m, PatrolPosition):
        stamps["fix_at"] = m.fix_at
    elif isinstance(m, IncidentReport):
        stamps["occurred_at"] = m.occurred_at
    elif isinstance(m, CameraAlert):
        stamps["started_at"] = m.started_at
    elif isinstance(m, CameraStatus):
        stamps["since"] = m.since
    for name, stamp in stamps.items():
        if stamp is None:
            continue
        if (ahead := (stamp - now).total_seconds()) > future_tolerance_s:
            return f"{name} {stamp.isoformat()} is {ahead:.0f} s in the future"
        if max_age_s is not None and -ahead > max_age_s:
            return (f"{name} {stamp.isoformat()} is {-ahead / 86400:.0f} days old: the centre takes messages "
                    f"of the last {max_age_s / 86400:g} days")
    if bounds is not None and isinstance(m, _PLACED) and not bounds.contains(m.lat, m.lon):
        return f"position ({m.lat:.5f}, {m.lon:.5f}) is outside the district"
    if categories is not None and isinstance(m, IncidentReport) and m.category not in categories:
        return f"category {m.category!r} is not in the taxonomy (docs/taxonomy.md)"
    return None


def latest_allowed(now: datetime, future_tolerance_s: float) -> datetime:
    """The latest stamp the filter lets through."""
    try:
        return now + timedelta(seconds=future_tolerance_s)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def earliest_allowed(now: datetime, max_age_s: float | None) -> datetime:
    """The earliest stamp the filter lets through."""
    try:
        return now - timedelta(seconds=max_age_s) if max_age_s is not None else datetime.min.replace(tzinfo=UTC)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def all_plausible_fixes(messages: list[FeedMessage], latest: datetime, bounds: Bounds | None,
                        earliest: datetime | None = None) -> bool:
    """The filter for the busy feed in one pass: True when every message is a live fix that `reject_reason`
    passes (none from the future or too old, all inside the bounds). Else the caller asks `reject_reason` one
    by one. A drill's fix goes the slow way, where its drill is checked."""
    south, west, north, east = (-90.0, -180.0, 90.0, 180.0) if bounds is None else (
        bounds.south, bounds.west, bounds.north, bounds.east)
    oldest = earliest or datetime.min.replace(tzinfo=UTC)
    for m in messages:
        if not (isinstance(m, PatrolPosition) and m.drill_id is None and oldest <= m.ts <= latest
                and oldest <= m.fix_at <= latest and south <= m.lat <= north and west <= m.lon <= east):
            return False
    return True


class KnownIds:
    """Which ids a table holds (started drills, cameras in the register): a message naming any other is
    refused, so that a producer cannot make the ingest keep live state, Redis keys and screens' rooms for
    drills nobody runs, or show cameras nobody has. Known ids are remembered; an unknown id is asked about
    again at most every `recheck_s` seconds."""

    def __init__(self, engine: Engine, column: Any, *where: Any, recheck_s: float = 2.0,
                 remembered: int = 1000) -> None:
        self._engine, self._column, self._where = engine, column, where
        self._recheck_s, self._remembered = recheck_s, remembered
        self._known: set[str] = set()
        self._unknown: dict[str, float] = {}  # id -> when last found missing (monotonic), at most `remembered`

    def known(self, id_: str) -> bool:
        if id_ in self._known:
            return True
        asked = self._unknown.get(id_)
        if asked is not None and time.monotonic() - asked < self._recheck_s:
            return False
        with self._engine.connect() as conn:
            found = conn.execute(select(self._column).where(self._column == id_, *self._where)).first() is not None
        if found:
            self._unknown.pop(id_, None)
            self._known.add(id_)
        else:
            if len(self._unknown) >= self._remembered:
                self._unknown.clear()
            self._unknown[id_] = time.monotonic()
        return found


def settle_heap() -> None:
    """For the ingest process, once set up: the pipeline makes a few short-lived objects per message and
    keeps almost none. Collect once and freeze what start-up left (modules, schemas, the engine) so that
    later collections skip it, and collect the young generation every 10,000 allocations instead of 700
    (one batch of 1,000 fixes makes several thousand)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


@dataclass
class _Scope:
    """The live state of the live situation or of one drill: where it is kept, its sequence number, and the
    newest fix of each unit and health of each camera on its screens."""

    store: SnapshotStore
    seq: int
    known_fix: dict[str, int]
    known_health: dict[str, int]  # camera id -> since of the health on its screens

    @classmethod
    def of(cls, store: SnapshotStore) -> _Scope:
        scope = cls(store, 0, {}, {})
        scope.know(store.load())
        return scope

    def know(self, snap: Any) -> None:
        self.seq = snap["seq"]
        self.known_fix = {unit: p["fix"] for unit, p in snap["patrols"].items()}
        self.known_health = {cam: h["since"] for cam, h in snap["cameras"].items()}


class Ingest:
    """Collects messages for at most one window, then persists, applies and pushes them as one delta. A batch
    holding a person's command (a case command: someone waits for its verdict) goes out at once."""

    def __init__(
        self,
        engine: Engine,
        snapshots: SnapshotStore,
        pusher: Pusher,
        *,
        window_s: float = 0.04,
        bounds: Bounds | None = None,
        future_tolerance_s: float = 5.0,
        max_age_s: float | None = None,
        clock: Callable[[], datetime] = utcnow,
        rules: CaseRules | None = None,
        verdicts: VerdictBoard | None = None,
        lease: Lease | None = None,
    ) -> None:
        self._rules = rules or CaseRules()
        self._verdicts = verdicts
        self._lease = lease  # held: every transaction and every write of the live state is fenced by its epoch
        self._batches = 0  # the database's count of ingest transactions, as of this ingest's last one
        self._engine = engine
        self._snapshots = snapshots
        self._pusher = pusher
        self._window_s = window_s
        self._bounds = bounds
        self._future_tolerance_s = future_tolerance_s
        self._max_age_s = max_age_s
        self._categories = frozenset(self._rules.taxonomy.categories)
        self._drills = KnownIds(engine, DrillRow.id)
        self._cameras = KnownIds(engine, Asset.id, Asset.kind == "camera")
        self._clock = clock
        self._scopes: dict[str | None, _Scope] = {None: _Scope.of(snapshots)}
        self.drill_deltas: dict[str, Delta] = {}  # the drills' deltas of the last flush, by drill id
        self._pending: list[FeedMessage] = []
        self._waited_for = False  # a person's command is pending: it goes out now, not at the window's end
        self._rejected: list[Rejection] = []
        self._unacked: list[Any] = []  # deliveries to acknowledge once the batch is committed
        self._last_flush = -math.inf
        self._last_warning = -math.inf
        self.stats: Counter[str] = Counter()

    def receive(self, channel: str, payload: bytes | str) -> None:
        """Decode and filter one payload; what passes waits for the next flush, what does not is kept as a
        dead letter with why. Never raises: whatever a payload holds, it is either pending or refused."""
        try:
            self._receive(channel, payload)
        except Exception as err:
            log.exception("could not take a payload on %s", channel)
            self.refuse(channel, payload, f"could not be taken: {type(err).__name__}: {err}", "decode")

    def refuse(self, channel: str, payload: bytes | str, reason: str, stage: str = "delivery") -> None:
        """Keep a payload the ingest will not take, with why (e.g. a stream entry delivered too often)."""
        rejection = Rejection(channel, as_text(payload), reason, stage)  # type: ignore[arg-type]
        self._rejected.append(rejection)
        self._warn([rejection])

    def _receive(self, channel: str, payload: bytes | str) -> None:
        messages, rejections = decode(channel, payload)
        now = self._clock()
        latest = latest_allowed(now, self._future_tolerance_s)
        if all_plausible_fixes(messages, latest, self._bounds, earliest_allowed(now, self._max_age_s)):
            self._pending.extend(messages)
            messages = []
        for m in messages:
            reason = reject_reason(m, now, self._future_tolerance_s, self._bounds, max_age_s=self._max_age_s,
                                   categories=self._categories)
            if reason is None and m.drill_id is not None and not self._drills.known(m.drill_id):
                reason = f"no such drill {m.drill_id!r}: start it from the trainer console first"
            if reason is None and isinstance(m, CameraStatus) and not self._cameras.known(m.camera_id):
                reason = f"camera {m.camera_id!r} is not in the register of cameras"
            if reason is None:
                self._pending.append(m)
                self._waited_for = self._waited_for or isinstance(m, CaseCommand)
            else:
                rejections.append(Rejection(channel, m.model_dump_json(), reason, "filter"))
        if rejections:
            self._rejected.extend(rejections)
            self._warn(rejections)

    def flush_due_in(self) -> float | None:
        """Seconds until the pending batch should go out (0: now), or None when nothing is pending."""
        if not self._pending and not self._rejected and not self._unacked:
            return None
        if self._waited_for:
            return 0.0
        return max(0.0, self._last_flush + self._window_s - time.monotonic())

    def flush(self) -> Delta | None:
        """Persist the pending batch, then apply and push what was new. Returns the pushed delta."""
        if not self._pending and not self._rejected:
            return None
        firsts: dict[str, FeedMessage] = {}
        for m in self._pending:
            firsts.setdefault(m.id, m)
        unique = list(firsts.values())  # the first of each id, in order
        copies = len(self._pending) - len(unique)  # sent twice within one batch: a replay like any other
        self._pending = unique
        at = self._clock()
        try:
            with self._engine.begin() as conn:
                self._fence(conn)
                written = _persist(conn, self._pending, at, self._rules)
                write_batch(conn, [], self._rejected + written.refused, at)
        except (OperationalError, Fenced):
            raise  # the database is unavailable (keep the batch and retry), or another ingest took over
        except Exception:
            log.warning("a batch of %d could not be written whole; writing it one by one", len(self._pending),
                        exc_info=True)
            written = self._write_one_by_one(at)
        self._rejected.extend(written.refused)
        if written.refused:
            self._warn(written.refused)
        fresh = (self._pending if len(written.new_ids) == len(self._pending)  # all new (ids are distinct then)
                 else [m for m in self._pending if m.id in written.new_ids])
        rejected = len(self._rejected)
        self.stats.update(accepted=len(fresh),
                          duplicate=copies + len(self._pending) - len(fresh) - len(written.refused), rejected=rejected)
        self._pending, self._rejected = [], []  # committed: whatever happens next, never written twice
        self._waited_for = False
        self._last_flush = time.monotonic()
        return self._publish(at, fresh, written, rejected)

    def _publish(self, at: datetime, fresh: list[FeedMessage], written: Written, rejected: int) -> Delta | None:
        """Apply a committed batch to the live state (and the drills') in Redis and push it to the screens.
        A Redis error here leaves the state behind the database: the caller restores it when Redis answers."""
        delta = None
        self.drill_deltas = {}
        groups = by_drill(fresh, written.cases) if fresh or written.cases else {}
        if rejected and None not in groups:
            groups[None] = ([], {})
        for drill_id, (messages, cases) in groups.items():
            scope = self._scope(drill_id)
            pushed = batch_delta(scope.seq + 1, at, messages, rejected if drill_id is None else 0,
                                 scope.known_fix, cases, scope.known_health)
            marked = drill_id is None and self._lease is not None
            scope.store.save(pushed, self._batches if marked else None)  # one transaction with the mark
            scope.seq = pushed["seq"]
            scope.known_fix.update({unit: p["fix"] for unit, p in pushed["patrols"].items()})
            scope.known_health.update({cam: h["since"] for cam, h in pushed["cameras"].items()})
            self._pusher.push(ScreenEvent.DELTA, pushed, room_of(drill_id))
            if drill_id is None:
                delta = pushed
            else:
                self.drill_deltas[drill_id] = pushed
        if self._lease is not None and None not in groups:  # nothing live to save: the mark alone
            self._scopes[None].store.mark(self._batches)
        if written.verdicts and self._verdicts is not None:  # after the push: others know before the sender
            self._verdicts.post(written.verdicts)
        return delta

    def restore(self) -> None:
        """Write the live state (and each drill's this ingest holds) again from the database, the truth, with
        its sequence number moved on by two: every screen sees a gap and loads the new snapshot. Done at start
        and after every Redis outage, when the state kept in Redis may be lost or behind the database."""
        now = self._clock()
        rules = self._rules
        for drill_id in list(self._scopes):
            scope = self._scopes[drill_id]
            recent = getattr(scope.store, "recent", 30)
            with self._engine.connect() as conn:
                snap = state_now(conn, now, drill_id, rules.taxonomy, rules.calendar, recent)
            stored = scope.store.stored_seq()
            if stored is not None:
                snap["counts"] = scope.store.load()["counts"]  # running totals: kept when Redis still has them
            floor = 0  # the live seq never goes back, whatever Redis lost and whichever ingest wrote it last
            if drill_id is None and self._lease is not None:
                with self._engine.connect() as conn:
                    floor = fence_state(conn, ROLE)[2]
            snap["seq"] = max(scope.seq, stored or 0, floor) + 2
            scope.store.replace(snap)
            scope.know(snap)
            if drill_id is None and self._lease is not None:
                with self._engine.begin() as conn:  # the seq it restored at, and the count it holds
                    self._fence(conn)
                scope.store.mark(self._batches)
            log.info("%s restored from the database at seq %d: %d open cases, %d patrols on duty",
                     "live state" if drill_id is None else f"drill {drill_id}", scope.seq, len(snap["cases"]),
                     len(snap["patrols"]))

    def beat(self) -> bool:
        """The heartbeat: tell every screen the feed is alive and at which seq. False when the state kept in
        Redis is not the one this ingest wrote (Redis restarted, lost or older): then it must be restored."""
        at = ms(self._clock())
        whole = True
        for drill_id, scope in self._scopes.items():
            if (scope.store.stored_seq() or 0) != scope.seq:
                whole = False
            # the live beat reaches every screen (a drill's screen too: the feed is one); a drill's only its own
            self._pusher.push(ScreenEvent.HEARTBEAT, {"seq": scope.seq, "at": at, "drill": drill_id},
                              None if drill_id is None else room_of(drill_id))
        return whole

    @property
    def seq(self) -> int:
        """The sequence number of the live state."""
        return self._scopes[None].seq

    def _scope(self, drill_id: str | None) -> _Scope:
        scope = self._scopes.get(drill_id)
        if scope is None:
            assert drill_id is not None
            scope = self._scopes[drill_id] = _Scope.of(self._snapshots.for_drill(drill_id))
        return scope

    def _write_one_by_one(self, at: datetime) -> Written:
        """A batch the database refused: write each message alone; dead-letter those it refuses, with why."""
        total = Written(set(), {}, [])
        for m in self._pending:
            try:
                with self._engine.begin() as conn:
                    self._fence(conn)
                    one = _persist(conn, [m], at, self._rules)
                total.new_ids |= one.new_ids
                total.cases.update(one.cases)
                total.refused.extend(one.refused)
                total.verdicts.extend(one.verdicts)
            except (OperationalError, Fenced):
                raise
            except Exception as err:
                reason = _why_not_stored(err)
                total.refused.append(Rejection(f"cc.{m.kind}", m.model_dump_json(), reason, "persist"))
                if isinstance(m, CaseCommand):
                    total.verdicts.append(Verdict(m.id, m.case_id, Outcome.REFUSED, reason))
        with self._engine.begin() as conn:
            self._fence(conn)
            write_batch(conn, [], self._rejected + total.refused, at)
        return total

    def _fence(self, conn: Connection) -> None:
        """In each of its transactions, when it holds a lease: refused (Fenced) if another ingest took over."""
        if self._lease is not None:
            epoch = self._lease.epoch
            if epoch is None:
                raise Fenced("the ingest lease is not held: nothing is written")
            self._batches = fence_batch(conn, ROLE, epoch, self._scopes[None].seq + 1)

    def take_over(self) -> bool:
        """Just after taking the lease, before anything else: fence the database against the ingest that held
        it, and go on from the live state in Redis at its seq when it holds every transaction the database
        has (True: the screens carry on with the next delta); else restore it from the database (False)."""
        with self._engine.begin() as conn:
            self._fence(conn)
        store = self._scopes[None].store
        if store.stored_seq() is not None and store.marked() == self._batches - 1:
            store.mark(self._batches)
            log.info("taking over at seq %d: the live state in Redis is whole", self.seq)
            return True
        log.info("taking over: the live state in Redis is behind the database (or gone); restoring it")
        self.restore()
        return False

    def run(self, subscription: Subscription, stop: threading.Event, *, beat_s: float = 1.0,
            restore_first: bool = False) -> None:
        """The loop: never dies on bad input. A database outage is retried with capped backoff, the batch
        kept. A Redis outage is ridden out: what was committed stays committed, durable deliveries are
        acknowledged once Redis answers, and the live state is restored from the database then."""
        backoff = 0.0
        lost = Outage("Redis (live state, push, acknowledgements)", log)
        restore = restore_first
        next_beat = time.monotonic()
        while not stop.is_set():
            try:
                if restore:
                    self.restore()
                    restore = False
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + beat_s
                    restore = not self.beat()
                    if restore:
                        continue
                due = self.flush_due_in()
                item = subscription.get(timeout=min(beat_s, 0.5) if due is None else min(due, beat_s))
                if item is not None:
                    self._take(item)
                if self.flush_due_in() == 0.0:
                    self._take_waiting(subscription)
                    try:
                        self._flush_and_ack(subscription)
                        if backoff:
                            log.warning("database writes restored")
                        backoff = 0.0
                    except SQLAlchemyError as err:
                        if not backoff:
                            log.error("database write failed, keeping %d messages and retrying: %s",
                                      len(self._pending), err)
                        backoff = min(5.0, (backoff or 0.1) * 2)
                        stop.wait(backoff)
                lost.ok()
            except redis.RedisError as err:
                restore = True
                stop.wait(lost.failed(err))
        try:
            self._flush_and_ack(subscription)
        except (SQLAlchemyError, redis.RedisError) as err:
            log.error("final flush failed, %d messages not written (durable ones will be re-read): %s",
                      len(self._pending), err)

    def _take(self, item: Delivery) -> None:
        if item.refused:
            self.refuse(item.channel, item.payload, item.refused)
        else:
            self.receive(item.channel, item.payload)
        if item.token is not None:
            self._unacked.append(item.token)

    def _take_waiting(self, subscription: Subscription) -> None:
        """As a batch goes out, what already waits joins it (up to BATCH_MAX messages): an ingest that has
        fallen behind writes big batches and catches up, rather than one payload per transaction (a commit of
        tens of ms each, while the fixes of a city arrive at 10,000 a second)."""
        while len(self._pending) + len(self._rejected) < BATCH_MAX:
            item = subscription.get(timeout=0)
            if item is None:
                return
            self._take(item)

    def _flush_and_ack(self, subscription: Subscription) -> None:
        self.flush()
        if self._unacked:
            subscription.ack(self._unacked)
            self._unacked = []

    def _warn(self, rejections: list[Rejection]) -> None:
        now = time.monotonic()
        if now - self._last_warning >= 10.0:  # the first one at once, then at most one line per 10 s
            r = rejections[0]
            log.warning("rejected %d on %s (%s): %s", len(rejections), r.channel, r.stage, r.reason)
            self._last_warning = now


def _why_not_stored(err: Exception) -> str:
    if isinstance(err, DBAPIError):
        said = str(err.orig).strip().splitlines()
        return f"the database refused it: {said[0] if said else type(err.orig).__name__}"
    return f"could not be stored: {type(err).__name__}: {str(err)[:300]}"
