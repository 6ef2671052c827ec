"""The supervisor's phone script for one order's callback (回访): what to say and what to ask,
in order — contacted in time? solved, partly or not? satisfied, basically or not? — with the
unit's reply to read out (or, for an overdue order, the deadline it missed). A proactive item
(未诉先办) has no requester: the script is a verification, on site or with the unit, of the result."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jiesu.followup.conf import max_attempts
from jiesu.orders.actions.followup import is_verified
from jiesu.orders.models import Assignment, AssignmentRole, AssignmentState, Reply, WorkOrder
from jiesu.orders.states import State


@dataclass(frozen=True)
class Script:
    overdue: bool  # past the deadline without a reply: the order stays with the unit
    unit: str
    received_at: dt.datetime
    reply: Reply | None
    contact_due_at: dt.datetime | None
    contacted_at: dt.datetime | None
    due_at: dt.datetime | None
    attempts: int
    max_attempts: int
    can_send_link: bool
    verify: bool  # a proactive item: no requester, the centre verifies the result instead


def _lead(order: WorkOrder) -> Assignment | None:
    """The lead assignment of this round (uses the prefetched assignments)."""
    leads = [a for a in order.assignments.all() if a.role == AssignmentRole.LEAD
             and a.state in (AssignmentState.DISPATCHED, AssignmentState.ACCEPTED, AssignmentState.REPLIED)]
    return max(leads, key=lambda a: a.id) if leads else None


def callback_script(order: WorkOrder) -> Script:
    verify = is_verified(order)
    lead = _lead(order)
    replies = list(order.replies.all())
    overdue = order.state != State.CALLBACK_DUE
    attempts = order.callback_attempts
    if overdue:
        from jiesu.followup.services import open_overdue

        flag = open_overdue(order)
        attempts = flag.callback_attempts if flag else 0
    return Script(
        overdue=overdue,
        unit=lead.unit.name if lead else "",
        received_at=order.received_at,
        reply=None if overdue or not replies else replies[-1],
        contact_due_at=lead.contact_due_at if lead else None,
        contacted_at=lead.contacted_at if lead else None,
        due_at=lead.due_at if lead else None,
        attempts=attempts,
        max_attempts=max_attempts(),
        can_send_link=not overdue and not verify,
        verify=verify,
    )
