"""Background work (django-tasks; the database backend on SQLite and PostgreSQL alike)."""

from __future__ import annotations

from django_tasks import task

from jiesu.accounts.policy import Actor
from jiesu.orders.errors import IllegalTransition
from jiesu.orders.models import WorkOrder


@task()
def open_callback(order_id: int) -> str:
    """replied → callback_due, then (after commit, ``JIESU["CALLBACK_LINK_AUTO"]``) the signed
    callback link to the requester, by SMS or to an e-mail-only requester by e-mail; with no
    contact at all the callback is recorded as unreachable and the order closes
    (``jiesu.followup.services.queue_callback``)."""
    from jiesu.followup.services import queue_callback

    number = WorkOrder.objects.values_list("number", flat=True).get(pk=order_id)
    try:
        queue_callback(actor=Actor.system(), number=number)
    except IllegalTransition:
        return "skipped"  # reopened or merged meanwhile: nothing to queue
    return "queued"
