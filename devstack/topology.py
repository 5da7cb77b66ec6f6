"""The several-machine shape of the centre (docs/deployment.md) on this machine's loopback, for tests and
benchmarks: Redis Sentinel (a primary, a replica, three sentinels), PostgreSQL, two ingests (one active, one
standing by), several dashboard processes behind nginx running deploy/nginx/cc.conf, and the rest of the stack
(escalator, KPI board, drill desk, adapters) once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from devstack.demo import Stack, start_stack
from devstack.postgres import Cluster, postgres_bin
from devstack.services import (
    Child,
    Children,
    SentinelGroup,
    free_port,
    spawn,
    start_nginx,
    start_sentinels,
    wait_for_http,
)
from feeds.settings import Settings


@dataclass
class Topology:
    stack: Stack
    sentinels: SentinelGroup
    postgres: Cluster
    url: str  # nginx: what screens open
    dashboards: dict[int, Child]  # port -> process
    ingests: dict[str, Child]  # consumer name -> process
    more: Children = field(default_factory=Children)

    @property
    def kiosk_url(self) -> str:
        return f"{self.url}?kiosk={self.stack.kiosk_token}"

    def stop(self) -> None:
        self.more.stop()
        self.stack.children.stop()
        self.sentinels.stop()
        self.postgres.remove()


def start_topology(workdir: Path, *, seed: int = 3, grids: int = 12, dashboards: int = 2, simulate: bool = False,
                   quiet: bool = True, **settings: object) -> Topology:
    pg_bin = postgres_bin()
    if pg_bin is None:
        raise RuntimeError("needs PostgreSQL (apt-get install postgresql)")
    group = start_sentinels(workdir / "redis")
    postgres = Cluster(pg_bin)
    try:
        postgres.start()
        db_url = postgres.database("cc")
        ports = [free_port()]
        while len(ports) < dashboards:
            ports.append(free_port(set(ports)))
        stack = start_stack(Settings(data_dir=workdir / "stack", port=ports[0], seed=seed, grids=grids,
                                     redis_url=group.url, database_url=db_url, proxies=1,
                                     **settings),  # type: ignore[arg-type]
                            simulate=simulate, quiet=quiet)
    except BaseException:
        group.stop()
        postgres.remove()
        raise
    more = Children()
    try:
        second = {**stack.env, "CC_INGEST_CONSUMER": "ingest-2"}
        ingests = {"ingest-1": next(c for c in stack.children.items if c.name == "ingest"),
                   "ingest-2": more.add(spawn("ingest-2", "feeds.ingest", second, quiet=quiet))}
        served = {ports[0]: next(c for c in stack.children.items if c.name == "dashboard")}
        for port in ports[1:]:
            served[port] = more.add(spawn(f"dashboard-{port}", "dashboard", {**stack.env, "CC_PORT": str(port)},
                                          quiet=quiet))
            wait_for_http(f"http://127.0.0.1:{port}/api/health", 60, served[port])
        nginx, url = start_nginx(ports, workdir / "nginx")
        more.add(nginx)
    except BaseException:
        more.stop()
        stack.children.stop()
        group.stop()
        postgres.remove()
        raise
    return Topology(stack, group, postgres, url, served, ingests, more)
