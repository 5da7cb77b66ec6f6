"""The whole command centre on one machine: `python -m devstack.demo`.

Starts, in order: a Redis-protocol server (an embedded one unless REDIS_URL answers), the SQLite
database (migrated), the simulated district, the ingest pipeline, the dashboard and the simulator.
Ctrl-C stops all of it; every child also dies with this process, so nothing is left behind.
Tests, benchmarks and the screenshot script start the same stack with `start_stack`.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from dashboard.security.users import add_user, find_user
from devstack.services import (
    Children,
    free_port,
    mqtt_answers,
    port_or_free,
    redis_answers,
    spawn,
    start_mqtt,
    start_redis,
    wait_for_http,
)
from feeds.adapters.apikeys import find_key, issue_key
from feeds.adapters.frigate_bridge import our_cameras
from feeds.clock import utcnow
from feeds.settings import Settings
from feeds.store.engine import make_engine, migrate
from feeds.store.models import CaseRow
from simulators.frigate_cams import demo_mapping
from simulators.hotline import KEYS_FILE

# the demo's users, one per role (README.md and the banner list them): user name, role, password, display name
DEMO_USERS = (
    ("dispatcher", "dispatcher", "dispatcher-demo", "座席员 王芳"),
    ("leader", "leader", "leader-demo", "李主任"),
    ("operator", "operator", "operator-demo", "运维 陈工"),
    ("trainer", "trainer", "trainer-demo", "培训 赵老师"),
    ("admin", "admin", "admin-demo", "管理员"),
)
# the KPI board's CPU priority below the others' (as deploy/systemd/cc-kpiboard.service sets it): its passes over
# the fixes are background work, and the ingest and dashboards are on the path from a fix to the screens
BACKGROUND_NICE = 10


@dataclass
class Stack:
    url: str
    redis_url: str
    db_url: str
    env: dict[str, str]
    children: Children = field(default_factory=Children)
    notes: list[str] = field(default_factory=list)
    kiosk_token: str = ""

    @property
    def kiosk_url(self) -> str:
        """The wall screen's address: it signs the browser in as the read-only kiosk."""
        return f"{self.url}?kiosk={self.kiosk_token}"

    def stop(self) -> None:
        self.children.stop()

    def restart_redis(self, workdir: Path) -> None:
        """Start the embedded Redis again on its port, in its place (it is stopped last)."""
        index = next(i for i, c in enumerate(self.children.items) if c.name == "redis")
        port = int(self.redis_url.rsplit(":", 1)[1].split("/")[0])
        child, _ = start_redis(port, workdir, persistent=True)
        self.children.items[index] = child


