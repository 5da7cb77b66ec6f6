"""Citizens' apps and the 12345 hotline: the simulated citizens' and hotline's reports are posted as those
systems post them, Open311 service requests to the adapter (feeds/adapters/open311_server.py), each with
its system's api_key, instead of being published on the bus. So the Open311 endpoint runs every day in the
demo, not only in its tests.

The keys are the demo's (devstack/demo.py issues them and keeps them in the data directory, readable by its
owner only): one for the citizens' app (channel citizen), one for the hotline (channel hotline).
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from feeds.schemas import FeedMessage, IncidentReport, ReportChannel
from simulators.outlets import Outlet

log = logging.getLogger(__name__)
KEYS_FILE = "open311_keys.json"  # in the data directory: {"citizen": key, "hotline": key}
CHANNELS = (ReportChannel.CITIZEN, ReportChannel.HOTLINE)


def load_keys(data_dir: Path) -> dict[str, str]:
    path = data_dir / KEYS_FILE
    try:
        keys = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"no Open311 keys in {path}: {err}") from None
    missing = [c.value for c in CHANNELS if not isinstance(keys.get(c.value), str)]
    if missing:
        raise ValueError(f"{path} has no key for {', '.join(missing)}")
    return {c.value: keys[c.value] for c in CHANNELS}


class Hotline(Outlet[IncidentReport]):
    """Posts the live citizens' and hotline reports to an Open311 endpoint, one request each."""

    counted = "incident_report via open311"

    def __init__(self, url: str, keys: dict[str, str], timeout_s: float = 2.0) -> None:
        super().__init__()
        self.url = url.rstrip("/") + "/requests.json"
        self.keys, self.timeout_s = keys, timeout_s

    def takes(self, m: FeedMessage) -> bool:
        return isinstance(m, IncidentReport) and m.channel in CHANNELS and m.drill_id is None

    def send(self, reports: Sequence[IncidentReport], now: datetime | None = None) -> list[IncidentReport]:
        """Post each report; returns those that could not be posted now (the endpoint away), to post again."""
        unsent: list[IncidentReport] = []
        for k, report in enumerate(reports):
            form = {"api_key": self.keys[report.channel.value], "service_code": report.category,
                    "lat": f"{report.lat:.7f}", "long": f"{report.lon:.7f}", "description": report.description,
                    "attribute[urgent]": "yes" if report.urgent else "no"}
            if report.occurred_at is not None:
                form["attribute[occurred_at]"] = report.occurred_at.isoformat()
            if report.reporter_id:
                form["account_id"] = report.reporter_id
            try:
                with urllib.request.urlopen(self.url, data=urlencode(form).encode(), timeout=self.timeout_s):
                    self.sent += 1
            except urllib.error.HTTPError as err:
                if err.code >= 500 or err.code == 429:
                    unsent.extend(reports[k:])
                    break
                self.refused += 1
                log.warning("the Open311 endpoint refused a %s report: %s %s", report.category, err.code,
                            err.read(300).decode("utf-8", "replace").strip())
            except OSError as err:
                log.warning("the Open311 endpoint at %s does not answer: %s", self.url, err)
                unsent.extend(reports[k:])
                break
        return unsent
