"""The smallest hook into the lifecycle: ``jiesu.orders.events.events_committed`` (sent after the
order's transaction committed, with its events) queues the fan-out tasks. Nothing here can undo or block an
order: the signal is sent robustly, and a failure to queue is logged by the sender."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from jiesu.integrations.models import WebhookSubscription
from jiesu.orders.events import events_committed


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

    # One indexed query per transaction's events, so that a subscription created a second ago is served.
    if events and WebhookSubscription.objects.filter(is_active=True).exists():
        for event_id, _order_id, _code in events:
            webhook_event.enqueue(event_id)
