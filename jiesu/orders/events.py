"""Event codes of the order history and the one function that appends them.

History is data, not prose: each event has a code from this list, the actor, from/to states,
a free-text reason when a person gave one, and a structured payload. Screens and exports
render it; nothing here renders.
"""

from __future__ import annotations

import enum
import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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


def _announce(event_id: int, order_id: int, code: str) -> None:
    for receiver, result in event_committed.send_robust(sender=Event, event_id=event_id, order_id=order_id,
                                                        code=code):
        if isinstance(result, Exception):
            log.error("listener %r failed on event %s", receiver, event_id, exc_info=result)


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
    event = Event.objects.create(
        order=order,
        code=code.value,
        actor_id=actor_id,
        at=at,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        assignment=assignment,
        data=data or {},
    )
    transaction.on_commit(partial(_announce, event.pk, order.pk, code.value), robust=True)
    return event
