"""The bus: publish payloads on channels, subscribe to them.

Two ways in, one interface: plain Redis pub/sub (fire and forget, what existing producers do) and Redis
Streams with a consumer group (durable: a delivery is acknowledged only after the ingest has committed
it, and what was delivered but not acknowledged is delivered again after a restart). An in-memory twin
serves unit tests.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol

import redis

from feeds.outage import Outage
from feeds.schemas import CHANNEL_PREFIX, FeedMessage, as_text, channel_for, encode

log = logging.getLogger(__name__)
STREAM_PREFIX = "cc.stream."
INGEST_GROUP = "ingest"
MAX_DELIVERIES = 5  # a stream entry taken back more often than this is set aside as a dead letter
STALE_AFTER_S = 10.0  # an entry another consumer holds unacknowledged this long is taken over


class Delivery(NamedTuple):
    channel: str
    payload: bytes
    token: Any = None  # what to acknowledge once the payload is committed; None for fire-and-forget
    refused: str | None = None  # why the bus will not hand this payload on (kept as a dead letter, then acked)


class Subscription(Protocol):
    def get(self, timeout: float) -> Delivery | None:
        """The next delivery, or None when nothing came within timeout seconds."""

    def ack(self, tokens: Sequence[Any]) -> None:
        """Acknowledge deliveries whose payloads are committed (a no-op for fire-and-forget sources)."""

    def close(self) -> None: ...


def stream_for(channel: str) -> str:
    """cc.patrol_position -> cc.stream.patrol_position"""
    return STREAM_PREFIX + channel.removeprefix(CHANNEL_PREFIX)


def channel_of(stream: str) -> str:
    return CHANNEL_PREFIX + stream.removeprefix(STREAM_PREFIX)


class Bus(Protocol):
    def publish(self, channel: str, payload: bytes) -> None: ...

    def subscribe(self, channels: Iterable[str]) -> Subscription: ...


def publish_messages(bus: Bus, messages: Iterable[FeedMessage]) -> int:
    """Publish messages batched per channel (one JSON array per kind). Returns the number published."""
    by_kind: dict[str, list[FeedMessage]] = defaultdict(list)
    for m in messages:
        by_kind[m.kind].append(m)
    for kind, batch in by_kind.items():
        bus.publish(channel_for(kind), encode(batch))
    return sum(len(b) for b in by_kind.values())


def producer_bus(client: redis.Redis, transport: str, stream_maxlen: int = 100_000, replicas: int = 0) -> Bus:
    """The bus a producer publishes on: "pubsub" (fire and forget) or "streams" (durable; with `replicas`, an
    entry counts once that many replicas hold it)."""
    return StreamBus(client, stream_maxlen, replicas=replicas) if transport == "streams" else RedisBus(client)


class RedisSubscription:
    def __init__(self, client: redis.Redis, channels: Iterable[str]) -> None:
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(*channels)

    def get(self, timeout: float) -> Delivery | None:
        msg = self._pubsub.get_message(timeout=timeout)
        if msg is None or msg["type"] != "message":
            return None
        channel = msg["channel"]
        return Delivery(channel.decode() if isinstance(channel, bytes) else channel, msg["data"])

    def ack(self, tokens: Sequence[Any]) -> None:
        pass

    def close(self) -> None:
        self._pubsub.close()


class RedisBus:
    """Plain Redis pub/sub: what existing producers do, fire and forget."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def publish(self, channel: str, payload: bytes) -> None:
        self._client.publish(channel, payload)

    def subscribe(self, channels: Iterable[str]) -> RedisSubscription:
        return RedisSubscription(self._client, channels)


