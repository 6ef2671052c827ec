"""Orders acknowledged at once and made in batches (``Prefer: respond-async``,
``jiesu.orders.actions.receipts``): the batch makes exactly what ``create_order`` makes, an
acknowledged receipt is never lost, and a batch costs the same statements however large."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jiesu import clock
from jiesu.catalogue.models import Channel, RequestType
from jiesu.dispatch.models import TriageSuggestion
from jiesu.orders import events as order_events
from jiesu.orders.actions import RequesterInput, create_order, receipts
from jiesu.orders.errors import InvalidInput, NotAllowed
from jiesu.orders.models import (
    Assignment,
    Event,
    IdempotencyKey,
    IntakeReceipt,
    ReceiptState,
    Requester,
    WorkOrder,
)
from jiesu.orders.states import State
from jiesu.search.models import OrderText
from tests.api_helpers import Api
from tests.dispatch_helpers import triage_world  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("triage_world")]

LAMP = "小区门口的路灯坏了一个星期，晚上很黑，请尽快修理。"  # keywords: 010101 at 0.95, routed to SLT
NOISE = "楼下饭馆每天夜里噪音很大，影响休息。"  # keywords: 0201 at 0.6: a suggestion only
NOON = dt.datetime(2026, 11, 27, 4, 0, tzinfo=dt.UTC)  # 12:00 in Beijing, a Friday

CASES = {
    "dispatched by the system": dict(content=LAMP),
    "a suggestion only": dict(content=NOISE, address="朝阳区三里屯街道"),
    "confidential report": dict(request_type=RequestType.REPORT, content=NOISE),
    "category and area given": dict(content=NOISE, category_code="0201", area_code="110105001"),
    "two requesters, coordinates": dict(content=LAMP, latitude="39.9342", longitude="116.4551", requesters=[
        RequesterInput(phone="13812345678", name="张三"),
        RequesterInput(phone="010-65001234", name="李四", wants_confidential=True, email="Li@Example.ORG")]),
    "draft": dict(content=LAMP, draft=True),
    "emergency": dict(content="楼道里有很大的煤气味，有人晕倒了", urgency="emergency"),
}


@pytest.fixture(autouse=True)
def _inline(settings):
    settings.JIESU = {**settings.JIESU, "INLINE_TRIAGE": True}


def kwargs(city, **kw):
    base = dict(actor=city.actor("calltaker"), request_type=RequestType.COMPLAINT, channel=Channel.HOTLINE,
                requesters=[RequesterInput(phone="13812345678", name="张三")], address="朝阳区三里屯路19号")
    return {**base, **kw}


def portrait(order: WorkOrder) -> dict:
    """Everything intake wrote for an order, without its number and row ids."""
    order = WorkOrder.objects.select_related("category", "area").get(pk=order.pk)
    suggestion = TriageSuggestion.objects.filter(order=order).first()
    lead = Assignment.objects.filter(order=order, role="lead").first()
    return {
        "order": {f: getattr(order, f) for f in (
            "state", "request_type", "channel", "urgency", "title", "content", "address", "latitude", "longitude",
            "is_confidential", "received_at", "triage_due_at", "due_at", "created_by_id")}
        | {"category": order.category.code if order.category else None, "area": order.area.code if order.area else None},
        "requesters": list(Requester.objects.filter(order=order).order_by("id").values_list(
            "phone", "name", "email", "is_primary", "wants_confidential")),
        "events": [(e.code, e.actor_id, e.at, e.from_state, e.to_state, e.reason, e.data,
                    e.assignment_id == (lead.pk if lead else None) if e.assignment_id else None)
                   for e in Event.objects.filter(order=order).order_by("id")],
        "assignments": list(Assignment.objects.filter(order=order).order_by("id").values_list(
            "unit__code", "role", "state", "dispatched_at", "dispatched_by_id", "return_due_at", "contact_due_at",
            "due_at", "original_due_at")),
        # All of the engine's answer but how long it took.
        "suggestion": suggestion and ({k: v for k, v in suggestion.result.items() if k != "elapsed_ms"},
                                      suggestion.model_version, suggestion.confidence, suggestion.auto_dispatched),
        "words": OrderText.objects.get(order_id=order.pk).words,
    }


@pytest.mark.parametrize("case", list(CASES))
def test_a_batch_makes_what_create_order_makes(city, case, django_capture_on_commit_callbacks):
    with clock.frozen(NOON):
        alone = create_order(**kwargs(city, **CASES[case]))
        receipt = receipts.receive_order(**kwargs(city, **CASES[case]))
        assert not WorkOrder.objects.filter(pk__gt=alone.pk).exists()  # acknowledged, not yet made
        with django_capture_on_commit_callbacks(execute=True):
            assert receipts.make_received_orders() == 1
    receipt.refresh_from_db()
    assert receipt.state == ReceiptState.MADE and receipt.made_at == NOON
    batched = receipt.order
    assert batched.pk != alone.pk and batched.number == str(batched.pk)
    assert portrait(batched) == portrait(alone)


def test_many_receipts_in_one_batch_each_get_their_own_order(city):
    with clock.frozen(NOON):
        made = [receipts.receive_order(**kwargs(city, **CASES[c])) for c in CASES for _ in range(3)]
        assert receipts.make_received_orders(limit=5) == 5  # oldest first, at most ``limit``
        assert receipts.make_received_orders() == len(made) - 5
        assert receipts.make_received_orders() == 0
    orders = [IntakeReceipt.objects.get(pk=r.pk).order for r in made]
    assert len({o.pk for o in orders}) == len(made)
    # Numbered in the order they were acknowledged, on the day they were received.
    assert [o.pk for o in orders] == sorted(o.pk for o in orders)
    assert all(o.number.startswith("20261127") for o in orders)
    for receipt, order in zip(made, orders, strict=True):
        assert order.content == receipt.payload["content"]
        assert Event.objects.filter(order=order, code="created").count() == 1
    assert not IntakeReceipt.objects.filter(state=ReceiptState.PENDING).exists()


def test_a_receipt_made_after_midnight_keeps_the_day_it_was_received(city):
    before_midnight = dt.datetime(2026, 11, 27, 15, 59, 59, tzinfo=dt.UTC)  # 23:59:59 in Beijing
    with clock.frozen(before_midnight):
        receipt = receipts.receive_order(**kwargs(city, content=LAMP))
    with clock.frozen(before_midnight + dt.timedelta(seconds=2)):
        receipts.make_received_orders()
    order = IntakeReceipt.objects.get(pk=receipt.pk).order
    assert order.number.startswith("20261127") and order.received_at == before_midnight
    assert order.due_at is not None  # dispatched when it was made
    assert Assignment.objects.get(order=order).dispatched_at == before_midnight + dt.timedelta(seconds=2)


def test_bad_input_is_refused_before_anything_is_stored(city):
    for bad in (dict(content="   "), dict(request_type="nonsense", content=LAMP), dict(content=LAMP, latitude="north"),
                dict(content=LAMP, requesters=[RequesterInput(phone="12", name="x")]),
                dict(content=LAMP, category_code="no-such")):
        with pytest.raises(InvalidInput):
            receipts.receive_order(**kwargs(city, **bad))
    assert not IntakeReceipt.objects.exists() and not WorkOrder.objects.exists()


def test_a_handler_may_not_record_orders_this_way_either(city):
    with pytest.raises(NotAllowed):
        receipts.receive_order(**kwargs(city, content=LAMP, actor=city.actor("handler")))
    assert not IntakeReceipt.objects.exists()


def test_a_retried_key_answers_the_same_receipt_and_makes_one_order(city):
    first = receipts.receive_order(**kwargs(city, content=LAMP), idempotency_key="k-1")
    again = receipts.receive_order(**kwargs(city, content=LAMP), idempotency_key="k-1")
    assert again.pk == first.pk and again.replayed and not first.replayed
    receipts.make_received_orders()
    after = receipts.receive_order(**kwargs(city, content=LAMP), idempotency_key="k-1")
    assert after.pk == first.pk and after.state == ReceiptState.MADE
    assert WorkOrder.objects.count() == 1
    key = IdempotencyKey.objects.get(key="k-1")
    assert key.order_id == after.order_id
    # The synchronous path knows the key too: a retry there answers the same order.
    assert create_order(**kwargs(city, content=LAMP), idempotency_key="k-1").pk == after.order_id
    assert WorkOrder.objects.count() == 1


def test_a_key_a_synchronous_request_used_answers_its_order(city):
    order = create_order(**kwargs(city, content=LAMP), idempotency_key="k-2")
    receipt = receipts.receive_order(**kwargs(city, content=LAMP), idempotency_key="k-2")
    assert receipt.pk is None and receipt.replayed and receipt.order_id == order.pk
    assert not IntakeReceipt.objects.exists() and WorkOrder.objects.count() == 1


def test_a_key_used_meanwhile_by_a_synchronous_request_is_not_made_twice(city):
    receipt = receipts.receive_order(**kwargs(city, content=LAMP), idempotency_key="k-3")
    order = create_order(**kwargs(city, content=LAMP), idempotency_key="k-3")  # raced in before the batch
    receipts.make_received_orders()
    receipt.refresh_from_db()
    assert receipt.state == ReceiptState.MADE and receipt.order_id == order.pk and WorkOrder.objects.count() == 1


def test_a_failing_batch_is_made_one_receipt_at_a_time(city, monkeypatch):
    made = [receipts.receive_order(**kwargs(city, content=c)) for c in (LAMP, NOISE, LAMP)]

    def broken(orders):
        raise RuntimeError("index down")

    monkeypatch.setattr("jiesu.search.services.index_new_orders", broken)
    assert receipts.make_received_orders() == 3
    for receipt in made:
        receipt.refresh_from_db()
        assert receipt.state == ReceiptState.MADE and receipt.order is not None
        assert OrderText.objects.filter(order_id=receipt.order_id).exists()  # intake's own way, one by one
    assert WorkOrder.objects.get(pk=made[0].order_id).state == State.DISPATCHED
    assert WorkOrder.objects.count() == 3


def test_a_receipt_that_cannot_be_made_is_kept_as_failed_and_can_be_retried(city, monkeypatch):
    good = receipts.receive_order(**kwargs(city, content=LAMP))
    bad = receipts.receive_order(**kwargs(city, content=NOISE))
    IntakeReceipt.objects.filter(pk=bad.pk).update(payload={**bad.payload, "request_type": "gone"})
    receipts.make_received_orders()
    good.refresh_from_db(), bad.refresh_from_db()
    assert good.state == ReceiptState.MADE
    assert bad.state == ReceiptState.FAILED and "InvalidInput" in bad.error and bad.order is None
    with pytest.raises(NotAllowed):
        receipts.retry_failed(actor=city.actor("calltaker"), ids=[bad.pk])
    IntakeReceipt.objects.filter(pk=bad.pk).update(payload={**bad.payload, "request_type": "complaint"})
    assert receipts.retry_failed(actor=city.actor("admin"), ids=[bad.pk, good.pk]) == 1
    receipts.make_received_orders()
    bad.refresh_from_db()
    assert bad.state == ReceiptState.MADE and bad.error == "" and bad.order.content == NOISE


def test_a_category_removed_since_the_acknowledgement_leaves_the_order_to_a_dispatcher(city):
    receipt = receipts.receive_order(**kwargs(city, content=NOISE, category_code="0201"))
    city.noise.is_active = False
    city.noise.save()
    receipts.make_received_orders()
    receipt.refresh_from_db()
    assert receipt.state == ReceiptState.MADE and receipt.order.category_id is None


def test_nothing_is_lost_when_the_whole_transaction_fails(city, monkeypatch):
    made = [receipts.receive_order(**kwargs(city, content=LAMP)) for _ in range(2)]

    def broken(*a, **kw):
        raise RuntimeError("database gone")

    monkeypatch.setattr(receipts, "_write_batch", broken)
    monkeypatch.setattr(receipts, "_make_each", broken)
    with pytest.raises(RuntimeError):
        receipts.make_received_orders()
    assert IntakeReceipt.objects.filter(state=ReceiptState.PENDING).count() == 2
    assert not WorkOrder.objects.exists()
    monkeypatch.undo()
    assert receipts.make_received_orders() == 2
    assert {r.order_id for r in IntakeReceipt.objects.filter(pk__in=[m.pk for m in made])} == set(
        WorkOrder.objects.values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)  # announced only by the outermost transaction, as in the worker
def test_a_batch_announces_its_events_together_once(city):
    batches = []

    def heard(sender, events, **kw):
        batches.append(events)

    order_events.events_recorded.connect(heard)
    try:
        for content in (LAMP, NOISE, LAMP):
            receipts.receive_order(**kwargs(city, content=content))
        receipts.make_received_orders()
    finally:
        order_events.events_recorded.disconnect(heard)
    assert len(batches) == 1
    assert sorted(code for _id, _order, code in batches[0]) == ["created"] * 3 + ["dispatched"] * 2
    assert {e[0] for e in batches[0]} == set(Event.objects.values_list("pk", flat=True))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only: SQLite has no plan cache setting")
@pytest.mark.django_db(transaction=True)  # the batch's transaction is the outermost, as in the worker
def test_a_batch_reuses_plans_and_leaves_the_connections_setting_alone(city, monkeypatch):
    """Generic plans inside the batch's transaction (its foreign-key checks are not planned
    anew for every row); the connection's own setting (PostgreSQL's ``auto``) before and after."""

    def mode() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW plan_cache_mode")
            return cursor.fetchone()[0]

    seen = []
    make_batch = receipts._write_batch

    def spying(*args):
        seen.append(mode())
        return make_batch(*args)

    monkeypatch.setattr(receipts, "_write_batch", spying)
    receipts.receive_order(**kwargs(city, content=LAMP))
    before = mode()
    assert receipts.make_received_orders() == 1
    assert (before, seen, mode()) == ("auto", ["force_generic_plan"], "auto")
    assert WorkOrder.objects.get().state == State.DISPATCHED


@pytest.mark.django_db(transaction=True)  # the batch's transaction is the outermost, as in the worker
def test_sqlite_builds_and_triages_the_batch_before_it_takes_the_write_lock(city, monkeypatch):
    """SQLite locks the whole database for a write transaction: the batch is built and triaged
    before it, and only numbered and written under it, so that the acknowledgements wait less.
    PostgreSQL builds it inside its transaction (row locks). Either way every receipt is linked
    to its own order, numbered in the order received."""
    from django.db import transaction

    inside = []
    prepare = receipts._prepare_batch

    def spying(*args):
        inside.append(transaction.get_connection().in_atomic_block)
        return prepare(*args)

    monkeypatch.setattr(receipts, "_prepare_batch", spying)
    made = [receipts.receive_order(**kwargs(city, content=c)) for c in (LAMP, NOISE, LAMP)]
    assert receipts.make_received_orders() == 3
    assert inside == [connection.vendor != "sqlite"]
    linked = {r.pk: r for r in IntakeReceipt.objects.filter(pk__in=[m.pk for m in made]).select_related("order")}
    orders = [linked[m.pk].order for m in made]
    assert [o.number for o in orders] == sorted(o.number for o in orders)
    assert [o.content for o in orders] == [LAMP, NOISE, LAMP]
    assert all(o.pk == WorkOrder.objects.get(number=o.number).pk for o in orders)
    assert [o.state for o in orders] == [State.DISPATCHED, State.RECEIVED, State.DISPATCHED]
    assert Event.objects.filter(order__in=orders, code="created").count() == 3
    assert TriageSuggestion.objects.filter(order__in=orders).count() == 3


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only: the batch is built before its lock there")
@pytest.mark.django_db(transaction=True)
def test_receipts_made_by_another_worker_meanwhile_are_not_made_twice(city, monkeypatch):
    first, second = (receipts.receive_order(**kwargs(city, content=LAMP)) for _ in range(2))
    early = receipts._prepared_early

    def and_another_worker(limit):
        found = early(limit)
        # Between the building and the lock, another worker made the first receipt's order.
        IntakeReceipt.objects.filter(pk=first.pk).update(state=ReceiptState.FAILED)
        return found

    monkeypatch.setattr(receipts, "_prepared_early", and_another_worker)
    assert receipts.make_received_orders() == 1
    assert WorkOrder.objects.count() == 1
    second.refresh_from_db()
    assert second.state == ReceiptState.MADE and second.order_id == WorkOrder.objects.get().pk
    assert IntakeReceipt.objects.get(pk=first.pk).order_id is None


def test_a_batch_costs_the_same_statements_however_many_orders_it_makes(city):
    def statements(n: int) -> int:
        for _ in range(n):
            receipts.receive_order(**kwargs(city, content=LAMP))
        with CaptureQueriesContext(connection) as queries:
            assert receipts.make_received_orders() == n
        return len(queries.captured_queries)

    statements(1)  # warm: the triage engine and the deadline tables load once per process
    assert statements(3) == statements(12)


def test_inline_triage_off_queues_each_order_for_the_task_worker(city, settings, django_capture_on_commit_callbacks):
    settings.JIESU = {**settings.JIESU, "INLINE_TRIAGE": False}
    receipts.receive_order(**kwargs(city, content=LAMP))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        receipts.make_received_orders()
    order = WorkOrder.objects.get()
    assert order.state == State.RECEIVED and not TriageSuggestion.objects.exists()
    assert [c.args for c in callbacks if getattr(c, "func", None) is receipts.queue_triage] == [(order.pk,)]


def test_a_triage_that_cannot_start_leaves_the_batch_whole_and_queues_each_order(
        city, monkeypatch, django_capture_on_commit_callbacks):
    """A model that cannot be loaded does not send the batch down the one-by-one path: the
    orders are made together, received, and each is queued for its background triage."""
    made = [receipts.receive_order(**kwargs(city, content=c)) for c in (LAMP, NOISE)]

    def broken():
        raise RuntimeError("model file unreadable")

    monkeypatch.setattr("jiesu.dispatch.runtime.engine", broken)
    monkeypatch.setattr(receipts, "_make_each", lambda *a: pytest.fail("the batch went one by one"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert receipts.make_received_orders() == 2
    orders = list(WorkOrder.objects.order_by("pk"))
    assert [o.state for o in orders] == [State.RECEIVED, State.RECEIVED] and not TriageSuggestion.objects.exists()
    assert sorted(c.args for c in callbacks if getattr(c, "func", None) is receipts.queue_triage) == [
        (o.pk,) for o in orders]
    for receipt in made:
        receipt.refresh_from_db()
        assert receipt.state == ReceiptState.MADE


def test_drain_makes_what_is_pending_until_stopped(city, monkeypatch):
    import threading

    for _ in range(5):
        receipts.receive_order(**kwargs(city, content=LAMP))
    made, waits = [], []

    class Stop(threading.Event):
        def wait(self, timeout=None):
            waits.append(timeout)
            return self.is_set()

    stop = Stop()
    real = receipts.make_received_orders

    def batch(**kw):
        made.append(real(limit=2))
        if len(made) == 4:
            stop.set()
        return made[-1]

    clock = iter([0.0, 1.0, 2.0, 2.1, 3.0])  # when each batch starts, and when the partial one ends

    monkeypatch.setattr(receipts, "make_received_orders", batch)
    monkeypatch.setattr(receipts, "monotonic", lambda: next(clock))
    monkeypatch.setattr(receipts, "BATCH", 2)
    monkeypatch.setattr(receipts, "close_old_connections", lambda: None)  # the test's own transaction
    receipts.drain(stop, idle=0.1, gather=0.25)
    # Full batches follow one another at once; a partial one (0.1 s) lets the next start 0.25 s
    # after it began; none: idle.
    assert made == [2, 2, 1, 0] and waits == [pytest.approx(0.15), 0.1]
    assert WorkOrder.objects.count() == 5


def test_drain_starts_the_next_batch_at_once_after_a_slow_partial_one(city, monkeypatch):
    """A partial batch that took longer than the gathering time: the receipts that came
    meanwhile are made at once, not after another pause."""
    import threading

    receipts.receive_order(**kwargs(city, content=LAMP))
    waits = []

    class Stop(threading.Event):
        def wait(self, timeout=None):
            waits.append(timeout)
            self.set()
            return True

    clock = iter([0.0, 0.4])
    monkeypatch.setattr(receipts, "monotonic", lambda: next(clock))
    monkeypatch.setattr(receipts, "close_old_connections", lambda: None)
    receipts.drain(Stop(), idle=0.1, gather=0.25)
    assert waits == [0.0] and WorkOrder.objects.count() == 1


# ------------------------------------------------------------------------------------ the API


def test_the_api_acknowledges_with_202_and_a_receipt_then_gives_the_number(city):
    api = Api(city)
    body = {"request_type": "complaint", "channel": "hotline", "content": LAMP, "address": "朝阳区三里屯路19号",
            "requesters": [{"phone": "13812345678", "name": "张三"}]}
    r = api.post("/api/v1/orders", body, headers={"Prefer": "respond-async, wait=5"})
    assert r.status_code == 202, r.content
    assert r["Preference-Applied"] == "respond-async"
    answer = r.json()
    assert answer["state"] == "pending" and answer["number"] is None and not WorkOrder.objects.exists()
    assert r["Location"] == f"/api/v1/receipts/{answer['receipt']}"
    assert api.get(r["Location"]).json()["state"] == "pending"
    receipts.make_received_orders()
    status = api.get(r["Location"]).json()
    order = WorkOrder.objects.get()
    assert status["state"] == "made" and status["number"] == order.number
    assert api.get(f"/api/v1/orders/{order.number}").json()["state"] == "dispatched"
    # Only its sender (and administrators) see a receipt.
    assert api.get(r["Location"], as_="dispatcher").status_code == 404
    assert api.get(r["Location"], as_="admin").status_code == 200
    assert api.get("/api/v1/receipts/999999999").status_code == 404


def test_the_api_refuses_bad_input_in_the_users_language_and_stores_nothing(city):
    api = Api(city)
    body = {"request_type": "complaint", "content": LAMP, "requesters": [{"phone": "123", "name": "张三"}]}
    r = api.post("/api/v1/orders", body, headers={"Prefer": "respond-async"}, lang="zh-hans")
    assert r.status_code == 422 and r.json()["field"] == "phone" and "电话" in r.json()["message"]
    assert not IntakeReceipt.objects.exists()


def test_the_api_replays_a_retried_key(city):
    api = Api(city)
    body = {"request_type": "complaint", "content": LAMP, "requesters": [{"phone": "13812345678"}]}
    first = api.post("/api/v1/orders", body, headers={"Prefer": "respond-async", "Idempotency-Key": "a1"}).json()
    second = api.post("/api/v1/orders", body, headers={"Prefer": "respond-async", "Idempotency-Key": "a1"})
    assert second.status_code == 202 and second.json()["receipt"] == first["receipt"]
    assert IntakeReceipt.objects.count() == 1
    # After a synchronous request with another key made its order, the async retry answers that order.
    sync = api.post("/api/v1/orders", body, headers={"Idempotency-Key": "a2"})
    retry = api.post("/api/v1/orders", body, headers={"Prefer": "respond-async", "Idempotency-Key": "a2"})
    assert retry.status_code == 200 and retry.json()["number"] == sync.json()["number"]


def test_without_the_preference_the_api_answers_the_order_as_before(city):
    api = Api(city)
    body = {"request_type": "complaint", "content": LAMP, "requesters": [{"phone": "13812345678"}]}
    r = api.post("/api/v1/orders", body, headers={"Prefer": "return=minimal"})
    assert r.status_code == 201 and r.json()["number"] and not IntakeReceipt.objects.exists()
    assert "Preference-Applied" not in r


def test_coordinates_survive_the_receipt_exactly(city):
    receipt = receipts.receive_order(**kwargs(city, content=LAMP, latitude=39.934212, longitude="116.455101"))
    receipts.make_received_orders()
    order = IntakeReceipt.objects.get(pk=receipt.pk).order
    assert (order.latitude, order.longitude) == (Decimal("39.934212"), Decimal("116.455101"))


def test_an_administrator_makes_a_failed_receipt_again_from_the_admin(city, client):
    receipt = receipts.receive_order(**kwargs(city, content=LAMP))
    IntakeReceipt.objects.filter(pk=receipt.pk).update(state=ReceiptState.FAILED, error="RuntimeError: x")
    client.force_login(city.users["admin"])
    page = client.get("/admin/orders/intakereceipt/")
    assert page.status_code == 200 and "RuntimeError: x" in page.content.decode()
    r = client.post("/admin/orders/intakereceipt/", {"action": "make_again", "_selected_action": [receipt.pk]})
    assert r.status_code == 302
    assert IntakeReceipt.objects.get(pk=receipt.pk).state == ReceiptState.PENDING
    from django.contrib.admin.models import LogEntry

    assert LogEntry.objects.filter(object_id=str(receipt.pk), user=city.users["admin"]).exists()  # audited


def test_jiesu_check_reports_failed_and_waiting_receipts(city):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from jiesu.deadlines.models import CalendarYear

    for year in (2026, 2027):
        CalendarYear.objects.get_or_create(year=year)
    with clock.frozen(NOON):
        receipts.receive_order(**kwargs(city, content=LAMP))
    out = StringIO()
    with clock.frozen(NOON + dt.timedelta(minutes=5)):
        call_command("jiesu_check", stdout=out)
        assert "waiting over a minute" in out.getvalue()
        IntakeReceipt.objects.update(state=ReceiptState.FAILED)
        with pytest.raises(CommandError, match="could not be recorded"):
            call_command("jiesu_check", stdout=StringIO())


def test_a_database_error_leaves_every_receipt_pending_for_the_next_try(city, monkeypatch):
    from django.db import OperationalError

    receipts.receive_order(**kwargs(city, content=LAMP))

    def broken_batch(*a, **kw):
        raise RuntimeError("batch failed")

    def deadlock(receipt):
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(receipts, "_write_batch", broken_batch)
    monkeypatch.setattr(receipts, "_make_one", deadlock)
    with pytest.raises(OperationalError):
        receipts.make_received_orders()
    assert IntakeReceipt.objects.get().state == ReceiptState.PENDING  # not "failed": tried again later
