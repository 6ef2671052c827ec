"""The smallest hook into the lifecycle: ``jiesu.orders.events.events_committed`` (sent after the
order's transaction committed, with its events) queues the fan-out tasks. Nothing there can undo
or block an order: the signal is sent robustly, and a failure to queue is logged by the sender.

Intake's notification task is queued by ``events_recorded`` instead, as a row in intake's own
transaction (with the database task backend). A failure in Python there is logged and the task
queued after commit as above; a database error inserting the row fails the intake like any of
its other inserts would (nothing is acknowledged, so nothing is lost)."""

from __future__ import annotations

from typing import Any

from django.db import router, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from jiesu.integrations.models import WebhookSubscription
from jiesu.integrations.selectors import any_active_subscription, forget_active_subscriptions
from jiesu.orders.events import events_committed, events_recorded

post_save.connect(forget_active_subscriptions, sender=WebhookSubscription, dispatch_uid="webhooks-active-save")
post_delete.connect(forget_active_subscriptions, sender=WebhookSubscription, dispatch_uid="webhooks-active-delete")


@receiver(events_committed, dispatch_uid="integrations-notify")
def queue_notifications(*, events: list[tuple[int, int, str]], recorded: bool = False, **_kw: Any) -> None:
    if recorded and tasks_commit_with_events():
        return  # queued in the events' own transaction (queue_notifications_with_events)
    _queue_notifications(events)


@receiver(events_recorded, dispatch_uid="integrations-notify-recorded")
def queue_notifications_with_events(*, events: list[tuple[int, int, str]], **_kw: Any) -> None:
    """Intake's events, before its transaction commits: the task row goes in with the order
    when the task queue is a table of the same database, so a crash between commit and
    queueing loses no notification, and queueing costs no transaction of its own. With any
    other backend (the immediate one would run the fan-out before the order is committed)
    the task is queued after commit, as for every other transaction."""
    if tasks_commit_with_events():
        _queue_notifications(events)


def tasks_commit_with_events() -> bool:
    """Whether a notification task queued now is a row in the current transaction's database."""
    from jiesu.integrations.tasks import notify_events

    return (isinstance(notify_events.get_backend(), DatabaseBackend)
            and router.db_for_write(DBTaskResult) == transaction.get_connection().alias)


def _queue_notifications(events: list[tuple[int, int, str]]) -> None:
    from jiesu.integrations.notifications import TRIGGERS
    from jiesu.integrations.tasks import notify_event, notify_events

    # No query and no task for the events that send nothing; one task for a transaction's
    # events (intake's "created" and "dispatched"), which the worker claims once.
    ids = [event_id for event_id, _order_id, code in events if code in TRIGGERS]
    if len(ids) == 1:
        notify_event.enqueue(ids[0])
    elif ids:
        notify_events.enqueue(ids)


@receiver(events_committed, dispatch_uid="integrations-webhooks")
def queue_webhooks(*, events: list[tuple[int, int, str]], **_kw: Any) -> None:
    from jiesu.integrations.tasks import webhook_event

    # No query for most transactions: whether any subscription is active is kept per process for
    # a second (jiesu.integrations.selectors.any_active_subscription).
    if events and any_active_subscription():
        for event_id, _order_id, _code in events:
            webhook_event.enqueue(event_id)
