"""The smallest hook into the lifecycle: ``jiesu.orders.events.event_committed`` (sent after the
order's transaction committed) queues the fan-out tasks. Nothing here can undo or block an
order: the signal is sent robustly, and a failure to queue is logged by the sender."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from jiesu.integrations.models import WebhookSubscription
from jiesu.orders.events import event_committed


@receiver(event_committed, dispatch_uid="integrations-notify")
def queue_notifications(*, event_id: int, code: str, **_kw: Any) -> None:
    from jiesu.integrations.notifications import TRIGGERS
    from jiesu.integrations.tasks import notify_event

    if code in TRIGGERS:  # no query and no task for the events that send nothing
        notify_event.enqueue(event_id)


@receiver(event_committed, dispatch_uid="integrations-webhooks")
def queue_webhooks(*, event_id: int, **_kw: Any) -> None:
    from jiesu.integrations.tasks import webhook_event

    # One indexed query per event, so that a subscription created a second ago is served.
    if WebhookSubscription.objects.filter(is_active=True).exists():
        webhook_event.enqueue(event_id)
