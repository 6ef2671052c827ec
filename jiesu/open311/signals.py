"""Dispatch to a unit that takes its assignments through Open311 queues the sending. Hooked on
the order's append-only "dispatched" event, so the orders app needs to know nothing of it."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_save

from jiesu.orders.models import Event

log = logging.getLogger("jiesu.open311")


def _on_event(sender, instance: Event, created: bool, **kwargs) -> None:
    if not created or instance.code != "dispatched":
        return
    order_id = instance.order_id
    transaction.on_commit(lambda: queue_sends(order_id), robust=True)


def queue_sends(order_id: int) -> None:
    """After the dispatch commits: an Outbound row per linked unit, and a task to send each.
    A failure here never undoes the dispatch; ``jiesu open311_sync`` picks up what is due."""
    from jiesu.open311.outbound import enqueue_send, plan_sends

    try:
        for outbound_id in plan_sends(order_id=order_id):
            enqueue_send(outbound_id)
    except Exception:
        log.exception("could not queue the Open311 sending of order id %s", order_id)


post_save.connect(_on_event, sender=Event, dispatch_uid="open311-dispatched")
