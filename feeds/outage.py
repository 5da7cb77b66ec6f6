"""How a long-running loop rides out a lost service (Redis, the database): capped backoff, the first failure
logged as an error, later ones at most once a minute, then "restored" once it answers again."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable


class Outage:
    def __init__(self, what: str, log: logging.Logger, *, first_s: float = 0.2, cap_s: float = 2.0,
                 quiet_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.what, self._log, self._first_s, self._cap_s, self._quiet_s = what, log, first_s, cap_s, quiet_s
        self._clock = clock
        self._wait = 0.0
        self._since: float | None = None  # when the outage began
        self._said = -float("inf")  # when it was last logged
        self.failures = 0

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, err: BaseException) -> float:
        """Note a failure; the seconds to wait before trying again (doubling up to the cap)."""
        now = self._clock()
        self.failures += 1
        if self._since is None:
            self._since = now
            self._said = now
            self._log.error("%s failed, retrying: %s", self.what, err)
        elif now - self._said >= self._quiet_s:
            self._said = now
            self._log.error("%s still failing after %.0f s (%d attempts): %s", self.what, now - self._since,
                            self.failures, err)
        self._wait = min(self._cap_s, self._wait * 2 if self._wait else self._first_s)
        return self._wait

    def ok(self) -> None:
        """Note a success: logs "restored" once after an outage."""
        if self._since is not None:
            self._log.warning("%s restored after %.1f s", self.what, self._clock() - self._since)
        self._since, self._wait, self.failures = None, 0.0, 0
