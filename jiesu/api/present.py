"""Orders as API data. Reads only what the selectors prefetched (no query per row), and
applies the privacy rules of DESIGN §9: requesters masked unless the caller needs them, hidden
from units on confidential reports, and every unmasked view logged."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from jiesu.accounts import policy
from jiesu.accounts.policy import Actor
from jiesu.orders.events import LABELS, EventCode
from jiesu.orders.models import (
    Assignment,
    AssignmentRole,
    IntakeReceipt,
    OrderState,
    PersonalDataView,
    ReceiptState,
    WorkOrder,
)


def _local(value: dt.datetime | None) -> dt.datetime | None:
    """Times go out in Asia/Shanghai with their offset (stored in UTC)."""
    return timezone.localtime(value) if value is not None else None


def _ref(obj: Any) -> dict[str, str] | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def _user(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def _event_label(code: str) -> str:
    try:
        return str(LABELS[EventCode(code)])
    except (ValueError, KeyError):
        return code


def _assignments(order: WorkOrder) -> list[Assignment]:
    """Lead first, then co-handling units, in dispatch order (the model's ordering by role
    would put "co" before "lead")."""
    return sorted(order.assignments.all(), key=lambda a: (a.role != AssignmentRole.LEAD, a.pk))


def _assignment_brief(a: Assignment) -> dict[str, Any]:
    return {"unit": _ref(a.unit), "role": a.role, "state": a.state, "due_at": _local(a.due_at)}


def order_summary(order: WorkOrder) -> dict[str, Any]:
    return {
        "number": order.number,
        "state": order.state,
        "state_label": str(OrderState(order.state).label),
        "request_type": order.request_type,
        "channel": order.channel,
        "urgency": order.urgency,
        "title": order.title,
        "address": order.address,
        "area": _ref(order.area),
        "category": _ref(order.category),
        "confidential": order.is_confidential,
        "received_at": _local(order.received_at),
        "due_at": _local(order.due_at),
        "closed_at": _local(order.closed_at),
        "assignments": [_assignment_brief(a) for a in _assignments(order)],
    }


def _requesters(order: WorkOrder, actor: Actor) -> tuple[list[dict[str, Any]], bool]:
    """(requesters as this caller may see them, whether some were withheld)."""
    people = list(order.requesters.all())
    if policy.can_see_requester(actor, order):
        if people and actor.user_id is not None:
            PersonalDataView.objects.create(order=order, user_id=actor.user_id, where="api")
        return [
            {"name": r.name, "phone": r.phone, "email": r.email, "confidential": r.wants_confidential,
             "primary": r.is_primary, "masked": False}
            for r in people
        ], False
    shown = [r for r in people if not (order.is_confidential or r.wants_confidential)]
    return [
        {"name": r.masked_name, "phone": r.masked_phone, "email": r.masked_email,
         "confidential": r.wants_confidential, "primary": r.is_primary, "masked": True}
        for r in shown
    ], len(shown) < len(people)


def _assignment(a: Assignment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "unit": _ref(a.unit),
        "role": a.role,
        "state": a.state,
        "dispatched_at": _local(a.dispatched_at),
        "return_due_at": _local(a.return_due_at),
        "contact_due_at": _local(a.contact_due_at),
        "due_at": _local(a.due_at),
        "original_due_at": _local(a.original_due_at),
        "extended": a.extended,
        "accepted_at": _local(a.accepted_at),
        "contacted_at": _local(a.contacted_at),
        "replied_at": _local(a.replied_at),
        "returned_at": _local(a.returned_at),
        "return_reason": a.return_reason,
        "extensions": [
            {
                "id": e.pk,
                "working_days": e.working_days,
                "reason": e.reason,
                "state": e.state,
                "requested_at": _local(e.requested_at),
                "decided_at": _local(e.decided_at),
                "decision_note": e.decision_note,
                "old_due_at": _local(e.old_due_at),
                "new_due_at": _local(e.new_due_at),
            }
            for e in a.extensions.all()
        ],
    }


def receipt(receipt: IntakeReceipt) -> dict[str, Any]:
    return {
        "receipt": receipt.pk,
        "state": receipt.state,
        "state_label": str(ReceiptState(receipt.state).label),
        # The number is the id's digits (jiesu.orders.numbering): no read of the order.
        "number": str(receipt.order_id) if receipt.order_id is not None else None,
        "received_at": receipt.received_at,
        "error": receipt.error if receipt.state == ReceiptState.FAILED else "",
    }


def order_detail(order: WorkOrder, actor: Actor) -> dict[str, Any]:
    """The order from ``selectors.order_detail`` (which prefetches everything read here)."""
    requesters, hidden = _requesters(order, actor)
    return {
        **order_summary(order),
        "content": order.content,
        "latitude": float(order.latitude) if order.latitude is not None else None,
        "longitude": float(order.longitude) if order.longitude is not None else None,
        "triage_due_at": _local(order.triage_due_at),
        "created_by": _user(order.created_by),
        "answer": order.answer,
        "outcome": order.outcome,
        "referred_to": order.referred_to,
        "merged_into": order.merged_into.number if order.merged_into else None,
        "callback_attempts": order.callback_attempts,
        "solved": order.solved,
        "resolution": order.resolution,
        "satisfaction": order.satisfaction,
        "reopen_count": order.reopen_count,
        "requesters_hidden": hidden,
        "requesters": requesters,
        "assignments": [_assignment(a) for a in _assignments(order)],
        "replies": [
            {
                "id": r.pk,
                "unit": _ref(r.assignment.unit),
                "author": _user(r.author),
                "body": r.body,
                "co_unit_summary": r.co_unit_summary,
                "outcome": r.outcome,
                "created_at": _local(r.created_at),
            }
            for r in order.replies.all()
        ],
        "callbacks": [
            {
                "attempt": c.attempt,
                "via": c.via,
                "reached": c.reached,
                "contacted": c.contacted,
                "solved": c.solved,
                "resolution": c.resolution,
                "satisfaction": c.satisfaction,
                "note": c.note,
                "created_at": _local(c.created_at),
            }
            for c in order.callbacks.all()
        ],
        "events": [
            {
                "code": e.code,
                "label": _event_label(e.code),
                "at": _local(e.at),
                "actor": _user(e.actor),
                "from_state": e.from_state,
                "to_state": e.to_state,
                "reason": e.reason,
                "data": e.data,
            }
            for e in order.events.all()
        ],
    }
