"""The calendar and the limit table are kept per process and re-read when the configuration
stamp changes: at once after a change in this process, as soon as another process's change
commits, never for a rolled-back one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from jiesu.catalogue.models import RequestType, Urgency
from jiesu.deadlines import services as deadlines
from jiesu.deadlines.calendar import Limit, LimitUnit
from jiesu.deadlines.models import CalendarDay, CalendarYear, ConfigStamp, DayKind, DeadlineLimit
from tests.conftest import at

pytestmark = pytest.mark.django_db


def _terms(city):
    return deadlines.terms_for(request_type=RequestType.COMPLAINT, urgency=Urgency.NORMAL, category=city.lamp)


def _stamp() -> str:
    return ConfigStamp.objects.get(pk=1).token


def test_a_second_read_costs_only_the_stamp(city, django_assert_num_queries):
    first_calendar, first_limits = deadlines.load_calendar(), deadlines.load_limit_rows()
    with django_assert_num_queries(2):
        assert deadlines.load_calendar() is first_calendar
        assert deadlines.load_limit_rows() is first_limits


def test_a_limit_saved_in_this_process_applies_at_once(city):
    assert _terms(city).handling == Limit(7, LimitUnit.WORKING_DAYS)  # the DB11 default
    row = DeadlineLimit.objects.create(category=city.lamp, amount=24, unit="hours", contact_hours=4)
    assert _terms(city).handling == Limit(24, LimitUnit.HOURS)
    row.amount = 12
    row.save()
    assert _terms(city).handling == Limit(12, LimitUnit.HOURS)
    row.delete()
    assert _terms(city).handling == Limit(7, LimitUnit.WORKING_DAYS)


def test_another_process_s_change_applies_when_its_stamp_commits(city):
    DeadlineLimit.objects.create(category=city.lamp, amount=24, unit="hours")
    assert _terms(city).handling.amount == 24
    # Another process: its change (no signal here) and its new stamp, in one transaction.
    DeadlineLimit.objects.filter(category=city.lamp).update(amount=48)
    assert _terms(city).handling.amount == 24, "kept while the stamp is the same"
    ConfigStamp.objects.filter(pk=1).update(token="another-process")
    assert _terms(city).handling.amount == 48


def test_a_holiday_entered_later_moves_the_due_time(city):
    start = at("2027-01-04 10:00")  # a Monday
    before = deadlines.compute_due(start, Limit(1, LimitUnit.WORKING_DAYS))
    CalendarYear.objects.get_or_create(year=2027)
    CalendarDay.objects.create(date=dt.date(2027, 1, 5), kind=DayKind.HOLIDAY, name="测试假日")
    after = deadlines.compute_due(start, Limit(1, LimitUnit.WORKING_DAYS))
    assert after - before == dt.timedelta(days=1)


def test_a_rolled_back_change_is_never_used(city):
    token = _stamp()
    assert _terms(city).handling.amount == 7
    with pytest.raises(RuntimeError), transaction.atomic():
        DeadlineLimit.objects.create(category=city.lamp, amount=24, unit="hours")
        assert _terms(city).handling.amount == 24
        raise RuntimeError("roll back")
    assert _stamp() == token
    assert _terms(city).handling.amount == 7


def test_bulk_writes_touch_the_stamp(city):
    token = _stamp()
    CalendarDay.objects.filter(date__year=2026).delete()
    deadlines.seed_calendar_from_library()
    assert _stamp() != token


def test_without_a_stamp_nothing_is_kept(city, django_assert_num_queries):
    ConfigStamp.objects.all().delete()  # as in a flushed database
    DeadlineLimit.objects.create(category=city.lamp, amount=24, unit="hours")
    ConfigStamp.objects.all().delete()  # the signal made a new one
    assert _terms(city).handling.amount == 24
    DeadlineLimit.objects.filter(category=city.lamp).update(amount=48)
    assert _terms(city).handling.amount == 48
    deadlines.touch()
    assert ConfigStamp.objects.count() == 1


def test_moving_a_category_in_an_import_touches_the_stamp(city):
    from jiesu.accounts.policy import Actor
    from jiesu.integrations.exchange.importing import run

    token = _stamp()
    # 010101 (路灯) moves from 0101 (道路) to 02 (环境保护).
    text = "code,name,parent_code\n010101,路灯,02\n"
    assert run(kind="categories", data=text.encode(), filename="c.csv", actor=Actor.system()).ok
    city.lamp.refresh_from_db()
    assert city.lamp.path.startswith("02/")
    assert _stamp() != token
