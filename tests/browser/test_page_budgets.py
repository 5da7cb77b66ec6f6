"""Every page stays small in Dash components once loaded with a day of a district's life (and a full page of
dead letters). Dash's renderer
pays for every component it holds on every update (a leader page of ~2,300 took 20–30 s to show), so a table
or list with many rows must be one component fed with data, never a tree of thousands: this test fails the
day one comes back."""
from __future__ import annotations

import pytest

from bench.pages import COMPONENTS, SETTLED
from dashboard.security.access import Role
from tests.browser.conftest import sign_in, simulated_hours
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

BUDGET = 400  # Dash components on a page after load
PAGES = {"wall": "", "dispatch": "dispatch", "leader": "leader", "kpis": "kpis", "replay": "replay",
         "drill": "drill", "dead-letters": "dead-letters"}

@pytest.fixture(scope="module")
def admin(stack, browser_factory):
    simulated_hours(stack, "budget", 400)
    for n in range(250):  # the dead letters page full: it lists the newest 200
        stack.bus.publish("cc.incident_report", b'{"kind": "incident_report", "n": %d}' % n)
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
        counts.append(driver.execute_script(COMPONENTS))
        return len(counts) >= 2 and counts[-1] == counts[-2]

    wait_until(settled, 60, "the page's callbacks to settle", interval=0.5)
    return counts[-1]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_a_loaded_page_holds_at_most_its_budget_of_dash_components(admin, stack, page) -> None:
    admin.get(stack.url + PAGES[page])
    count = _loaded(admin)
    assert 0 < count <= BUDGET, f"/{PAGES[page]} holds {count} Dash components (budget {BUDGET})"
