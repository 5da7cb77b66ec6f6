"""The bus: publish payloads on channels, subscribe to them. Redis pub/sub, or an in-memory twin for tests."""
from __future__ import annotations

import queue
import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

import redis

from feeds.schemas import FeedMessage, channel_for, encode


class Subscription(Protocol):
    def get(self, timeout: float) -> tuple[str, bytes] | None:
        """The next (channel, payload), or None when nothing came within timeout seconds."""

    def close(self) -> None: ...


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


class RedisSubscription:
    def __init__(self, client: redis.Redis, channels: Iterable[str]) -> None:
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(*channels)

    def get(self, timeout: float) -> tuple[str, bytes] | None:
        msg = self._pubsub.get_message(timeout=timeout)
        if msg is None or msg["type"] != "message":
            return None
        channel = msg["channel"]
        return (channel.decode() if isinstance(channel, bytes) else channel), msg["data"]

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


class MemorySubscription:
    def __init__(self, bus: MemoryBus, channels: Iterable[str]) -> None:
        self._bus = bus
        self.channels = frozenset(channels)
        self.inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()

    def get(self, timeout: float) -> tuple[str, bytes] | None:
        try:
            return self.inbox.get(timeout=timeout)
        except queue.Empty:
            return None

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
            sub.inbox.put((channel, payload))

    def subscribe(self, channels: Iterable[str]) -> MemorySubscription:
        sub = MemorySubscription(self, channels)
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: MemorySubscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
