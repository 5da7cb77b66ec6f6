"""Thousands of generated hostile payloads on every channel, pub/sub and streams, against the real ingest
process over a real Redis: it never exits, every payload is stored or dead-lettered, its memory stays
bounded. bench/hostile.py is the longer run."""
from __future__ import annotations

import pytest

from bench.hostile import fuzz
from feeds.store.engine import migrate


@pytest.mark.timeout(300)  # about 15 s alone; the CI runs it while the other tiers load the same two cores
def test_the_real_ingest_accounts_for_every_hostile_payload_and_stays_up(redis_server, redis_client, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'cc.sqlite'}"
    migrate(db_url)
    log = tmp_path / "ingest.log"
    report = fuzz(redis_server, db_url, payloads=4000, timeout_s=240, log_path=log)
    print("\n".join(report.lines()))
    errors = [line for line in log.read_text(errors="replace").splitlines() if " ERROR " in line]
    assert report.sent == 4000 and report.crashes == 0, errors
    assert report.unaccounted == 0, report.lines() + errors
    assert not errors  # e.g. the ingest believing its lease taken over while it was only renewed
    assert report.rss_end_mb - report.rss_start_mb < 60, report.lines()  # bounded: no state per bad payload
