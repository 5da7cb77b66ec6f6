from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from feeds.calendar import Light, Limit, LimitUnit, WorkingCalendar

CST = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()
HOURS, DAYS, CALENDAR = LimitUnit.WORKING_HOURS, LimitUnit.WORKING_DAYS, LimitUnit.CALENDAR_HOURS


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in November 2026, Beijing time. 23rd = Monday, 27th = Friday, 28th = Saturday."""
    return datetime(2026, 11, day, hour, minute, tzinfo=CST)


@pytest.mark.parametrize("start, limit, deadline", [
    (at(23, 9), Limit(2, HOURS), at(23, 11)),                   # within the morning
    (at(23, 11), Limit(2, HOURS), at(23, 15)),                  # over lunch: 11–12, 14–15
    (at(23, 12, 30), Limit(1, HOURS), at(23, 15)),              # reported at lunch: the clock starts at 14:00
    (at(24, 22), Limit(1, HOURS), at(25, 9, 30)),               # reported at night: "小事不过夜" runs from 08:30
    (at(27, 17), Limit(2, HOURS), at(30, 9, 30)),               # Friday 17:00: one hour Friday, one Monday
    (at(28, 10), Limit(1, HOURS), at(30, 9, 30)),               # Saturday: nothing counts until Monday
    (at(27, 16), Limit(2, DAYS), datetime(2026, 12, 1, 16, tzinfo=CST)),  # Fri 16:00 + 15 h → Tue 16:00
    (at(27, 17), Limit(24, CALENDAR), at(28, 17)),              # calendar hours ignore the calendar
    (at(23, 18), Limit(0.5, HOURS), at(24, 9)),                 # at closing time exactly
])
def test_deadlines(start, limit, deadline):
    assert CAL.deadline(start, limit) == deadline


def test_a_deadline_keeps_the_zone_it_was_asked_in():
    start = at(23, 11).astimezone(ZoneInfo("UTC"))
    assert CAL.deadline(start, Limit(2, HOURS)) == at(23, 15)
    assert CAL.deadline(start, Limit(2, HOURS)).tzinfo == ZoneInfo("UTC")


def test_holidays_and_make_up_workdays():
    cal = WorkingCalendar(holidays=frozenset({date(2026, 11, 30)}), extra_workdays=frozenset({date(2026, 11, 28)}))
    assert cal.deadline(at(27, 17), Limit(2, HOURS)) == at(28, 9, 30)  # Saturday the 28th is worked
    assert cal.deadline(at(28, 17), Limit(2, HOURS)) == datetime(2026, 12, 1, 9, 30, tzinfo=CST)  # Monday is off


def test_working_time_between_two_moments():
    assert CAL.working_between(at(23, 11), at(23, 15)) == timedelta(hours=2)
    assert CAL.working_between(at(27, 17), at(30, 9, 30)) == timedelta(hours=2)
    assert CAL.working_between(at(28, 0), at(29, 23)) == timedelta(0)  # a weekend
    assert CAL.working_between(at(23, 15), at(23, 11)) == timedelta(0)
    assert CAL.hours_per_day == 7.5


@pytest.mark.parametrize("now, light", [
    (at(23, 10, 36), Light.GREEN),   # 96 of 120 minutes: exactly 80%
    (at(23, 10, 37), Light.AMBER),
    (at(23, 11), Light.AMBER),      # at the deadline: 100%, still amber
    (at(23, 11, 1), Light.RED),      # overdue
])
def test_traffic_light(now, light):
    assert CAL.light(at(23, 9), Limit(2, HOURS), now) is light


def test_lunch_does_not_use_up_a_limit():
    assert CAL.used(at(23, 11), Limit(2, HOURS), at(23, 13, 59)) == 0.5
    assert CAL.light(at(23, 11, 30), Limit(1, HOURS), at(23, 13, 50)) is Light.GREEN  # 30 of 60 minutes used


def test_the_calendar_comes_from_settings_text():
    from feeds.calendar import parse_calendar

    cal = parse_calendar("09:00-12:00, 13:30-17:30", "1-6", "2026-11-30", "2026-11-29", "Asia/Shanghai")
    assert cal.hours_per_day == 7.0 and cal.is_workday(date(2026, 11, 28))  # Saturdays are worked here
    assert not cal.is_workday(date(2026, 11, 30)) and cal.is_workday(date(2026, 11, 29))
    assert parse_calendar("08:30-12:00,14:00-18:00", "1-5", "", "", "Asia/Shanghai") == CAL


@pytest.mark.parametrize("periods, workdays, holidays, message", [
    ("8.30-12", "1-5", "", "working periods '8.30-12'"),
    ("08:30-12:00", "Mon-Fri", "", "workdays 'Mon-Fri': expected e.g. 1-5"),
    ("08:30-12:00", "1-5", "2026-13-01", "holidays: month must be in 1..12"),
    ("12:00-08:30", "1-5", "", "ends before it starts"),
])
def test_a_wrong_calendar_setting_says_what_is_wrong(periods, workdays, holidays, message):
    from feeds.calendar import parse_calendar

    with pytest.raises(ValueError, match=message):
        parse_calendar(periods, workdays, holidays, "", "Asia/Shanghai")


def _official(holidays: str = "", makeup: str = ""):  # type: ignore[no-untyped-def]
    from feeds.calendar import parse_calendar

    return parse_calendar("08:30-12:00,14:00-18:00", "1-5", holidays, makeup, "Asia/Shanghai", official_calendar=True)


def test_china_s_national_day_week_and_its_make_up_days_move_a_deadline():
    """2026: 1–7 October off (the State Council's notice), Sunday 20 September and Saturday 10 October worked."""
    def day(month: int, d: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, month, d, hour, minute, tzinfo=CST)

    official, plain = _official(), CAL
    three_days = Limit(3, DAYS)  # 22.5 working hours
    # from Wednesday 30 September 16:00: 2 h that day, then the holiday; 8 and 9 October, and 5.5 h of the
    # make-up Saturday (without the official calendar: Thursday 1, Friday 2, and Monday 5 October)
    assert official.deadline(day(9, 30, 16), three_days) == day(10, 10, 16)
    assert plain.deadline(day(9, 30, 16), three_days) == day(10, 5, 16)
    # from Friday 18 September 16:00, one working day ends on the make-up Sunday, not on Monday
    assert official.deadline(day(9, 18, 16), Limit(1, DAYS)) == day(9, 20, 16)
    assert plain.deadline(day(9, 18, 16), Limit(1, DAYS)) == day(9, 21, 16)
    assert official.working_between(day(9, 30, 8), day(10, 9, 0)) == timedelta(hours=15)  # 30 Sep and 8 Oct
    assert [d.day for d in (date(2026, 10, n) for n in range(1, 12)) if official.is_workday(d)] == [8, 9, 10]


def test_a_site_s_own_days_win_over_the_official_ones():
    cal = _official(holidays="2026-10-10,2026-12-07", makeup="2026-10-02")
    assert not cal.is_workday(date(2026, 10, 10))  # the site does not work the make-up Saturday
    assert cal.is_workday(date(2026, 10, 2))  # it works this official holiday
    assert not cal.is_workday(date(2026, 12, 7)) and not cal.is_workday(date(2026, 10, 1))
    with pytest.raises(ValueError, match="both holidays and make-up working days: 2026-10-02"):
        _official(holidays="2026-10-02", makeup="2026-10-02")


def test_the_official_calendar_is_the_default_and_says_how_far_it_is_known(caplog, monkeypatch):
    import feeds.settings
    from feeds.calendar import official_days
    from feeds.settings import Settings

    holidays, makeup, last = official_days()
    assert date(2026, 10, 1) in holidays and date(2026, 9, 20) in makeup and last >= 2026
    assert not Settings().working_calendar().is_workday(date(2026, 10, 1))
    assert Settings(official_calendar=False).working_calendar().is_workday(date(2026, 10, 1))
    caplog.clear()
    monkeypatch.setattr(feeds.settings, "_WARNED", set())  # (today's date may have warned above)
    Settings().working_calendar(today=date(last, 11, 30))
    assert not caplog.records
    Settings().working_calendar(today=date(last, 12, 1))  # next year's notice is due: said
    assert f"known up to {last} only" in caplog.text
    caplog.clear()
    Settings().working_calendar(today=date(last, 12, 2))  # once per process: every entry point builds several
    assert not caplog.records
