"""The smallest hook into the lifecycle: ``jiesu.orders.events.events_committed`` (sent after the
order's transaction committed, with its events) queues the fan-out tasks. Nothing here can undo or block an
order: the signal is sent robustly, and a failure to queue is logged by the sender."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from jiesu.integrations.models import WebhookSubscription
from jiesu.integrations.selectors import any_active_subscription, forget_active_subscriptions
from jiesu.orders.events import events_committed

post_save.connect(forget_active_subscriptions, sender=WebhookSubscription, dispatch_uid="webhooks-active-save")
post_delete.connect(forget_active_subscriptions, sender=WebhookSubscription, dispatch_uid="webhooks-active-delete")


@receiver(events_committed, dispatch_uid="integrations-notify")
def queue_notifications(*, events: list[tuple[int, int, str]], **_kw: Any) -> None:
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
