"""Reading an upstream Open311 server (a city's existing 12345 system): new service requests since the last
poll, each published as an `incident_report`, so that the centre sees the hotline's cases without anyone
typing them in twice.

    python -m feeds.adapters.open311_client https://12345.example.gov.cn/open311/v2 [--every 60]
        [--channel hotline] [--services services.toml] [--jurisdiction ID]

Each request's report id comes from the server and its request id, so a request read again (the next poll
overlaps the last) is the same report and changes nothing. Where the poll stands is kept in Redis, per
server. `--services` maps the upstream's service codes to ours (a TOML table `[services]`, "001" =
"env.garbage"); a code it does not map is taken as ours, and the ingest refuses one we do not have, with a
dead letter. A request without lat/long is placed by its address when that names a street, community or grid,
and otherwise kept as a dead letter (channel "open311-poll").
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
import tomllib
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError

from feeds.adapters.open311 import MAX_RANGE_DAYS, Gazetteer
from feeds.bus.channels import Bus, publish_messages
from feeds.bus.connect import redis_client
from feeds.schemas import IncidentReport, Rejection, ReportChannel, describe

log = logging.getLogger(__name__)
SOURCE = "open311-poll"
CURSOR = "cc.open311.poll:"  # + the server's URL: the requested_datetime polled up to


@dataclass
class Polled:
    reports: list[IncidentReport] = field(default_factory=list)
    refused: list[Rejection] = field(default_factory=list)
    up_to: datetime | None = None  # the newest requested_datetime read


def report_id(base_url: str, request_id: str) -> str:
    return "up-" + hashlib.sha256(f"{base_url}|{request_id}".encode()).hexdigest()[:24]


def read_requests(base_url: str, body: bytes, now: datetime, where: Gazetteer, services: Mapping[str, str],
                  channel: ReportChannel) -> Polled:
    """The upstream's GET requests answer (JSON) as our reports, and the ones that cannot be."""
    polled = Polled()
    try:
        items = json.loads(body)
    except ValueError as err:
        polled.refused.append(Rejection("open311-poll", body[:4000].decode("utf-8", "replace"),
                                        f"the server's answer is not JSON: {err}", "decode"))
        return polled
    if not isinstance(items, list):
        items = [items]
    for item in items:
        try:
            report, requested = _report(base_url, item, now, where, services, channel)
        except (ValueError, KeyError, TypeError) as err:
            reason = describe(err) if isinstance(err, ValidationError) else str(err)
            polled.refused.append(Rejection("open311-poll", json.dumps(item, ensure_ascii=False)[:4000], reason,
                                            "schema"))
            continue
        polled.reports.append(report)
        polled.up_to = requested if polled.up_to is None else max(polled.up_to, requested)
    return polled


def _report(base_url: str, item: Any, now: datetime, where: Gazetteer, services: Mapping[str, str],
            channel: ReportChannel) -> tuple[IncidentReport, datetime]:
    if not isinstance(item, dict):
        raise ValueError("a request must be an object")
    request_id = str(item["service_request_id"])
    requested = datetime.fromisoformat(str(item["requested_datetime"]).replace("Z", "+00:00"))
    lat: Any = item.get("lat")
    lon: Any = item.get("long")
    address = item.get("address") or None
    if lat in (None, "") or lon in (None, ""):
        place = where.place(address) if isinstance(address, str) else None
        if place is None:
            raise ValueError(f"request {request_id} has no lat/long, and its address names no place of the "
                             "district")
        lat, lon = place.point.y, place.point.x
    code = str(item.get("service_code") or "")
    return IncidentReport.model_validate({
        "schema_version": 1, "id": report_id(base_url, request_id), "source": SOURCE, "ts": requested,
        "drill_id": None, "kind": "incident_report", "category": services.get(code, code),
        "description": str(item.get("description") or "")[:4000], "lat": float(lat), "lon": float(lon),
        "grid_code": where.grid_at(float(lat), float(lon)), "channel": channel, "reporter_id": None, "urgent": False,
        "occurred_at": None,
        "address": str(address)[:400] if address else None,
        "media_url": (item.get("media_url") or "").strip() or None,
    }), requested


def poll_once(base_url: str, fetch: Callable[[str], bytes], since: datetime, now: datetime, where: Gazetteer,
              services: Mapping[str, str], channel: ReportChannel, jurisdiction: str | None = None) -> Polled:
    """One poll: the requests made from `since` (at most 90 days, as the spec allows) up to now."""
    since = max(since, now - timedelta(days=MAX_RANGE_DAYS))
    # whole seconds, as every server reads them: the start rounded down, the end up, so no request falls between
    args = {"start_date": since.isoformat(timespec="seconds"),
            "end_date": (now + timedelta(seconds=1)).isoformat(timespec="seconds")}
    if jurisdiction:
        args["jurisdiction_id"] = jurisdiction
    return read_requests(base_url, fetch(f"{base_url.rstrip('/')}/requests.json?{urlencode(args)}"), now, where,
                         services, channel)


def http_fetch(url: str, timeout_s: float = 20.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout_s) as answer:
        return bytes(answer.read())


def publish(bus: Bus, polled: Polled) -> int:
    return publish_messages(bus, polled.reports) if polled.reports else 0


def load_services(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    with path.open("rb") as f:
        table = tomllib.load(f).get("services", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
        raise ValueError(f"{path}: [services] maps upstream codes to ours, as strings")
    return dict(table)


def main(argv: list[str] | None = None) -> int:
    import redis

    from feeds.adapters.open311_server import load_gazetteer
    from feeds.bus.channels import StreamBus
    from feeds.clock import utcnow
    from feeds.settings import Settings
    from feeds.store.engine import make_engine
    from feeds.store.writes import keep_dead_letters

    parser = argparse.ArgumentParser(prog="python -m feeds.adapters.open311_client",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the upstream's GeoReport v2 endpoint, e.g. https://…/open311/v2")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between polls (default 60)")
    parser.add_argument("--channel", choices=["hotline", "citizen"], default="hotline")
    parser.add_argument("--services", type=Path, help="a TOML file mapping the upstream's service codes to ours")
    parser.add_argument("--jurisdiction", help="jurisdiction_id, where the upstream serves several")
    parser.add_argument("--once", action="store_true", help="poll once and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [open311-poll] %(message)s")
    settings = Settings()
    if not settings.redis_url:
        sys.exit("CC_REDIS_URL (or REDIS_URL) must point at a Redis server")
    client = redis_client(settings.redis_url)
    engine = make_engine(settings.db_url)
    bus, where = StreamBus(client, settings.stream_maxlen, replicas=settings.stream_replicas), load_gazetteer(engine)
    services = load_services(args.services)
    while True:
        now = utcnow()
        kept = client.get(CURSOR + args.url)
        since = datetime.fromisoformat(kept.decode() if isinstance(kept, bytes) else kept) if kept \
            else now - timedelta(days=1)
        try:
            polled = poll_once(args.url, http_fetch, since, now, where, services, ReportChannel(args.channel),
                               args.jurisdiction)
            published = publish(bus, polled)
            if polled.refused:
                keep_dead_letters(engine, polled.refused, now)
            if polled.up_to is not None:
                client.set(CURSOR + args.url, polled.up_to.isoformat())
            log.info("polled %s: %d requests published, %d refused", args.url, published, len(polled.refused))
        except (OSError, redis.RedisError) as err:
            log.warning("polling %s failed, trying again in %g s: %s", args.url, args.every, err)
        if args.once:
            return 0
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