class StreamBus:
    """Redis Streams: XADD to cc.stream.<kind>, trimmed to about `maxlen` entries per stream.

    With `replicas`, a publish counts only once that many replicas hold it too (WAIT, up to `wait_ms`): else it
    raises, and the producer publishes it again (its id makes a second copy change nothing). Replication is
    asynchronous, so without it a primary that dies may take the last entries it took with it (docs/deployment.md)."""

    def __init__(self, client: redis.Redis, maxlen: int = 100_000, *, replicas: int = 0, wait_ms: int = 500) -> None:
        self._client = client
        self._maxlen = maxlen
        self._replicas, self._wait_ms = replicas, wait_ms

    def publish(self, channel: str, payload: bytes) -> None:
        if not self._replicas:
            self._client.xadd(stream_for(channel), {"payload": payload}, maxlen=self._maxlen, approximate=True)
            return
        p = self._client.pipeline(transaction=False)  # one connection: WAIT waits for what it just wrote
        p.xadd(stream_for(channel), {"payload": payload}, maxlen=self._maxlen, approximate=True)
        p.execute_command("WAIT", self._replicas, self._wait_ms)
        confirmed = p.execute()[-1]
        if confirmed < self._replicas:
            raise redis.RedisError(f"{stream_for(channel)}: {confirmed} of {self._replicas} replicas confirmed "
                                   f"the entry within {self._wait_ms} ms: publish it again")

    def subscribe(self, channels: Iterable[str], consumer: str = "ingest-1") -> StreamSubscription:
        return StreamSubscription(self._client, channels, consumer=consumer)


class StreamSubscription:
    """One consumer of the ingest's consumer group. First it takes back what it was given before and never
    acknowledged (a restart after a crash), then new entries.

    An entry is handed on at most `max_deliveries` times: one that was taken back more often (an ingest that
    stopped each time it held it) is handed on as refused, to be kept as a dead letter and acknowledged, so a
    poison entry cannot stop the ingest at every start. So is an entry without a payload. When Redis comes
    back without the group (restarted without its data), the group is made again and reading goes on."""

    def __init__(self, client: redis.Redis, channels: Iterable[str], *, group: str = INGEST_GROUP,
                 consumer: str = "ingest-1", count: int = 500, max_deliveries: int = MAX_DELIVERIES,
                 stale_after_s: float = STALE_AFTER_S) -> None:
        self._client, self._group, self._consumer, self._count = client, group, consumer, count
        self._max_deliveries = max_deliveries
        self._stale_ms = int(stale_after_s * 1000)
        self._next_sweep = time.monotonic() + stale_after_s
        self._streams = [stream_for(c) for c in channels]
        self._cursors: dict[str, str] = {}
        self._make_groups()
        self._buffer: list[Delivery] = []

    def _make_groups(self) -> None:
        for stream in self._streams:
            try:
                self._client.xgroup_create(stream, self._group, id="0", mkstream=True)
            except redis.ResponseError as err:
                if "BUSYGROUP" not in str(err):
                    raise
        # per stream: first our own pending entries (from "0", then after the last one seen), then ">"
        self._cursors = dict.fromkeys(self._streams, "0")

    def get(self, timeout: float) -> Delivery | None:
        if not self._buffer and time.monotonic() >= self._next_sweep:
            self._sweep()
        if not self._buffer:
            self._read(timeout)
        return self._buffer.pop(0) if self._buffer else None

    def _sweep(self) -> None:
        """Take what another consumer was given and left unacknowledged for `stale_after_s` (an ingest that
        read an entry in the moment before it learned it had been taken over, then stood by): XCLAIM hands
        the entries over, counted as delivered once more."""
        self._next_sweep = time.monotonic() + self._stale_ms / 1000
        for stream in self._streams:
            ids = held_by_others(self._client, stream, self._group, self._consumer, self._stale_ms)
            if not ids:
                continue
            entries: Any = self._client.xclaim(stream, self._group, self._consumer, self._stale_ms, ids)
            times = self._times_delivered(stream, entries) if entries else {}
            for entry_id, fields in entries:
                self._buffer.append(self._delivery(stream, entry_id, fields, times.get(entry_id, 1)))
            log.warning("%s: took %d entries another consumer left unacknowledged for %.0f s", stream,
                        len(entries), self._stale_ms / 1000)

    def _read(self, timeout: float) -> None:
        recovering = [s for s, c in self._cursors.items() if c != ">"]
        block = None if recovering or timeout <= 0 else max(1, int(timeout * 1000))
        try:
            streams: dict[Any, Any] = dict(self._cursors)
            replies: Any = self._client.xreadgroup(self._group, self._consumer, streams, count=self._count, block=block)
        except redis.ResponseError as err:
            if "NOGROUP" not in str(err):
                raise
            log.warning("the consumer group %r is gone (Redis restarted without its data?): making it again",
                        self._group)
            self._make_groups()
            return
        seen: dict[str, int] = {}
        for stream, entries in replies or []:
            name = stream.decode() if isinstance(stream, bytes) else stream
            seen[name] = len(entries)
            history = self._cursors[name] != ">"
            times = self._times_delivered(name, entries) if history and entries else {}
            for entry_id, fields in entries:
                if history:
                    self._cursors[name] = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                self._buffer.append(self._delivery(name, entry_id, fields, times.get(entry_id, 1)))
        for name in recovering:
            if not seen.get(name):
                self._cursors[name] = ">"
            else:
                log.info("%s: re-reading %d entries delivered before and never acknowledged", name, seen[name])

    def _times_delivered(self, stream: str, entries: list[Any]) -> dict[Any, int]:
        """How often each of these pending entries was delivered (this read included)."""
        pending = self._client.xpending_range(stream, self._group, min=entries[0][0], max=entries[-1][0],
                                              count=len(entries), consumername=self._consumer)
        return {p["message_id"]: int(p["times_delivered"]) for p in pending}

    def _delivery(self, stream: str, entry_id: Any, fields: dict[Any, Any] | None, times: int) -> Delivery:
        channel, token = channel_of(stream), (stream, entry_id)
        payload = fields.get(b"payload", fields.get("payload")) if fields else None
        if payload is None:
            shown = repr({as_text(k): as_text(v) for k, v in (fields or {}).items()})[:2000]
            return Delivery(channel, shown.encode(), token, "stream entry without a payload field")
        if times > self._max_deliveries:
            return Delivery(channel, payload, token,
                            f"delivered {times} times and never committed (the ingest stopped each time it "
                            f"held it): set aside after {self._max_deliveries}")
        return Delivery(channel, payload, token)

    def ack(self, tokens: Sequence[Any]) -> None:
        by_stream: dict[str, list[Any]] = defaultdict(list)
        for stream, entry_id in tokens:
            by_stream[stream].append(entry_id)
        if by_stream:
            p = self._client.pipeline(transaction=False)
            for stream, ids in by_stream.items():
                p.xack(stream, self._group, *ids)
            try:
                p.execute()
            except redis.ResponseError as err:  # the group is gone with its entries: nothing left to ack
                log.warning("could not acknowledge %d entries: %s", len(tokens), err)

    def close(self) -> None:
        pass


