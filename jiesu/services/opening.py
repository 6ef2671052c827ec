"""Opening rules → open days, slots and free places. Pure Python: no Django here, so that the
rules are tested table-driven without a database (tests/test_services_opening.py).

A service point's opening rules are *pools*: each rule opens some windows on some days, for
some matters. Rule shapes the seed needs:

- a weekly pattern (``weekdays``: Monday 0 … Sunday 6): 周一至周五; every Saturday (``{5}``);
  one day a week (a liaison room on ``{2}``);
- specific dates (``dates``): the Sundays a notary office opens;
- a date range (``start`` … ``end``) that bounds either of the above: a special service week
  (遗嘱公证周) with its own windows and its own matters (``matter_ids``; empty means all).

A rule with ``holidays_closed`` (the default) is closed on the official public holidays of the
working-day calendar (jiesu.deadlines.calendar: the State Council's days off), whatever its
pattern says.

Capacity: a window serves ``per_window`` people at a time. A booking occupies a window of its
pool from its start to its end, so a new booking fits when, at every instant of its interval,
the bookings already there plus it are no more than the pool's places. Intervals are compared
as half-open [start, end), so back-to-back slots do not overlap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from jiesu.deadlines.calendar import SHANGHAI, WorkCalendar

WEEKDAYS = range(7)


@dataclass(frozen=True)
class Rule:
    id: int
    opens: dt.time
    closes: dt.time
    windows: tuple[int, ...]  # the ids of the windows this rule opens
    per_window: int = 1
    weekdays: frozenset[int] = field(default_factory=frozenset)
    dates: frozenset[dt.date] = field(default_factory=frozenset)
    start: dt.date | None = None
    end: dt.date | None = None
    matter_ids: frozenset[int] = field(default_factory=frozenset)  # empty: every matter of the point
    holidays_closed: bool = True
    special: bool = False

    @property
    def places(self) -> int:
        return len(self.windows) * self.per_window

    def serves(self, matter_id: int) -> bool:
        return not self.matter_ids or matter_id in self.matter_ids

    def applies(self, day: dt.date, calendar: WorkCalendar) -> bool:
        """Is this rule open on ``day``?"""
        if self.start is not None and day < self.start:
            return False
        if self.end is not None and day > self.end:
            return False
        if self.holidays_closed and day in calendar.holidays:
            return False
        return day in self.dates or day.weekday() in self.weekdays


@dataclass(frozen=True)
class Slot:
    rule_id: int
    start: dt.datetime  # aware, Asia/Shanghai
    end: dt.datetime
    places: int
    taken: int = 0

    @property
    def free(self) -> int:
        return max(self.places - self.taken, 0)


@dataclass(frozen=True)
class Held:
    """A place already taken in a pool: a live booking's window and interval."""

    rule_id: int
    window_id: int
    start: dt.datetime
    end: dt.datetime


def problem(rule: Rule) -> str:
    """What is wrong with a rule, in English for the admin's validation message ("" if fine)."""
    if rule.opens >= rule.closes:
        return "closes before it opens"
    if not rule.windows:
        return "opens no window"
    if rule.per_window < 1:
        return "a window must serve at least one person at a time"
    if any(d not in WEEKDAYS for d in rule.weekdays):
        return "weekdays are 0 (Monday) to 6 (Sunday)"
    if not rule.weekdays and not rule.dates:
        return "opens on no weekday and no date"
    if rule.start and rule.end and rule.start > rule.end:
        return "the date range ends before it starts"
    return ""


def open_rules(rules: Iterable[Rule], day: dt.date, calendar: WorkCalendar, matter_id: int | None = None) -> list[Rule]:
    return [r for r in rules if r.applies(day, calendar) and (matter_id is None or r.serves(matter_id))]


def open_days(
    rules: Sequence[Rule], first: dt.date, last: dt.date, calendar: WorkCalendar, matter_id: int | None = None
) -> list[dt.date]:
    """The days in [first, last] on which some rule serving the matter is open."""
    out, day = [], first
    while day <= last:
        if open_rules(rules, day, calendar, matter_id):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def _overlap(a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime) -> bool:
    return a_start < b_end and b_start < a_end


