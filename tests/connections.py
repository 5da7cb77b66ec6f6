"""Which local server holds a connection: read from the kernel's TCP tables (no tool needed)."""
from __future__ import annotations

import time


def established(port: int) -> int:
    """Established TCP connections whose local port is `port`: the dashboard's side of nginx's proxied
    websockets (nginx opens a connection per request otherwise, closed once answered)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in rows.read().splitlines()[1:]:
                local, state = row.split()[1], row.split()[3]
                count += local.rsplit(":", 1)[1] == f"{port:04X}" and state == "01"
    return count


def only_one_holding(ports: list[int]) -> int | None:
    """The one port with a lasting connection while the others have none, over a second (the page's HTTP
    requests come and go; its websocket stays)."""
    held = set(ports)
    for _ in range(10):
        now = {p for p in ports if established(p)}
        if len(now) != 1:
            return None
        held &= now
        time.sleep(0.1)
    return next(iter(held), None)
