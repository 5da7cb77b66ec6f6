"""Hostile payloads against the real ingest process over Redis, pub/sub and streams: does every one end up
stored or dead-lettered, does the ingest stay up, does its memory stay bounded?

    .venv/bin/python -m bench.hostile [--payloads 20000]

Prints sent / owed / stored / dead-lettered / unaccounted / crashes / ingest RSS before and after. The same
run, shorter (4,000 payloads), is tests/integration/feeds/ingest/test_fuzz_ingest.py.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.services import _die_with_parent, start_redis
from feeds.bus.channels import RedisBus, StreamBus
from feeds.schemas import channel_for
from feeds.store.engine import make_engine, migrate
from tests import factories, hostile


@dataclass
class Report:
    sent: int
    owed: int
    stored: int
    dead: int
    crashes: int
    rss_start_mb: float
    rss_end_mb: float
    seconds: float

    @property
    def unaccounted(self) -> int:
        return self.owed - self.stored - self.dead

    def lines(self) -> list[str]:
        return [f"payloads sent      {self.sent} (pub/sub and streams, every channel)",
                f"outcomes owed      {self.owed}",
                f"stored             {self.stored}",
                f"dead-lettered      {self.dead}",
                f"unaccounted        {self.unaccounted}",
                f"ingest crashes     {self.crashes}",
                f"ingest RSS         {self.rss_start_mb:.1f} MB → {self.rss_end_mb:.1f} MB",
                f"time               {self.seconds:.1f} s"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fuzz(redis_url: str, db_url: str, payloads: int, timeout_s: float = 120.0,
         log_path: Path | None = None) -> Report:
    """Start an ingest (its log in `log_path`), throw `payloads` generated payloads at it (the same ones every
    run: hypothesis, derandomized), wait until each is accounted for."""
    env = {**os.environ, "CC_REDIS_URL": redis_url, "CC_DATABASE_URL": db_url, "CC_PUSH_WINDOW_MS": "20"}
    log = open(log_path, "wb") if log_path is not None else subprocess.DEVNULL  # closed below
    ingest = subprocess.Popen([sys.executable, "-m", "feeds.ingest"], env=env, stdout=log,
                              stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    client = redis.Redis.from_url(redis_url)
    engine = make_engine(db_url)
    factories.camera(engine)  # the camera whose health the generated messages say
    started = time.monotonic()
    try:
        deadline = time.monotonic() + 30
        while not client.exists("cc.stream.case_command"):  # its consumer groups are made: it listens
            if time.monotonic() > deadline or ingest.poll() is not None:
                raise RuntimeError("the ingest did not start")
            time.sleep(0.05)
        rss_start = rss_mb(ingest.pid)
        buses = (RedisBus(client), StreamBus(client))
        tally = {"sent": 0, "owed": 0}

        @settings(max_examples=payloads, database=None, derandomize=True, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(kind=st.sampled_from(hostile.KINDS), data=st.data())
        def throw(kind: str, data: st.DataObject) -> None:
            raw = data.draw(hostile.payload(kind))
            buses[tally["sent"] % 2].publish(channel_for(kind), raw)
            tally["sent"] += 1
            tally["owed"] += hostile.units(raw)

        throw()
        stored = dead = 0
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and ingest.poll() is None:
            with engine.connect() as conn:
                stored, dead = hostile.accounted(conn)
            if stored + dead >= tally["owed"]:
                break
            time.sleep(0.2)
        alive = ingest.poll() is None
        return Report(tally["sent"], tally["owed"], stored, dead, 0 if alive else 1,
                      rss_start, rss_mb(ingest.pid) if alive else 0.0, time.monotonic() - started)
    finally:
        if ingest.poll() is None:
            ingest.send_signal(signal.SIGTERM)
            ingest.wait(10)
        if log is not subprocess.DEVNULL:
            log.close()
        engine.dispose()
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.splitlines()[0])
    parser.add_argument("--payloads", type=int, default=20_000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="cc-hostile-"))
    server, url = start_redis(workdir=home)
    db_url = f"sqlite:///{home / 'cc.sqlite'}"
    migrate(db_url)
    try:
        report = fuzz(url, db_url, args.payloads, timeout_s=600)
    finally:
        server.stop()
    print(f"$ .venv/bin/python -m bench.hostile --payloads {args.payloads}")
    print("\n".join(report.lines()))


if __name__ == "__main__":
    main()
