"""Intake's inline triage (``JIESU["INLINE_TRIAGE"]``, on by default): the new order is triaged
and, when confident, dispatched in intake's own transaction; whatever goes wrong there, the
order is stored as intake made it and the background task tries again."""

from __future__ import annotations

import pytest

from jiesu.dispatch import runtime
from jiesu.dispatch.models import TriageSuggestion
from jiesu.orders.models import Assignment, Event, WorkOrder
from jiesu.orders.states import State
from tests.api_helpers import Api
from tests.dispatch_helpers import settings_, triage_world  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("triage_world")]

LAMP = "小区门口的路灯坏了一个星期，晚上很黑，请尽快修理。"  # keywords: 010101 at 0.95, routed to SLT
NOISE = "楼下饭馆每天夜里噪音很大，影响休息。"  # keywords: 0201 at 0.6


@pytest.fixture(autouse=True)
def _inline(settings):
    settings.JIESU = {**settings.JIESU, "INLINE_TRIAGE": True}


@pytest.fixture
def intake(new_order, django_capture_on_commit_callbacks):
    """Record an order; answers (the order as create_order handed it back, the triage tasks
    that create_order queued for after commit). The callbacks are not run: what intake did is what is seen."""

    def make(**kw):
        kw.setdefault("category_code", None)
        kw.setdefault("area_code", None)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            order = new_order(**kw)
        return order, [c for c in callbacks if getattr(c, "__qualname__", "").startswith("make_order.")]

    return make


def codes(order) -> list[str]:
    return list(Event.objects.filter(order=order).order_by("id").values_list("code", flat=True))


def test_a_confident_order_is_dispatched_by_intake_itself(intake, city):
    order, queued = intake(content=LAMP)
    assert order.state == State.DISPATCHED and queued == []  # no task: it is done
    stored = WorkOrder.objects.select_related("category").get(pk=order.pk)
    assert stored.state == State.DISPATCHED and stored.category.code == "010101" and stored.due_at == order.due_at
    assert codes(order) == ["created", "dispatched"]
    event = Event.objects.get(order=order, code="dispatched")
    assert event.actor_id is None  # the system
    assert event.data["auto"] is True and event.data["model_version"] == "keywords"
    assert event.data["lead"] == "SLT" and event.data["confidence"] == 0.95
    lead = Assignment.objects.get(order=order)
    assert lead.unit_id == city.sanlitun_office.pk and lead.due_at == stored.due_at and event.assignment_id == lead.pk
    suggestion = TriageSuggestion.objects.get(order=order)
    assert suggestion.auto_dispatched and suggestion.result["category"]["code"] == "010101"
    # What the create answer presents, handed back without a read.
    requesters, events, assignments = order.written
    assert [e.code for e in events] == ["created", "dispatched"] and [a.pk for a in assignments] == [lead.pk]


def test_an_unsure_order_gets_its_suggestion_and_waits(intake):
    order, queued = intake(content=NOISE, address="朝阳区三里屯街道")
    assert order.state == State.RECEIVED and queued == []
    assert WorkOrder.objects.get(pk=order.pk).state == State.RECEIVED
    suggestion = TriageSuggestion.objects.get(order=order)
    assert not suggestion.auto_dispatched and suggestion.confidence < 0.9
    assert codes(order) == ["created"] and not Assignment.objects.filter(order=order).exists()


def test_auto_dispatch_off_leaves_a_suggestion_only(intake):
    settings_(auto=False)
    order, _queued = intake(content=LAMP)
    assert WorkOrder.objects.get(pk=order.pk).state == State.RECEIVED
    assert not TriageSuggestion.objects.get(order=order).auto_dispatched


def test_a_setting_change_applies_to_the_next_order(intake):
    first, _ = intake(content=LAMP)
    settings_(threshold=0.99)  # as an administrator would, between two orders
    second, _ = intake(content=LAMP)
    assert (first.state, second.state) == (State.DISPATCHED, State.RECEIVED)


def test_when_triage_raises_the_order_is_stored_and_the_task_retries(intake, monkeypatch, caplog):
    real = runtime.engine
    calls = []

    def once_broken():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("no engine today")
        return real()

    monkeypatch.setattr(runtime, "engine", once_broken)
    order, queued = intake(content=LAMP)
    assert order.state == State.RECEIVED and order.category_id is None
    assert WorkOrder.objects.get(pk=order.pk).state == State.RECEIVED
    assert not TriageSuggestion.objects.filter(order=order).exists() and codes(order) == ["created"]
    assert "queued for the task worker" in caplog.text
    assert len(queued) == 1
    queued[0]()  # after commit: the task (immediate backend in tests) triages it again
    assert WorkOrder.objects.get(pk=order.pk).state == State.DISPATCHED
    assert TriageSuggestion.objects.get(order=order).auto_dispatched


def test_a_failure_half_way_through_the_dispatch_writes_none_of_it(intake, monkeypatch):
    from jiesu.orders.actions import dispatch

    def broken_record(**kw):
        raise RuntimeError("event table full")

    monkeypatch.setattr(dispatch, "record", broken_record)  # after the assignment and the order's update
    order, queued = intake(content=LAMP)
    assert len(queued) == 1  # the task will try again
    # In memory as intake made it: the answer must not show a dispatch that was rolled back.
    assert order.state == State.RECEIVED and order.category_id is None and order.due_at is None
    stored = WorkOrder.objects.get(pk=order.pk)
    assert stored.state == State.RECEIVED and stored.category_id is None and stored.due_at is None
    assert not Assignment.objects.filter(order=order).exists()
    assert not TriageSuggestion.objects.filter(order=order).exists() and codes(order) == ["created"]