def held_by_others(client: redis.Redis, stream: str, group: str, consumer: str, min_idle_ms: int = 0,
                   page: int = 1000) -> list[Any]:
    """The ids of the entries of `stream` given to the group's other consumers, idle at least `min_idle_ms`,
    and never acknowledged (XPENDING with IDLE)."""
    ids: list[Any] = []
    start: Any = "-"
    while True:
        try:
            pending = client.xpending_range(stream, group, min=start, max="+", count=page, idle=min_idle_ms)
        except redis.ResponseError as err:
            if "NOGROUP" in str(err):
                return ids  # no group yet: nothing was given to anyone
            raise
        ids += [p["message_id"] for p in pending if as_text(p["consumer"]) != consumer]
        if len(pending) < page:
            return ids
        start = "(" + as_text(pending[-1]["message_id"])  # after the last one (exclusive range, Redis 6.2+)


def claim_pending(client: redis.Redis, channels: Iterable[str], consumer: str, group: str = INGEST_GROUP) -> int:
    """Take over what the group's other consumers were given and never acknowledged (an ingest that died or
    was fenced): XCLAIM moves each such entry to `consumer`, which then reads it as its own from "0". Entries
    already trimmed from their stream are dropped from the group by Redis. Returns how many."""
    claimed = 0
    for stream in (stream_for(c) for c in channels):
        ids = held_by_others(client, stream, group, consumer)
        for start in range(0, len(ids), 1000):
            claimed += len(client.xclaim(stream, group, consumer, 0, ids[start:start + 1000], justid=True))
    if claimed:
        log.info("took over %d stream entries another consumer held and never acknowledged", claimed)
    return claimed


