"""Opening rules, table-driven, without a database: weekly patterns, every Saturday, specific
Sundays, one day a week, a special week with its own windows and matters, holiday closures."""

from __future__ import annotations

import datetime as dt

import pytest

from jiesu.deadlines.calendar import SHANGHAI, WorkCalendar
from jiesu.services import opening
from jiesu.services.opening import Held, Rule

# 2026: 国庆节 1–7 October (8 days with 中秋, 1–8 Oct), make-up working days 9/27 (Sun) and 10/10 (Sat).
CAL = WorkCalendar.build(
    holidays=[dt.date(2026, 10, d) for d in range(1, 9)],
    workdays=[dt.date(2026, 9, 27), dt.date(2026, 10, 10)],
    known_years=[2026],
)
WILL, AUTH = 1, 2
NINE, FIVE = dt.time(9), dt.time(17)
WEEKDAYS = Rule(id=1, opens=NINE, closes=FIVE, windows=(11, 12), weekdays=frozenset(range(5)))
SATURDAY = Rule(id=2, opens=NINE, closes=dt.time(12), windows=(11,), weekdays=frozenset({5}))
SUNDAYS = Rule(id=3, opens=NINE, closes=dt.time(12), windows=(11,), dates=frozenset({dt.date(2026, 12, 6)}))
LIAISON = Rule(id=4, opens=dt.time(14), closes=dt.time(17), windows=(21,), weekdays=frozenset({2}))
WILL_WEEK = Rule(id=5, opens=NINE, closes=FIVE, windows=(31, 32, 33), weekdays=frozenset(range(7)),
                 start=dt.date(2026, 12, 14), end=dt.date(2026, 12, 20), matter_ids=frozenset({WILL}), special=True)
OPEN_ON_HOLIDAYS = Rule(id=6, opens=NINE, closes=FIVE, windows=(41,), weekdays=frozenset(range(7)),
                        holidays_closed=False)
NOTARY = [WEEKDAYS, SATURDAY, SUNDAYS, WILL_WEEK]


@pytest.mark.parametrize(("rules", "day", "matter", "expected"), [
    # weekday pattern: Monday open, Sunday closed
    ([WEEKDAYS], dt.date(2026, 12, 7), None, {1}),
    ([WEEKDAYS], dt.date(2026, 12, 13), None, set()),
    # every Saturday, and only Saturday
    (NOTARY, dt.date(2026, 12, 12), None, {2}),
    (NOTARY, dt.date(2026, 12, 11), None, {1}),
    # a specific Sunday is open, the next Sunday is not
    (NOTARY, dt.date(2026, 12, 6), None, {3}),
    (NOTARY, dt.date(2026, 12, 13), None, set()),
    # one day a week: Wednesday afternoons only
    ([LIAISON], dt.date(2026, 12, 9), None, {4}),
    ([LIAISON], dt.date(2026, 12, 10), None, set()),
    # the special week: open every day, for wills only, beside the normal rules
    (NOTARY, dt.date(2026, 12, 14), WILL, {1, 5}),
    (NOTARY, dt.date(2026, 12, 14), AUTH, {1}),
    (NOTARY, dt.date(2026, 12, 20), WILL, {5}),  # its Sunday
    (NOTARY, dt.date(2026, 12, 21), WILL, {1}),  # over
    (NOTARY, dt.date(2026, 12, 13), WILL, set()),  # not yet
    # official holidays close every rule that keeps them …
    (NOTARY, dt.date(2026, 10, 1), None, set()),  # 国庆节, a Thursday
    (NOTARY, dt.date(2026, 10, 3), None, set()),  # a Saturday inside the holiday
    ([LIAISON], dt.date(2026, 10, 7), None, set()),  # a Wednesday inside the holiday
    # … but not a rule that opens on holidays
    ([OPEN_ON_HOLIDAYS], dt.date(2026, 10, 1), None, {6}),
    # a make-up working day (调休) on a Saturday is still a Saturday for a weekly rule
    (NOTARY, dt.date(2026, 10, 10), None, {2}),
    (NOTARY, dt.date(2026, 10, 9), None, {1}),
])
def test_which_rules_are_open(rules, day, matter, expected):
    assert {r.id for r in opening.open_rules(rules, day, CAL, matter)} == expected


