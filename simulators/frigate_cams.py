"""The district's cameras as a Frigate NVR would report them: each simulated camera alert is published on MQTT as
Frigate publishes one (a tracked object on `frigate/events`, then a review of severity alert on `frigate/reviews`,
and its `end` half a minute later), and each camera's failure and recovery as Frigate reports its streams
(`frigate/<camera>/status/detect` and `…/record`), for the Frigate bridge (feeds/adapters/frigate_bridge.py)
to read. So the bridge runs every day in the demo, not only in its tests.

`demo_mapping` writes the bridge's mapping for the simulated district: each camera CAMnnnn is Frigate's
`cam_CAMnnnn`, and each alert class is an object seen in a zone (DEMO_SIGHTINGS).
"""
from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from feeds.schemas import CameraAlert, CameraState, CameraStatus, FeedMessage
from simulators.outlets import Outlet

log = logging.getLogger(__name__)
PREFIX = "frigate"
END_AFTER = timedelta(seconds=30)
# alert class -> the Frigate label and zone a camera sees it as (a demo's model and zones; a site's own differ)
DEMO_SIGHTINGS = {
    "garbage_overflow": ("waste_bin", "垃圾收集点"),
    "illegal_parking": ("car", "禁停区"),
    "street_vendor": ("person", "人行道"),
    "waterlogging": ("water", "低洼路段"),
    "crowd_gathering": ("person", "广场"),
    "smoke_fire": ("fire", "沿街商铺"),
}


def frigate_name(camera_id: str) -> str:
    return f"cam_{camera_id}"


def demo_mapping(path: Path, camera_ids: Iterable[str], frigate_url: str = "http://127.0.0.1:5000") -> None:
    """The bridge's mapping for the simulated district's cameras, in TOML."""
    lines = ["# the demo's Frigate mapping: written by simulators/frigate_cams.py", "[frigate]",
             f'url = "{frigate_url}"', f'topic_prefix = "{PREFIX}"', "", "[cameras]"]
    lines += [f'{frigate_name(c)} = "{c}"' for c in sorted(camera_ids)]
    for alert_class, (label, zone) in DEMO_SIGHTINGS.items():
        lines += ["", "[[alerts]]", f'objects = ["{label}"]', f'zones = ["{zone}"]', f'alert_class = "{alert_class}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass
class _Open:
    review: dict[str, object]
    ends_at: datetime


ROLES_OF = {  # our camera's health -> what Frigate says of its detect and record streams
    CameraState.ONLINE: ("online", "online"),
    CameraState.DEGRADED: ("online", "offline"),
    CameraState.OFFLINE: ("offline", "offline"),
    CameraState.DISABLED: ("disabled", "disabled"),
}


class FrigateCams(Outlet[CameraAlert | CameraStatus]):
    """Publishes the live camera alerts and health as Frigate's MQTT messages through a paho client."""

    counted = "camera_alert via frigate"

    def __init__(self, url: str) -> None:
        import paho.mqtt.client as mqtt

        super().__init__()
        host, _, port = url.removeprefix("mqtt://").rstrip("/").partition(":")
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"cc-sim-frigate-{secrets.token_hex(3)}")
        self.client.reconnect_delay_set(min_delay=1, max_delay=5)
        self.client.connect_async(host, int(port or 1883), keepalive=30)
        self.client.loop_start()
        self.open: list[_Open] = []

    def takes(self, m: FeedMessage) -> bool:
        return m.drill_id is None and (isinstance(m, CameraStatus) or (
            isinstance(m, CameraAlert) and m.alert_class in DEMO_SIGHTINGS))

    def send(self, items: Sequence[CameraAlert | CameraStatus], now: datetime) -> list[CameraAlert | CameraStatus]:
        """Publish each alert and change of health as Frigate would, and end the alerts whose time has come;
        returns what could not be published now (the broker away), to publish again."""
        if not self.client.is_connected():
            return list(items)
        for a in items:
            if isinstance(a, CameraStatus):
                for role, word in zip(("detect", "record"), ROLES_OF[a.state], strict=True):
                    self.client.publish(f"{PREFIX}/{frigate_name(a.camera_id)}/status/{role}", word, qos=1)
                continue
            label, zone = DEMO_SIGHTINGS[a.alert_class]
            start = a.started_at.timestamp()
            event_id = f"{start:.6f}-{secrets.token_hex(3)}"
            tracked = {"id": event_id, "camera": frigate_name(a.camera_id), "label": label, "sub_label": None,
                       "top_score": round(a.confidence, 4), "score": round(a.confidence, 4), "false_positive": False,
                       "start_time": start, "end_time": None, "current_zones": [zone], "entered_zones": [zone],
                       "has_snapshot": True, "has_clip": True, "active": True, "stationary": False}
            review = {"id": f"{start:.6f}-{secrets.token_hex(3)}", "camera": frigate_name(a.camera_id),
                      "start_time": start, "end_time": None, "severity": "alert",
                      "data": {"detections": [event_id], "objects": [label], "sub_labels": [], "zones": [zone],
                               "audio": []}}
            self.client.publish(f"{PREFIX}/events", json.dumps({"type": "new", "before": tracked,
                                                                "after": tracked}), qos=1)
            self.client.publish(f"{PREFIX}/reviews", json.dumps({"type": "new", "before": review,
                                                                 "after": review}), qos=1)
            self.open.append(_Open(review, now + END_AFTER))
            self.sent += 1
        due = [o for o in self.open if o.ends_at <= now]
        self.open = [o for o in self.open if o.ends_at > now]
        for o in due:
            ended = {**o.review, "end_time": now.timestamp()}
            self.client.publish(f"{PREFIX}/reviews", json.dumps({"type": "end", "before": o.review,
                                                                 "after": ended}), qos=1)
        return []