def start_stack(settings: Settings, *, simulate: bool = True, simulator_args: Sequence[str] = (),
                quiet: bool = False, history_days: float = 0.0,
                prepare: Callable[[str, str], None] | None = None) -> Stack:
    """Redis, the migrated database with the district, the ingest, the escalator, the KPI board and the dashboard
    (and the simulator). With `history_days`, a database with no cases yet first gets that many past days,
    simulated as fast as possible through the pipeline, so the KPI panels and trends have something to show.
    `prepare(redis_url, db_url)` runs once the district (and history) is in the database, before the ingest
    starts (a benchmark fills the database and the live snapshot there)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    children = Children()
    # every server's port chosen before any is started, none of them the dashboard's (not bound yet either)
    taken = {settings.port}
    osmand_port = port_or_free(settings.host, settings.osmand_port, taken)
    taken.add(osmand_port)
    open311_port = port_or_free(settings.host, settings.open311_port, taken)
    taken.add(open311_port)
    try:
        if settings.redis_url and redis_answers(settings.redis_url):
            redis_url, note = settings.redis_url, f"Redis (reused)        {settings.redis_url}"
        else:
            taken.add(redis_port := free_port(taken))
            child, redis_url = start_redis(redis_port, workdir=settings.data_dir, persistent=True)
            children.add(child)
            note = f"Redis (embedded)      {child.detail}"
        if settings.mqtt_url and mqtt_answers(settings.mqtt_url):
            mqtt_url, mqtt_note = settings.mqtt_url, f"MQTT (reused)         {settings.mqtt_url}"
        else:
            taken.add(mqtt_port := free_port(taken))
            child, mqtt_url = start_mqtt(mqtt_port, workdir=settings.data_dir / "mqtt")
            children.add(child)
            mqtt_note = f"MQTT (embedded)       {child.detail}"
        db_url = settings.database_url or f"sqlite:///{settings.sqlite_path.resolve()}"
        migrate(db_url)
        add_demo_users(db_url, settings.password_hash_method)
        add_demo_keys(db_url, settings.data_dir / KEYS_FILE)
        secret_key = settings.secret_key or _kept_secret(settings.data_dir / "secret_key")
        kiosk_token = settings.kiosk_token or _kept_secret(settings.data_dir / "kiosk_token")
        env = {"CC_REDIS_URL": redis_url, "CC_DATABASE_URL": db_url, "CC_PORT": str(settings.port),
               "CC_HOST": settings.host, "CC_GRIDS": str(settings.grids), "CC_SEED": str(settings.seed),
               "CC_PUSH_WINDOW_MS": str(settings.push_window_ms), "CC_DATA_DIR": str(settings.data_dir),
               "CC_STALE_AFTER_S": str(settings.stale_after_s),
               "CC_KPI_INTERVAL_S": str(settings.kpi_interval_s), "CC_SECRET_KEY": secret_key,
               "CC_KIOSK_TOKEN": kiosk_token, "CC_PASSWORD_HASH_METHOD": settings.password_hash_method,
               "CC_OSMAND_PORT": str(osmand_port), "CC_OPEN311_PORT": str(open311_port),
               "CC_MQTT_URL": mqtt_url, "CC_MEDIA_HOSTS": settings.media_hosts, "CC_PROXIES": str(settings.proxies),
               "CC_FRIGATE_MAPPING": settings.frigate_mapping or str(settings.data_dir / "frigate.toml")}
        out = subprocess.DEVNULL if quiet else None
        subprocess.run([sys.executable, "-m", "simulators", "--district-only"], env={**os.environ, **env},
                       check=True, stdout=out, stderr=out)
        if not settings.frigate_mapping:  # the demo's cameras as a Frigate's
            engine = make_engine(db_url)
            demo_mapping(Path(env["CC_FRIGATE_MAPPING"]), our_cameras(engine))
            engine.dispose()
        if history_days and not _has_cases(db_url):
            if not quiet:
                print(f"simulating the last {history_days:g} days into the new database first "
                      f"(about {max(1, round(history_days * settings.grids / 700))} min)…", flush=True)
            subprocess.run([sys.executable, "-m", "simulators", "--no-load-district", "--history-only",
                            "--history-days", f"{history_days:g}"], env={**os.environ, **env},
                           check=True, stdout=out, stderr=out)
        if prepare:
            prepare(redis_url, db_url)
        children.add(spawn("ingest", "feeds.ingest", env, quiet=quiet))
        children.add(spawn("escalator", "feeds.cases.escalator", env, quiet=quiet))
        children.add(spawn("kpiboard", "feeds.kpis.board", env, quiet=quiet, nice=BACKGROUND_NICE))
        children.add(spawn("drilldesk", "simulators.drilldesk", env, quiet=quiet))
        osmand = children.add(spawn("osmand", "feeds.adapters.osmand_server", env, quiet=quiet))
        open311 = children.add(spawn("open311", "feeds.adapters.open311_server", env, quiet=quiet))
        children.add(spawn("frigate", "feeds.adapters.frigate_bridge", env, quiet=quiet))
        dashboard = children.add(spawn("dashboard", "dashboard", env, quiet=quiet))
        url = f"http://{settings.host}:{settings.port}/"
        wait_for_http(url + "api/health", timeout=60, child=dashboard)
        osmand_url = f"http://{settings.host}:{env['CC_OSMAND_PORT']}/"
        wait_for_http(osmand_url + "health", timeout=30, child=osmand)
        open311_url = f"http://{settings.host}:{env['CC_OPEN311_PORT']}/open311/v2/"
        wait_for_http(open311_url + "discovery.json", timeout=30, child=open311)
        if simulate:
            children.add(spawn("simulator", "simulators", env, "--no-load-district", "--via", "osmand,open311,frigate",
                               *simulator_args, quiet=quiet))
    except BaseException:
        children.stop()
        raise
    notes = [note, mqtt_note, f"Frigate bridge        {env['CC_MQTT_URL']} → camera alerts "
                              f"(mapping: {env['CC_FRIGATE_MAPPING']})",
             f"OsmAnd (phones)       {osmand_url}",
             f"Open311 (12345, apps) {open311_url}   (keys: {settings.data_dir / KEYS_FILE})"]
    return Stack(url, redis_url, db_url, env, children, notes, kiosk_token)


def _kept_secret(path: Path) -> str:
    """A random secret kept in the data directory (readable by its owner only), made on first use."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def add_demo_users(db_url: str, method: str) -> None:
    """The documented demo users, added when missing (a password changed since is left alone)."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            for username, role, password, display_name in DEMO_USERS:
                if find_user(conn, username) is None:
                    add_user(conn, username, role, password, method=method, display_name=display_name)
    finally:
        engine.dispose()


def add_demo_keys(db_url: str, path: Path) -> None:
    """The Open311 keys of the demo's citizens' app and hotline, issued once and kept in `path` (readable by its
    owner only) for the simulator, which posts their reports with them."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            try:
                kept = json.loads(path.read_text())
            except (OSError, ValueError):
                kept = {}
            keys = {}
            for channel, owner in (("citizen", "市民通 App（演示）"), ("hotline", "12345 热线（演示）")):
                key = kept.get(channel)
                if not isinstance(key, str) or find_key(conn, key) is None:
                    key, _ = issue_key(conn, owner, channel, utcnow(), per_minute=600)
                keys[channel] = key
        if keys != kept:
            path.touch(mode=0o600)
            path.write_text(json.dumps(keys))
    finally:
        engine.dispose()


