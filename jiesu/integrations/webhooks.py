"""Webhooks: order events as signed JSON to the systems that subscribed (docs/integrations.md).

One delivery row per (subscription, event), with its ``delivery_id``, created once after the
event's transaction committed; each try is logged (status, response excerpt, error); failures
are retried with exponential backoff (``JIESU["WEBHOOK_RETRY"]``), and an admin or supervisor
may replay a failed delivery — with the same ``delivery_id`` and body, so a receiver that keeps
the ids it processed never acts twice.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts.policy import Actor
from jiesu.integrations import conf, delivery, signing
from jiesu.integrations.models import DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookSubscription
from jiesu.integrations.selectors import visible_deliveries, webhook_unit_ids
from jiesu.integrations.transports import EXCERPT, DeliveryError, post
from jiesu.orders.errors import IllegalTransition, NotAllowed, NotFound
from jiesu.orders.models import Assignment, Event

PAYLOAD_VERSION = 1


def payload(event: Event, delivery_id: str) -> dict:
    """What the receiver gets: the event (code, time, states, structured data) and the order's
    public facts. Never the requester's name or phone: a unit's system gets those from the desk."""
    order = event.order
    assignments = [{"unit": a.unit.code, "role": a.role, "state": a.state, "due_at": a.due_at}
                   for a in order.assignments.select_related("unit").order_by("-role", "id")]
    return {
        "version": PAYLOAD_VERSION,
        "delivery_id": delivery_id,
        "event": {"id": event.pk, "code": event.code, "at": event.at, "from_state": event.from_state,
                  "to_state": event.to_state, "data": event.data},
        "order": {"number": order.number, "state": order.state, "request_type": order.request_type,
                  "channel": order.channel, "title": order.title, "address": order.address,
                  "category": order.category.code if order.category else None,
                  "area": order.area.code if order.area else None, "received_at": order.received_at,
                  "due_at": order.due_at, "confidential": order.is_confidential, "assignments": assignments},
    }


def subscribers(event: Event) -> list[WebhookSubscription]:
    subs = [s for s in WebhookSubscription.objects.filter(is_active=True) if s.wants(event.code)]
    unit_ids = {s.unit_id for s in subs if s.unit_id}
    if unit_ids:
        assigned = set(Assignment.objects.filter(order_id=event.order_id, unit_id__in=unit_ids)
                       .values_list("unit_id", flat=True))
        subs = [s for s in subs if s.unit_id is None or s.unit_id in assigned]
    return subs


def fan_out(event_id: int) -> int:
    """Create the event's deliveries (once each) and queue their first try."""
    event = Event.objects.select_related("order__category", "order__area").filter(pk=event_id).first()
    if event is None:
        return 0
    subs = subscribers(event)
    if not subs:
        return 0
    now = clock.now()
    created = []
    for sub in subs:
        row = WebhookDelivery(subscription=sub, event=event, event_code=event.code, created_at=now,
                              next_attempt_at=now, payload={})
        row.payload = json.loads(json.dumps(payload(event, str(row.delivery_id)), cls=DjangoJSONEncoder))
        created.append(row)
    WebhookDelivery.objects.bulk_create(created, ignore_conflicts=True)
    ids = list(WebhookDelivery.objects.filter(event=event, delivery_id__in=[r.delivery_id for r in created])
               .values_list("pk", flat=True))
    for pk in ids:
        _queue(pk)
    return len(ids)


def _queue(pk: int, at: dt.datetime | None = None) -> None:
    from jiesu.integrations.tasks import deliver_webhook

    delivery.schedule(deliver_webhook, pk, at)


def body_of(row: WebhookDelivery) -> bytes:
    return json.dumps(row.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def attempt(pk: int, *, now: dt.datetime | None = None, replay: bool = False) -> str:
    """One try: POST the stored body with a fresh signature; log the answer; 2xx is delivered."""
    now = now or clock.now()
    row = delivery.claim(WebhookDelivery, pk, now, force=replay)
    if row is None:
        return "skipped"
    sub = WebhookSubscription.objects.get(pk=row.subscription_id)
    body = body_of(row)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Jiesu-Webhook/1",
        signing.DELIVERY_HEADER: str(row.delivery_id),
        signing.EVENT_HEADER: row.event_code,
        signing.HEADER: signing.header(sub.secret, int(now.timestamp()), body),
    }
    status: int | None = None
    text = error = ""
    try:
        status, text = post(sub.url, body, headers)
        ok = 200 <= status < 300
        if not ok:
            error = f"HTTP {status}"
    except DeliveryError as err:
        ok, error = False, str(err)
    with transaction.atomic():
        DeliveryAttempt.objects.create(delivery=row, number=row.attempts, at=now, response_status=status,
                                       response_body=text[:EXCERPT], error=error[:2000], replay=replay)
        extra = {"delivered_at": now} if ok else {}
        retry_at = delivery.outcome(row, ok=ok, now=now, backoff=conf.webhook_backoff(), response_status=status,
                                    response_body=text[:EXCERPT], last_error=error[:2000], **extra)
    if retry_at is not None:
        _queue(pk, retry_at)
    return "delivered" if ok else ("retry" if retry_at else "failed")


def send_due(*, now: dt.datetime | None = None) -> int:
    now = now or clock.now()
    ids = delivery.due(WebhookDelivery, now)
    for pk in ids:
        attempt(pk, now=now)
    return len(ids)


def replay(*, actor: Actor, delivery_id: str) -> WebhookDelivery:
    """Send a failed delivery again, now, with the same delivery id and body: one more try,
    logged as a replay (if it fails too, the delivery stays failed until the next replay). An
    administrator may replay any; a unit's administrator those of the unit's subscriptions
    (``selectors.visible_deliveries``); another unit's delivery is not found."""
    with transaction.atomic():
        row = (visible_deliveries(actor).select_for_update(of=("self",)).filter(delivery_id=delivery_id).first()
               if _valid_uuid(delivery_id) else None)
        if row is None:
            if not actor.is_admin and not webhook_unit_ids(actor):
                raise NotAllowed(_("You are not allowed to do this."))
            raise NotFound(_("No webhook delivery %(id)s."), id=str(delivery_id)[:40])
        if row.status != DeliveryStatus.FAILED:
            raise IllegalTransition(_("Only a failed delivery can be replayed; this one is “%(status)s”."),
                                    status=row.get_status_display())
        row.status = DeliveryStatus.PENDING
        row.next_attempt_at = clock.now()
        row.save(update_fields=["status", "next_attempt_at"])
    attempt(row.pk, replay=True)
    row.refresh_from_db()
    return row


def _valid_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
