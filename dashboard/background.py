"""Work the screens' server does beside its answers: heavy counts on a real OS thread (the server runs under
gevent, whose loop must keep serving pushes meanwhile), and the values such counts made, kept a while."""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import gevent
from gevent import monkey

T = TypeVar("T")
V = TypeVar("V")
FRESH_S = 30.0  # how long a value counted for one answer answers the next without a new count
log = logging.getLogger(__name__)


class Recent(Generic[V]):
    """Values computed in the last `fresh_s` seconds on data marked the same, kept in this process: a
    leader switching between today, the week and the month, or two leaders on the same area, are answered
    from memory. `latest` gives a value whatever its mark (shown with its time while a new one is counted);
    `ahead` computes in the background, one piece of work at a time, in the order asked."""

    def __init__(self, fresh_s: float = FRESH_S, clock: Callable[[], float] = time.monotonic,
                 size: int = 16) -> None:  # a district page at 1,100 grids holds ~3 MB of rows
        self.fresh_s, self.clock, self.size = fresh_s, clock, size
        self._kept: dict[Hashable, tuple[float, Hashable, V]] = {}
        self._lock = monkey.get_original("_thread", "allocate_lock")()  # held by greenlets and OS threads alike
        self._busy = False
        self._queue: deque[tuple[Hashable, Callable[[], None]]] = deque()
        self._waiting: set[Hashable] = set()

    def get(self, key: Hashable, mark: Hashable) -> V | None:
        with self._lock:
            found = self._kept.get(key)
        if found is None or found[1] != mark or self.clock() - found[0] > self.fresh_s:
            return None
        return found[2]

    def latest(self, key: Hashable, within_s: float) -> tuple[Hashable, V] | None:
        """The value last kept for `key` and the mark it was made on, if kept in the last `within_s` seconds,
        whether or not the data changed since."""
        with self._lock:
            found = self._kept.get(key)
        if found is None or self.clock() - found[0] > within_s:
            return None
        return found[1], found[2]

    def put(self, key: Hashable, mark: Hashable, value: V) -> None:
        with self._lock:
            if len(self._kept) >= self.size and key not in self._kept:
                self._kept.pop(min(self._kept, key=lambda k: self._kept[k][0]))
            self._kept[key] = (self.clock(), mark, value)

    def ahead(self, work: Callable[[], None], key: Hashable = None) -> bool:
        """Run `work` (which puts what it computes) in the background, after the work asked for before it, one
        at a time; False when the same `key` is waiting already."""
        with self._lock:
            if key is not None and key in self._waiting:
                return False
            self._queue.append((key, work))
            if key is not None:
                self._waiting.add(key)
            if self._busy:
                return True
            self._busy = True

        def run() -> None:
            while True:
                with self._lock:
                    if not self._queue:
                        self._busy = False
                        return
                    key, work = self._queue.popleft()
                    self._waiting.discard(key)
                try:
                    work()
                except Exception:  # a figure computed ahead is only a convenience: the next ask computes it
                    log.exception("computing the leader's figures ahead failed")

        in_background(run)
        return True


def off_loop(work: Callable[[], T]) -> T:
    """Run heavy figures on a real OS thread when the server runs under gevent, so that its loop keeps
    serving pushes, other screens and static files meanwhile; directly otherwise."""
    if monkey.is_module_patched("threading"):
        return gevent.get_hub().threadpool.apply(work)
    return work()


def in_background(work: Callable[[], None]) -> None:
    """Start `work` on a real OS thread (gevent's pool under gevent) and return at once."""
    if monkey.is_module_patched("threading"):
        gevent.get_hub().threadpool.spawn(work)
    else:
        threading.Thread(target=work, name="counted-ahead", daemon=True).start()


def every(seconds: float, work: Callable[[], None], name: str) -> None:
    """Run `work` now and then every `seconds`, for the life of the process, on a real OS thread of its own
    (one of gevent's pool under gevent); a failure is logged and the next round goes on."""
    sleep = monkey.get_original("time", "sleep")  # the OS thread's own sleep, not a greenlet's

    def loop() -> None:
        while True:
            try:
                work()
            except Exception:
                log.exception("%s failed; again in %.0f s", name, seconds)
            sleep(seconds)

    in_background(loop)