def test_open_days_skip_holidays_and_closed_days():
    days = opening.open_days([LIAISON], dt.date(2026, 9, 28), dt.date(2026, 10, 31), CAL)
    assert days == [dt.date(2026, 9, 30), dt.date(2026, 10, 14), dt.date(2026, 10, 21), dt.date(2026, 10, 28)]


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def test_slots_follow_the_matters_length_and_end_by_closing_time():
    day = dt.date(2026, 12, 12)  # Saturday 9:00–12:00, one window
    forty = opening.slots(NOTARY, day, CAL, matter_id=AUTH, minutes=40)
    assert [s.start.strftime("%H:%M") for s in forty] == ["09:00", "09:40", "10:20", "11:00"]
    assert forty[-1].end == _at(day, 11, 40)
    assert all(s.places == 1 and s.free == 1 for s in forty)


def test_special_week_adds_its_windows_to_the_normal_ones():
    day = dt.date(2026, 12, 15)
    slots = opening.merged(opening.slots(NOTARY, day, CAL, matter_id=WILL, minutes=60))
    assert slots[0].places == 2 + 3
    normal = opening.merged(opening.slots(NOTARY, dt.date(2026, 12, 8), CAL, matter_id=WILL, minutes=60))
    assert normal[0].places == 2


@pytest.mark.parametrize(("held", "expected_window"), [
    ([], 11),
    ([Held(1, 11, "09:00", "09:30")], 12),
    ([Held(1, 11, "09:00", "09:30"), Held(1, 12, "08:30", "09:15")], None),
    # back to back is not an overlap
    ([Held(1, 11, "08:30", "09:00"), Held(1, 12, "09:30", "10:00")], 11),
    # another pool's bookings do not count here
    ([Held(5, 11, "09:00", "09:30"), Held(5, 12, "09:00", "09:30")], 11),
    # a longer booking of another matter overlapping part of the slot holds its window
    ([Held(1, 11, "08:00", "09:10"), Held(1, 12, "09:20", "10:00")], None),
])
def test_a_window_is_free_only_when_no_booking_overlaps(held, expected_window):
    day = dt.date(2026, 12, 7)

    def t(text: str) -> dt.datetime:
        h, m = map(int, text.split(":"))
        return _at(day, h, m)

    held = [Held(h.rule_id, h.window_id, t(h.start), t(h.end)) for h in held]
    assert opening.free_window(WEEKDAYS, held, _at(day, 9), _at(day, 9, 30)) == expected_window


def test_capacity_counts_people_per_window():
    rule = Rule(id=9, opens=NINE, closes=FIVE, windows=(1, 2), per_window=2, weekdays=frozenset(range(7)))
    day = dt.date(2026, 12, 7)
    start, end = _at(day, 9), _at(day, 10)
    held: list[Held] = []
    for _n in range(4):
        window = opening.free_window(rule, held, start, end)
        assert window is not None
        held.append(Held(9, window, start, end))
    assert opening.free_window(rule, held, start, end) is None
    assert opening.taken(rule, held, start, end) == rule.places == 4


@pytest.mark.parametrize(("start", "expected"), [
    ("09:00", [(1, "09:30")]),
    ("09:30", [(1, "10:00")]),
    ("09:10", []),  # off the grid
    ("16:30", [(1, "17:00")]),
    ("17:00", []),  # would end after closing
    ("08:30", []),  # before opening
])
def test_slot_rules_find_the_slot_that_starts_there(start, expected):
    day = dt.date(2026, 12, 7)
    h, m = map(int, start.split(":"))
    found = opening.slot_rules([WEEKDAYS], CAL, matter_id=AUTH, minutes=30, start=_at(day, h, m))
    assert [(r.id, end.strftime("%H:%M")) for r, end in found] == expected


@pytest.mark.parametrize(("rule", "problem"), [
    (Rule(id=1, opens=FIVE, closes=NINE, windows=(1,), weekdays=frozenset({0})), "closes before it opens"),
    (Rule(id=1, opens=NINE, closes=FIVE, windows=(), weekdays=frozenset({0})), "opens no window"),
    (Rule(id=1, opens=NINE, closes=FIVE, windows=(1,), weekdays=frozenset({7})), "weekdays are 0 (Monday) to 6 (Sunday)"),
    (Rule(id=1, opens=NINE, closes=FIVE, windows=(1,)), "opens on no weekday and no date"),
    (WILL_WEEK, ""),
])
def test_rule_problems(rule, problem):
    assert opening.problem(rule) == problem


@pytest.mark.parametrize(("special", "normal", "expected"), [(57, 19, 2.0), (31, 31, 0.0), (5, 0, None)])
def test_growth_against_a_normal_week(special, normal, expected):
    assert opening.growth(special, normal) == expected
