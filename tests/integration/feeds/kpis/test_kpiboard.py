"""The KPI board job against a real database (SQLite and PostgreSQL) and a real Redis server: the board is
computed from what the ingest wrote, kept under its Redis key and pushed as "kpis"."""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from shapely.geometry import box, mapping
from sqlalchemy import insert, select

from feeds.bus.push import RecordingPusher
from feeds.bus.screens import ScreenEvent
from feeds.calendar import WorkingCalendar
from feeds.cases.writes import apply_commands, open_cases, sighting_of_report
from feeds.kpis.board import KEY, RedisBoardStore, tick
from feeds.kpis.figures import KpiRules
from feeds.store.models import Area, CaseRow
from feeds.store.writes import write_batch
from feeds.taxonomy import load
from tests import factories

CST = ZoneInfo("Asia/Shanghai")
RULES = KpiRules(load(), WorkingCalendar())
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=CST)  # Tuesday 15:00
LON, LAT = 111.0, 30.0


def at(hh: int, mm: int = 0) -> datetime:
    return NOW.replace(hour=hh, minute=mm)


def _area(code: str, level: str, parent: str | None, west: float, east: float) -> dict:
    return {"code": code, "level": level, "parent_code": parent, "name": code, "households": 0, "population": 0,
            "geometry": json.dumps(mapping(box(LON + west, LAT, LON + east, LAT + 0.001)))}


def _report(conn, case_id: str, when: datetime, **fields) -> None:
    base = {"id": case_id, "category": "order.vendor", "grid_code": "G1", "lat": LAT + 0.0005, "lon": LON + 0.0005,
            "channel": "patrol", "reporter_id": "P0001"}
    report = factories.incident(at=when, **{**base, **fields})
    write_batch(conn, [report], [], when)
    open_cases(conn, [sighting_of_report(report)])


def _act(conn, case_id: str, action: str, when: datetime, **fields) -> None:
    version = conn.execute(select(CaseRow.version).where(CaseRow.id == case_id)).scalar_one()
    assert apply_commands(conn, [factories.command(case_id, action, version, at=when, **fields)], when).applied


def _district(conn) -> None:
    """District D > street S > community C > grid G1 of two cells; two cases today, one drill; one fix."""
    for row in [_area("D", "district", None, 0, 0.002), _area("S", "street", "D", 0, 0.002),
                _area("C", "community", "S", 0, 0.002), _area("G1", "grid", "C", 0, 0.002),
                _area("G1-U01", "cell", "G1", 0, 0.001), _area("G1-U02", "cell", "G1", 0.001, 0.002)]:
        conn.execute(insert(Area.__table__), row)
    _report(conn, "A", at(9), occurred_at=at(8, 30))  # found 30 min after it arose
    _act(conn, "A", "verify", at(9, 10))
    _act(conn, "A", "register", at(9, 20))
    _report(conn, "B", at(10), channel="citizen", reporter_id=None, lon=LON + 0.0015)  # not a duplicate of A
    _act(conn, "B", "reject", at(10, 30), reject_reason="untrue")
    _report(conn, "X", at(9), lon=LON + 0.0015, drill_id="DR1")  # a drill: registered late, it would change every rate
    _act(conn, "X", "verify", at(14, 50), drill_id="DR1")
    _act(conn, "X", "register", at(14, 55), drill_id="DR1")
    write_batch(conn, [factories.position("P0001", lat=LAT + 0.0005, lon=LON + 0.0005, at=at(9)),
                       factories.position("P0009", lat=LAT + 0.0005, lon=LON + 0.0015, at=at(9), drill_id="DR1")],
                [], at(9))


def test_the_job_writes_the_board_to_redis_and_pushes_it(engine, redis_client):
    with engine.begin() as conn:
        _district(conn)
    pusher = RecordingPusher()
    board = tick(engine, RULES, RedisBoardStore(redis_client), pusher, NOW, CST, 30)

    assert board is not None and board["area"] == "D" and board["computed_at"] == "2026-11-24T15:00:00+08:00"
    r = board["rates"]
    assert r["discovery_timeliness"] == {"today": [1, 1], "yesterday": [0, 0], "month": [1, 1], "last_month": [0, 0]}
    assert r["discovery_accuracy"] == {"today": [1, 2], "yesterday": [0, 0], "month": [1, 2], "last_month": [0, 0]}
    assert r["verification_timeliness"]["today"] == [2, 2]  # 核实 of A and B, both within the hour
    assert r["closure"]["today"] == [0, 0] and r["on_time_closure"]["month"] == [0, 0]  # nothing due yet
    # one of two cells visited today; the month so far is 24 days of two cells, October's first 24 as well
    assert r["coverage"] == {"today": [1, 2], "yesterday": [0, 2], "month": [1, 48], "last_month": [0, 48]}

    assert json.loads(redis_client.get(KEY)) == board
    assert pusher.pushed == [(ScreenEvent.KPIS, board)]
    assert RedisBoardStore(redis_client).load() == board


def test_no_board_while_the_district_is_not_loaded(engine, redis_client):
    pusher = RecordingPusher()
    assert tick(engine, RULES, RedisBoardStore(redis_client), pusher, NOW, CST, 30) is None
    assert pusher.pushed == [] and redis_client.get(KEY) is None
    assert RedisBoardStore(redis_client).load() is None
