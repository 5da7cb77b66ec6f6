"""Where the live snapshot is kept for screens to load: Redis (shared by processes), or memory (tests)."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import orjson
import redis

from feeds.bus.lease import Fenced, Lease
from feeds.ingest.state import COUNTERS, Delta, Snapshot, apply_delta, empty_snapshot

PREFIX = "cc:live:"
KEYS = ("seq", "at", "patrols", "incidents", "alerts", "counts", "cases", "cameras")  # the keys of one snapshot


class SnapshotStore(Protocol):
    def load(self) -> Snapshot: ...

    def encoded(self) -> bytes:
        """The snapshot as the JSON body a screen loads."""

    def save(self, delta: Delta, batches: int | None = None) -> None:
        """Record one delta (the next in sequence) atomically, and with it `batches` as `mark` would."""

    def replace(self, snapshot: Snapshot) -> None:
        """Put a whole snapshot in place of the one kept, atomically (rebuilt from the database)."""

    def stored_seq(self) -> int | None:
        """The sequence number kept; None when there is no snapshot at all (e.g. Redis restarted empty)."""

    def for_drill(self, drill_id: str) -> SnapshotStore:
        """The store of one drill's live state, apart from the live one."""

    def mark(self, batches: int) -> None:
        """Record that the state holds the database's first `batches` ingest transactions."""

    def marked(self) -> int | None:
        """The count `mark` recorded last (None: none): equal to the database's, the state is not behind it."""


