"""Order numbers and ids (jiesu.orders.numbering): the pure rules, then the model that keeps
them (every new order's id is its number, however it is created)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiesu.orders import numbering

days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2999, 12, 31))
sequences = st.integers(min_value=1, max_value=999_999)


@given(days, sequences)
def test_an_id_is_its_number_and_carries_its_day(day, seq):
    number = numbering.format_number(day, seq)
    order_id = numbering.id_of(number)
    assert str(order_id) == number and numbering.is_numbered(order_id)
    assert numbering.day_of(order_id) == day
    assert numbering.first_id(day) < order_id < numbering.first_id(day + dt.timedelta(days=1))


@given(days, sequences, days, sequences)
def test_ids_grow_with_day_then_sequence(d1, s1, d2, s2):
    a = numbering.id_of(numbering.format_number(d1, s1))
    b = numbering.id_of(numbering.format_number(d2, s2))
    assert (a < b) == ((d1, s1) < (d2, s2))


@pytest.mark.parametrize("bad", ["", "2026112800001", "202611280000012", "2026112800000a", "２０２６１１２８０００００１"])
def test_only_fourteen_ascii_digits_are_a_number(bad):
    with pytest.raises(ValueError):
        numbering.id_of(bad)


def test_sequences_stay_in_six_digits():
    for seq in (0, 1_000_000):
        with pytest.raises(ValueError):
            numbering.format_number(dt.date(2026, 11, 28), seq)


def test_legacy_ids_carry_no_day():
    assert not numbering.is_numbered(12345)
    with pytest.raises(ValueError):
        numbering.day_of(12345)


def test_window_floor_on_legacy_ids_counts_ids():
    assert numbering.window_floor(newest=1000, oldest=1, rows=1000, width=100) == 900
    assert numbering.window_floor(newest=1000, oldest=1, rows=1000, width=1000) is None
    assert numbering.window_floor(newest=1000, oldest=950, rows=1000, width=100) is None  # below the oldest
    assert numbering.window_floor(newest=0, oldest=0, rows=0, width=10) is None


def test_window_floor_on_numbered_ids_counts_days():
    newest = numbering.id_of("20261130000900")
    oldest = numbering.id_of("20261101000001")
    # 30 days, 3,000 orders: 100 a day, so 250 orders are the newest 3 days (and part of a 4th).
    floor = numbering.window_floor(newest=newest, oldest=oldest, rows=3000, width=250)
    assert floor == numbering.first_id(dt.date(2026, 11, 27))
    assert numbering.window_floor(newest=newest, oldest=oldest, rows=3000, width=2990) is None
    # Legacy and numbered together: no average to go by, every order.
    assert numbering.window_floor(newest=newest, oldest=5, rows=3000, width=250) is None


@given(st.integers(min_value=1, max_value=20_000), st.floats(min_value=1, max_value=1e7))
def test_a_window_never_starts_below_the_oldest_day(span, width):
    oldest = numbering.first_id(dt.date(2025, 1, 1)) + 1
    newest = numbering.first_id(dt.date(2025, 1, 1) + dt.timedelta(days=span % 700)) + 7
    floor = numbering.window_floor(newest=newest, oldest=oldest, rows=span * 10.0, width=width)
    if floor is not None:
        assert oldest - 1 <= floor < newest


# --- on the database ----------------------------------------------------------------------------


def test_every_new_order_takes_its_number_as_id(city, new_order):
    from jiesu import clock
    from jiesu.orders.models import WorkOrder
    from tests.conftest import at

    with clock.frozen(at("2026-03-04 09:00")):
        first, second = new_order(), new_order()
    assert (first.number, second.number) == ("20260304000001", "20260304000002")
    assert [first.pk, second.pk] == [20260304000001, 20260304000002]
    bulk = WorkOrder.objects.bulk_create([
        WorkOrder(number="20260305000007", request_type="consult", channel="hotline", content="问",
                  received_at=at("2026-03-05 09:00"))])
    made = WorkOrder.objects.create(number="20260305000008", request_type="consult", channel="hotline",
                                    content="问", received_at=at("2026-03-05 09:01"))
    assert bulk[0].pk == 20260305000007 and made.pk == 20260305000008
    assert set(WorkOrder.objects.values_list("pk", "number")) == {
        (int(n), n) for n in ("20260304000001", "20260304000002", "20260305000007", "20260305000008")}
    # Saving an existing order again is an update, not a second insert.
    made.title = "改"
    made.save()
    assert WorkOrder.objects.get(pk=made.pk).title == "改" and WorkOrder.objects.count() == 4


# --- the lookup by number (jiesu.orders.lookups) ------------------------------------------------


@pytest.mark.django_db
def test_a_lookup_by_number_also_names_the_id_and_finds_exactly_what_the_number_finds(city, new_order):
    from jiesu.orders.models import Requester, WorkOrder

    order = new_order()
    # an order stored before ids carried numbers: a small id, a number of the same shape
    legacy = WorkOrder.objects.create(pk=41, number="20251231000007", state="received", request_type="complaint",
                                      channel="hotline", content="旧工单", received_at=order.received_at,
                                      triage_due_at=order.triage_due_at)
    qs = WorkOrder.objects.filter(number=order.number)
    sql, params = qs.query.sql_with_params()
    assert numbering.id_of(order.number) in params and numbering.FIRST_NUMBERED_ID in params
    assert list(qs) == [order]
    assert WorkOrder.objects.get(number=legacy.number) == legacy
    assert not WorkOrder.objects.filter(number=str(legacy.pk).zfill(14)).exists()
    assert set(WorkOrder.objects.exclude(number=order.number)) == {legacy}
    # through a join, and with values that are not a number's shape (nothing added, nothing found)
    joined = Requester.objects.filter(order__number=order.number)
    assert numbering.id_of(order.number) in joined.query.sql_with_params()[1] and joined.count() == 1
    for odd in ("", "2026", "x" * 14, "２０２６０９１６０００７１０"):
        assert not WorkOrder.objects.filter(number=odd).exists()
