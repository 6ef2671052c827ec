"""What notifications and webhook deliveries share: claim a row, try once, record the outcome.

A try is claimed in a short transaction (the row lock, the status and schedule check, the
attempt counted, the next attempt pushed out by a lease), the network call runs outside any
transaction (a slow gateway never holds a lock), and the outcome is recorded in another short
transaction. Two workers never send the same row at once, and a worker that dies mid-call
leaves a row that the sweep picks up when the lease runs out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models, transaction

from jiesu.integrations.models import DeliveryStatus
from jiesu.integrations.retry import Backoff

LEASE = dt.timedelta(minutes=10)


def claim(model: type[models.Model], pk: int, now: dt.datetime, *, force: bool = False) -> Any | None:
    """The row, with its attempt counted, if it is due now (``force``: due anyway)."""
    with transaction.atomic():
        row: Any = model._default_manager.select_for_update(of=("self",)).filter(pk=pk).first()
        if row is None or row.status != DeliveryStatus.PENDING:
            return None
        if not force and row.next_attempt_at is not None and row.next_attempt_at > now:
            return None
        row.attempts += 1
        row.next_attempt_at = now + LEASE
        row.save(update_fields=["attempts", "next_attempt_at"])
        return row


def outcome(row: Any, *, ok: bool, now: dt.datetime, backoff: Backoff, **fields: Any) -> dt.datetime | None:
    """Record a try's result on the row; returns when to try again (None: done or given up)."""
    retry_at = None if ok else backoff.next_at(row.attempts, now)
    if ok:
        row.status = DeliveryStatus.SENT
        row.next_attempt_at = None
    elif retry_at is None:
        row.status = DeliveryStatus.FAILED
        row.next_attempt_at = None
    else:
        row.next_attempt_at = retry_at
    for name, value in fields.items():
        setattr(row, name, value)
    row.save(update_fields=["status", "next_attempt_at", *fields])
    return retry_at


def due(model: type[models.Model], now: dt.datetime, limit: int = 500) -> list[int]:
    """Pending rows whose next try is due (their task was lost, or the backend cannot defer)."""
    return list(model._default_manager.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
                .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])


def schedule(task: Any, pk: int, at: dt.datetime | None) -> None:
    """Queue the try: now, or deferred when the task backend can (the database backend can;
    otherwise ``jiesu deliver`` sends what is due)."""
    if at is None:
        task.enqueue(pk)
    elif task.get_backend().supports_defer:
        task.using(run_after=at).enqueue(pk)
