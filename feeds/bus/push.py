"""Push to every connected screen. Exactly one relay (the ingest) emits; web workers only deliver."""
from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from feeds.bus.screens import ScreenEvent, check
from feeds.outage import Outage

log = logging.getLogger(__name__)

NAMESPACE = "/live"  # every event on it is one of feeds.bus.screens.ScreenEvent
LIVE_ROOM = "live"  # screens of the live situation; each drill's screens are in room drill:<id>


def room_of(drill_id: str | None) -> str:
    return LIVE_ROOM if drill_id is None else f"drill:{drill_id}"


class Pusher(Protocol):
    def push(self, event: str, data: Any, room: str | None = None) -> None:
        """Emit to the screens in `room`, or to every screen when None."""


def socket_queue(redis_url: str, *, write_only: bool) -> Any:
    """Socket.IO's Redis message queue, listening again at most 1 s after Redis comes back (python-socketio's
    own doubles its wait up to 60 s: screens would stay dark for up to a minute after a short outage)."""
    import socketio

    class Queue(socketio.RedisManager):
        def _redis_listen_with_retries(self):  # type: ignore[no-untyped-def]
            outage = Outage("the Socket.IO queue on Redis", log, cap_s=1.0)
            subscribed = False
            while True:
                try:
                    if not subscribed:
                        self._redis_connect()
                        self.pubsub.subscribe(self.channel)
                        subscribed = True
                        outage.ok()
                    yield from self.pubsub.listen()
                except Exception as err:
                    subscribed = False
                    time.sleep(outage.failed(err))  # gevent's when patched

    return Queue(redis_url, channel="flask-socketio", write_only=write_only)


class SocketIOPusher:
    """Emits through Flask-SocketIO's Redis message queue to the dashboard processes' clients."""

    def __init__(self, redis_url: str) -> None:
        from flask_socketio import SocketIO

        self._sio = SocketIO(message_queue=redis_url, client_manager=socket_queue(redis_url, write_only=True))

    def push(self, event: str, data: Any, room: str | None = None) -> None:
        self._sio.emit(event, data, namespace=NAMESPACE, to=room)


class RecordingPusher:
    """Keeps what would have been pushed, for tests; the heartbeats apart. It refuses what a screen could not
    read (feeds.bus.screens.check raises OffVocabulary), so every test that pushes checks the vocabulary."""

    def __init__(self) -> None:
        self.pushed: list[tuple[str, Any]] = []
        self.rooms: list[str | None] = []  # the room of each push, in order
        self.heartbeats: list[tuple[str | None, Any]] = []  # (room, data)

    def push(self, event: str, data: Any, room: str | None = None) -> None:
        check(event, data)
        if event == ScreenEvent.HEARTBEAT:
            self.heartbeats.append((room, data))
            return
        self.pushed.append((event, data))
        self.rooms.append(room)
