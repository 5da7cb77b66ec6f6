from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from feeds.calendar import WorkingCalendar
from feeds.cases.escalation import OpenStep, deadline, due_level, escalations, with_clock
from feeds.taxonomy import load

CST = ZoneInfo("Asia/Shanghai")
TAX, CAL = load(), WorkingCalendar()
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=CST)


def open_case(**fields) -> OpenStep:
    base = {"case_id": "C1", "category": "order.vendor", "urgent": False, "state": "dispatched", "level": "grid",
            "version": 4, "step_started_at": MONDAY_9, "extended_hours": 0.0}
    return OpenStep(**{**base, **fields})


def test_the_deadline_of_the_open_step():
    # street vending: handle within 4 working hours → Monday 09:00 + 3 h (to 12:00) + 1 h (14:00–15:00)
    assert deadline(TAX, CAL, open_case()) == datetime(2026, 11, 23, 15, 0, tzinfo=CST)
    # urgent: 2 calendar hours
    assert deadline(TAX, CAL, open_case(urgent=True)) == MONDAY_9 + timedelta(hours=2)
    # verify step of a garbage report: 2 working hours
    assert deadline(TAX, CAL, open_case(category="env.garbage", state="reported")) == MONDAY_9 + timedelta(hours=2)
    assert deadline(TAX, CAL, open_case(state="closed")) is None


def test_an_extension_moves_the_handle_deadline():
    # 4 working hours + 4 extended → 8 working hours: Monday 09:00–12:00, 14:00–18:00 (7 h), Tuesday 08:30–09:30
    assert deadline(TAX, CAL, open_case(extended_hours=4)) == datetime(2026, 11, 24, 9, 30, tzinfo=CST)


@pytest.mark.parametrize("now, level", [
    (datetime(2026, 11, 23, 15, 0, tzinfo=CST), "grid"),        # at the deadline: not yet late
    (datetime(2026, 11, 23, 15, 1, tzinfo=CST), "community"),   # late: one level up
    (datetime(2026, 11, 24, 10, 0, tzinfo=CST), "street"),      # 8.5 working hours used of 4: twice over
    (datetime(2026, 11, 25, 12, 0, tzinfo=CST), "district"),    # three times over and more
    (datetime(2026, 11, 30, 12, 0, tzinfo=CST), "district"),    # never beyond the district
])
def test_the_level_an_overdue_case_should_be_at(now, level):
    assert due_level(TAX, CAL, open_case(), now) == level


def test_escalation_goes_one_level_at_a_time_with_a_reason():
    late = datetime(2026, 11, 24, 10, 0, tzinfo=CST)  # due at street level, now at grid
    [(case, reason)] = escalations(TAX, CAL, [open_case(), open_case(case_id="C2", level="street")], late)
    assert case.case_id == "C1"
    assert reason == "逾期 19 小时 未完成,自动升级至社区"  # late by clock time: Monday 15:00 to Tuesday 10:00


def view_of(case: OpenStep) -> dict:
    return {"id": case.case_id, "category": case.category, "urgent": case.urgent, "state": case.state,
            "level": case.level, "version": case.version, "step_started": int(case.step_started_at.timestamp() * 1000),
            "extended_hours": case.extended_hours}


def test_a_case_view_carries_its_step_clock_in_working_time():
    # handle within 4 working hours from Monday 09:00: amber after 3.2 h of work (12:00 + 0.2 h = 14:12),
    # due at 15:00; the lunch break does not count
    view = with_clock(TAX, CAL, view_of(open_case()))
    ms = lambda t: int(t.timestamp() * 1000)  # noqa: E731
    assert view["amber"] == ms(datetime(2026, 11, 23, 14, 12, tzinfo=CST))
    assert view["deadline"] == ms(datetime(2026, 11, 23, 15, 0, tzinfo=CST))
    assert CAL.light(MONDAY_9, TAX["order.vendor"].limit("handle", False), datetime(2026, 11, 23, 14, 11,
                                                                                    tzinfo=CST)) == "green"
    assert CAL.light(MONDAY_9, TAX["order.vendor"].limit("handle", False), datetime(2026, 11, 23, 14, 13,
                                                                                    tzinfo=CST)) == "amber"


def test_a_finished_case_has_no_clock():
    view = with_clock(TAX, CAL, view_of(open_case(state="closed")))
    assert (view["deadline"], view["amber"]) == (None, None)
