"""Reads of the integrations: the webhook subscriptions and deliveries a user may see.

Who sees what: an administrator, every subscription (a whole-system one included); a unit's
administrator (``unit_lead``), the subscriptions of that unit and their deliveries — its own
case system's log. Nobody else: a handler works orders, not the unit's integrations."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from jiesu.accounts.models import Role
from jiesu.accounts.policy import Actor
from jiesu.integrations.models import DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookSubscription

WEBHOOK_ROLES = frozenset({Role.UNIT_LEAD})
LOG_ROWS = 100


def webhook_unit_ids(actor: Actor) -> set[int]:
    return actor.unit_ids(WEBHOOK_ROLES)


def visible_subscriptions(actor: Actor) -> QuerySet[WebhookSubscription]:
    qs = WebhookSubscription.objects.select_related("unit")
    return qs if actor.is_admin else qs.filter(unit_id__in=webhook_unit_ids(actor))


def visible_deliveries(actor: Actor) -> QuerySet[WebhookDelivery]:
    qs = WebhookDelivery.objects.select_related("subscription__unit")
    return qs if actor.is_admin else qs.filter(subscription__unit_id__in=webhook_unit_ids(actor))


def delivery_log(actor: Actor, *, failed_only: bool = False, subscription_id: int | None = None,
                 limit: int = LOG_ROWS) -> list[WebhookDelivery]:
    """The newest deliveries the user may see, each with its attempts (``log``): a fixed number
    of queries whatever the length."""
    qs = visible_deliveries(actor).select_related("event__order").prefetch_related(
        Prefetch("log", queryset=DeliveryAttempt.objects.order_by("number")))
    if failed_only:
        qs = qs.filter(status=DeliveryStatus.FAILED)
    if subscription_id is not None:
        qs = qs.filter(subscription_id=subscription_id)
    return list(qs.order_by("-created_at", "-id")[:limit])
