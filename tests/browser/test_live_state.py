"""The browser's live state replays tests/fixtures/live_state.json to the snapshot Python's apply_delta gives
(tests/unit/feeds/bus/test_screens.py): one apply step on both sides of the socket."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard.security.access import Role
from tests.browser.conftest import WALL_LOADED, sign_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser
FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "live_state.json").read_text())

REPLAY = """
    const [fx, inPlace] = arguments;
    if (!inPlace) return fx.deltas.reduce((snap, d) => cc.state.apply(snap, d, fx.recent), fx.snapshot);
    const state = JSON.parse(JSON.stringify(fx.snapshot));
    fx.deltas.forEach(d => cc.state.fold(state, d, fx.recent));
    return state;
"""


@pytest.fixture(scope="module")
def page(stack, browser_factory):
    driver = browser_factory(1280, 800)
    sign_in(driver, stack, Role.KIOSK)
    wait_until(lambda: driver.execute_script(WALL_LOADED), 30, "the wall to load its snapshot")
    return driver


@pytest.mark.parametrize("in_place", [False, True], ids=["apply", "fold"])
def test_the_browser_replays_the_fixture_to_the_same_snapshot_as_python(page, in_place):
    assert page.execute_script(REPLAY, FIXTURE, in_place) == FIXTURE["result"]


def test_the_browser_refuses_a_delta_out_of_sequence_as_python_does(page):
    error = page.execute_script("""
        const [fx] = arguments;
        try { cc.state.apply(fx.snapshot, fx.deltas[1], fx.recent); return null; } catch (e) { return e.message; }
    """, FIXTURE)
    assert error == "delta 43 does not follow snapshot 41"
