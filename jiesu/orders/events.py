"""Event codes of the order history and the one function that appends them.

History is data, not prose: each event has a code from this list, the actor, from/to states,
a free-text reason when a person gave one, and a structured payload. Screens and exports
render it; nothing here renders.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models.signals import post_save
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiesu.ops.inserts import insert_all
from jiesu.orders.models import Assignment, Event, WorkOrder

log = logging.getLogger(__name__)


class EventCode(enum.StrEnum):
    CREATED = "created"
    SUBMITTED = "submitted"
    ANSWERED = "answered"
    DISPATCHED = "dispatched"
    REQUEUED = "requeued"
    REFERRED = "referred"
    DECLINED = "declined"
    MERGED = "merged"
    ABSORBED = "absorbed"
    CLOSED = "closed"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_DECIDED = "extension_decided"
    CONTACTED = "contacted"
    REPLIED = "replied"
    CALLBACK_OPENED = "callback_opened"
    CALLBACK = "callback"
    REOPENED = "reopened"
    URGED = "urged"
    NOTE = "note"
    RATED = "rated"
    OVERDUE = "overdue"
    LINK_SENT = "link_sent"


LABELS = {
    EventCode.CREATED: _("Recorded"),
    EventCode.SUBMITTED: _("Submitted"),
    EventCode.ANSWERED: _("Answered on the spot"),
    EventCode.DISPATCHED: _("Dispatched"),
    EventCode.REQUEUED: _("Sent back to triage"),
    EventCode.REFERRED: _("Referred"),
    EventCode.DECLINED: _("Declined"),
    EventCode.MERGED: _("Merged into another order"),
    EventCode.ABSORBED: _("Duplicate merged in"),
    EventCode.CLOSED: _("Closed"),
    EventCode.ACCEPTED: _("Accepted"),
    EventCode.RETURNED: _("Returned"),
    EventCode.EXTENSION_REQUESTED: _("Extension requested"),
    EventCode.EXTENSION_DECIDED: _("Extension ruled on"),
    EventCode.CONTACTED: _("Requester contacted"),
    EventCode.REPLIED: _("Replied"),
    EventCode.CALLBACK_OPENED: _("Callback queued"),
    EventCode.CALLBACK: _("Callback"),
    EventCode.REOPENED: _("Reopened"),
    EventCode.URGED: _("Urged (督办)"),
    EventCode.NOTE: _("Note"),
    EventCode.RATED: _("Rated by the requester"),
    EventCode.OVERDUE: _("Handling deadline passed without a reply"),
    EventCode.LINK_SENT: _("Callback link sent to the requester"),
}


# Sent after the transaction that recorded an event commits (never for a rolled-back one), with
# ``event_id``, ``order_id`` and ``code``: notifications and webhooks (jiesu.integrations) listen
# here, so the lifecycle does not know them and a failing listener cannot undo an order.
event_committed = Signal()
# The same, once for all the events one transaction committed, with ``events``: a list of
# (event_id, order_id, code). Listeners that queue work per batch (jiesu.integrations: one
# notification task, one webhook-subscription check) listen here; within ``together()`` a
# transaction's events come as one batch, otherwise each event comes alone.
events_committed = Signal()
# Sent inside the transaction that recorded the events, at its very end, with ``events`` as
# above: only where the caller asks for it (``announce_recorded``; intake does). A listener
# that queues its work as rows of this same database (django-tasks' database backend) queues
# it here: the task then commits with the events or not at all (no notification lost to a crash
# between commit and queueing) and costs no transaction of its own. The same batch then comes
# after commit with ``recorded=True``, and such a listener skips it there. A listener that
# fails here in Python (it is sent robustly) makes the batch come after commit with
# ``recorded=False``, so that the work is queued then, as without this signal; a database
# error fails the transaction, as any of its own writes would.
events_recorded = Signal()
_held = threading.local()


@contextmanager
def together() -> Iterator[None]:
    """The events committed within the block are announced when it ends, all in one batch of
    ``events_committed`` (each still with its own ``event_committed``). Intake wraps its
    transaction in it: the "created" and the auto-dispatch's "dispatched" events then cost one
    notification task, not two. A rolled-back transaction announces nothing, as ever."""
    if getattr(_held, "events", None) is not None:
        yield  # already held by an outer block, which announces them
        return
    _held.events = []
    # Only a transaction that commits when this block's own atomic block ends may announce its
    # events before commit (announce_recorded): inside an outer transaction, the events would
    # be announced after this block, when the outer one commits.
    _held.outermost = not transaction.get_connection().in_atomic_block
    _held.recorded = frozenset()
    try:
        yield
    finally:
        held, _held.events = _held.events, None
        recorded, _held.recorded = _held.recorded, frozenset()
        if held:
            _send(held, recorded)


def announce_recorded(events: Iterable[Event]) -> None:
    """Send ``events_recorded`` for the events the transaction keeps, as the last thing of the
    outermost atomic block that ``together()`` wraps (intake: its "created" event and, when
    triage dispatched the order, the "dispatched" one). Does nothing elsewhere: outside
    ``together()``, or when that block is nested in an outer transaction."""
    if getattr(_held, "events", None) is None or not _held.outermost:
        return
    batch = [(event.pk, event.order_id, event.code) for event in events]
    if not batch:
        return
    failed = False
    for receiver, result in events_recorded.send_robust(sender=Event, events=batch):
        if isinstance(result, DatabaseError):
            # The transaction may be unusable (PostgreSQL refuses all until rollback, and a COMMIT
            # would silently roll back): the caller's write fails rather than seem to succeed.
            raise result
        if isinstance(result, Exception):
            failed = True
            log.error("listener %r failed on recorded events %s", receiver, [e[0] for e in batch],
                      exc_info=result)
    if not failed:
        # Added to, not replaced: the batch intake announces several orders' events in one block.
        _held.recorded = _held.recorded | frozenset(event_id for event_id, _order_id, _code in batch)


def _announce(event_id: int, order_id: int, code: str) -> None:
    held = getattr(_held, "events", None)
    if held is not None:
        held.append((event_id, order_id, code))
    else:
        _send([(event_id, order_id, code)])


def _send(events: list[tuple[int, int, str]], recorded: frozenset[int] = frozenset()) -> None:
    for event_id, order_id, code in events:
        for receiver, result in event_committed.send_robust(sender=Event, event_id=event_id, order_id=order_id,
                                                            code=code):
            if isinstance(result, Exception):
                log.error("listener %r failed on event %s", receiver, event_id, exc_info=result)
    # The events announced before commit, and any others, each as a batch of their own.
    batches = [([e for e in events if e[0] in recorded], True), ([e for e in events if e[0] not in recorded], False)]
    for batch, was_recorded in batches:
        if not batch:
            continue
        for receiver, result in events_committed.send_robust(sender=Event, events=batch, recorded=was_recorded):
            if isinstance(result, Exception):
                log.error("listener %r failed on events %s", receiver, [e[0] for e in batch], exc_info=result)


def build(
    *,
    order: WorkOrder,
    code: EventCode,
    actor_id: int | None,
    at,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    assignment: Assignment | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """The event, not yet saved: ``record`` saves one, ``record_all`` many at once."""
    return Event(order=order, code=code.value, actor_id=actor_id, at=at, from_state=from_state, to_state=to_state,
                 reason=reason, assignment=assignment, data=data or {})


def record(
    *,
    order: WorkOrder,
    code: EventCode,
    actor_id: int | None,
    at,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    assignment: Assignment | None = None,
    data: dict[str, Any] | None = None,
    saved: bool = False,
) -> Event:
    # Any recorded change moves the order's version (jiesu.orders.concurrency), also when the
    # service changed only an assignment or added a note. A new order was just written with it,
    # and ``saved`` says the caller has just saved the order with its ``updated_at``.
    if code != EventCode.CREATED and not saved:
        order.updated_at = timezone.now()
        WorkOrder.objects.filter(pk=order.pk).update(updated_at=order.updated_at)
    event = build(order=order, code=code, actor_id=actor_id, at=at, from_state=from_state, to_state=to_state,
                  reason=reason, assignment=assignment, data=data)
    event.save(force_insert=True)
    transaction.on_commit(partial(_announce, event.pk, order.pk, code.value), robust=True)
    return event


def record_all(events: list[Event]) -> list[Event]:
    """Append built events (``build``) of orders the caller has just inserted, in one INSERT:
    the batch intake's. Each is announced after commit as ``record`` does, and its
    ``post_save`` is sent as a save would (the Open311 sending listens there)."""
    insert_all(events)
    send_post_save(Event, events)
    for event in events:
        transaction.on_commit(partial(_announce, event.pk, event.order_id, event.code), robust=True)
    return events


def send_post_save(model: type, rows: list) -> None:
    """``post_save`` for rows inserted at once (``insert_all``), as a save would have sent it: the
    batch intake's orders, assignments and events (listeners: the dashboard's day marks, the
    Open311 sending)."""
    alias = transaction.get_connection().alias
    for row in rows:
        post_save.send(sender=model, instance=row, created=True, update_fields=None, raw=False, using=alias)