def test_a_database_error_in_triage_is_rolled_back_to_the_savepoint(intake, monkeypatch, api):
    from django.db import connection

    def broken_config():
        with connection.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM dispatch_dispatchsettings")  # PostgreSQL: aborts the transaction
        raise AssertionError("unreachable")

    monkeypatch.setattr(runtime, "dispatch_config", broken_config)
    order, queued = intake(content=LAMP)
    assert len(queued) == 1 and WorkOrder.objects.get(pk=order.pk).state == State.RECEIVED
    made = api.create(LAMP_ORDER)  # and over HTTP: stored, answered, the transaction usable after
    assert made.status_code == 201 and made.json()["state"] == "received"
    assert WorkOrder.objects.filter(number=made.json()["number"]).exists()


def test_a_refused_dispatch_keeps_the_suggestion_and_the_order_waits(intake, city):
    from jiesu.org.models import Unit

    runtime.engine()  # built while the street office is active …
    Unit.objects.filter(pk=city.sanlitun_office.pk).update(is_active=False)  # … deactivated since
    order, queued = intake(content=LAMP)
    assert queued == []  # triage is done: a dispatcher decides
    assert order.state == State.RECEIVED and order.category_id is None
    assert WorkOrder.objects.get(pk=order.pk).state == State.RECEIVED
    suggestion = TriageSuggestion.objects.get(order=order)
    assert not suggestion.auto_dispatched and suggestion.result["routing"]["lead"]["code"] == "SLT"


def test_inline_triage_off_queues_the_task_as_before(intake, settings):
    settings.JIESU = {**settings.JIESU, "INLINE_TRIAGE": False}
    order, queued = intake(content=LAMP)
    assert order.state == State.RECEIVED and not TriageSuggestion.objects.filter(order=order).exists()
    assert len(queued) == 1
    queued[0]()
    assert WorkOrder.objects.get(pk=order.pk).state == State.DISPATCHED


def test_drafts_are_not_triaged_at_intake(intake):
    order, queued = intake(content=LAMP, draft=True)
    assert order.state == State.DRAFT and queued == [] and not TriageSuggestion.objects.exists()


# ---------------------------------------------------------------- over the API


@pytest.fixture
def api(city) -> Api:
    return Api(city)


LAMP_ORDER = {"content": LAMP, "category": None, "area": None, "latitude": None, "longitude": None, "title": ""}


@pytest.mark.parametrize("who", ["calltaker", "admin", "cy_dispatcher"])
def test_the_create_answer_of_a_dispatched_order_is_what_reading_it_answers(api, city, who):
    from jiesu.accounts.models import Membership
    from jiesu.accounts.policy import Role

    if who == "cy_dispatcher":  # a district centre's call-taker: visibility checked by one query
        Membership.objects.create(user=city.users[who], unit=city.chaoyang_centre, role=Role.CALL_TAKER)
    made = api.create({**LAMP_ORDER, "address": "朝阳区三里屯街道"}, as_=who)
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["state"] == "dispatched" and [a["unit"]["code"] for a in body["assignments"]] == ["SLT"]
    assert [e["code"] for e in body["events"]] == ["created", "dispatched"]
    assert body == api.get(f"orders/{body['number']}", as_=who).json()


def test_intake_with_triage_and_dispatch_query_count(api, django_assert_max_num_queries):
    api.create(LAMP_ORDER)  # the token is issued and the engine warmed outside the count
    # the token with its grants, number, order, the dashboard day marked dirty, requester, event, the
    # search words; savepoint, the dispatch settings, the deadline stamp, assignment, the day
    # marked dirty twice more, the order's update, the "dispatched" event, the suggestion,
    # release, and the outer savepoint's (the test's transaction); the personal-data view log. (Before, intake took 13 and the task worker 29
    # more, in a second transaction, for the same result.)
    with django_assert_max_num_queries(20):
        r = api.create(LAMP_ORDER)
    assert r.status_code == 201 and r.json()["state"] == "dispatched"


# ---------------------------------------------------------------- one announcement per transaction


def test_a_transactions_events_are_announced_together():
    from jiesu.orders import events

    batches: list = []

    def listener(*, events, **kw):
        batches.append(events)

    events.events_committed.connect(listener, dispatch_uid="test-batches")
    try:
        with events.together():
            events._announce(1, 10, "created")
            events._announce(2, 10, "dispatched")
            assert batches == []  # held until the block ends
        events._announce(3, 11, "note")  # outside: alone, at once
    finally:
        events.events_committed.disconnect(dispatch_uid="test-batches")
    assert batches == [[(1, 10, "created"), (2, 10, "dispatched")], [(3, 11, "note")]]


def test_one_notification_task_for_intakes_two_events(intake, monkeypatch):
    from jiesu.integrations import receivers, tasks

    queued: list = []

    class Stub:
        def __init__(self, kind):
            self.kind = kind

        def enqueue(self, arg):
            queued.append((self.kind, arg))

    monkeypatch.setattr(tasks, "notify_events", Stub("many"))
    monkeypatch.setattr(tasks, "notify_event", Stub("one"))
    order, _ = intake(content=LAMP)
    made = list(Event.objects.filter(order=order).order_by("id").values_list("pk", "order_id", "code"))
    receivers.queue_notifications(events=made)  # what intake's commit sends
    receivers.queue_notifications(events=made[:1])
    assert queued == [("many", [made[0][0], made[1][0]]), ("one", made[0][0])]


def test_the_batch_task_fans_out_every_event(intake):
    from jiesu.integrations import tasks
    from jiesu.integrations.models import Notification

    order, _ = intake(content=LAMP)
    ids = list(Event.objects.filter(order=order).order_by("id").values_list("pk", flat=True))
    tasks.notify_events.enqueue(ids)  # the immediate backend in tests
    assert Notification.objects.filter(order=order, kind="received").count() == 1  # the requester's receipt
