"""The Frigate bridge: subscribes to a Frigate's MQTT topics and publishes the camera alerts and the cameras'
health they make on the durable streams (feeds/adapters/frigate.py says how).

    CC_MQTT_URL=mqtt://broker:1883 CC_FRIGATE_MAPPING=/etc/cc/frigate.toml python -m feeds.adapters.frigate_bridge

A message that makes no alert for a reason an operator can act on (a camera or objects the mapping does not
name, a payload that is not Frigate's) is kept as a dead letter (channel "frigate"). What is made while Redis
is away is kept and published when it is back. The MQTT connection is re-made by itself when the broker goes
away and comes back. When the bridge loses the broker, it cannot know its cameras' health: it says nothing
(the screens keep the last health said) and logs it; Frigate republishes its state on reconnection.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import redis
from sqlalchemy import select
from sqlalchemy.engine import Engine

from feeds.adapters.frigate import Frigate, FrigateMapping, MappingError, Refused, load_mapping
from feeds.bus.channels import Bus, StreamBus
from feeds.bus.connect import redis_client
from feeds.clock import utcnow
from feeds.schemas import KEPT_OF_REFUSED, FeedMessage, Rejection, channel_for, encode
from feeds.store.models import Asset
from feeds.store.writes import keep_dead_letters

log = logging.getLogger(__name__)
CHANNEL = "frigate"
OUTBOX_LIMIT = 10_000


def our_cameras(engine: Engine) -> dict[str, tuple[float, float]]:
    with engine.connect() as conn:
        return {i: (lat, lon) for i, lat, lon in conn.execute(
            select(Asset.id, Asset.lat, Asset.lon).where(Asset.kind == "camera"))}


class Bridge:
    """What the bridge does with each message; the MQTT client only hands them over."""

    def __init__(self, mapping: FrigateMapping, bus: Bus, engine: Engine,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.frigate, self.bus, self.engine, self.clock = Frigate(mapping), bus, engine, clock
        self.prefix = mapping.topic_prefix
        self.outbox: list[FeedMessage] = []
        self._lock = threading.Lock()

    @property
    def topics(self) -> list[str]:
        p = self.prefix
        return [f"{p}/events", f"{p}/reviews", f"{p}/available", f"{p}/+/status/+"]

    def handle(self, topic: str, payload: bytes) -> None:
        try:
            made: list[FeedMessage] = []
            parts = topic.removeprefix(f"{self.prefix}/").split("/")
            if topic == f"{self.prefix}/events":
                self.frigate.event(payload)
            elif topic == f"{self.prefix}/reviews":
                alert = self.frigate.review(payload, self.clock())
                made = [alert] if alert is not None else []
            elif topic == f"{self.prefix}/available":
                made = list(self.frigate.availability(payload, self.clock()))
                log.log(logging.INFO if self.frigate.up else logging.WARNING, "Frigate is %s",
                        payload.decode("utf-8", "replace")[:20])
            elif len(parts) == 3 and parts[1] == "status":
                made = list(self.frigate.role_status(parts[0], parts[2], payload, self.clock()))
            if made:
                with self._lock:
                    self.outbox.extend(made)
                    del self.outbox[:-OUTBOX_LIMIT]
                self.flush()
        except Refused as refused:
            self.keep(topic, payload, str(refused))

    def flush(self) -> None:
        """Publish what was made and not yet published, in order, each kind on its stream; what Redis refused
        stays to be published again (a message published twice changes nothing: its id is its key)."""
        with self._lock:
            while self.outbox:
                kind = self.outbox[0].kind
                run = 1
                while run < len(self.outbox) and self.outbox[run].kind == kind:
                    run += 1
                try:
                    self.bus.publish(channel_for(kind), encode(self.outbox[:run]))
                except redis.RedisError as err:
                    log.warning("Redis is away, %d messages kept to publish: %s", len(self.outbox), err)
                    return
                del self.outbox[:run]

    def keep(self, topic: str, payload: bytes, reason: str) -> None:
        keep_dead_letters(self.engine, [Rejection(
            CHANNEL, f"{topic}\n{payload[:KEPT_OF_REFUSED].decode('utf-8', 'replace')}", reason, "decode")],
            self.clock())
        log.info("refused a message on %s: %s", topic, reason)


def connect(bridge: Bridge, url: str) -> object:
    """An MQTT client that hands every message to the bridge and subscribes again on every connection."""
    import paho.mqtt.client as mqtt

    host, _, port = url.removeprefix("mqtt://").rstrip("/").partition(":")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"cc-frigate-bridge-{int(time.time())}")

    def on_connect(c: mqtt.Client, _u: object, _f: object, reason: object, _p: object = None) -> None:
        log.info("connected to %s (%s); subscribing to %s", url, reason, ", ".join(bridge.topics))
        for topic in bridge.topics:
            c.subscribe(topic, qos=1)

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        bridge.handle(message.topic, bytes(message.payload))

    client.on_connect = on_connect
    client.on_message = on_message
    client.reconnect_delay_set(min_delay=1, max_delay=5)
    client.connect_async(host, int(port or 1883), keepalive=30)
    client.loop_start()
    return client


def main() -> None:
    from feeds.settings import Settings
    from feeds.store.engine import make_engine
    from feeds.taxonomy import load as load_taxonomy

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [frigate] %(message)s")
    settings = Settings()
    if not settings.redis_url or not settings.mqtt_url or not settings.frigate_mapping:
        sys.exit("CC_REDIS_URL, CC_MQTT_URL and CC_FRIGATE_MAPPING must be set")
    engine = make_engine(settings.db_url)
    try:
        mapping = load_mapping(Path(settings.frigate_mapping), our_cameras(engine), load_taxonomy().alert_classes)
    except MappingError as err:
        sys.exit(f"the Frigate mapping cannot be used: {err}")
    bridge = Bridge(mapping, StreamBus(redis_client(settings.redis_url), settings.stream_maxlen,
                                     replicas=settings.stream_replicas), engine)
    connect(bridge, settings.mqtt_url)
    log.info("%d Frigate cameras mapped, %d rules", len(mapping.cameras), len(mapping.rules))
    while True:  # the MQTT client runs in its own thread; here, what Redis refused is tried again
        time.sleep(1)
        bridge.flush()


if __name__ == "__main__":
    main()
