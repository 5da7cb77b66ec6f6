"""The OsmAnd endpoint: patrollers' phones (Traccar Client, OsmAnd, any OsmAnd-protocol tracker) and Traccar's
JSON forwarding post positions here; each becomes a `patrol_position` on the durable stream.

    python -m feeds.adapters.osmand_server      # listens on CC_HOST:CC_OSMAND_PORT (default 5055)

Replies to positions as Traccar does: 200 with an empty body for a fix taken; 400 for a malformed
request; 404 for a device that is not registered (feeds/adapters/devices.py). Every refusal is also kept
as a dead letter (channel "osmand") with its reason and the request, for an operator to read. 503 when
the bus is unreachable: the phone keeps the fix and sends it again (Traccar Client buffers while offline).
`GET /health` answers "ok", touching neither the bus nor the database (for a load balancer).
"""
from __future__ import annotations

from gevent import monkey

if __name__ == "__main__":
    monkey.patch_all()

import logging
import sys
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import redis
from flask import Flask, Response, request
from sqlalchemy.engine import Engine
from werkzeug.exceptions import RequestEntityTooLarge

from feeds.adapters.devices import DeviceDirectory
from feeds.adapters.osmand import Refused, read_request, to_fix
from feeds.bus.channels import Bus, StreamBus
from feeds.bus.connect import redis_client
from feeds.clock import utcnow
from feeds.schemas import KEPT_OF_REFUSED, Rejection, channel_for, encode
from feeds.store.writes import keep_dead_letters

log = logging.getLogger(__name__)
CHANNEL = "osmand"  # the dead letters' channel: not a bus channel, so they are fixed at the phone, not re-driven
MAX_BODY = 64 * 1024
POSITIONS = channel_for("patrol_position")


def create_app(directory: DeviceDirectory, bus: Bus, engine: Engine, zone: ZoneInfo,
               clock: Callable[[], datetime] = utcnow) -> Flask:
    app = Flask("osmand")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY

    def refuse(status: int, reason: str, received_at: datetime) -> Response:
        shown = f"{request.method} {request.full_path.rstrip('?')}"
        try:
            body = request.get_data(cache=True)[:KEPT_OF_REFUSED].decode("utf-8", "replace")
        except RequestEntityTooLarge:
            body = f"[a body of {request.content_length} bytes, not kept]"
        payload = f"{shown}\n{body}" if body else shown
        keep_dead_letters(engine, [Rejection(CHANNEL, payload, reason, "refused" if status == 404 else "decode")],
                          received_at)  # the database away: logged, and the refusal is answered all the same
        log.info("refused %s: %s", shown[:200], reason)
        return Response(reason + "\n", status=status, mimetype="text/plain")

    @app.get("/health")
    def health() -> Response:
        """For a load balancer or a start-up script: answers without touching the bus or the database."""
        return Response("ok\n", mimetype="text/plain")

    @app.route("/", methods=["GET", "POST"])
    @app.route("/<path:_any>", methods=["GET", "POST"])
    def position(_any: str = "") -> Response:
        received_at = clock()
        try:
            body = request.get_data(cache=True)
            reading = read_request(request.query_string.decode("latin-1"), body, request.content_type, zone)
            unit = directory.unit_of(reading.device_id)
            if unit is None:
                state = "was retired" if directory.is_retired(reading.device_id) else "is not registered"
                raise Refused(404, f"device {reading.device_id!r} {state}: register it with "
                                   f"python -m feeds.adapters.devices add {reading.device_id} --unit …")
            fix = to_fix(reading, unit, received_at)
        except Refused as refused:
            return refuse(refused.status, refused.reason, received_at)
        try:
            bus.publish(POSITIONS, encode([fix]))
        except redis.RedisError as err:
            log.warning("the bus is unreachable, fix of %s not taken: %s", unit, err)
            return Response("the centre cannot take positions now; send again\n", status=503,
                            mimetype="text/plain")
        return Response(status=200)

    @app.errorhandler(413)
    def too_big(_err: Exception) -> Response:
        return refuse(400, f"the request is larger than {MAX_BODY} bytes", clock())

    return app


def main() -> None:
    from gevent.pywsgi import WSGIServer

    from feeds.settings import Settings
    from feeds.store.engine import make_engine

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [osmand] %(message)s")
    settings = Settings()
    if not settings.redis_url:
        sys.exit("CC_REDIS_URL (or REDIS_URL) must point at a Redis server")
    engine = make_engine(settings.db_url)
    bus = StreamBus(redis_client(settings.redis_url), settings.stream_maxlen, replicas=settings.stream_replicas)
    app = create_app(DeviceDirectory(engine), bus, engine, ZoneInfo(settings.timezone))
    log.info("OsmAnd positions on http://%s:%d", settings.host, settings.osmand_port)
    WSGIServer((settings.host, settings.osmand_port), app, log=None).serve_forever()


if __name__ == "__main__":
    main()
