"""Background work (django-tasks; the database backend on SQLite and PostgreSQL alike)."""

from __future__ import annotations

from django_tasks import task

from jiesu.accounts.policy import Actor
from jiesu.orders.errors import IllegalTransition
from jiesu.orders.models import WorkOrder


@task()
def open_callback(order_id: int) -> str:
    from jiesu.orders.actions.followup import open_callback as open_it

    number = WorkOrder.objects.values_list("number", flat=True).get(pk=order_id)
    try:
        open_it(actor=Actor.system(), number=number)
    except IllegalTransition:
        return "skipped"  # reopened or merged meanwhile: nothing to queue
    return "queued"