def _has_cases(db_url: str) -> bool:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(CaseRow.id).limit(1)).first() is not None
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="dashboard port (default 8050)")
    parser.add_argument("--grids", type=int, help="grids in the simulated district (default 96)")
    parser.add_argument("--seed", type=int, help="seed of the simulated district")
    parser.add_argument("--history-days", type=float, default=7.0, metavar="DAYS",
                        help="past days to simulate into a database that has no cases yet (default 7; 0: none)")
    parser.add_argument("--real-shifts", action="store_true",
                        help="grid workers walk only on their shifts (default: at any hour, so the demo shows "
                             "patrols whenever it is run)")
    args = parser.parse_args(argv)
    history_days = args.history_days
    if history_days < 0:
        parser.error("--history-days must be 0 or more")
    settings = Settings(**{k: v for k, v in vars(args).items()
                           if v is not None and k not in ("history_days", "real_shifts")})

    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    stack = start_stack(settings, history_days=history_days,
                        simulator_args=() if args.real_shifts else ("--around-the-clock",))
    try:
        print("\n".join([
            "",
            "网格化治理指挥中心 demo is running:",
            *(f"  {note}" for note in stack.notes),
            f"  Database              {stack.db_url}",
            f"  Simulated district    seed {settings.seed}, {settings.grids} grids",
            "  Ingest pipeline       python -m feeds.ingest",
            "  Escalation of overdue cases   python -m feeds.cases.escalator",
            f"  KPI board (every {settings.kpi_interval_s} s)   python -m feeds.kpis.board",
            "  Simulator             python -m simulators",
            "  Drill desk            python -m simulators.drilldesk   (trainer console: /drill)",
            f"  Wall screen (kiosk)   {stack.kiosk_url}   (English: add &lang=en)",
            f"  Sign in               {stack.url}login   demo users (user name / password):",
            *(f"      {name:<11} {password:<16} {role}" for name, role, password, _ in DEMO_USERS),
            "  Add users             python -m dashboard.security.users add NAME --role ROLE"
            f"   (CC_DATA_DIR={settings.data_dir})",
            "Press Ctrl-C to stop everything.",
            "",
        ]), flush=True)
        while not stop:
            exited = stack.children.first_exited()
            if exited and exited.name == "redis":  # the others ride the outage out and reconnect
                print(f"the embedded Redis exited with code {exited.process.returncode}; starting it again",
                      file=sys.stderr)
                stack.restart_redis(settings.data_dir)
            elif exited:
                print(f"{exited.name} exited with code {exited.process.returncode}; stopping", file=sys.stderr)
                return 1
            time.sleep(0.3)
        return 0
    finally:
        stack.stop()
        print("stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
