"""Background triage of new orders (django-tasks; ``jiesu worker`` runs them)."""

from __future__ import annotations

from django_tasks import task


@task()
def triage_new_order(order_id: int) -> str:
    """Triage one order; "dispatched", "suggested", "skipped" or "failed" — never an exception."""
    from jiesu.dispatch.services import triage_safely

    return triage_safely(order_id)
