"""Ingest throughput in one process: validated patrol fixes/s, and case commands/s with their audit rows.

    .venv/bin/python -m bench.throughput [--fixes 200000] [--cases 5000] [--batch 1000] [--database-url URL]

Feeds the real pipeline (decode → validate → filter → persist → apply → snapshot) in batches, as the
ingest loop does under load: SQLite file in WAL mode by default, snapshot in a real Redis server, pushes
recorded instead of sent. Fixes: JSON arrays of 100 fixes each, flushed every `--batch` fixes. Commands:
`--cases` reports, then the whole loop for each case (verify, register, dispatch, handle, check, close:
six commands, six audit rows), flushed every `--batch` commands.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

from devstack.services import start_redis
from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.ingest.pipeline import Ingest, settle_heap
from feeds.schemas import CaseCommand, IncidentReport, PatrolPosition, encode
from feeds.store.engine import make_engine, migrate


def _fixes(n: int, t0: datetime) -> list[bytes]:
    payloads, batch = [], []
    for i in range(n):
        at = t0 + timedelta(milliseconds=i)
        batch.append(PatrolPosition(kind="patrol_position", schema_version=1, id=f"f{i}", source="bench", ts=at,
                                    drill_id=None, unit_id=f"U{i % 1000:04d}", lat=30.69 + (i % 97) * 1e-5,
                                    lon=111.28, accuracy_m=5.0, speed_mps=1.2, fix_at=at))
        if len(batch) == 100:
            payloads.append(encode(batch))
            batch = []
    if batch:
        payloads.append(encode(batch))
    return payloads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixes", type=int, default=200_000)
    parser.add_argument("--cases", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="cc-throughput-"))
    redis_child, redis_url = start_redis(workdir=workdir)
    try:
        url = args.database_url or f"sqlite:///{workdir / 'cc.sqlite'}"
        migrate(url)
        engine = make_engine(url)
        ingest = Ingest(engine, RedisSnapshotStore(redis.Redis.from_url(redis_url)), RecordingPusher(),
                        future_tolerance_s=10**9)
        t0 = datetime.now(UTC) - timedelta(days=1)

        payloads = _fixes(args.fixes, t0)
        settle_heap()  # as the ingest process does once it is set up
        per_flush = max(1, args.batch // 100)
        start = time.perf_counter()
        for i, payload in enumerate(payloads, start=1):
            ingest.receive("cc.patrol_position", payload)
            if i % per_flush == 0:
                ingest.flush()
        ingest.flush()
        fix_seconds = time.perf_counter() - start
        assert ingest.stats["accepted"] == args.fixes, ingest.stats

        reports = [IncidentReport(kind="incident_report", schema_version=1, id=f"c{i}", source="bench", ts=t0,
                                  drill_id=None, category="env.garbage", description="暴露垃圾",
                                  lat=30.0 + i * 0.0006,  # about 66 m apart: distinct cases, not duplicates
                                  lon=111.28, grid_code="G1", channel="patrol", reporter_id="P1", urgent=False,
                                  occurred_at=None) for i in range(args.cases)]
        for i in range(0, len(reports), args.batch):
            ingest.receive("cc.incident_report", encode(reports[i:i + args.batch]))
            ingest.flush()
        loop = [("verify", {}), ("register", {}), ("dispatch", {"department": "sanitation"}), ("handle", {}),
                ("check_pass", {}), ("close", {})]
        commands = [CaseCommand(kind="case_command", schema_version=1, id=f"k{i}-{step}", source="bench", ts=t0,
                                drill_id=None, case_id=f"c{i}", action=action, by="dispatcher-1", reason="bench",
                                expected_version=step + 1, department=fields.get("department"), assignee=None,
                                reject_reason=None, hours=None)
                    for step, (action, fields) in enumerate(loop) for i in range(args.cases)]
        encoded = [encode(commands[i:i + args.batch]) for i in range(0, len(commands), args.batch)]
        before = ingest.stats["accepted"]
        start = time.perf_counter()
        for payload in encoded:
            ingest.receive("cc.case_command", payload)
            ingest.flush()
        command_seconds = time.perf_counter() - start
        applied = ingest.stats["accepted"] - before
        assert applied == len(commands) and ingest.stats["rejected"] == 0, ingest.stats
    finally:
        redis_child.stop()

    dialect = "SQLite (WAL)" if url.startswith("sqlite") else url.split(":", 1)[0]
    print(f"ingest throughput, one process, {dialect}, batches of {args.batch}; {os.cpu_count()} cores")
    print(f"patrol fixes   {args.fixes:>9,} validated + persisted + applied in {fix_seconds:6.2f} s "
          f"= {args.fixes / fix_seconds:>9,.0f} fixes/s")
    print(f"case commands  {applied:>9,} applied with audit rows in       {command_seconds:6.2f} s "
          f"= {applied / command_seconds:>9,.0f} commands/s")


if __name__ == "__main__":
    main()
