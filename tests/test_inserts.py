"""``jiesu.ops.inserts.insert_all``: the batch intake's INSERTs, written without the ORM's
compiler, must store exactly what ``bulk_create`` stores (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import decimal
import warnings
import zoneinfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiesu.integrations.models import Notification
from jiesu.ops import inserts
from jiesu.ops.inserts import insert_all
from jiesu.orders import numbering
from jiesu.orders.actions.intake import new_order
from jiesu.orders.models import Event, Requester, WorkOrder
from jiesu.search.models import OrderText
from tests.conftest import at

pytestmark = pytest.mark.django_db

BEIJING_NOON = at("2026-09-30 12:00")


def _stored(model, pk, *, skip=()) -> dict:
    row = model.objects.filter(pk=pk).values().get()
    return {k: v for k, v in row.items() if k != model._meta.pk.attname and k not in skip}


def _order(city, number: str, **fields) -> WorkOrder:
    values = {"request_type": "complaint", "channel": "hotline", "urgency": "normal", "content": "路灯不亮了",
              "title": "路灯", "address": "朝阳区三里屯路19号", "category": city.lamp, "area": None,
              "latitude": decimal.Decimal("39.933000"), "longitude": decimal.Decimal("116.455000"), **fields}
    return new_order(number=number, actor_id=city.users["calltaker"].pk, fields=values, confidential=False,
                     draft=False, at=BEIJING_NOON)


def test_orders_events_and_requesters_are_stored_as_bulk_create_stores_them(city):
    by_orm, by_us = _order(city, "20260930000001"), _order(city, "20260930000002")
    WorkOrder.objects.bulk_create([by_orm])
    insert_all([by_us])
    # The number and the id differ by design; updated_at is auto_now (set by both, a moment apart).
    skip = ("number", "updated_at")
    assert _stored(WorkOrder, by_us.pk, skip=skip) == _stored(WorkOrder, by_orm.pk, skip=skip)
    assert by_us.pk == numbering.id_of("20260930000002")
    assert by_us.updated_at is not None and not by_us._state.adding and by_us._state.db == "default"

    def event(order):  # every kind of column: key, text, datetime, JSON (nested, Chinese), null key
        return Event(order=order, code="created", actor_id=city.users["calltaker"].pk, at=BEIJING_NOON,
                     to_state="received", reason="原因", data={"channel": "hotline", "n": [1, 2.5, None, "路灯"]})

    e1, e2 = event(by_orm), event(by_us)
    Event.objects.bulk_create([e1])
    insert_all([e2])
    assert e2.pk is not None and e2.pk != e1.pk
    assert _stored(Event, e2.pk, skip=("order_id",)) == _stored(Event, e1.pk, skip=("order_id",))
    assert Event.objects.get(pk=e2.pk).data == {"channel": "hotline", "n": [1, 2.5, None, "路灯"]}

    people = [Requester(order=by_us, phone="13812345678", name="张三", is_primary=True),
              Requester(order=by_us, phone="", email="a@example.org", wants_confidential=True)]
    insert_all(people)
    stored = list(Requester.objects.filter(order=by_us).order_by("pk").values_list("pk", "phone", "email",
                                                                                   "wants_confidential"))
    assert stored == [(people[0].pk, "13812345678", "", False), (people[1].pk, "", "a@example.org", True)]


def test_ids_come_back_in_the_rows_order_across_several_statements(city, monkeypatch):
    monkeypatch.setattr(inserts, "MAX_ROWS", 3)
    inserts._plan.cache_clear()
    try:
        orders = [_order(city, f"20260930{i:06d}") for i in range(1, 11)]
        insert_all(orders)
        events = [Event(order=o, code="created", at=BEIJING_NOON, data={"i": i}) for i, o in enumerate(orders)]
        insert_all(events)
    finally:
        inserts._plan.cache_clear()
    assert WorkOrder.objects.count() == 10
    assert {e.pk: e.data["i"] for e in events} == dict(Event.objects.filter(pk__in=[e.pk for e in events])
                                                      .values_list("pk", "data__i"))


def test_an_unsaved_related_object_is_refused_and_nothing_is_written(city):
    order_without_id = WorkOrder(number="x")
    event = Event(code="created", at=BEIJING_NOON)
    event.order = order_without_id
    with pytest.raises(ValueError, match="unsaved related object 'order'"):
        insert_all([event])
    assert not Event.objects.exists()


def test_a_related_object_saved_after_it_was_assigned_gives_its_key(city, new_order):
    # The batch intake's case: a "dispatched" event names its assignment before either is saved.
    from jiesu.orders.models import Assignment

    order = new_order()
    assignment = Assignment(order=order, unit=city.sanlitun_office, role="lead", state="dispatched",
                            dispatched_at=BEIJING_NOON, return_due_at=BEIJING_NOON, contact_due_at=BEIJING_NOON,
                            due_at=BEIJING_NOON, original_due_at=BEIJING_NOON)
    event = Event(order=order, code="dispatched", at=BEIJING_NOON, assignment=assignment)
    assert event.assignment_id is None
    insert_all([assignment])
    insert_all([event])
    assert Event.objects.get(pk=event.pk).assignment_id == assignment.pk is not None
    # A different row given its key since: the old cached object is dropped, the key kept.
    other = Event(order=order, code="noted", at=BEIJING_NOON, assignment=assignment)
    other.assignment_id = assignment.pk
    insert_all([other])
    assert Event.objects.get(pk=other.pk).assignment_id == assignment.pk


def test_conflicts_are_skipped_and_only_the_rows_written_are_answered(city):
    def note(key):
        return Notification(key=key, kind="received", channel="sms", to="13812345678", body="您的诉求已受理",
                            created_at=BEIJING_NOON, next_attempt_at=BEIJING_NOON, attempts=1)

    insert_all([note("a")])
    written = insert_all([note("a"), note("b"), note("c")], ignore_conflicts=True, returning=("key", "id"))
    assert sorted(k for k, _pk in written) == ["b", "c"]
    assert dict(written) == dict(Notification.objects.filter(key__in=["b", "c"]).values_list("key", "pk"))
    assert Notification.objects.count() == 3


def test_a_naive_datetime_is_made_aware_as_the_orm_makes_it(city):
    naive = dt.datetime(2026, 9, 30, 12, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        n1 = Notification(key="orm", kind="received", channel="sms", to="1", body="x", created_at=naive)
        n2 = Notification(key="ours", kind="received", channel="sms", to="1", body="x", created_at=naive)
        Notification.objects.bulk_create([n1])
        insert_all([n2])
    assert Notification.objects.get(key="ours").created_at == Notification.objects.get(key="orm").created_at


def test_mixed_rows_and_expressions_are_left_to_bulk_create(city, new_order):
    from django.db.models import Value
    from django.db.models.functions import Upper

    order = new_order()
    rows = [OrderText(order_id=order.pk, words=Upper(Value("abc")))]
    OrderText.objects.filter(order_id=order.pk).delete()
    insert_all(rows)
    assert OrderText.objects.get(order_id=order.pk).words == "ABC"
    # Some with a key, some without: bulk_create's job too.
    keyed = Notification(pk=9001, key="k1", kind="received", channel="sms", to="1", body="x", created_at=BEIJING_NOON)
    keyless = Notification(key="k2", kind="received", channel="sms", to="1", body="x", created_at=BEIJING_NOON)
    insert_all([keyed, keyless])
    assert sorted(Notification.objects.values_list("key", flat=True)) == ["k1", "k2"]
    assert keyless.pk is not None and Notification.objects.filter(pk=9001, key="k1").exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                    max_size=64),
       email=st.emails().map(lambda e: e[:254]), confidential=st.booleans(), primary=st.booleans())
def test_any_text_round_trips_as_through_the_orm(city, new_order, name, email, confidential, primary):
    order = WorkOrder.objects.first() or new_order()
    ours = Requester(order=order, phone="13812345678", name=name, email=email, wants_confidential=confidential,
                     is_primary=primary)
    theirs = Requester(order=order, phone="13812345678", name=name, email=email, wants_confidential=confidential,
                       is_primary=primary)
    insert_all([ours])
    Requester.objects.bulk_create([theirs])
    # created_at is auto_now_add: set by both, a moment apart.
    assert _stored(Requester, ours.pk, skip=("created_at",)) == _stored(Requester, theirs.pk, skip=("created_at",))
    assert ours.created_at is not None
    assert Requester.objects.get(pk=ours.pk).name == name


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                              max_size=32), min_size=2, max_size=6),
       data=st.dictionaries(st.text(max_size=8).filter(lambda k: "\x00" not in k),
                            st.text(max_size=16).filter(lambda v: "\x00" not in v), max_size=3))
def test_any_text_in_a_batch_round_trips_as_through_the_orm(city, new_order, names, data):
    """Several rows go as one array per column (PostgreSQL), written by ``pg_arrays.literal``:
    quotes, backslashes, braces, commas, "NULL" and empty texts come back as they went, and so
    does JSON."""
    order = WorkOrder.objects.first() or new_order()
    ours = [Requester(order=order, phone="13812345678", name=n, email="", is_primary=i == 0)
            for i, n in enumerate(names)]
    theirs = [Requester(order=order, phone="13812345678", name=n, email="", is_primary=i == 0)
              for i, n in enumerate(names)]
    insert_all(ours)
    Requester.objects.bulk_create(theirs)
    for mine, other in zip(ours, theirs, strict=True):
        assert _stored(Requester, mine.pk, skip=("created_at",)) == _stored(Requester, other.pk, skip=("created_at",))
    assert [Requester.objects.get(pk=r.pk).name for r in ours] == names
    events = [Event(order=order, code="note", actor_id=None, at=BEIJING_NOON, data={**data, "i": i}) for i in range(2)]
    insert_all(events)
    assert [Event.objects.get(pk=e.pk).data for e in events] == [{**data, "i": 0}, {**data, "i": 1}]


def test_an_array_of_values_pg_arrays_does_not_write_is_left_to_the_driver():
    from jiesu.ops.pg_arrays import literal

    assert literal(['a"b', "c\\d", None, 7, True]) == '{"a\\"b","c\\\\d",NULL,7,t}'
    assert literal([1.5, None, 0.1]) == "{1.5,NULL,0.1}"
    assert literal([decimal.Decimal("39.933000"), decimal.Decimal("1E+2")]) == "{39.933000,1E+2}"
    assert literal([float("nan")]) is None and literal([decimal.Decimal("Infinity")]) is None
    assert literal([dt.date(2026, 9, 30)]) is None
    assert literal([dt.datetime(2026, 9, 30, 12)]) is None  # naive: the field makes it aware first
    # Aware ones go in UTC, also those whose zone's offset then had seconds (Shanghai's LMT).
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    assert literal([dt.datetime(1900, 1, 1, 12, tzinfo=shanghai), BEIJING_NOON]) == (
        '{"1900-01-01 03:54:17+00:00","2026-09-30 04:00:00+00:00"}')


def test_the_statement_is_one_insert_per_model_for_a_batch(city, django_assert_num_queries):
    orders = [_order(city, f"20260930{i:06d}") for i in range(1, 201)]
    with django_assert_num_queries(1):
        insert_all(orders)
    assert WorkOrder.objects.count() == 200


def test_orders_without_ids_are_left_to_their_own_bulk_create_which_gives_them(city):
    # WorkOrder's queryset numbers-to-ids in bulk_create: insert_all must not insert them keyless.
    order = _order(city, "20260930000007")
    order.pk = None
    insert_all([order])
    assert order.pk == numbering.id_of("20260930000007")
    assert WorkOrder.objects.filter(pk=order.pk, number="20260930000007").exists()


def test_one_row_is_inserted_and_given_its_id(city):
    note = Notification(key="one", kind="received", channel="sms", to="1", body="x", created_at=BEIJING_NOON)
    assert insert_all([note], returning=("key",)) == [("one",)]
    assert Notification.objects.get(pk=note.pk).key == "one"
