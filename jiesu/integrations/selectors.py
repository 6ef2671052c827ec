"""Reads of the integrations: the webhook subscriptions and deliveries a user may see.

Who sees what: an administrator, every subscription (a whole-system one included); a unit's
administrator (``unit_lead``), the subscriptions of that unit and their deliveries — its own
case system's log. Nobody else: a handler works orders, not the unit's integrations."""

from __future__ import annotations

import time

from django.db.models import Prefetch, QuerySet

from jiesu.accounts.models import Role
from jiesu.accounts.policy import Actor
from jiesu.integrations import conf
from jiesu.integrations.models import DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookSubscription

WEBHOOK_ROLES = frozenset({Role.UNIT_LEAD})
LOG_ROWS = 100

# Whether any subscription is active, per process, with the monotonic instant it was read: every
# transaction's events ask (jiesu.integrations.receivers), and most cities have no subscription,
# so an order should cost no query for it. Saving or deleting a subscription in this process
# forgets it at once; another process's change is seen within ``subscription_ttl()`` seconds.
_active: tuple[float, bool] | None = None


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


def any_active_subscription() -> bool:
    """Whether events may have webhook subscribers: read at most once per
    ``JIESU["WEBHOOK_SUBSCRIPTION_TTL"]`` seconds (1) per process."""
    global _active
    now = time.monotonic()
    kept = _active
    if kept is not None and now - kept[0] < conf.subscription_ttl():
        return kept[1]
    found = WebhookSubscription.objects.filter(is_active=True).exists()
    _active = (now, found)
    return found


def forget_active_subscriptions(**_kwargs: object) -> None:
    """A subscription was saved or deleted here: the next event reads the table again."""
    global _active
    _active = None
