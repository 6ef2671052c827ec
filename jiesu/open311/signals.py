"""Dispatch to a unit that takes its assignments through Open311 queues the sending. Hooked on
the orders' append-only "dispatched" events, once per committed batch of events (a batch intake
dispatches many orders in one transaction: one query for all of them), so the orders app needs
to know nothing of it."""

from __future__ import annotations

import logging

from jiesu.orders.events import events_committed

log = logging.getLogger("jiesu.open311")


def _on_events(sender, events: list[tuple[int, int, str]], **kwargs) -> None:
    """After commit (``events_committed``): the orders the batch dispatched."""
    order_ids = sorted({order_id for _event_id, order_id, code in events if code == "dispatched"})
    if order_ids:
        queue_sends(order_ids)


def queue_sends(order_ids: list[int]) -> None:
    """An Outbound row per linked unit of each order, and a task to send each. A failure here
    never undoes the dispatch; ``jiesu open311_sync`` picks up what is due."""
    from jiesu.open311.outbound import enqueue_send, linked_orders, plan_sends

    try:
        for order_id in linked_orders(order_ids):
            for outbound_id in plan_sends(order_id=order_id):
                enqueue_send(outbound_id)
    except Exception:
        log.exception("could not queue the Open311 sending of orders %s", order_ids[:20])


events_committed.connect(_on_events, dispatch_uid="open311-dispatched")
