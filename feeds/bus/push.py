"""Push to every connected screen. Exactly one relay (the ingest) emits; web workers only deliver."""
from __future__ import annotations

import logging
import time
from typing import Any, Protocol

import orjson

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


class ScreenJson:
    """The JSON module Socket.IO encodes and decodes with, in the relay and in the web processes: orjson, as text
    (python-socketio's own, the standard library's, took 15 ms to encode a delta of 5,000 fixes and 12 ms to
    decode it, against 1.6 and 3.5)."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()

    @staticmethod
    def loads(text: str | bytes, **_: Any) -> Any:
        return orjson.loads(text)


def screen_packet() -> type:
    """Socket.IO's packet for the screens' events, which are JSON (feeds.bus.screens): it does not walk every
    value of a delta looking for binary attachments (17 ms for 5,000 fixes, in every web process)."""
    import socketio

    class ScreenPacket(socketio.packet.Packet):
        json = ScreenJson

        @classmethod
        def data_is_binary(cls, data: Any) -> bool:
            if isinstance(data, list):  # an event's arguments: [name, payload]
                return any(isinstance(item, bytes | bytearray) for item in data)
            return isinstance(data, bytes | bytearray)

    return ScreenPacket


def socket_queue(redis_url: str, *, write_only: bool) -> Any:
    """Socket.IO's Redis message queue, listening again at most 1 s after Redis comes back (python-socketio's
    own doubles its wait up to 60 s: screens would stay dark for up to a minute after a short outage). The relay
    (`write_only`) publishes what it emits as it is: the screens' events are JSON, so it does not walk a delta
    looking for binary attachments first (17 ms for 5,000 fixes, as long as encoding it)."""
    import socketio

    class Queue(socketio.RedisManager):
        def emit(self, event, data, namespace=None, room=None, skip_sid=None,  # type: ignore[no-untyped-def]
                 callback=None, to=None, **kwargs):
            if not write_only or callback is not None or kwargs or isinstance(data, bytes | bytearray | tuple):
                return super().emit(event, data, namespace=namespace, room=room, skip_sid=skip_sid,
                                    callback=callback, to=to, **kwargs)
            self._publish({"method": "emit", "event": event, "data": [data], "binary": False,
                           "namespace": namespace or "/", "room": to or room, "skip_sid": skip_sid,
                           "callback": None, "host_id": self.host_id})
            return None

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

    return Queue(redis_url, channel="flask-socketio", write_only=write_only, json=ScreenJson)


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
