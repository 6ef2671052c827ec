"""Background work of the Open311 client (django-tasks; ``jiesu worker`` runs them)."""

from __future__ import annotations

from django_tasks import task


@task()
def send_outbound(outbound_id: int) -> str:
    """POST one assignment to its unit's system: "sent", "retry", "failed" or "skipped"."""
    from jiesu.open311.outbound import send

    return send(outbound_id=outbound_id)


@task()
def poll_units() -> dict[str, int]:
    from jiesu.open311.outbound import poll_all, retry_due

    retry_due()
    return poll_all()
