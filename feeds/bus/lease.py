"""One active process of a kind (the ingest, the escalator, the KPI board, the drill desk), the others standing by.

The active one holds a lease in Redis (`cc:lease:<role>`, a value naming it and its epoch, with a time to
live) and renews it; a standby takes it when it lapses. Every taking gives a new epoch, one more than any
before (`cc:lease:<role>:epoch`, never below the newest the store has seen): the fencing token. Where the
holder writes, the write carries the epoch and the store refuses one older than the newest it has seen (the
database: feeds.store.writes.fence_batch; the live state in Redis: the transaction is WATCHed on the epoch count
and given up when another took the lease). So a holder that was paused past its lease and wakes cannot write over the
one that took over; it learns it was fenced and stands by again. Redis 7.0 commands only (SET PX, INCR, a Lua
script for compare-and-renew).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

log = logging.getLogger(__name__)
PREFIX = "cc:lease:"
EXIT_WITHIN_S = 8.0  # told to stop, a process is gone within this long, whatever does not answer

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
# keep it while it is still ours, at this epoch; take it again if it is gone and nobody took it (Redis restarted
# empty, or it lapsed while this holder was slow and no standby came): the epoch count never below ours
_RENEW = """
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if held then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], ARGV[3])
end
return 1
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
    def epoch_key(self) -> str:
        """The count of takings: it moves on when the lease is taken, never when it is renewed."""
        return self.key + ":epoch"

    @property
    def value(self) -> bytes | None:
        """What the lease key holds while this process holds it."""
        return None if self.epoch is None else f"{self.holder}@{self.epoch}".encode()

    def acquire(self, floor: int = 0) -> int | None:
        """Take the lease if it is free (or already ours): its epoch, above `floor` (the newest epoch the store
        has seen, so that an epoch count Redis lost cannot start again below it); None while another holds it."""
        got = self.client.eval(_ACQUIRE, 2, self.key, self.epoch_key, self.holder, int(self.ttl_s * 1000),
                               floor)
        with self._lock:
            self.epoch = None if got is None else int(got)
        return self.epoch

    def renew(self) -> bool:
        """Keep the lease for another ttl (taking it again if it vanished and nobody took it); False (and not
        held any more) when another holds it."""
        value, epoch = self.value, self.epoch
        if value is None or epoch is None:
            return False
        if self.client.eval(_RENEW, 2, self.key, self.epoch_key, value, int(self.ttl_s * 1000), epoch):
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


class OneActive:
    """Runs `body(stop)` while this process holds its role's lease, and stands by while another does. `stop`
    is set when the process is told to stop (`halt`, e.g. from a signal) or its lease is lost; a body that
    learns it was fenced raises Fenced. Either way the process stands by again, until halted."""

    def __init__(self, lease: Lease, *, floor: Callable[[], int] = lambda: 0,
                 retried: tuple[type[BaseException], ...] = (redis.RedisError,), poll_s: float = 0.5,
                 exit_within_s: float | None = EXIT_WITHIN_S, exit: Callable[[int], object] = os._exit) -> None:
        self.lease, self._floor, self._retried = lease, floor, retried
        self._poll_s = min(poll_s, lease.ttl_s / 4)
        self.halted = threading.Event()
        self._stop: threading.Event | None = None
        self._exit_within_s, self._exit = exit_within_s, exit
        self._over = threading.Event()  # run() has returned

    def halt(self, *_: object) -> None:
        """Stop (e.g. on SIGTERM): the body is told to stop and the lease given up. Should that hang on a service
        that does not answer (Redis and its sentinels gone: each call waits out its timeouts and retries), the
        process exits anyway `exit_within_s` later: nothing committed is lost, and stream entries read but not
        committed are taken over by the standby."""
        first = not self.halted.is_set()
        self.halted.set()
        if self._stop is not None:
            self._stop.set()
        if first and self._exit_within_s is not None:
            threading.Thread(target=self._exit_if_still_here, daemon=True, name=f"exit-{self.lease.role}").start()

    def _exit_if_still_here(self) -> None:
        assert self._exit_within_s is not None
        if self._over.wait(self._exit_within_s):
            return  # stopped cleanly
        log.error("the %s was told to stop %.0f s ago and has not (Redis or the database not answering): "
                  "exiting now", self.lease.role, self._exit_within_s)
        for handler in logging.getLogger().handlers:
            handler.flush()
        self._exit(1)

    def run(self, body: Callable[[threading.Event], None]) -> None:
        try:
            self._run(body)
        finally:
            self._over.set()

    def _run(self, body: Callable[[threading.Event], None]) -> None:
        role = self.lease.role
        while not self.halted.is_set():
            if not self._stand_by():
                return
            stop = self._stop = threading.Event()
            if self.halted.is_set():
                stop.set()
            keeper = Keeper(self.lease, stop).start()
            try:
                body(stop)
            except Fenced as err:
                log.error("%s: standing by", err)
            except self._retried as err:  # while taking over, say: stand by and try again
                log.error("the %s could not go on: %s", role, err)
                self.halted.wait(1.0)
            finally:
                keeper.stop()
                self.lease.release()

    def _stand_by(self) -> bool:
        """Wait until this process holds the lease (True), or is halted (False)."""
        lease, waiting = self.lease, False
        while not self.halted.is_set():
            try:
                if lease.acquire(self._floor()) is not None:
                    log.info("active: holding the %s lease as %s (epoch %d)", lease.role, lease.holder, lease.epoch)
                    return True
                if not waiting:
                    log.info("standing by: %s is the active %s", lease.holder_now(), lease.role)
                    waiting = True
            except self._retried as err:
                log.warning("cannot ask for the %s lease yet: %s", lease.role, err)
            self.halted.wait(self._poll_s)
        return False


def holder_name() -> str:
    """This process's name among those of its role: its host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"
