"""A trend's settled days kept in memory change no figure (SQLite and PostgreSQL): the series with them kept
equals the series counted from nothing; a report that arrives late, stamped inside a kept day, makes that
day be counted again; a command today moves no past day, kept or not."""
from __future__ import annotations

from datetime import timedelta

import pytest

from feeds.kpis import load as kpiload
from feeds.kpis.load import SettledDays, daily_series
from tests.integration.feeds.kpis.test_figures import CST, MON, NOW, RULES, _act, _report, _scenario, at

LAST = NOW.date()  # the trend ends today; today is not settled, the days before are


@pytest.fixture
def counted(monkeypatch):
    """The days area_panels was asked to count, per call."""
    calls: list[int] = []
    real = kpiload.area_panels

    def counting(conn, rules, area, periods, now, **kw):
        calls.append(len(periods))
        return real(conn, rules, area, periods, now, **kw)

    monkeypatch.setattr(kpiload, "area_panels", counting)
    return calls


def _series(engine, kept=None, now=NOW, area="D"):
    with engine.connect() as conn:
        return daily_series(conn, RULES, area, LAST, 10, now, zone=CST, kept=kept)


def test_kept_days_are_the_days_counted_afresh_and_are_not_counted_again(engine, counted):
    with engine.begin() as conn:
        _scenario(conn)
    fresh = _series(engine)
    kept = SettledDays()
    assert _series(engine, kept) == fresh
    assert _series(engine, kept) == fresh
    assert _series(engine, kept, area="G1") == _series(engine, area="G1")
    assert counted == [10, 10, 1, 10, 10]  # the second look counts only today; another area is its own


def test_a_late_report_stamped_inside_a_kept_day_is_counted_and_a_command_today_moves_nothing(engine):
    with engine.begin() as conn:
        _scenario(conn)
    kept = SettledDays()
    before = _series(engine, kept)
    with engine.begin() as conn:  # reaches the centre now, stamped Wednesday 10:00 (a phone that was offline)
        _report(conn, "late", at(2, 10), "G2", 0.0025)
    after = _series(engine, kept)
    assert after == _series(engine)  # as counted from nothing
    wednesday = MON + timedelta(days=2)
    now_kept, then = dict(after)[wednesday], dict(before)[wednesday]
    assert now_kept != then and now_kept.open == then.open + 1  # the late report is in it
    with engine.begin() as conn:  # a command today on the late case: no past day moves
        _act(conn, "late", "verify", NOW - timedelta(minutes=5))
    assert _series(engine, kept)[:-1] == after[:-1] == _series(engine)[:-1]
