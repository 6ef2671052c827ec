"""Background work (django-tasks): fan events out and send their messages, retry one message, try one
webhook delivery."""

from __future__ import annotations

from django_tasks import task


@task()
def notify_event(event_id: int) -> int:
    from jiesu.integrations import notifications

    return notifications.fan_out(event_id)


@task()
def notify_events(event_ids: list[int]) -> int:
    """``notify_event`` for the events one transaction committed, in order: one task to claim,
    which also sends the messages (a failed one is retried by ``deliver_notification``)."""
    from jiesu.integrations import notifications

    return notifications.fan_out_events(event_ids)


@task()
def webhook_event(event_id: int) -> int:
    from jiesu.integrations import webhooks

    return webhooks.fan_out(event_id)


@task()
def deliver_notification(notification_id: int) -> str:
    from jiesu.integrations import notifications

    return notifications.deliver(notification_id)


@task()
def deliver_webhook(delivery_id: int) -> str:
    from jiesu.integrations import webhooks

    return webhooks.attempt(delivery_id)
