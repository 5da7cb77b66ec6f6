"""A Redis client from CC_REDIS_URL: one server (`redis://host:port/db`), or the primary that Redis Sentinel names
(`redis+sentinel://[:password@]host1:26379,host2:26379,host3:26379/db/service`, the form python-socketio's
RedisManager reads too, so the screens' push queue follows the same primary).

A Sentinel client asks the sentinels for the primary on every new connection: after a failover (the primary
killed, a replica promoted) the next command reconnects to the new primary by itself. Every process of the
centre takes its client from here.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from redis.sentinel import Sentinel

SENTINEL_SCHEMES = ("redis+sentinel", "valkey+sentinel")


def sentinel_parts(url: str) -> tuple[list[tuple[str, int]], str, dict[str, Any]]:
    """(the sentinels, the service name, the primary's connection options) of a redis+sentinel:// URL."""
    parts = urlsplit(url)
    if parts.scheme not in SENTINEL_SCHEMES:
        raise ValueError(f"not a Sentinel URL: {url!r}")
    hosts = parts.netloc.rsplit("@", 1)[-1]
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":")
        sentinels.append((name or host, int(port) if name else 26379))
    path = [p for p in parts.path.split("/") if p]
    options: dict[str, Any] = {"db": int(path[0]) if path else 0}
    if parts.password:
        options["password"] = unquote(parts.password)
    if parts.username:
        options["username"] = unquote(parts.username)
    return sentinels, path[1] if len(path) > 1 else "mymaster", options


def redis_client(url: str, **options: Any) -> redis.Redis:
    """A client of the server at `url`, or of the primary its sentinels name."""
    if urlsplit(url).scheme in SENTINEL_SCHEMES:
        sentinels, service, primary = sentinel_parts(url)
        timeouts = {k: v for k, v in options.items() if k in ("socket_timeout", "socket_connect_timeout")}
        sentinel = Sentinel(sentinels, sentinel_kwargs={"socket_timeout": 1.0, **timeouts},
                            **{**primary, **options})
        return sentinel.master_for(service)
    return redis.Redis.from_url(url, **options)