class MemorySnapshotStore:
    def __init__(self, recent: int = 30) -> None:
        self.recent = recent
        self.snapshot = empty_snapshot()
        self._drills: dict[str, MemorySnapshotStore] = {}

    def load(self) -> Snapshot:
        return self.snapshot

    def encoded(self) -> bytes:
        return orjson.dumps(self.snapshot)

    def save(self, delta: Delta, batches: int | None = None) -> None:
        self.snapshot = apply_delta(self.snapshot, delta, self.recent)
        if batches is not None:
            self.batches = batches

    def replace(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def stored_seq(self) -> int | None:
        return self.snapshot["seq"]

    def for_drill(self, drill_id: str) -> MemorySnapshotStore:
        return self._drills.setdefault(drill_id, MemorySnapshotStore(self.recent))

    def mark(self, batches: int) -> None:
        self.batches = batches

    def marked(self) -> int | None:
        return getattr(self, "batches", None)


def drill_prefix(drill_id: str) -> str:
    return f"cc:drill:{drill_id}:"


class RedisSnapshotStore:
    """The snapshot as a few Redis keys, written in one MULTI/EXEC per delta and read in one. The live
    state's keys start with `cc:live:`; each drill's with `cc:drill:<id>:`.

    Given the writer's `lease` (feeds/bus/lease.py), every write is fenced: the transaction WATCHes the lease
    and is given up (Fenced) when another took the lease since this writer did, or takes it before it commits."""

    def __init__(self, client: redis.Redis, recent: int = 30, prefix: str = PREFIX,
                 lease: Lease | None = None) -> None:
        self._r = client
        self.recent = recent
        self.prefix = prefix
        self.lease = lease

    def for_drill(self, drill_id: str) -> RedisSnapshotStore:
        return RedisSnapshotStore(self._r, self.recent, drill_prefix(drill_id), self.lease)

    def save(self, delta: Delta, batches: int | None = None) -> None:
        def write(p: Any) -> None:
            self._write(p, delta)
            if batches is not None:
                p.set(self.prefix + "batches", batches)
        self._commit(write)

    def replace(self, snapshot: Snapshot) -> None:
        """The snapshot written as one delta onto nothing, in the same transaction that clears the old one."""
        def write(p: Any) -> None:
            p.delete(*[self.prefix + k for k in KEYS])
            self._write(p, Delta(**snapshot))  # type: ignore[typeddict-item]
        self._commit(write)

    def mark(self, batches: int) -> None:
        self._commit(lambda p: p.set(self.prefix + "batches", batches))

    def marked(self) -> int | None:
        raw = self._r.get(self.prefix + "batches")
        return None if raw is None else int(raw)

    def _commit(self, write: Callable[[Any], Any]) -> None:
        lease = self.lease
        if lease is None:
            p = self._r.pipeline(transaction=True)
            write(p)
            p.execute()
            return
        with self._r.pipeline(transaction=True) as p:
            # the epoch count moves on every taking of the lease, and only then: watching it (not the lease,
            # which each renewal touches) fences a write against a take-over, never against a renewal
            p.watch(lease.epoch_key)
            if lease.epoch is None or p.get(lease.epoch_key) != str(lease.epoch).encode():
                raise Fenced(f"the {lease.role} lease is not {lease.holder}'s any more: the live state is not written")
            p.multi()
            write(p)
            try:
                p.execute()
            except redis.WatchError:
                raise Fenced(f"the {lease.role} lease was taken over while {lease.holder} wrote: given up") from None

    def _write(self, p: Any, delta: Delta) -> None:
        p.set(self.prefix + "seq", delta["seq"])
        p.set(self.prefix + "at", delta["at"])
        if delta["patrols"]:
            p.hset(self.prefix + "patrols", mapping=_encoded(delta["patrols"]))
        for key in ("incidents", "alerts"):
            items = delta[key]
            if items:
                p.lpush(self.prefix + key, *[_compact(i) for i in reversed(items)])
                p.ltrim(self.prefix + key, 0, self.recent - 1)
        opened = {k: _compact(v) for k, v in delta["cases"].items() if v is not None}
        if opened:
            p.hset(self.prefix + "cases", mapping=opened)
        gone = [k for k, v in delta["cases"].items() if v is None]
        if gone:
            p.hdel(self.prefix + "cases", *gone)
        if delta["cameras"]:
            p.hset(self.prefix + "cameras", mapping={k: _compact(v) for k, v in delta["cameras"].items()})
        for name, inc in delta["counts"].items():
            if inc:
                p.hincrby(self.prefix + "counts", name, inc)

    def stored_seq(self) -> int | None:
        raw = self._r.get(self.prefix + "seq")
        return None if raw is None else int(raw)

    def _read(self) -> _Stored:
        p = self._r.pipeline(transaction=True)
        p.get(self.prefix + "seq")
        p.get(self.prefix + "at")
        p.hgetall(self.prefix + "patrols")
        p.lrange(self.prefix + "incidents", 0, self.recent - 1)
        p.lrange(self.prefix + "alerts", 0, self.recent - 1)
        p.hgetall(self.prefix + "counts")
        p.hgetall(self.prefix + "cases")
        p.hgetall(self.prefix + "cameras")
        return _Stored(*p.execute())

    def load(self) -> Snapshot:
        stored = self._read()
        counts = {_s(k): int(v) for k, v in stored.counts.items()}
        return Snapshot(
            seq=int(stored.seq or 0),
            at=int(stored.at or 0),
            patrols={_s(k): json.loads(v) for k, v in stored.patrols.items()},
            incidents=[json.loads(i) for i in stored.incidents],
            alerts=[json.loads(a) for a in stored.alerts],
            counts={k: counts.get(k, 0) for k in COUNTERS},
            cases={_s(k): json.loads(v) for k, v in stored.cases.items()},
            cameras={_s(k): json.loads(v) for k, v in stored.cameras.items()},
        )

    def encoded(self) -> bytes:
        """The same snapshot as `load`, encoded from the stored JSON values as they are: a city's thousands
        of open cases are copied into the body, not decoded and encoded again."""
        stored = self._read()
        counts = {_s(k): int(v) for k, v in stored.counts.items()}
        return b"".join([
            b'{"seq":', orjson.dumps(int(stored.seq or 0)), b',"at":', orjson.dumps(int(stored.at or 0)),
            b',"patrols":', _json_object(stored.patrols), b',"incidents":', _json_array(stored.incidents),
            b',"alerts":', _json_array(stored.alerts),
            b',"counts":', orjson.dumps({k: counts.get(k, 0) for k in COUNTERS}),
            b',"cases":', _json_object(stored.cases), b',"cameras":', _json_object(stored.cameras), b"}",
        ])

    def clear(self) -> None:
        self._r.delete(*[self.prefix + k for k in KEYS])


class _Stored(NamedTuple):
    """The snapshot's keys as Redis returns them: each patrol, case, incident and alert a JSON text."""
    seq: bytes | None
    at: bytes | None
    patrols: dict[bytes, bytes]
    incidents: list[bytes]
    alerts: list[bytes]
    counts: dict[bytes, bytes]
    cases: dict[bytes, bytes]
    cameras: dict[bytes, bytes]


def _json_object(items: dict[bytes, bytes]) -> bytes:
    """A JSON object of stored values that are JSON texts already (their keys encoded, the values copied)."""
    dumps = orjson.dumps
    return b"{" + b",".join(dumps(_s(k)) + b":" + _b(v) for k, v in items.items()) + b"}"


def _json_array(items: list[bytes]) -> bytes:
    return b"[" + b",".join(_b(i) for i in items) + b"]"


def _b(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _encoded(views: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The busy key's values (one per unit that moved, up to thousands a batch), encoded with orjson. Each
    is taken as str at once: orjson's bytes are cut down from a 1 KiB buffer, and holding a thousand of
    those costs more in allocation than the encoding itself."""
    dumps = orjson.dumps
    return {k: dumps(v).decode() for k, v in views.items()}


def _compact(value: Any) -> str:
    """A stored JSON text without blanks: the snapshot body is made of these as they are."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