class Backlog(NamedTuple):
    """What waits in a process between the bus and its pipeline: how many payloads, their bytes, and how long
    the oldest has waited."""
    payloads: int
    bytes: int
    oldest_s: float


class Merged:
    """Several subscriptions read as one (pub/sub and streams into the same pipeline), through one inbox
    bounded in bytes: when the pipeline falls behind, the reading threads wait (a stream's entries stay in
    Redis; a subscriber that stops reading is cut off by Redis past its output buffer limit, which loses pub/sub
    messages, as fire and forget does) instead of the process holding an unbounded backlog. `backlog()` says
    what waits."""

    def __init__(self, subscriptions: Sequence[Subscription], max_bytes: int = 64 * 2**20) -> None:
        self._subs = list(subscriptions)
        self._max_bytes = max_bytes
        self._inbox: deque[tuple[float, Delivery]] = deque()
        self._bytes = 0
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._pump, args=(i,), daemon=True, name=f"bus-{i}")
                         for i in range(len(self._subs))]
        for t in self._threads:
            t.start()

    def _pump(self, index: int) -> None:
        sub = self._subs[index]
        outage = Outage(f"bus source {index} ({type(sub).__name__})", log, cap_s=1.0)
        while not self._stop.is_set():
            try:
                d = sub.get(0.5)
            except Exception as err:
                if self._stop.is_set():
                    return
                self._stop.wait(outage.failed(err))
                continue
            outage.ok()
            if d is not None:
                self._put(d._replace(token=None if d.token is None else (index, d.token)))

    def _put(self, d: Delivery) -> None:
        size = len(d.payload)
        with self._changed:
            while self._bytes and self._bytes + size > self._max_bytes and not self._stop.is_set():
                self._changed.wait(0.5)
            self._inbox.append((time.monotonic(), d))
            self._bytes += size
            self._changed.notify_all()

    def get(self, timeout: float) -> Delivery | None:
        with self._changed:
            if not self._inbox and not self._changed.wait_for(lambda: bool(self._inbox), timeout):
                return None
            _, d = self._inbox.popleft()
            self._bytes -= len(d.payload)
            self._changed.notify_all()
            return d

    def backlog(self) -> Backlog:
        with self._changed:
            oldest = time.monotonic() - self._inbox[0][0] if self._inbox else 0.0
            return Backlog(len(self._inbox), self._bytes, oldest)

    def ack(self, tokens: Sequence[Any]) -> None:
        by_source: dict[int, list[Any]] = defaultdict(list)
        for index, token in tokens:
            by_source[index].append(token)
        for index, group in by_source.items():
            self._subs[index].ack(group)

    def close(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        for t in self._threads:
            t.join(2)
        for sub in self._subs:
            sub.close()


class MemorySubscription:
    def __init__(self, bus: MemoryBus, channels: Iterable[str]) -> None:
        self._bus = bus
        self.channels = frozenset(channels)
        self.inbox: queue.Queue[Delivery] = queue.Queue()

    def get(self, timeout: float) -> Delivery | None:
        try:
            return self.inbox.get(timeout=timeout)
        except queue.Empty:
            return None

    def ack(self, tokens: Sequence[Any]) -> None:
        pass

    def close(self) -> None:
        self._bus.unsubscribe(self)


class MemoryBus:
    """Same interface as RedisBus, in one process: delivers to every current subscriber of the channel."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: list[MemorySubscription] = []

    def publish(self, channel: str, payload: bytes) -> None:
        with self._lock:
            targets = [s for s in self._subs if channel in s.channels]
        for sub in targets:
            sub.inbox.put(Delivery(channel, payload))

    def subscribe(self, channels: Iterable[str]) -> MemorySubscription:
        sub = MemorySubscription(self, channels)
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: MemorySubscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
