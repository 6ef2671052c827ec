"""Working-day arithmetic on the official Chinese calendar. Pure Python: no Django here.

Rules, and where they come from:

- A working day is Monday to Friday, except the State Council's public holidays, plus the
  make-up working days (调休) that fall on a weekend.
- A limit in working days does not count the day the order was received and ends at 24:00
  of the last day (民法典 第二百零一条: "按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算";
  第二百零三条: "期间的最后一日的截止时间为二十四时"). We store that instant as 23:59:59 of the
  last working day so that it still reads as that day.
- A limit in hours is calendar hours: an emergency does not wait for Monday.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_DAY = dt.time(23, 59, 59)
# A working-day search never needs more than this many days: the longest Chinese holiday
# is 9 days. A bigger gap means a broken calendar, and we would rather fail loudly.
_MAX_SCAN_DAYS = 60


class LimitUnit(enum.StrEnum):
    HOURS = "hours"
    WORKING_DAYS = "working_days"


@dataclass(frozen=True)
class Limit:
    amount: int
    unit: LimitUnit

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError("a limit must be positive")


@dataclass(frozen=True)
class WorkCalendar:
    """``holidays``: days off; ``workdays``: make-up working days on weekends.

    ``known_years`` are the years whose official schedule has been loaded; for any other year
    only weekends are known, and ``is_official`` says so, so that callers can warn.
    """

    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)
    known_years: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def build(
        cls, *, holidays: Iterable[dt.date], workdays: Iterable[dt.date], known_years: Iterable[int]
    ) -> WorkCalendar:
        holidays, workdays = frozenset(holidays), frozenset(workdays)
        clash = holidays & workdays
        if clash:
            raise ValueError(f"days both holiday and working day: {sorted(clash)[:3]}")
        return cls(holidays=holidays, workdays=workdays, known_years=frozenset(known_years))

    def is_official(self, day: dt.date) -> bool:
        return day.year in self.known_years

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        for _ in range(_MAX_SCAN_DAYS):
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                return day
        raise ValueError(f"no working day within {_MAX_SCAN_DAYS} days after {day}")

    def add_workdays(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after ``day`` (the day itself never counts)."""
        if n <= 0:
            raise ValueError("n must be positive")
        for _ in range(n):
            day = self.next_workday(day)
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: how many working days a deadline allows."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_workday(day)
        return count


def due_at(start: dt.datetime, limit: Limit, calendar: WorkCalendar) -> dt.datetime:
    """When a limit that starts at ``start`` runs out, as an aware datetime in Asia/Shanghai."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    local = start.astimezone(SHANGHAI)
    if limit.unit is LimitUnit.HOURS:
        return (local + dt.timedelta(hours=limit.amount)).astimezone(SHANGHAI)
    last = calendar.add_workdays(local.date(), limit.amount)
    return dt.datetime.combine(last, END_OF_DAY, tzinfo=SHANGHAI)


def extend(deadline: dt.datetime, limit: Limit, calendar: WorkCalendar) -> dt.datetime:
    """A deadline moved by an approved extension: counted on from the old deadline."""
    return due_at(deadline, limit, calendar)
