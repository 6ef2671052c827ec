"""Working-day deadlines on the official calendar, without a database (DESIGN §4)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiesu.deadlines.calendar import SHANGHAI, Limit, LimitUnit, WorkCalendar, due_at, extend

OFFICIAL = WorkCalendar.build(
    holidays=chinese_calendar.constants.holidays.keys(),
    workdays=chinese_calendar.constants.workdays.keys(),
    known_years=range(2004, 2027),
)
WD = LimitUnit.WORKING_DAYS
H = LimitUnit.HOURS


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("received", "amount", "unit", "due"),
    [
        # The example: received the day before National Day 2026 (Oct 1–7 off, Oct 10 a
        # make-up Saturday): Oct 8, 9, 10, 12, 13, 14, 15.
        ("2026-09-30 16:00", 7, WD, "2026-10-15 23:59:59"),
        # Received on a holiday: counting starts with the first working day after.
        ("2026-10-03 09:00", 1, WD, "2026-10-08 23:59:59"),
        ("2026-10-03 09:00", 3, WD, "2026-10-10 23:59:59"),
        # 2026 Spring Festival: Feb 15–23 off; Feb 14 and Feb 28 (Saturdays) are working days.
        ("2026-02-13 18:00", 1, WD, "2026-02-14 23:59:59"),
        ("2026-02-13 18:00", 2, WD, "2026-02-24 23:59:59"),
        ("2026-02-27 10:00", 1, WD, "2026-02-28 23:59:59"),
        # 2026 New Year: Jan 1–3 off, Sunday Jan 4 a make-up day.
        ("2025-12-31 12:00", 1, WD, "2026-01-04 23:59:59"),
        # Mid-Autumn 2026: Sep 25–27 off, Sunday Sep 20 a make-up day.
        ("2026-09-19 08:00", 1, WD, "2026-09-20 23:59:59"),
        ("2026-09-24 08:00", 1, WD, "2026-09-28 23:59:59"),
        # Labour Day 2026: May 1–5 off, Saturday May 9 a make-up day.
        ("2026-04-30 17:30", 5, WD, "2026-05-11 23:59:59"),
        # 2025 National Day + Mid-Autumn: Oct 1–8 off; Sep 28 (Sun) and Oct 11 (Sat) working.
        ("2025-09-27 10:00", 1, WD, "2025-09-28 23:59:59"),
        ("2025-09-30 16:00", 7, WD, "2025-10-16 23:59:59"),
        ("2025-09-30 16:00", 15, WD, "2025-10-28 23:59:59"),
        # 2025 Spring Festival: Jan 28–Feb 4 off; Jan 26 (Sun) and Feb 8 (Sat) working.
        ("2025-01-24 10:00", 2, WD, "2025-01-27 23:59:59"),
        ("2025-01-27 10:00", 1, WD, "2025-02-05 23:59:59"),
        ("2025-02-07 10:00", 1, WD, "2025-02-08 23:59:59"),
        # Dragon Boat 2025: May 31–Jun 2 off.
        ("2025-05-30 09:00", 1, WD, "2025-06-03 23:59:59"),
        # Hours are calendar hours, holidays or not: emergencies 2 h, utilities 24 h.
        ("2026-10-01 23:30", 2, H, "2026-10-02 01:30:00"),
        ("2026-02-16 08:00", 24, H, "2026-02-17 08:00:00"),
        # An ordinary week: Friday evening, 7 working days.
        ("2026-11-27 20:00", 7, WD, "2026-12-08 23:59:59"),
    ],
)
def test_due_at(received, amount, unit, due):
    assert due_at(at(received), Limit(amount, unit), OFFICIAL) == at(due)


def test_due_is_computed_in_shanghai_whatever_the_input_zone():
    utc = at("2026-09-30 16:00").astimezone(dt.UTC)
    assert due_at(utc, Limit(7, WD), OFFICIAL) == at("2026-10-15 23:59:59")
    # 2026-09-30 23:30 UTC is already Oct 1 in Beijing: the day of receipt is Oct 1.
    late = dt.datetime(2026, 9, 30, 17, 30, tzinfo=dt.UTC)
    assert due_at(late, Limit(1, WD), OFFICIAL) == at("2026-10-08 23:59:59")


def test_naive_start_is_refused():
    with pytest.raises(ValueError):
        due_at(dt.datetime(2026, 1, 5, 9), Limit(1, WD), OFFICIAL)


def test_limit_must_be_positive():
    with pytest.raises(ValueError):
        Limit(0, WD)


def test_extension_counts_on_from_the_old_deadline():
    old = at("2026-09-30 23:59:59")
    assert extend(old, Limit(2, WD), OFFICIAL) == at("2026-10-09 23:59:59")


def test_admin_dates_for_an_unknown_year():
    # Before the library knows 2027, an administrator enters the days; they count at once.
    cal = WorkCalendar.build(holidays={dt.date(2027, 1, 1)}, workdays={dt.date(2027, 1, 2)}, known_years={2027})
    assert cal.is_official(dt.date(2027, 1, 1))
    assert not cal.is_workday(dt.date(2027, 1, 1))
    assert cal.is_workday(dt.date(2027, 1, 2))  # a Saturday made a working day
    assert due_at(at("2026-12-31 10:00"), Limit(1, WD), cal) == at("2027-01-02 23:59:59")


def test_unknown_year_falls_back_to_weekends_and_says_so():
    assert not OFFICIAL.is_official(dt.date(2027, 3, 1))
    assert OFFICIAL.is_workday(dt.date(2027, 3, 1))  # a Monday
    assert not OFFICIAL.is_workday(dt.date(2027, 3, 6))  # a Saturday


def test_a_day_cannot_be_both():
    with pytest.raises(ValueError):
        WorkCalendar.build(holidays={dt.date(2026, 1, 1)}, workdays={dt.date(2026, 1, 1)}, known_years=[])


def test_workdays_between_counts_the_allowance():
    assert OFFICIAL.workdays_between(dt.date(2026, 9, 30), dt.date(2026, 10, 15)) == 7


def test_library_agrees_with_the_calendar():
    for day in (dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(365)):
        assert OFFICIAL.is_workday(day) == chinese_calendar.is_workday(day), day


@given(
    start=st.datetimes(min_value=dt.datetime(2004, 1, 1), max_value=dt.datetime(2026, 11, 30)),
    n=st.integers(min_value=1, max_value=30),
)
def test_working_day_deadline_properties(start, n):
    start = start.replace(tzinfo=SHANGHAI)
    due = due_at(start, Limit(n, WD), OFFICIAL)
    assert due > start
    assert OFFICIAL.is_workday(due.date())
    assert OFFICIAL.workdays_between(start.date(), due.date()) == n
    # One more working day never ends sooner.
    assert due_at(start, Limit(n + 1, WD), OFFICIAL) > due
