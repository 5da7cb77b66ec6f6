"""What waits in the active ingest is in Redis every second (`cc:ingest:backlog`) and in its log when it
falls behind and when it caught up: the benchmark and an operator read it there."""
from __future__ import annotations

import logging
import threading

from feeds.bus.channels import Merged
from feeds.ingest.__main__ import BACKLOG_KEY, watch_backlog
from tests.unit.feeds.bus.test_merged import Endless
from tests.waiting import wait_until


def test_the_backlog_is_put_in_redis_and_falling_behind_is_said(redis_client, caplog):
    caplog.set_level(logging.WARNING, "feeds.ingest")
    merged = Merged([Endless(count=30, size=100)])
    stop = threading.Event()
    watcher = threading.Thread(target=watch_backlog, args=(redis_client, merged, stop, 0.05, 0.3), daemon=True)
    watcher.start()
    try:
        wait_until(lambda: redis_client.hget(BACKLOG_KEY, "payloads") == b"30", 5, "the backlog in Redis")
        assert redis_client.hget(BACKLOG_KEY, "bytes") == b"3000" and 0 < redis_client.ttl(BACKLOG_KEY) <= 10
        wait_until(lambda: "behind: 30 payloads" in caplog.text, 5, "falling behind said")
        while merged.get(0.1) is not None:  # the pipeline catches up
            pass
        wait_until(lambda: "caught up" in caplog.text, 5, "catching up said")
        assert redis_client.hget(BACKLOG_KEY, "payloads") == b"0"
    finally:
        stop.set()
        watcher.join(2)
        merged.close()
