"""The snapshot body a screen loads is the stored snapshot, copied from Redis without decoding it."""
from __future__ import annotations

import orjson

from feeds.bus.snapshots import MemorySnapshotStore, RedisSnapshotStore
from feeds.ingest.state import COUNTERS, Delta, batch_delta
from tests import factories


def _case(n: int) -> dict:
    return {"id": f"case-{n}", "category": "env.garbage", "urgent": n % 2 == 0, "state": "reported",
            "lat": 30.69 + n / 1e4, "lon": 111.28, "grid": "D01-S01-C01-G001", "text": f"路面积水 \"{n}\" 处",
            "deadline": None, "amber": None, "drill": None}


def _deltas() -> list[Delta]:
    first = batch_delta(1, factories.now(), [factories.position("P1"), factories.incident("井盖缺失"),
                                             factories.alert("CAM0007")], 2)
    second = Delta(seq=2, at=first["at"] + 1000, patrols={}, incidents=[], alerts=[],
                   counts=dict.fromkeys(COUNTERS, 0), cases={f"case-{n}": _case(n) for n in range(3)},
                   cameras={"CAM0007": {"state": "offline", "since": first["at"], "detail": "detect: offline"}})
    third = Delta(seq=3, at=first["at"] + 2000, patrols={}, incidents=[], alerts=[],
                  counts=dict.fromkeys(COUNTERS, 0), cases={"case-1": None}, cameras={})
    return [first, second, third]


def test_the_body_of_a_redis_snapshot_is_the_snapshot_it_loads(redis_client):
    store, memory = RedisSnapshotStore(redis_client), MemorySnapshotStore()
    for delta in _deltas():
        store.save(delta)
        memory.save(delta)
    body = orjson.loads(store.encoded())
    assert body == store.load() == orjson.loads(memory.encoded())
    assert set(body["cases"]) == {"case-0", "case-2"} and body["cases"]["case-2"]["text"] == '路面积水 "2" 处'
    assert body["seq"] == 3 and set(body["patrols"]) == {"P1"} and len(body["incidents"]) == len(body["alerts"]) == 1
    assert body["cameras"] == {"CAM0007": {"state": "offline", "since": body["at"] - 2000, "detail": "detect: offline"}}


def test_an_empty_store_and_a_drill_store_give_their_own_bodies(redis_client):
    live = RedisSnapshotStore(redis_client)
    assert orjson.loads(live.encoded()) == live.load() == {"seq": 0, "at": 0, "patrols": {}, "incidents": [],
                                                            "alerts": [], "counts": dict.fromkeys(COUNTERS, 0),
                                                            "cases": {}, "cameras": {}}
    drill = live.for_drill("typhoon-t1")
    drill.save(_deltas()[0])
    assert orjson.loads(drill.encoded())["seq"] == 1 and orjson.loads(live.encoded())["seq"] == 0
