"""One active process of a kind (the ingest, the escalator, the KPI board, the drill desk), the others standing by.

The active one holds a lease in Redis (`cc:lease:<role>`, a value naming it and its epoch, with a time to
live) and renews it; a standby takes it when it lapses. Every taking gives a new epoch, one more than any
before (`cc:lease:<role>:epoch`, never below the newest the store has seen): the fencing token. Where the
holder writes, the write carries the epoch and the store refuses one older than the newest it has seen (the
database: feeds.store.writes.fence_batch; the live state in Redis: the transaction is WATCHed on the lease and
given up when the lease changed). So a holder that was paused past its lease and wakes cannot write over the
one that took over; it learns it was fenced and stands by again. Redis 7.0 commands only (SET PX, INCR, a Lua
script for compare-and-renew).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import redis

log = logging.getLogger(__name__)
PREFIX = "cc:lease:"

# take the lease if nobody holds it: a new epoch, and the lease naming the holder and its epoch
_ACQUIRE = """
local held = redis.call('GET', KEYS[1])
if held then
  if string.sub(held, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '@' then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(string.sub(held, string.len(ARGV[1]) + 2))
  end
  return false
end
local epoch = redis.call('INCR', KEYS[2])
if epoch <= tonumber(ARGV[3]) then  -- Redis lost its count (restarted empty, or a replica promoted behind)
  epoch = tonumber(ARGV[3]) + 1
  redis.call('SET', KEYS[2], epoch)
end
redis.call('SET', KEYS[1], ARGV[1] .. '@' .. epoch, 'PX', ARGV[2])
return epoch
"""
# keep it only while it is still ours, at this epoch
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Fenced(RuntimeError):
    """This process's lease was taken over: what it was about to write was refused, and it must stand by."""


@dataclass
class Lease:
    client: redis.Redis
    role: str  # e.g. "ingest"
    holder: str  # this process's name, e.g. "ingest-1"
    ttl_s: float = 3.0
    epoch: int | None = None  # while held: the fencing token of this holding
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def key(self) -> str:
        return PREFIX + self.role

    @property
    def value(self) -> bytes | None:
        """What the lease key holds while this process holds it."""
        return None if self.epoch is None else f"{self.holder}@{self.epoch}".encode()

    def acquire(self, floor: int = 0) -> int | None:
        """Take the lease if it is free (or already ours): its epoch, above `floor` (the newest epoch the store
        has seen, so that an epoch count Redis lost cannot start again below it); None while another holds it."""
        got = self.client.eval(_ACQUIRE, 2, self.key, self.key + ":epoch", self.holder, int(self.ttl_s * 1000),
                               floor)
        with self._lock:
            self.epoch = None if got is None else int(got)
        return self.epoch

    def renew(self) -> bool:
        """Keep the lease for another ttl; False (and not held any more) when it was lost."""
        value = self.value
        if value is None:
            return False
        if self.client.eval(_RENEW, 1, self.key, value, int(self.ttl_s * 1000)):
            return True
        with self._lock:
            self.epoch = None
        return False

    def release(self) -> None:
        """Give the lease up at once (a clean stop): a standby takes over without waiting for it to lapse."""
        value = self.value
        if value is not None:
            try:
                self.client.eval(_RELEASE, 1, self.key, value)
            except redis.RedisError as err:
                log.warning("could not release the %s lease (it lapses by itself): %s", self.role, err)
        with self._lock:
            self.epoch = None

    def holder_now(self) -> str | None:
        raw = self.client.get(self.key)
        return None if raw is None else raw.decode().rsplit("@", 1)[0]  # type: ignore[union-attr]


class Keeper:
    """Renews a held lease every third of its time to live, in a thread; sets `lost` when it was taken over
    (or could not be renewed before it lapsed), so that the holder stops."""

    def __init__(self, lease: Lease, lost: threading.Event | None = None) -> None:
        self.lease = lease
        self.lost = lost or threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"lease-{lease.role}")

    def start(self) -> Keeper:
        self._thread.start()
        return self

    def _run(self) -> None:
        every = self.lease.ttl_s / 3
        while not self._stop.wait(every):
            try:
                if not self.lease.renew():
                    log.error("the %s lease was taken over: standing by", self.lease.role)
                    self.lost.set()
                    return
            except redis.RedisError as err:  # Redis away: the lease lapses unless it answers within the ttl
                log.warning("could not renew the %s lease: %s", self.lease.role, err)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
