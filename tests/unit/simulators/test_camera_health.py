"""The simulated cameras fail as the field's do: about OFFLINE_SHARE of them offline at a time, each outage an
hour or two, every change said as a `camera_status`; an offline camera raises nothing."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feeds.schemas import CameraState
from feeds.taxonomy import load as load_taxonomy
from simulators.cameras import OFFLINE_SHARE, OUTAGE_H, CameraNetwork, _Pending
from simulators.geography import build_district
from simulators.incidents import Ledger

START = datetime(2026, 12, 1, tzinfo=UTC)


def network(seed: int = 5) -> CameraNetwork:
    return CameraNetwork(build_district(seed, 96), seed, load_taxonomy(), Ledger(), "run")


def test_cameras_are_offline_about_the_fields_share_of_the_time_in_outages_of_an_hour_or_two():
    cams = network()
    said = cams.failures(START)
    offline_minutes = total = 0
    outages: list[float] = []
    down_since: dict[str, datetime] = {}
    for minute in range(1, 14 * 24 * 60, 5):  # two weeks, every five minutes
        now = START + timedelta(minutes=minute)
        for s in cams.failures(now):
            said.append(s)
            if s.state != CameraState.ONLINE:
                down_since.setdefault(s.camera_id, s.since)
            elif s.camera_id in down_since:
                outages.append((s.since - down_since.pop(s.camera_id)).total_seconds() / 3600)
        offline_minutes += sum(state != CameraState.ONLINE for state in cams.health.values())
        total += len(cams.cameras)
    share = offline_minutes / total
    assert OFFLINE_SHARE * 0.6 < share < OFFLINE_SHARE * 1.5, share
    assert OUTAGE_H * 0.6 < sum(outages) / len(outages) < OUTAGE_H * 1.5, sum(outages) / len(outages)
    assert len({s.id for s in said}) == len(said)  # every change its own message
    assert all(s.since <= s.ts for s in said) and {s.state for s in said} >= {CameraState.OFFLINE,
                                                                              CameraState.ONLINE}


def test_the_same_seed_fails_the_same_cameras_at_the_same_times():
    def day(cams: CameraNetwork) -> list[tuple[str, str, datetime]]:
        out = cams.failures(START)
        for hour in range(1, 25):
            out += cams.failures(START + timedelta(hours=hour))
        return [(s.camera_id, s.state.value, s.since) for s in out]

    assert day(network()) == day(network()) and day(network()) != day(network(seed=6))


def test_an_offline_camera_raises_no_alert_and_a_degraded_one_still_does():
    cams = network()
    cams.failures(START)
    camera = cams.cameras[0]
    for state, raised in ((CameraState.OFFLINE, 0), (CameraState.DEGRADED, 1), (CameraState.ONLINE, 1)):
        cams.health[camera.camera_id] = state
        cams._last_alert.clear()
        cams._pending.append(_Pending(START, camera, "illegal_parking", None))  # what it would have seen
        assert len(cams.due(START + timedelta(minutes=1))) == raised, state
