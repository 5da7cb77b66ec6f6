"""Push to every connected screen. Exactly one relay (the ingest) emits; web workers only deliver."""
from __future__ import annotations

from typing import Any, Protocol

NAMESPACE = "/live"
DELTA_EVENT = "delta"


class Pusher(Protocol):
    def push(self, event: str, data: Any) -> None: ...


class SocketIOPusher:
    """Emits through Flask-SocketIO's Redis message queue to the dashboard processes' clients."""

    def __init__(self, redis_url: str) -> None:
        from flask_socketio import SocketIO

        self._sio = SocketIO(message_queue=redis_url)

    def push(self, event: str, data: Any) -> None:
        self._sio.emit(event, data, namespace=NAMESPACE)


class RecordingPusher:
    """Keeps what would have been pushed, for tests."""

    def __init__(self) -> None:
        self.pushed: list[tuple[str, Any]] = []

    def push(self, event: str, data: Any) -> None:
        self.pushed.append((event, data))
