"""Socket glue on the server: Flask-SocketIO on the Dash app's Flask server, fed through Redis.

The ingest is the only process that emits (through the Redis message queue); every dashboard process
delivers to its own connected screens. A screen loads the snapshot over HTTP, then applies deltas.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request
from flask_socketio import SocketIO, join_room

from feeds.bus.push import NAMESPACE, ScreenJson, room_of, screen_packet, socket_queue
from feeds.bus.snapshots import SnapshotStore

log = logging.getLogger(__name__)
SNAPSHOT_PATH = "/api/live/snapshot"
_DRILL_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def valid_drill(value: object) -> bool:
    return isinstance(value, str) and _DRILL_ID.fullmatch(value) is not None


_valid_drill = valid_drill


def attach(server: Flask, redis_url: str, snapshots: SnapshotStore, async_mode: str | None = None, *,
           may_connect: Callable[[Any], bool]) -> SocketIO:
    """`may_connect(auth)` decides, in the handshake's request context, whether a screen may connect
    (dashboard.security.auth.may_connect: a session that may see the wall); the HTTP routes here are guarded by
    the path policy (dashboard/security/access.py)."""
    socketio = SocketIO(server, message_queue=redis_url, client_manager=socket_queue(redis_url, write_only=False),
                        async_mode=async_mode, logger=False, engineio_logger=False, serializer=screen_packet(),
                        json=ScreenJson)

    @socketio.on("connect", namespace=NAMESPACE)
    def _connect(auth: Any = None) -> bool:
        if not may_connect(auth):
            return False
        drill = auth.get("drill") if isinstance(auth, dict) else None
        if drill is not None and not _valid_drill(drill):
            return False
        join_room(room_of(drill))  # a live screen hears live deltas only; a drill screen its drill's
        return True

    @server.get(SNAPSHOT_PATH)
    def _snapshot() -> Any:
        drill = request.args.get("drill")
        if drill is not None and not _valid_drill(drill):
            return jsonify({"error": f"not a drill id: {drill[:80]!r}"}), 400
        # a city's snapshot (thousands of open cases) is copied from the stored JSON, not decoded and re-encoded
        return Response((snapshots if drill is None else snapshots.for_drill(drill)).encoded(),
                        mimetype="application/json", headers={"Cache-Control": "no-store"})

    @server.get("/api/health")  # open for monitoring (the policy says so): sequence, time, patrol count
    def _health() -> Any:
        snap = snapshots.load()
        return jsonify({"seq": snap["seq"], "at": snap["at"], "patrols": len(snap["patrols"])})

    return socketio
