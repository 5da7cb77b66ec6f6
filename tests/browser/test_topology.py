"""The whole several-machine topology on loopback (devstack/topology.py: Redis Sentinel, PostgreSQL, two ingests,
two dashboard processes behind nginx), a wall in Chromium through nginx and a Socket.IO client on each dashboard
process. One after the other: the Redis primary killed, the active ingest killed in the middle of a burst, the
dashboard process holding the wall's websocket killed. After each the wall shows the next fix without reloading
the page, every client hears each delta once, and not one fix on the streams is lost or stored twice."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import socketio as socketio_client
from sqlalchemy import func, select

from devstack.topology import start_topology
from feeds.bus.channels import StreamBus
from feeds.bus.connect import redis_client
from feeds.bus.push import NAMESPACE
from feeds.store.engine import make_engine
from feeds.store.models import PatrolFix
from simulators.geography import build_district
from tests import factories
from tests.browser.conftest import GRIDS, SEED
from tests.connections import only_one_holding
from tests.waiting import wait_until

pytestmark = pytest.mark.browser
REDIS_BACK_S, INGEST_BACK_S, SCREEN_BACK_S = 10.0, 5.0, 10.0


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    made = start_topology(tmp_path_factory.mktemp("topology"), seed=SEED, grids=GRIDS,
                          password_hash_method="pbkdf2:sha256:1000")
    yield made
    made.stop()


class Listener:
    """A Socket.IO client on one dashboard process: the seqs of the deltas it heard."""

    def __init__(self, port: int, cookie: str) -> None:
        self.seqs: list[int] = []
        self.client = socketio_client.Client(reconnection_delay_max=1)
        self.client.on("delta", lambda d: self.seqs.append(d["seq"]), namespace=NAMESPACE)
        self.client.connect(f"http://127.0.0.1:{port}", namespaces=[NAMESPACE], transports=["websocket"],
                            headers={"Cookie": cookie}, wait_timeout=10)


def _fixes(engine, prefix: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(PatrolFix)
                            .where(PatrolFix.unit_id.startswith(prefix))).scalar_one()


def test_the_topology_outlives_its_redis_primary_its_active_ingest_and_a_dashboard_process(topology,
                                                                                            browser_factory):
    lat, lon = build_district(SEED, GRIDS).centre
    client = redis_client(topology.stack.redis_url, socket_timeout=2.0, socket_connect_timeout=1.0)
    bus = StreamBus(client)
    engine = make_engine(topology.stack.db_url)

    wall = browser_factory(1920, 1080)
    wall.get(topology.kiosk_url)
    wait_until(lambda: wall.execute_script("return !!(window.cc && cc.live && cc.live.connected"
                                           " && cc.live.seq !== null)"), 60, "the wall live through nginx")
    wall.execute_script("window.__sameDocument = true")
    walls_process = wait_until(lambda: only_one_holding(list(topology.dashboards)), 20, "the wall's process")
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in wall.get_cookies())
    listeners = {port: Listener(port, cookie) for port in topology.dashboards}

    def shown(unit: str) -> bool:
        return bool(wall.execute_script("return !!cc.live.patrols[arguments[0]]", unit))

    def step(unit: str, within_s: float, what: str) -> float:
        """Publish a fix of `unit`; how long until the wall shows it."""
        started = time.monotonic()
        factories.publish_through_failover(bus, [factories.position(unit, lat=lat, lon=lon)], 20.0)
        wait_until(lambda: shown(unit), within_s, what)
        return time.monotonic() - started

    step("TOP-0", 10, "a fix on the wall")
    wait_until(lambda: all(li.seqs for li in listeners.values()), 10, "a delta on every dashboard process")

    # 1. the Redis primary dies: Sentinel promotes the replica, every process follows it
    old = topology.sentinels.primary_port()
    topology.sentinels.kill_primary()
    killed = time.monotonic()
    wait_until(lambda: topology.sentinels.primary_port() not in (None, old), 30, "the replica promoted")
    step("TOP-1", REDIS_BACK_S, "a fix after the Redis failover")
    redis_back = time.monotonic() - killed

    # 2. the active ingest dies in the middle of a burst on the streams: the standby takes over
    active = client.get("cc:lease:ingest").decode().rsplit("@", 1)[0]
    sent: list[str] = []

    def burst() -> None:
        for b in range(100):
            fixes = [factories.position(f"BURST-{b % 20:02d}-{k}") for k in range(20)]
            factories.publish_through_failover(bus, fixes, 20.0)
            sent.extend(f.id for f in fixes)
            time.sleep(0.02)

    publisher = threading.Thread(target=burst, daemon=True)
    publisher.start()
    wait_until(lambda: _fixes(engine, "BURST-") >= 200, 20, "the burst under way")
    os.kill(topology.ingests[active].process.pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_until(lambda: (client.get("cc:lease:ingest") or b"").decode().rsplit("@", 1)[0] not in ("", active),
               INGEST_BACK_S + 5, "the standby ingest active")
    ingest_back = time.monotonic() - killed
    publisher.join(60)
    wait_until(lambda: _fixes(engine, "BURST-") == len(sent) == 2000, 60, "every fix of the burst stored once")
    step("TOP-2", 10, "a fix after the ingest's failover")

    # 3. the dashboard process holding the wall's websocket dies: the wall carries on through the other
    os.kill(topology.dashboards[walls_process].process.pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_until(lambda: wall.execute_script("return cc.live.connected"), SCREEN_BACK_S, "the wall reconnected")
    step("TOP-3", SCREEN_BACK_S, "a fix after the wall's process died")
    screen_back = time.monotonic() - killed

    assert wall.execute_script("return window.__sameDocument === true")  # never reloaded
    survivor = next(p for p in listeners if p != walls_process)
    seqs = listeners[survivor].seqs
    assert len(seqs) == len(set(seqs)), "a delta heard twice"  # exactly one relay, whoever is active
    print(f"Redis primary killed: the wall showed a new fix {redis_back:.1f} s later; active ingest killed: the "
          f"standby active {ingest_back:.1f} s later; the wall's dashboard process killed: a new fix on it "
          f"{screen_back:.1f} s later")
    assert redis_back <= REDIS_BACK_S and ingest_back <= INGEST_BACK_S and screen_back <= SCREEN_BACK_S
    for li in listeners.values():
        li.client.disconnect()
    engine.dispose()
