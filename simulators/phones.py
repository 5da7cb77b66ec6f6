"""Patrollers' phones: some patrol units send their positions as a phone running Traccar Client does, OsmAnd
requests over HTTP to the adapter (feeds/adapters/osmand_server.py), instead of publishing on the bus. So
the adapter runs every day in the demo, not only in its tests.

A simulated phone's device id is `sim-<unit>`; `register_phones` puts the phones in the device registry,
as a site's administrator would with `python -m feeds.adapters.devices add`.
"""
from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import select

from feeds.adapters.devices import add_device
from feeds.adapters.osmand import KNOT_MPS
from feeds.clock import utcnow
from feeds.schemas import FeedMessage, PatrolPosition
from feeds.store.engine import make_engine
from feeds.store.models import TrackerDevice
from simulators.outlets import Outlet

log = logging.getLogger(__name__)
SHARE = 0.1  # of the patrol units, the share that report through the OsmAnd adapter in the demo


def device_of(unit_id: str) -> str:
    return f"sim-{unit_id}"


def phone_units(units: Iterable[str], share: float = SHARE) -> set[str]:
    """Every k-th unit in id order (k = 1/share), at least one: the same units in every run."""
    ordered = sorted(units)
    if not ordered or share <= 0:
        return set()
    step = max(1, round(1 / min(share, 1.0)))
    return set(ordered[::step])


def register_phones(db_url: str, units: Iterable[str]) -> int:
    """Register the simulated phones that are not registered yet. Returns how many were added."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            known = set(conn.execute(select(TrackerDevice.device_id)).scalars())
            added = 0
            for unit in sorted(units):
                if device_of(unit) not in known:
                    add_device(conn, device_of(unit), unit, utcnow(), note="simulated phone")
                    added += 1
        return added
    finally:
        engine.dispose()


class Phones(Outlet[PatrolPosition]):
    """Sends the fixes of its units to an OsmAnd endpoint, one GET each, as Traccar Client does."""

    counted = "patrol_position via osmand"

    def __init__(self, url: str, units: set[str], timeout_s: float = 2.0) -> None:
        super().__init__()
        self.url, self.units, self.timeout_s = url.rstrip("/") + "/", units, timeout_s

    def takes(self, m: FeedMessage) -> bool:
        return isinstance(m, PatrolPosition) and m.unit_id in self.units and m.drill_id is None

    def send(self, fixes: Sequence[PatrolPosition], now: datetime | None = None) -> list[PatrolPosition]:
        """Send each fix; returns those that could not be sent now (the endpoint away or busy), to send again.
        A fix the endpoint refuses (400/404) is not sent again: the endpoint kept it as a dead letter."""
        unsent: list[PatrolPosition] = []
        for k, fix in enumerate(fixes):
            query = {"id": device_of(fix.unit_id), "lat": f"{fix.lat:.7f}", "lon": f"{fix.lon:.7f}",
                     "timestamp": str(int(fix.fix_at.timestamp() * 1000)), "accuracy": f"{fix.accuracy_m:g}"}
            if fix.speed_mps is not None:
                query["speed"] = f"{fix.speed_mps / KNOT_MPS:.2f}"  # knots, as the protocol has it
            try:
                with urllib.request.urlopen(self.url + "?" + urlencode(query), timeout=self.timeout_s):
                    self.sent += 1
            except urllib.error.HTTPError as err:
                if err.code >= 500:
                    unsent.extend(fixes[k:])
                    break
                self.refused += 1
                log.warning("the OsmAnd endpoint refused the fix of %s: %s %s", fix.unit_id, err.code,
                            err.read(200).decode("utf-8", "replace").strip())
            except OSError as err:
                log.warning("the OsmAnd endpoint at %s does not answer: %s", self.url, err)
                unsent.extend(fixes[k:])
                break
        return unsent
