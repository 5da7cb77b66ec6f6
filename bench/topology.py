"""The several-machine topology at city scale, on this machine's loopback: does it keep up, and where does it
run out first?

    .venv/bin/python -m bench.topology [--grids 1100] [--units 10000] [--screens 50] [--minutes 30] [--window-ms 15]

Starts devstack/topology.py (Redis Sentinel, PostgreSQL, two ingests, two dashboard processes behind nginx,
escalator, KPI board, drill desk, adapters) with the simulated district at --grids, publishes --units patrols
at 1 Hz (through the Sentinel's primary), connects --screens Socket.IO clients through nginx (each a screen:
it receives every delta) and one Chromium wall, and every --sample-s prints: publish → paint on the wall (p50,
p95), publish → receipt on the screens (p95), the ingest's backlog (what Redis holds for its subscription,
and what waits in its inbox), each process's RSS and CPU (with everything it started: PostgreSQL's backends,
Chromium's renderers), the load generator's CPU and the machine's. All on the same cores as the load it
measures: the figures say where the next bottleneck is, not what separate machines would give.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from bench.latency import Publisher
from bench.wall import kiosk_opener, wait_interactive
from devstack.services import headless_chromium
from devstack.topology import Topology, start_topology
from feeds.bus.channels import RedisBus
from feeds.bus.connect import redis_client
from feeds.bus.push import NAMESPACE
from feeds.ingest.__main__ import BACKLOG_KEY
from simulators.geography import build_district

TICK = os.sysconf("SC_CLK_TCK")


class Screen:
    """A screen's connection: Socket.IO (engine.io 4) over a websocket through nginx, as a wall's browser holds
    it, receiving every delta. The load generator shares the cores it measures, so a screen costs as little as
    it can: after the handshake it reads the raw bytes (no frame or JSON decoding in Python), answers the
    server's pings, and takes publish → receipt from the first `sent` stamp in each read."""

    PING, PONG = b"\x81\x012", bytes([0x81, 0x81, 0, 0, 0, 0]) + b"3"  # engine.io ping, and a masked pong

    def __init__(self, url: str, cookie: str) -> None:
        import websocket

        self.latencies: list[float] = []
        self.socket = websocket.create_connection(
            url.replace("http", "ws", 1).rstrip("/") + "/socket.io/?EIO=4&transport=websocket",
            header=[f"Cookie: {cookie}"], timeout=20, skip_utf8_validation=True)
        opened = self.socket.recv()
        if not opened.startswith("0"):
            raise RuntimeError(f"not an engine.io handshake: {opened[:80]}")
        self.socket.send(f"40{NAMESPACE},")
        joined = self.socket.recv()
        if not joined.startswith(f"40{NAMESPACE},"):
            raise RuntimeError(f"the screen was not let in: {joined[:120]}")
        threading.Thread(target=self._hear, daemon=True).start()

    def _hear(self) -> None:
        sock = self.socket.sock
        sock.settimeout(None)
        buffer = bytearray(1 << 16)
        while True:
            try:
                n = sock.recv_into(buffer)
            except OSError:
                return
            if n == 0:
                return
            chunk = bytes(buffer[:n])
            if self.PING in chunk:
                sock.sendall(self.PONG)
            at = chunk.find(b'"sent":')
            if at >= 0:
                end = at + 7
                while end < n and 48 <= chunk[end] <= 57:
                    end += 1
                if end < n:  # the stamp whole in this read
                    self.latencies.append(time.time() * 1000 - int(chunk[at + 7:end]))

    def take(self) -> list[float]:
        out, self.latencies = self.latencies, []
        return out

    def close(self) -> None:
        self.socket.close()


def publishing(url: str, bounds: tuple[float, float, float, float], units: int, stop: Any, published: Any) -> None:
    """In a process of its own (the bench's own Python would otherwise be what runs out first)."""
    publisher = Publisher(RedisBus(redis_client(url)), bounds, units, units)
    threading.Thread(target=publisher.run, daemon=True).start()
    while not stop.wait(0.5):
        published.value = publisher.published
    publisher.stop.set()


def screening(url: str, cookie: str, count: int, asks: Any, answers: Any) -> None:
    """`count` screens in a process of their own; each ask is answered with the latencies heard since the last."""
    screens = [Screen(url, cookie) for _ in range(count)]
    answers.put(len(screens))
    while asks.get() is not None:
        answers.put([x for s in screens for x in s.take()])
    for s in screens:
        s.close()


def processes(topology: Topology) -> dict[str, int]:
    """Every process of the topology by name: pid."""
    named = {c.name: c.process.pid for c in topology.stack.children.items}
    named |= {c.name: c.process.pid for c in topology.more.items}
    named |= {f"redis:{port}": c.process.pid for port, c in topology.sentinels.servers.items()}
    named |= {f"sentinel-{k}": c.process.pid for k, c in enumerate(topology.sentinels.sentinels, start=1)}
    if topology.postgres.server is not None:
        named["postgres"] = topology.postgres.server.pid
    return named


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, CPU seconds of the process, CPU seconds of its children it has waited for)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK, (int(fields[13]) + int(fields[14])) / TICK


def usages(pids: dict[str, int]) -> dict[str, tuple[float, float]]:
    """For each named process: (RSS in MB of the process, CPU seconds so far of it and of every process under it;
    PostgreSQL's backends are the postmaster's children, Chromium's renderers the driver's). /proc is read once."""
    stats = {int(d.name): st for d in Path("/proc").iterdir() if d.name.isdigit() and (st := _stat(int(d.name)))}
    children: dict[int, list[int]] = {}
    for child, (parent, _, _) in stats.items():
        children.setdefault(parent, []).append(child)
    out: dict[str, tuple[float, float]] = {}
    for name, pid in pids.items():
        try:
            rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                       if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            out[name] = (0.0, 0.0)
            continue
        cpu, todo = 0.0, [pid]
        while todo:
            at = todo.pop()
            if at in stats:
                cpu += stats[at][1] + stats[at][2]
                todo += children.get(at, [])
        out[name] = (rss / 1024, cpu)
    return out


