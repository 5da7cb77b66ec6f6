"""Entry point: `python -m dashboard` serves the screens with gevent (patched before anything else)."""
from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402
import sys  # noqa: E402

from dashboard.app import create_app  # noqa: E402
from feeds.bus.connect import redis_client  # noqa: E402
from feeds.bus.snapshots import RedisSnapshotStore  # noqa: E402
from feeds.kpis.board import RedisBoardStore  # noqa: E402
from feeds.settings import Settings  # noqa: E402
from feeds.store.engine import make_engine  # noqa: E402


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [dashboard] %(message)s")
    logging.getLogger("geventwebsocket.handler").setLevel(logging.WARNING)  # not a line per HTTP request
    settings = Settings()
    if not settings.redis_url:
        sys.exit("CC_REDIS_URL (or REDIS_URL) must point at a Redis server")
    client = redis_client(settings.redis_url)
    app, socketio = create_app(settings, engine=make_engine(settings.db_url),
                               snapshots=RedisSnapshotStore(client, settings.recent_items),
                               boards=RedisBoardStore(client), async_mode="gevent", warm=True)
    logging.getLogger(__name__).info("serving on http://%s:%d", settings.host, settings.port)
    socketio.run(app.server, host=settings.host, port=settings.port, log_output=False)


if __name__ == "__main__":
    main()
