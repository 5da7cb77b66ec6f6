"""The ingest's inbox between the bus and the pipeline: bounded in bytes, every payload handed on once and in
order, and what waits said (payloads, bytes, the oldest's wait)."""
from __future__ import annotations

import threading
import time

from feeds.bus.channels import Delivery, Merged
from tests.waiting import wait_until


class Endless:
    """A source with `count` payloads of `size` bytes, read as fast as the inbox takes them."""

    def __init__(self, count: int, size: int) -> None:
        self.left, self.size, self.read = count, size, 0
        self.lock = threading.Lock()

    def get(self, timeout: float) -> Delivery | None:
        with self.lock:
            if not self.left:
                time.sleep(min(timeout, 0.01))
                return None
            self.left -= 1
            self.read += 1
            return Delivery("cc.patrol_position", str(self.read).encode().ljust(self.size, b" "))

    def ack(self, tokens) -> None:  # type: ignore[no-untyped-def]
        pass

    def close(self) -> None:
        pass


def test_a_pipeline_that_falls_behind_holds_a_bounded_backlog_and_loses_nothing():
    source = Endless(count=500, size=1000)
    merged = Merged([source], max_bytes=20_000)
    try:
        wait_until(lambda: merged.backlog().payloads == 20, 5, "the inbox full")
        time.sleep(0.2)  # the source is not read further while the inbox is full
        backlog = merged.backlog()
        assert backlog.payloads == 20 and backlog.bytes == 20_000 and source.read <= 21
        assert backlog.oldest_s >= 0.2
        got = []
        while len(got) < 500:
            d = merged.get(2.0)
            assert d is not None, f"stalled after {len(got)}"
            got.append(int(d.payload))
        assert got == list(range(1, 501))  # each once, in order
        assert merged.backlog() == (0, 0, 0.0)
    finally:
        merged.close()


def test_a_payload_bigger_than_the_bound_still_goes_through_alone():
    merged = Merged([Endless(count=2, size=5000)], max_bytes=1000)
    try:
        assert [len(merged.get(2.0).payload) for _ in range(2)] == [5000, 5000]  # type: ignore[union-attr]
    finally:
        merged.close()
