"""Push to every connected screen. Exactly one relay (the ingest) emits; web workers only deliver."""
from __future__ import annotations

from typing import Any, Protocol

NAMESPACE = "/live"
DELTA_EVENT = "delta"
LIVE_ROOM = "live"  # screens of the live situation; each drill's screens are in room drill:<id>


def room_of(drill_id: str | None) -> str:
    return LIVE_ROOM if drill_id is None else f"drill:{drill_id}"


class Pusher(Protocol):
    def push(self, event: str, data: Any, room: str | None = None) -> None:
        """Emit to the screens in `room`, or to every screen when None."""


class SocketIOPusher:
    """Emits through Flask-SocketIO's Redis message queue to the dashboard processes' clients."""

    def __init__(self, redis_url: str) -> None:
        from flask_socketio import SocketIO

        self._sio = SocketIO(message_queue=redis_url)

    def push(self, event: str, data: Any, room: str | None = None) -> None:
        self._sio.emit(event, data, namespace=NAMESPACE, to=room)


class RecordingPusher:
    """Keeps what would have been pushed, for tests."""

    def __init__(self) -> None:
        self.pushed: list[tuple[str, Any]] = []
        self.rooms: list[str | None] = []  # the room of each push, in order

    def push(self, event: str, data: Any, room: str | None = None) -> None:
        self.pushed.append((event, data))
        self.rooms.append(room)
