"""Every page stays small in Dash components once loaded with a day of a district's life. Dash's renderer
pays for every component it holds on every update (a leader page of ~2,300 took 20–30 s to show), so a table
or list with many rows must be one component fed with data, never a tree of thousands: this test fails the
day one comes back."""
from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard.access import Role
from feeds.store import make_engine
from simulators.fast import simulate
from simulators.runner import Simulation, utcnow
from tests.browser.conftest import SEED, sign_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

BUDGET = 400  # Dash components on a page after load
PAGES = {"wall": "", "dispatch": "dispatch", "leader": "leader", "kpis": "kpis", "replay": "replay",
         "drill": "drill", "dead-letters": "dead-letters"}

# the components Dash's renderer holds: every object of the layout with a type, a namespace and props
COUNT = """
const seen = (node) => {
  if (Array.isArray(node)) { return node.reduce((n, x) => n + seen(x), 0); }
  if (!node || typeof node !== 'object') { return 0; }
  const own = node.type && node.namespace && node.props ? 1 : 0;
  return own + Object.values(own ? node.props : node).reduce((n, x) => n + seen(x), 0);
};
return window.store ? seen(window.store.getState().layout) : 0;
"""
# no callback waiting or running (the page's first answers are all in)
SETTLED = """
const s = window.store && window.store.getState();
if (!s || !s.callbacks) { return false; }
const c = s.callbacks;
return ['requested', 'prioritized', 'executing', 'watched', 'executed'].every(k => !c[k] || c[k].length === 0)
  && document.querySelectorAll('[data-dash-is-loading="true"]').length === 0;
"""


@pytest.fixture(scope="module")
def admin(stack, browser_factory):
    engine = make_engine(stack.db_url)
    try:
        end = utcnow()
        simulate(Simulation(stack.district, seed=SEED, run_id="budget", problems_per_day=400), engine,
                 end - timedelta(hours=20), end, step=timedelta(minutes=2))
    finally:
        engine.dispose()
    driver = browser_factory(1920, 1080)
    sign_in(driver, stack, Role.ADMIN, "")
    return driver


def _loaded(driver) -> int:
    """The component count once the page's callbacks have settled twice in a row, half a second apart."""
    counts: list[int] = []

    def settled() -> bool:
        if not driver.execute_script(SETTLED):
            counts.clear()
            return False
        counts.append(driver.execute_script(COUNT))
        return len(counts) >= 2 and counts[-1] == counts[-2]

    wait_until(settled, 60, "the page's callbacks to settle", interval=0.5)
    return counts[-1]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_a_loaded_page_holds_at_most_its_budget_of_dash_components(admin, stack, page) -> None:
    admin.get(stack.url + PAGES[page])
    count = _loaded(admin)
    assert 0 < count <= BUDGET, f"/{PAGES[page]} holds {count} Dash components (budget {BUDGET})"
