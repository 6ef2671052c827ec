"""Deadlines from the database: the one place where orders get their due times (DESIGN §4)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import chinese_calendar
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from jiesu.catalogue.models import Category
from jiesu.deadlines import calendar as cal
from jiesu.deadlines import limits
from jiesu.deadlines.models import CalendarDay, CalendarYear, DayKind, DaySource, DeadlineLimit

log = logging.getLogger(__name__)

# An opt-in memo for bulk work (the demo generator creates thousands of orders, each reading
# the same calendar and limit table). Outside a ``cached()`` block nothing is memoised, so a
# change made in another process is seen at once, exactly as before.
_memo = threading.local()


@contextmanager
def cached() -> Iterator[None]:
    """Within the block, read the calendar and the limit table once. Saving or deleting a
    calendar day, calendar year, limit or category in this process clears the memo."""
    outer = getattr(_memo, "store", None)
    if outer is None:
        _memo.store = {}
    try:
        yield
    finally:
        if outer is None:
            _memo.store = None


def _clear_memo(**kwargs) -> None:
    store = getattr(_memo, "store", None)
    if store:
        store.clear()


for _model in (CalendarDay, CalendarYear, DeadlineLimit, Category):
    post_save.connect(_clear_memo, sender=_model, dispatch_uid=f"deadlines-memo-save-{_model.__name__}")
    post_delete.connect(_clear_memo, sender=_model, dispatch_uid=f"deadlines-memo-delete-{_model.__name__}")


def _memoised(key: str, load):
    store = getattr(_memo, "store", None)
    if store is None:
        return load()
    if key not in store:
        store[key] = load()
    return store[key]


def load_calendar() -> cal.WorkCalendar:
    return _memoised("calendar", _load_calendar)


def _load_calendar() -> cal.WorkCalendar:
    holidays: list[dt.date] = []
    workdays: list[dt.date] = []
    for date, kind in CalendarDay.objects.values_list("date", "kind"):
        (holidays if kind == DayKind.HOLIDAY else workdays).append(date)
    years = CalendarYear.objects.values_list("year", flat=True)
    return cal.WorkCalendar.build(holidays=holidays, workdays=workdays, known_years=years)


def seed_calendar_from_library() -> int:
    """Copy chinese-calendar's official schedule (2004–2026 in 1.11) into the table.

    Dates an administrator entered win over the library's. Returns the number of days written.
    """
    written = 0
    with transaction.atomic():
        admin_dates = set(CalendarDay.objects.filter(source=DaySource.ADMIN).values_list("date", flat=True))
        rows = [
            *((d, DayKind.HOLIDAY, str(name)) for d, name in chinese_calendar.constants.holidays.items()),
            *((d, DayKind.WORKDAY, str(name)) for d, name in chinese_calendar.constants.workdays.items()),
        ]
        existing = set(CalendarDay.objects.filter(source=DaySource.LIBRARY).values_list("date", flat=True))
        new = [
            CalendarDay(date=d, kind=k, name=n, source=DaySource.LIBRARY)
            for d, k, n in rows
            if d not in admin_dates and d not in existing
        ]
        CalendarDay.objects.bulk_create(new, batch_size=500)
        written = len(new)
        years = {d.year for d, _k, _n in rows}
        for year in range(min(years), max(years) + 1):
            CalendarYear.objects.get_or_create(year=year, defaults={"source": DaySource.LIBRARY})
    _clear_memo()  # bulk_create sends no signals
    return written


def load_limit_rows() -> list[limits.LimitRow]:
    return _memoised("limits", _load_limit_rows)


def _load_limit_rows() -> list[limits.LimitRow]:
    return [
        limits.LimitRow(
            handling=cal.Limit(row.amount, cal.LimitUnit(row.unit)),
            contact_hours=row.contact_hours,
            return_window_hours=row.return_window_hours,
            request_type=row.request_type,
            urgency=row.urgency,
            category_path=row.category.path if row.category else "",
        )
        for row in DeadlineLimit.objects.select_related("category")
    ]


def terms_for(*, request_type: str, urgency: str, category: Category | None) -> limits.OrderTerms:
    return limits.pick(
        load_limit_rows(), request_type=request_type, urgency=urgency, category_path=category.path if category else ""
    )


def compute_due(start: dt.datetime, limit: cal.Limit, calendar: cal.WorkCalendar | None = None) -> dt.datetime:
    calendar = calendar or load_calendar()
    due = cal.due_at(start, limit, calendar)
    if limit.unit is cal.LimitUnit.WORKING_DAYS and not calendar.is_official(due.date()):
        # Better a deadline on weekends-only rules than none; `jiesu check` tells the admin.
        log.warning("no official holiday schedule for %s; enter it in the admin", due.year)
    return due
