"""The replay screen as a component tree, the period a request asks for, and the links that open a replay."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from dashboard import ids
from dashboard.http.replay import parse_when, period_of
from dashboard.layouts.drill import past_list
from dashboard.layouts.replay import replay_screen
from dashboard.layouts.wall import wall_page
from dashboard.views.drill import past_rows
from feeds.drills.control import DrillClock, DrillRecord
from feeds.replay.frames import Period, PeriodError
from tests.factories import ZONE

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
DRILL = DrillRecord("typhoon-1", "typhoon-night", "台风夜", "Typhoon night", {}, T0, "trainer",
                    T0 + timedelta(minutes=30), "trainer", DrillClock.starting(T0, 10), 120, "21:00")


def _find(tree, id_):
    if getattr(tree, "id", None) == id_:
        return tree
    children = getattr(tree, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        found = _find(child, id_)
        if found is not None:
            return found
    return None


def test_the_replay_screen_is_the_wall_under_the_violet_banner_in_replay_mode():
    wall = wall_page("西陵区", None, lang="zh", timezone=ZONE)
    screen = replay_screen(wall, Period(T0, T0 + timedelta(minutes=30), "typhoon-1"), DRILL, [DRILL], "zh",
                           "Asia/Shanghai", 30)
    banner = _find(screen, ids.DRILL_BANNER)
    assert "replay" in banner.className and banner.children[0].children == "回放 REPLAY"
    assert banner.children[1].children == "台风夜 · 2026-11-23 09:00 – 09:30"
    config = json.loads(getattr(_find(screen, ids.PAGE_CONFIG), "data-config"))
    assert config["replay"]["speed"] == 30 and config["drill"] == "typhoon-1"
    assert config["replay"]["from"] == int(T0.timestamp() * 1000)
    assert _find(screen, ids.REPLAY_PANEL) is not None and _find(screen, "wall-kpis") is None  # no live KPIs
    assert _find(screen, ids.REPLAY_FROM).value == "2026-11-23 09:00" and _find(screen,
                                                                                ids.REPLAY_FORM).action == "/replay"
    assert [o.value for o in _find(screen, ids.REPLAY_SCOPE).children] == ["", "typhoon-1"]
    assert not hasattr(screen, "data-drill")  # not a drill screen: the drill banner's script leaves it alone


def test_an_ended_drill_on_the_console_links_to_its_replay():
    rows = past_rows([DRILL], "en", "Asia/Shanghai")
    assert rows[0].replay == "/replay?drill=typhoon-1&lang=en"
    links = past_list(rows, "en")[0].children[1].children
    assert [a.children for a in links][-1] == "Replay"
    running = past_rows([DrillRecord(**{**DRILL.__dict__, "ended_at": None})], "zh", "Asia/Shanghai")
    assert running[0].replay == ""  # a drill still running is watched on its own screens


def test_a_request_names_its_period_in_the_command_centres_zone_or_by_a_drill():
    find = {"typhoon-1": DRILL}.get
    period, record = period_of({"from": "2026-11-23 09:00", "to": "2026-11-23T10:00+08:00"}, "Asia/Shanghai", find, T0)
    assert (period.start, period.end, period.drill_id, record) == (T0, T0 + timedelta(hours=1), None, None)
    period, record = period_of({"drill": "typhoon-1"}, "Asia/Shanghai", find, T0)
    assert (period.start, period.end, record) == (T0, T0 + timedelta(minutes=30), DRILL)
    assert parse_when(str(int(T0.timestamp() * 1000)), "Asia/Shanghai") == T0
    for args, why in [({"drill": "x"}, "no drill 'x'"), ({"from": "2026-11-23 09:00"}, "from and to are required"),
                      ({"from": "9 o'clock", "to": "2026-11-23 10:00"}, "not a time")]:
        with pytest.raises(PeriodError, match=why):
            period_of(args, "Asia/Shanghai", find, T0)
