"""A throwaway PostgreSQL cluster from the installed server (Debian's postgresql), run as the postgres user when
run as root, dying with its parent: the test suite's database server, one a test may stop and start again on
the same port and data (tests/integration/feeds/ingest/test_postgres_restart.py), and the store of the
several-machine topology on loopback (devstack/topology.py)."""
from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import OperationalError

from devstack.services import free_port
from feeds.store.engine import make_engine


def postgres_bin() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    return versions[-1].parent if versions else None


def _as_postgres_user() -> Callable[[], None] | None:
    """When root: run the server as the postgres user (it refuses root), dying with the test run."""
    if os.geteuid() != 0:
        return None
    account = pwd.getpwnam("postgres")

    def demote() -> None:
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # after setuid, which clears it

    return demote


class Cluster:
    """initdb'd once; `start` and `stop` as often as a test likes, on the same port and data."""

    def __init__(self, pg_bin: Path, *, durable: bool = False) -> None:
        self.bin, self.durable = pg_bin, durable
        self.home = Path(tempfile.mkdtemp(prefix="cc-postgres-"))  # not under pytest's root-only temp tree
        self.data = self.home / "data"
        self.demote = _as_postgres_user()
        if self.demote:
            shutil.chown(self.home, "postgres", "postgres")
        subprocess.run([str(pg_bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                        "-E", "UTF8", "--locale", "C"], check=True, capture_output=True, preexec_fn=self.demote)
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.server: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        fast = [] if self.durable else ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
                                        "full_page_writes=off"]
        self.server = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.home),
             "-c", "listen_addresses=127.0.0.1", *fast],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=self.demote)
        admin = make_engine(self.url)
        server = self.server

        def answers() -> bool:
            if server.poll() is not None:
                raise RuntimeError(f"postgres exited with {server.returncode}")
            try:
                with admin.connect():
                    return True
            except OperationalError:
                return False

        deadline = time.monotonic() + 30
        while not answers():
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not accept connections within 30 s")
            time.sleep(0.1)
        admin.dispose()
        return self.url

    def stop(self, how: signal.Signals = signal.SIGINT) -> None:
        """SIGINT: a fast shutdown (clients are not waited for); SIGQUIT: an immediate one, as a crash is (the
        next start recovers from the write-ahead log)."""
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(how)
            self.server.wait(30)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def database(self, name: str) -> str:
        admin = make_engine(self.url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        return self.url.rsplit("/", 1)[0] + "/" + name