def machine_busy() -> tuple[float, float]:
    """(busy, all) CPU time of the machine so far, in ticks (/proc/stat)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    return sum(ticks) - idle, sum(ticks)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.topology", description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=1100)
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--screens", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--sample-s", type=float, default=60.0)
    parser.add_argument("--window-ms", type=int, default=15, help="the ingest's push window (CC_PUSH_WINDOW_MS)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="cc-bench-topology-"))
    began = time.perf_counter()
    topology = start_topology(home, seed=7, grids=args.grids, push_window_ms=args.window_ms)
    print(f"topology up in {time.perf_counter() - began:.0f} s at {args.grids} grids: {topology.url} "
          f"(Redis {topology.stack.redis_url})", flush=True)
    try:
        district = build_district(7, args.grids)
        stop, published_now = multiprocessing.Event(), multiprocessing.Value("q", 0)
        publisher = multiprocessing.Process(target=publishing, daemon=True, args=(
            topology.stack.redis_url, district.bounds, args.units, stop, published_now))
        publisher.start()
        opener = kiosk_opener(topology.kiosk_url)
        jar = next(h.cookiejar for h in opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor))
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        groups = []  # the screens, in two processes (as two machines' worth of wall PCs would be)
        for share in (args.screens // 2, args.screens - args.screens // 2):
            asks, answers = multiprocessing.Queue(), multiprocessing.Queue()
            child = multiprocessing.Process(target=screening, args=(topology.url, cookie, share, asks, answers),
                                            daemon=True)
            child.start()
            answers.get(timeout=120)
            groups.append((child, asks, answers))
        wall = headless_chromium()
        wait_interactive(wall, topology.kiosk_url)
        pids = processes(topology)
        load = {"publisher": publisher.pid or 0, "chromium wall": wall.service.process.pid,
                **{f"screens-{k}": child.pid or 0 for k, (child, _, _) in enumerate(groups, start=1)}}
        busy_before = machine_busy()
        redis = redis_client(topology.stack.redis_url)
        before = usages(pids | load)
        print(f"{args.units:,} patrols at 1 Hz, {args.screens} screens (Socket.IO through nginx) and one Chromium "
              f"wall; a sample every {args.sample_s:.0f} s for {args.minutes:g} min (load average "
              f"{os.getloadavg()[0]:.1f})", flush=True)
        print("minute | wall paint p50/p95 ms | screens p95 ms | Redis pub/sub backlog KiB | ingest inbox (payloads, "
              "MiB, oldest ms) | fixes/s | busiest processes (CPU %, RSS MB)", flush=True)
        wall.execute_script("cc.live.latencies = []")
        published, started, samples = published_now.value, time.monotonic(), 0
        while time.monotonic() - started < args.minutes * 60:
            time.sleep(args.sample_s)
            samples += 1
            painted = np.array(wall.execute_script("const l = cc.live.latencies; cc.live.latencies = []; return l"),
                               dtype=float)
            for _, asks, _ in groups:
                asks.put(True)
            heard = np.array([x for _, _, answers in groups for x in answers.get(timeout=60)], dtype=float)
            backlog = sum(int(c.get("omem", 0)) for c in redis.client_list(_type="pubsub")) / 1024
            inbox = {k.decode(): int(v) for k, v in redis.hgetall(BACKLOG_KEY).items()}
            rate = (published_now.value - published) / args.sample_s
            published = published_now.value
            now = usages(pids | load)
            used = {name: (now[name][1] - before[name][1]) / args.sample_s * 100 for name in now}
            before = now
            cpu = {name: used[name] for name in pids}
            load_cpu = {name: used[name] for name in load}
            busiest = sorted(cpu, key=lambda n: -cpu[n])[:6]
            busy_now = machine_busy()
            busy = 100 * (busy_now[0] - busy_before[0]) / max(1, busy_now[1] - busy_before[1])
            busy_before = busy_now
            p50, p95 = np.percentile(painted, [50, 95]) if painted.size else (float("nan"), float("nan"))
            s95 = np.percentile(heard, 95) if heard.size else float("nan")
            print(f"{samples * args.sample_s / 60:6.1f} | {p50:6.0f} / {p95:6.0f} | {s95:8.0f} | {backlog:10.0f} | "
                  f"{inbox.get('payloads', 0):,} / {inbox.get('bytes', 0) / 2**20:.1f} / "
                  f"{inbox.get('oldest_ms', 0):,} | "
                  f"{rate:7.0f} | " + ", ".join(f"{n} {cpu[n]:.0f}% {now[n][0]:.0f}" for n in busiest), flush=True)
            print(f"       machine {busy:.0f} % busy; the centre {sum(cpu.values()):.0f} % of a core, the load "
                  f"generator {sum(load_cpu.values()):.0f} % (" + ", ".join(
                      f"{n} {v:.0f}%" for n, v in load_cpu.items()) + ")", flush=True)
        print("RSS at the end (MB): " + ", ".join(f"{n} {before[n][0]:.0f}" for n in sorted(pids)))
        stop.set()
        for child, asks, _ in groups:
            asks.put(None)
            child.join(10)
        publisher.join(10)
        wall.quit()
    finally:
        topology.stop()
    print(f"{os.cpu_count()} cores; command: .venv/bin/python -m bench.topology " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()))


if __name__ == "__main__":
    main()
