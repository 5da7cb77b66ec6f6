"""Push through Flask-SocketIO's Redis message queue: the ingest emits, a connected screen receives."""
import threading

import pytest
import redis
import socketio as socketio_client
from flask import Flask

from dashboard.http import realtime
from devstack.services import free_port
from feeds.bus.channels import RedisBus, publish_messages
from feeds.bus.push import NAMESPACE, SocketIOPusher
from feeds.bus.screens import ScreenEvent, check, check_snapshot
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.ingest.pipeline import Ingest
from feeds.schemas import FEED_CHANNELS
from tests import factories
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def screen(redis_server):
    """A dashboard server's Socket.IO side on a real port, with one connected screen (a Socket.IO client)."""
    server = Flask(__name__)
    socketio = realtime.attach(server, redis_server, RedisSnapshotStore(redis.Redis.from_url(redis_server)),
                               async_mode="threading", may_connect=lambda auth: True)  # tests/unit/test_auth.py
    port = free_port()
    threading.Thread(target=socketio.run, args=(server,), daemon=True,
                     kwargs={"host": "127.0.0.1", "port": port, "allow_unsafe_werkzeug": True,
                             "use_reloader": False, "log_output": False}).start()
    received: list[dict] = []
    client = socketio_client.Client()
    client.on(ScreenEvent.DELTA, received.append, namespace=NAMESPACE)
    wait_until(lambda: _try_connect(client, port), 10, "the Socket.IO server")
    server.config["TEST_PORT"] = port
    yield server, received
    client.disconnect()  # the server thread is a daemon and ends with the test run


def screen_port(server) -> int:
    return server.config["TEST_PORT"]


def _try_connect(client, port) -> bool:
    try:
        client.connect(f"http://127.0.0.1:{port}", namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=2)
        return True
    except socketio_client.exceptions.ConnectionError:
        return False


def test_a_message_published_on_redis_reaches_a_connected_screen(screen, engine, redis_server, redis_client):
    _server, received = screen
    received.clear()
    ingest = Ingest(engine, RedisSnapshotStore(redis_client), SocketIOPusher(redis_server), window_s=0.01)
    subscription = RedisBus(redis_client).subscribe(FEED_CHANNELS)
    stop = threading.Event()
    loop = threading.Thread(target=ingest.run, args=(subscription, stop), daemon=True)
    loop.start()
    try:
        publish_messages(RedisBus(redis_client), [factories.position("P0099"), factories.incident("井盖缺失")])
        wait_until(lambda: any("P0099" in d["patrols"] for d in received)
                   and any(d["incidents"] for d in received), 10, "the deltas on the screen")
    finally:
        stop.set()
        loop.join(5)
    delta = next(d for d in received if "P0099" in d["patrols"])
    assert delta["seq"] == 1
    for d in received:  # what reached the screen is what the vocabulary declares
        check(ScreenEvent.DELTA, d)
    assert any(i["text"] == "井盖缺失" for d in received for i in d["incidents"])


def test_a_new_screen_loads_the_snapshot_with_its_sequence(screen, redis_client):
    server, _ = screen
    from feeds.ingest.state import batch_delta

    RedisSnapshotStore(redis_client).save(batch_delta(1, factories.now(), [factories.position("P1")], 0))
    body = server.test_client().get(realtime.SNAPSHOT_PATH)
    assert body.status_code == 200 and body.headers["Cache-Control"] == "no-store"
    assert body.json["seq"] == 1 and set(body.json["patrols"]) == {"P1"}
    check_snapshot(body.json)


def test_a_drill_screen_hears_its_drill_and_a_live_screen_never_does(screen, engine, redis_server, redis_client):
    server, live_received = screen
    live_received.clear()
    drill_received: list[dict] = []
    drill_client = socketio_client.Client()
    drill_client.on(ScreenEvent.DELTA, drill_received.append, namespace=NAMESPACE)
    port = screen_port(server)
    drill_client.connect(f"http://127.0.0.1:{port}", namespaces=[NAMESPACE], transports=["websocket"],
                         auth={"drill": "typhoon-t1"}, wait_timeout=5)
    factories.started_drill(engine, "typhoon-t1")
    ingest = Ingest(engine, RedisSnapshotStore(redis_client), SocketIOPusher(redis_server), window_s=0.01)
    subscription = RedisBus(redis_client).subscribe(FEED_CHANNELS)
    stop = threading.Event()
    loop = threading.Thread(target=ingest.run, args=(subscription, stop), daemon=True)
    loop.start()
    try:
        publish_messages(RedisBus(redis_client), [factories.incident("台风倒树", drill_id="typhoon-t1"),
                                                  factories.incident("井盖缺失")])
        wait_until(lambda: drill_received and any(d["incidents"] for d in live_received), 10,
                   "both screens' deltas")
    finally:
        stop.set()
        loop.join(5)
        drill_client.disconnect()
    assert [i["text"] for d in drill_received for i in d["incidents"]] == ["台风倒树"]
    assert [i["text"] for d in live_received for i in d["incidents"]] == ["井盖缺失"]
    body = server.test_client().get(realtime.SNAPSHOT_PATH + "?drill=typhoon-t1").json
    assert [i["text"] for i in body["incidents"]] == ["台风倒树"]
    assert server.test_client().get(realtime.SNAPSHOT_PATH + "?drill=<script>").status_code == 400
