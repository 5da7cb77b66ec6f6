"""Socket glue on the server: Flask-SocketIO on the Dash app's Flask server, fed through Redis.

The ingest is the only process that emits (through the Redis message queue); every dashboard process
delivers to its own connected screens. A screen loads the snapshot over HTTP, then applies deltas.
"""
from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import Flask, Response, jsonify
from flask_socketio import SocketIO

from feeds.push import NAMESPACE
from feeds.snapshots import SnapshotStore

log = logging.getLogger(__name__)
SNAPSHOT_PATH = "/api/live/snapshot"


def attach(server: Flask, redis_url: str, snapshots: SnapshotStore, async_mode: str | None = None) -> SocketIO:
    socketio = SocketIO(server, message_queue=redis_url, async_mode=async_mode, logger=False, engineio_logger=False)

    @socketio.on("connect", namespace=NAMESPACE)
    def _connect(auth: Any = None) -> bool:
        return True

    @server.get(SNAPSHOT_PATH)
    def _snapshot() -> Any:
        # orjson: a city's snapshot (thousands of open cases) encodes in milliseconds, not a second
        return Response(orjson.dumps(snapshots.load()), mimetype="application/json",
                        headers={"Cache-Control": "no-store"})

    @server.get("/api/health")
    def _health() -> Any:
        snap = snapshots.load()
        return jsonify({"seq": snap["seq"], "at": snap["at"], "patrols": len(snap["patrols"])})

    return socketio
