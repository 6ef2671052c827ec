"""Reporting periods (day, month, quarter, year) in Asia/Shanghai. Pure Python.

A period is half-open, ``[start, end)``, as dates in Beijing; ``bounds`` gives the aware
datetimes to compare with stored UTC times.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
KINDS = ("day", "month", "quarter", "year")

_PATTERNS = (
    ("day", re.compile(r"(\d{4})-(\d{2})-(\d{2})")),
    ("month", re.compile(r"(\d{4})-(\d{2})")),
    ("quarter", re.compile(r"(\d{4})-?Q([1-4])", re.IGNORECASE)),
    ("year", re.compile(r"(\d{4})")),
)


class PeriodError(ValueError):
    pass


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise PeriodError(f"unknown period kind {self.kind!r}")

    @property
    def end(self) -> dt.date:
        """The first day after the period."""
        if self.kind == "day":
            return self.start + dt.timedelta(days=1)
        return _add_months(self.start, {"month": 1, "quarter": 3, "year": 12}[self.kind])

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def key(self) -> str:
        """The text form ``parse`` reads back: 2026-03-05, 2026-03, 2026-Q1, 2026."""
        s = self.start
        if self.kind == "day":
            return s.isoformat()
        if self.kind == "month":
            return f"{s.year:04d}-{s.month:02d}"
        if self.kind == "quarter":
            return f"{s.year:04d}-Q{(s.month - 1) // 3 + 1}"
        return f"{s.year:04d}"

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Aware datetimes (Asia/Shanghai midnight) of start and end."""
        return (dt.datetime.combine(self.start, dt.time(0), tzinfo=SHANGHAI),
                dt.datetime.combine(self.end, dt.time(0), tzinfo=SHANGHAI))

    def shift(self, steps: int) -> Period:
        if self.kind == "day":
            return Period("day", self.start + dt.timedelta(days=steps))
        months = {"month": 1, "quarter": 3, "year": 12}[self.kind] * steps
        return Period(self.kind, _add_months(self.start, months))

    def __str__(self) -> str:
        return self.key


def parse(text: str) -> Period:
    """2026-03-05 (day), 2026-03 (month), 2026-Q1 (quarter), 2026 (year)."""
    value = (text or "").strip()
    for kind, pattern in _PATTERNS:
        m = pattern.fullmatch(value)
        if not m:
            continue
        try:
            year = int(m.group(1))
            if kind == "day":
                return Period(kind, dt.date(year, int(m.group(2)), int(m.group(3))))
            if kind == "month":
                return Period(kind, dt.date(year, int(m.group(2)), 1))
            if kind == "quarter":
                return Period(kind, dt.date(year, (int(m.group(2)) - 1) * 3 + 1, 1))
            return Period(kind, dt.date(year, 1, 1))
        except ValueError as err:
            raise PeriodError(f"not a date: {value!r}") from err
    raise PeriodError(f"not a period: {value!r} (2026-03-05, 2026-03, 2026-Q1 or 2026)")


def containing(kind: str, moment: dt.datetime) -> Period:
    """The period of ``kind`` that contains ``moment`` (read in Beijing time)."""
    day = moment.astimezone(SHANGHAI).date()
    if kind == "day":
        return Period(kind, day)
    if kind == "month":
        return Period(kind, day.replace(day=1))
    if kind == "quarter":
        return Period(kind, dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1))
    if kind == "year":
        return Period(kind, dt.date(day.year, 1, 1))
    raise PeriodError(f"unknown period kind {kind!r}")
