"""Intake queues its notification task in its own transaction (issue 8) when the task queue is a
table of the same database: the task commits with the order or not at all, so a crash between
commit and the after-commit work loses no notification, and it is queued exactly once."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from jiesu.integrations import tasks
from jiesu.orders import events
from jiesu.orders.models import Event, WorkOrder
from jiesu.orders.states import State
from tests.dispatch_helpers import triage_world  # noqa: F401

# Autocommit, as a web worker runs: intake's atomic block is the outermost transaction.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("triage_world")]

LAMP = "小区门口的路灯坏了一个星期，晚上很黑，请尽快修理。"  # dispatched by intake's triage


@pytest.fixture(autouse=True)
def _database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.JIESU = {**settings.JIESU, "INLINE_TRIAGE": True}


def _notify_tasks() -> list[tuple[str, list]]:
    return [(row.task_path.rsplit(".", 1)[-1], row.args_kwargs["args"]) for row in DBTaskResult.objects.order_by("enqueued_at")]


def _event_ids(order: WorkOrder) -> list[int]:
    return list(Event.objects.filter(order=order).order_by("id").values_list("pk", flat=True))


def _order(new_order) -> WorkOrder:
    return new_order(content=LAMP, category_code=None, area_code=None)


def test_the_task_is_committed_with_the_order_even_if_nothing_runs_after_commit(new_order, monkeypatch):
    # As if the process died right after COMMIT: no after-commit announcement at all.
    monkeypatch.setattr(events, "_send", lambda *a, **kw: None)
    order = _order(new_order)
    assert order.state == State.DISPATCHED
    assert _notify_tasks() == [("notify_events", [_event_ids(order)])]  # "created" and "dispatched"


def test_the_task_is_queued_once_with_the_after_commit_announcement(new_order):
    announced: list = []

    def listener(*, events, recorded=False, **kw):
        announced.append((events, recorded))

    events.events_committed.connect(listener, dispatch_uid="test-recorded")
    try:
        order = _order(new_order)
    finally:
        events.events_committed.disconnect(dispatch_uid="test-recorded")
    ids = _event_ids(order)
    assert _notify_tasks() == [("notify_events", [ids])]
    assert [([e[0] for e in batch], recorded) for batch, recorded in announced] == [(ids, True)]


def test_a_rolled_back_intake_queues_nothing(new_order, monkeypatch):
    from jiesu.orders.actions import intake

    def then_fail(evts):
        events.announce_recorded(evts)  # the task row is written …
        raise RuntimeError("… and the transaction fails before COMMIT")

    monkeypatch.setattr(intake, "announce_recorded", then_fail)
    with pytest.raises(RuntimeError):
        _order(new_order)
    assert not WorkOrder.objects.exists() and not DBTaskResult.objects.exists()


def test_a_failing_listener_before_commit_leaves_the_queueing_to_after_commit(new_order, monkeypatch):
    real = tasks.notify_events
    calls: list = []

    class Flaky:
        get_backend = real.get_backend

        def enqueue(self, ids):
            calls.append(ids)
            if len(calls) == 1:
                raise ValueError("not now")
            return real.enqueue(ids)

    monkeypatch.setattr(tasks, "notify_events", Flaky())
    order = _order(new_order)
    assert len(calls) == 2  # refused in the transaction, queued after commit
    assert _notify_tasks() == [("notify_events", [_event_ids(order)])]


def test_inside_an_outer_transaction_the_task_is_queued_after_its_commit(new_order):
    with transaction.atomic():
        order = _order(new_order)
        assert not DBTaskResult.objects.exists()  # not in intake's block: it is not the transaction
    # Announced after the outer commit, each event alone (as before), each once.
    assert sorted(args[0] for _name, args in _notify_tasks()) == _event_ids(order)


def test_a_database_error_queueing_the_task_fails_the_intake(new_order, monkeypatch):
    from django.db import DatabaseError

    class Broken:
        get_backend = tasks.notify_events.get_backend

        def enqueue(self, ids):
            raise DatabaseError("the task table is locked")

    monkeypatch.setattr(tasks, "notify_events", Broken())
    with pytest.raises(DatabaseError):
        _order(new_order)
    assert not WorkOrder.objects.exists() and not DBTaskResult.objects.exists()
