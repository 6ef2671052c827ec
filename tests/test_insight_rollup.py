"""The dashboard's daily roll-ups stay exact: whatever is stored, dirty or missing, the page's
numbers equal a recount from the raw orders (the path every finer-grained viewer takes)."""

from __future__ import annotations

import datetime as dt
import math
import random

import numpy as np
import pytest
from django.core.management import call_command

from jiesu import clock
from jiesu.catalogue.models import Channel, RequestType
from jiesu.insight import rollup
from jiesu.insight.dashboard import Period, _assemble, _from_orders, dashboard
from jiesu.insight.models import DashboardDay
from jiesu.orders import actions

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)  # 09:30 in Beijing


def _snapshot(d):
    return (d.total, d.previous_total, d.per_day, d.by_day_type,
            [(c.code, c.n) for c in d.by_channel], [(c.code, c.n) for c in d.by_type],
            [(c.code, c.n) for c in d.by_category], [(c.code, c.n) for c in d.by_district],
            [(t.key, t.n, t.median_hours, t.p90_hours) for t in d.timings])


def _recount(actor, period):
    return _snapshot(_assemble(period, _from_orders(actor, period)))


def _history(city, new_order):
    """Orders over six days in two districts, some dispatched, contacted and replied to."""
    a = city.actor
    made = []
    for day in range(6):
        for i in range(3):
            at = T0 + dt.timedelta(days=day, hours=i * 5)
            with clock.frozen(at):
                haidian = i == 2
                order = new_order(
                    channel=Channel.WEB if i == 1 else Channel.HOTLINE,
                    request_type=RequestType.HELP if haidian else RequestType.COMPLAINT,
                    area_code="110108001" if haidian else "110105001",
                    category_code="0201" if haidian else "010101",
                )
                made.append(order)
            if haidian:
                continue
            with clock.frozen(at + dt.timedelta(minutes=7 + 11 * day + i)):
                actions.dispatch_order(actor=a("dispatcher"), number=order.number, lead_unit="SLT")
            if (day + i) % 3 == 2:
                continue
            with clock.frozen(at + dt.timedelta(hours=1 + day)):
                actions.accept_assignment(actor=a("handler"), number=order.number)
                actions.record_contact(actor=a("handler"), number=order.number)
            with clock.frozen(at + dt.timedelta(hours=20 + 3 * day + i)):
                actions.reply_to_order(actor=a("handler"), number=order.number, outcome="solved",
                                       body="经现场核实，路灯线路老化，已更换，现已恢复照明。联系电话：010-84561234。")
    with clock.frozen(T0):
        new_order(draft=True)  # never counted
    return made


@pytest.mark.parametrize("viewer", ["analyst", "cy_dispatcher", "admin"])
def test_stored_dirty_and_missing_days_all_equal_a_recount(city, new_order, viewer):
    _history(city, new_order)
    actor = city.actor(viewer)
    now = T0 + dt.timedelta(days=8)
    with clock.frozen(now):
        period = Period.last_days(7)
        expected = _recount(actor, period)
        assert expected[0] > 0
        # Nothing refreshed: every day is dirty or missing and is recounted.
        assert _snapshot(dashboard(actor, period)) == expected
        assert rollup.refresh() > 0
        assert not DashboardDay.objects.filter(dirty=True).exists()
        assert _snapshot(dashboard(actor, period)) == expected
        # A change to an order of a stored day: the day is dirty and the page follows at once.
        order = new_order(request_type=RequestType.SUGGEST, channel=Channel.WEB, content="建议增设路灯。",
                          category_code="0201")
    with clock.frozen(now + dt.timedelta(hours=1)):
        actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
        changed = _recount(actor, period)
        assert changed != expected
        assert DashboardDay.objects.filter(day=rollup.day_of(now), dirty=True).exists()
        assert _snapshot(dashboard(actor, period)) == changed
        assert rollup.refresh() >= 1
        assert _snapshot(dashboard(actor, period)) == changed
        # Two other windows, read from the same rows.
        for days in (30, 90):
            assert _snapshot(dashboard(actor, Period.last_days(days))) == _recount(actor, Period.last_days(days))


def test_only_changes_that_move_the_numbers_mark_a_day(city, new_order):
    with clock.frozen(T0):
        order = new_order()
        actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    day = rollup.day_of(T0)
    with clock.frozen(T0 + dt.timedelta(days=1)):
        rollup.refresh()
        assert not DashboardDay.objects.get(day=day).dirty
        actions.accept_assignment(actor=city.actor("handler"), number=order.number)  # no timing changes
        assert not DashboardDay.objects.get(day=day).dirty
        actions.record_contact(actor=city.actor("handler"), number=order.number)  # dispatch → contact moves
        assert DashboardDay.objects.get(day=day).dirty


def test_sweep_recomputes_dirty_days(city, new_order):
    with clock.frozen(T0):
        new_order()
    with clock.frozen(T0 + dt.timedelta(hours=2)):
        assert DashboardDay.objects.get(day=rollup.day_of(T0)).dirty
        call_command("sweep", stdout=open("/dev/null", "w"))  # noqa: SIM115
        row = DashboardDay.objects.get(day=rollup.day_of(T0))
        assert not row.dirty
        assert sum(c["t"].get("complaint", 0) for c in row.counts.values()) == 1


def test_nearest_rank_matches_the_definition():
    rng = random.Random(3)
    for n in (1, 2, 3, 10, 101):
        values = [rng.randint(-10**9, 10**12) for _ in range(n)]
        ordered = sorted(values)
        want = [ordered[max(1, math.ceil(r * n)) - 1] for r in (0.5, 0.9)]
        assert rollup.nearest_rank(np.array(values, dtype=np.int64), (0.5, 0.9)) == want
    assert rollup.nearest_rank(np.empty(0, dtype=np.int64), (0.5,)) == [None]


def _day_updates(queries):
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "insight_dashboardday" in q["sql"]]


def test_a_transaction_marks_its_day_once(city, new_order, django_assert_max_num_queries):
    from django.db import transaction

    with clock.frozen(T0):
        new_order()  # the day's row exists
        rollup.refresh([rollup.day_of(T0)])
        with transaction.atomic(), django_assert_max_num_queries(1000) as captured:
            order = new_order()  # the order saved more than once, its lead assignment too
            actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    assert len(_day_updates(captured.captured_queries)) == 1
    assert DashboardDay.objects.get(day=rollup.day_of(T0)).dirty


def test_a_mark_rolled_back_with_its_savepoint_is_made_again(city, new_order):
    from django.db import transaction

    day = rollup.day_of(T0)
    with clock.frozen(T0):
        new_order()
        rollup.refresh([day])
        with transaction.atomic():
            try:
                with transaction.atomic():
                    rollup.mark([day])
                    raise RuntimeError("undo")
            except RuntimeError:
                pass
            assert not DashboardDay.objects.get(day=day).dirty
            rollup.mark([day])
            assert DashboardDay.objects.get(day=day).dirty
