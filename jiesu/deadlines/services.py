"""Deadlines from the database: the one place where orders get their due times (DESIGN §4)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import chinese_calendar
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from jiesu.catalogue.models import Category
from jiesu.deadlines import calendar as cal
from jiesu.deadlines import limits
from jiesu.deadlines.models import CalendarDay, CalendarYear, ConfigStamp, DayKind, DaySource, DeadlineLimit

log = logging.getLogger(__name__)

# Two levels of memo for the calendar and the limit table, which every dispatch, extension and
# return reads (~3 ms for ~700 calendar days and the limits, per call):
#
# - per process, shared by its threads: kept with the ``ConfigStamp`` token it was read under
#   and used while the token in the database is the same (one primary-key read per call).
#   Every change made through the ORM writes a new token in its own transaction (signals
#   below); bulk writes, which send no signals, call ``touch()``. So another process's change
#   is seen as soon as it commits, and a rolled-back one never is. No stamp row (a flushed
#   test database): no memo at all;
# - ``cached()``, an opt-in memo for bulk work in one thread (the demo generator creates
#   thousands of orders): within the block not even the stamp is read.
_memo = threading.local()
_shared: dict[str, tuple[str, Any]] = {}
_shared_lock = threading.Lock()


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


def touch() -> None:
    """The calendar, the limits or the categories changed: every process re-reads them (the
    new token commits with the change)."""
    _clear_memo()
    token = uuid.uuid4().hex
    if not ConfigStamp.objects.filter(pk=1).update(token=token):
        ConfigStamp.objects.bulk_create([ConfigStamp(pk=1, token=token)], ignore_conflicts=True)


def _clear_memo(**kwargs) -> None:
    store = getattr(_memo, "store", None)
    if store:
        store.clear()


def _changed(**kwargs) -> None:
    touch()


for _model in (CalendarDay, CalendarYear, DeadlineLimit, Category):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"deadlines-memo-save-{_model.__name__}")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"deadlines-memo-delete-{_model.__name__}")


def _current_token() -> str | None:
    # Plain SQL: this runs on every dispatch, and the ORM would spend longer building the
    # query than the database answering it.
    table = connection.ops.quote_name(ConfigStamp._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {table} WHERE id = 1")  # noqa: S608 (our own table)
        row = cursor.fetchone()
    return row[0] if row else None


_READ = object()


def _memoised(key: str, load: Callable[[], Any], token: Any = _READ) -> Any:
    store = getattr(_memo, "store", None)
    if store is not None:
        if key not in store:
            store[key] = load()
        return store[key]
    # The token first, then the data: a change committed in between is then kept under the
    # old token, which is already stale, and read again on the next call.
    if token is _READ:
        token = _current_token()
    if token is None:
        return load()
    with _shared_lock:
        kept = _shared.get(key)
    if kept is not None and kept[0] == token:
        return kept[1]
    value = load()
    with _shared_lock:
        _shared[key] = (token, value)
    return value


def load_calendar() -> cal.WorkCalendar:
    return _memoised("calendar", _load_calendar)


def load_config() -> tuple[cal.WorkCalendar, list[limits.LimitRow]]:
    """The calendar and the limit table under one read of the stamp: a dispatch needs both,
    and the stamp is a round trip of its own."""
    token = None if getattr(_memo, "store", None) is not None else _current_token()
    return _memoised("calendar", _load_calendar, token), _memoised("limits", _load_limit_rows, token)


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
    touch()  # bulk_create sends no signals
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


def terms_for(
    *, request_type: str, urgency: str, category: Category | None, rows: list[limits.LimitRow] | None = None
) -> limits.OrderTerms:
    return limits.pick(
        load_limit_rows() if rows is None else rows, request_type=request_type, urgency=urgency, category_path=category.path if category else ""
    )


def compute_due(start: dt.datetime, limit: cal.Limit, calendar: cal.WorkCalendar | None = None) -> dt.datetime:
    calendar = calendar or load_calendar()
    due = cal.due_at(start, limit, calendar)
    if limit.unit is cal.LimitUnit.WORKING_DAYS and not calendar.is_official(due.date()):
        # Better a deadline on weekends-only rules than none; `jiesu check` tells the admin.
        log.warning("no official holiday schedule for %s; enter it in the admin", due.year)
    return due