def window_load(held: Iterable[Held], window_id: int, start: dt.datetime, end: dt.datetime) -> int:
    """The most people a window serves at one instant of [start, end)."""
    intervals = [(h.start, h.end) for h in held if h.window_id == window_id and _overlap(h.start, h.end, start, end)]
    return max_concurrent(intervals, start, end)


def max_concurrent(intervals: Sequence[tuple[dt.datetime, dt.datetime]], start: dt.datetime, end: dt.datetime) -> int:
    """The largest number of the intervals covering one instant of [start, end)."""
    points = sorted({start, *(max(s, start) for s, _e in intervals)})
    best = 0
    for t in points:
        if t >= end:
            continue
        best = max(best, sum(1 for s, e in intervals if s <= t < e))
    return best


def free_window(rule: Rule, held: Iterable[Held], start: dt.datetime, end: dt.datetime) -> int | None:
    """The first of the rule's windows with a free place for [start, end), or None: full."""
    mine = [h for h in held if h.rule_id == rule.id]
    for window_id in rule.windows:
        if window_load(mine, window_id, start, end) < rule.per_window:
            return window_id
    return None


def taken(rule: Rule, held: Iterable[Held], start: dt.datetime, end: dt.datetime) -> int:
    """Places of the rule's pool not available for [start, end): per window, its peak load."""
    mine = [h for h in held if h.rule_id == rule.id]
    return sum(min(window_load(mine, w, start, end), rule.per_window) for w in rule.windows)


def slots(
    rules: Sequence[Rule],
    day: dt.date,
    calendar: WorkCalendar,
    *,
    matter_id: int,
    minutes: int,
    held: Sequence[Held] = (),
) -> list[Slot]:
    """The day's slots for a matter of ``minutes``: each open rule serving the matter laid out
    from its opening time in steps of the matter's length, the last one ending by closing time."""
    if minutes <= 0:
        raise ValueError("a slot lasts at least one minute")
    out: list[Slot] = []
    step = dt.timedelta(minutes=minutes)
    for rule in open_rules(rules, day, calendar, matter_id):
        start = dt.datetime.combine(day, rule.opens, tzinfo=SHANGHAI)
        closes = dt.datetime.combine(day, rule.closes, tzinfo=SHANGHAI)
        while start + step <= closes:
            out.append(Slot(rule.id, start, start + step, rule.places, taken(rule, held, start, start + step)))
            start += step
    return sorted(out, key=lambda s: (s.start, s.rule_id))


def slot_rules(
    rules: Sequence[Rule], calendar: WorkCalendar, *, matter_id: int, minutes: int, start: dt.datetime
) -> list[tuple[Rule, dt.datetime]]:
    """The rules with a slot for the matter starting exactly at ``start``, each with the slot's
    end; empty when none has one (a closed day, a time off the grid, a matter not served)."""
    local = start.astimezone(SHANGHAI)
    step = dt.timedelta(minutes=minutes)
    out = []
    for rule in open_rules(rules, local.date(), calendar, matter_id):
        opens = dt.datetime.combine(local.date(), rule.opens, tzinfo=SHANGHAI)
        closes = dt.datetime.combine(local.date(), rule.closes, tzinfo=SHANGHAI)
        offset = local - opens
        if offset >= dt.timedelta(0) and offset % step == dt.timedelta(0) and local + step <= closes:
            out.append((rule, local + step))
    return out


def merged(day_slots: Iterable[Slot]) -> list[Slot]:
    """One slot per (start, end) for the public: two pools open at the same time add up."""
    by_time: dict[tuple[dt.datetime, dt.datetime], Slot] = {}
    for s in day_slots:
        key = (s.start, s.end)
        old = by_time.get(key)
        by_time[key] = s if old is None else Slot(old.rule_id, s.start, s.end, old.places + s.places,
                                                   old.taken + s.taken)
    return sorted(by_time.values(), key=lambda s: s.start)


def growth(special: int, normal: int) -> float | None:
    """The change of a special week against a normal week (+200 % is 2.0); None without a base."""
    if normal <= 0:
        return None
    return (special - normal) / normal
