"""Where the live snapshot is kept for screens to load: Redis (shared by processes), or memory (tests)."""
from __future__ import annotations

import json
from typing import Any, Protocol

import orjson
import redis

from feeds.state import COUNTERS, Delta, Snapshot, apply_delta, empty_snapshot

PREFIX = "cc:live:"


class SnapshotStore(Protocol):
    def load(self) -> Snapshot: ...

    def save(self, delta: Delta) -> None:
        """Record one delta (the next in sequence) atomically."""

    def for_drill(self, drill_id: str) -> SnapshotStore:
        """The store of one drill's live state, apart from the live one."""


class MemorySnapshotStore:
    def __init__(self, recent: int = 30) -> None:
        self.recent = recent
        self.snapshot = empty_snapshot()
        self._drills: dict[str, MemorySnapshotStore] = {}

    def load(self) -> Snapshot:
        return self.snapshot

    def save(self, delta: Delta) -> None:
        self.snapshot = apply_delta(self.snapshot, delta, self.recent)

    def for_drill(self, drill_id: str) -> MemorySnapshotStore:
        return self._drills.setdefault(drill_id, MemorySnapshotStore(self.recent))


def drill_prefix(drill_id: str) -> str:
    return f"cc:drill:{drill_id}:"


class RedisSnapshotStore:
    """The snapshot as a few Redis keys, written in one MULTI/EXEC per delta and read in one. The live
    state's keys start with `cc:live:`; each drill's with `cc:drill:<id>:`."""

    def __init__(self, client: redis.Redis, recent: int = 30, prefix: str = PREFIX) -> None:
        self._r = client
        self.recent = recent
        self.prefix = prefix

    def for_drill(self, drill_id: str) -> RedisSnapshotStore:
        return RedisSnapshotStore(self._r, self.recent, drill_prefix(drill_id))

    def save(self, delta: Delta) -> None:
        p = self._r.pipeline(transaction=True)
        p.set(self.prefix + "seq", delta["seq"])
        p.set(self.prefix + "at", delta["at"])
        if delta["patrols"]:
            p.hset(self.prefix + "patrols", mapping=_encoded(delta["patrols"]))
        for key in ("incidents", "alerts"):
            items = delta[key]  # type: ignore[literal-required]
            if items:
                p.lpush(self.prefix + key, *[json.dumps(i, ensure_ascii=False) for i in reversed(items)])
                p.ltrim(self.prefix + key, 0, self.recent - 1)
        opened = {k: json.dumps(v, ensure_ascii=False) for k, v in delta["cases"].items() if v is not None}
        if opened:
            p.hset(self.prefix + "cases", mapping=opened)
        gone = [k for k, v in delta["cases"].items() if v is None]
        if gone:
            p.hdel(self.prefix + "cases", *gone)
        for name, inc in delta["counts"].items():
            if inc:
                p.hincrby(self.prefix + "counts", name, inc)
        p.execute()

    def load(self) -> Snapshot:
        p = self._r.pipeline(transaction=True)
        p.get(self.prefix + "seq")
        p.get(self.prefix + "at")
        p.hgetall(self.prefix + "patrols")
        p.lrange(self.prefix + "incidents", 0, self.recent - 1)
        p.lrange(self.prefix + "alerts", 0, self.recent - 1)
        p.hgetall(self.prefix + "counts")
        p.hgetall(self.prefix + "cases")
        seq, at, patrols, incidents, alerts, counts, cases = p.execute()
        stored = {_s(k): int(v) for k, v in counts.items()}
        return Snapshot(
            seq=int(seq or 0),
            at=int(at or 0),
            patrols={_s(k): json.loads(v) for k, v in patrols.items()},
            incidents=[json.loads(i) for i in incidents],
            alerts=[json.loads(a) for a in alerts],
            counts={k: stored.get(k, 0) for k in COUNTERS},
            cases={_s(k): json.loads(v) for k, v in cases.items()},
        )

    def clear(self) -> None:
        self._r.delete(*[self.prefix + k for k in ("seq", "at", "patrols", "incidents", "alerts", "counts", "cases")])


def _encoded(views: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The busy key's values (one per unit that moved, up to thousands a batch), encoded with orjson. Each
    is taken as str at once: orjson's bytes are cut down from a 1 KiB buffer, and holding a thousand of
    those costs more in allocation than the encoding itself."""
    dumps = orjson.dumps
    return {k: dumps(v).decode() for k, v in views.items()}


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
