"""承办: what a unit does with its assignment (Art. 15–18): accept, return, ask for more time,
contact the requester, reply."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts.policy import Action, Actor
from jiesu.deadlines import services as deadlines
from jiesu.deadlines.calendar import SHANGHAI, Limit, LimitUnit
from jiesu.orders.actions.base import MAX_REASON, after_commit, clean_text, guard_move, lock_order, require
from jiesu.orders.errors import IllegalTransition, InvalidInput, NotFound
from jiesu.orders.events import EventCode, record
from jiesu.orders.models import (
    Assignment,
    AssignmentRole,
    AssignmentState,
    Extension,
    ExtensionState,
    Reply,
    ReplyOutcome,
    WorkOrder,
)
from jiesu.orders.states import State

MAX_EXTENSION_DAYS = 30


def _assignment(order: WorkOrder, actor: Actor, action: Action, unit: str | None) -> Assignment:
    """The acting unit's live assignment on this order: the named unit, or the one unit the
    actor belongs to that holds an assignment here."""
    live = list(
        order.assignments.select_for_update()
        .select_related("unit")
        .exclude(state__in=[AssignmentState.CANCELLED, AssignmentState.RETURNED])
    )
    if unit:
        live = [a for a in live if a.unit.code == unit]
    elif not actor.is_admin:
        mine = actor.unit_ids()
        live = [a for a in live if a.unit_id in mine]
    if not live:
        raise NotFound(_("Your unit holds no live assignment on order %(number)s."), number=order.number)
    chosen = sorted(live, key=lambda a: a.role != AssignmentRole.LEAD)[0]
    require(actor, action, order, chosen)
    return chosen


def accept_assignment(*, actor: Actor, number: str, unit: str | None = None) -> WorkOrder:
    """签收. The lead's acceptance moves the order; a co-unit's only its own assignment."""
    with transaction.atomic():
        order = lock_order(number)
        assignment = _assignment(order, actor, Action.ACCEPT, unit)
        if assignment.state != AssignmentState.DISPATCHED:
            raise IllegalTransition(_("This assignment has already been accepted."))
        is_lead = assignment.role == AssignmentRole.LEAD
        if is_lead:
            guard_move(order, State.ACCEPTED, _("accepted"))
        now = clock.now()
        assignment.state, assignment.accepted_at, assignment.accepted_by_id = AssignmentState.ACCEPTED, now, actor.user_id
        assignment.save(update_fields=["state", "accepted_at", "accepted_by"])
        source = order.state
        if is_lead:
            order.state = State.ACCEPTED
            order.save(update_fields=["state", "updated_at"])
        record(order=order, code=EventCode.ACCEPTED, actor_id=actor.user_id, at=now, from_state=source,
               to_state=order.state, assignment=assignment,
               data={"unit": assignment.unit.code, "role": assignment.role})
    return order


def return_assignment(*, actor: Actor, number: str, reason: str, unit: str | None = None) -> WorkOrder:
    """退单: "not ours", with reasons, for the centre to rule on. An accepted assignment can be
    returned only within the return window."""
    reason = clean_text(reason, field="reason", label=_("the reason"), max_length=MAX_REASON)
    with transaction.atomic():
        order = lock_order(number)
        assignment = _assignment(order, actor, Action.RETURN, unit)
        now = clock.now()
        if assignment.state == AssignmentState.REPLIED:
            raise IllegalTransition(_("A replied assignment cannot be returned."))
        if assignment.state == AssignmentState.ACCEPTED and now > assignment.return_due_at:
            raise IllegalTransition(
                _("The return window closed at %(at)s; ask the centre instead."),
                at=assignment.return_due_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            )
        is_lead = assignment.role == AssignmentRole.LEAD
        if is_lead:
            guard_move(order, State.RETURNED, _("returned"))
        assignment.state, assignment.returned_at, assignment.return_reason = AssignmentState.RETURNED, now, reason
        assignment.save(update_fields=["state", "returned_at", "return_reason"])
        source = order.state
        if is_lead:
            order.state = State.RETURNED
            order.save(update_fields=["state", "updated_at"])
        record(order=order, code=EventCode.RETURNED, actor_id=actor.user_id, at=now, from_state=source,
               to_state=order.state, reason=reason, assignment=assignment,
               data={"unit": assignment.unit.code, "role": assignment.role})
    return order


def request_extension(*, actor: Actor, number: str, working_days: int, reason: str, unit: str | None = None) -> Extension:
    """延期申请: the unit asks; the centre decides (``decide_extension``). State stays."""
    reason = clean_text(reason, field="reason", label=_("the reason"), max_length=MAX_REASON)
    if not isinstance(working_days, int) or not 1 <= working_days <= MAX_EXTENSION_DAYS:
        raise InvalidInput(_("An extension is 1 to %(max)s working days."), field="working_days",
                           max=MAX_EXTENSION_DAYS)
    with transaction.atomic():
        order = lock_order(number)
        assignment = _assignment(order, actor, Action.EXTEND, unit)
        if assignment.state != AssignmentState.ACCEPTED:
            raise IllegalTransition(_("Only an accepted assignment can ask for an extension."))
        if assignment.extensions.filter(state=ExtensionState.PENDING).exists():
            raise IllegalTransition(_("An extension request is already waiting for the centre."))
        now = clock.now()
        extension = Extension.objects.create(
            assignment=assignment, working_days=working_days, reason=reason, requested_by_id=actor.user_id,  # type: ignore[misc]  # the system actor has no user
            requested_at=now, old_due_at=assignment.due_at,
        )
        record(order=order, code=EventCode.EXTENSION_REQUESTED, actor_id=actor.user_id, at=now, reason=reason,
               assignment=assignment, data={"extension": extension.pk, "working_days": working_days,
                                            "unit": assignment.unit.code})
    return extension


def decide_extension(*, actor: Actor, number: str, approve: bool, note: str = "", extension_id: int | None = None) -> Extension:
    """The centre rules on an extension. Approval moves the unit's deadline (and the order's,
    for the lead); the order is then not overdue but is counted as extended (DESIGN §4)."""
    note = clean_text(note, field="note", label=_("the note"), required=False, max_length=MAX_REASON)
    with transaction.atomic():
        order = lock_order(number)
        require(actor, Action.DECIDE_EXTENSION, order)
        pending = Extension.objects.select_for_update().filter(
            assignment__order=order, state=ExtensionState.PENDING
        ).select_related("assignment__unit")
        if extension_id is not None:
            pending = pending.filter(pk=extension_id)
        extension = pending.first()
        if extension is None:
            raise NotFound(_("No extension request is waiting on order %(number)s."), number=order.number)
        now = clock.now()
        assignment = extension.assignment
        extension.state = ExtensionState.APPROVED if approve else ExtensionState.REJECTED
        extension.decided_by_id, extension.decided_at, extension.decision_note = actor.user_id, now, note
        if approve:
            new_due = deadlines.compute_due(assignment.due_at, Limit(extension.working_days, LimitUnit.WORKING_DAYS))
            extension.new_due_at = new_due
            assignment.due_at, assignment.extended = new_due, True
            assignment.save(update_fields=["due_at", "extended"])
            if assignment.role == AssignmentRole.LEAD:
                order.due_at = new_due
                order.save(update_fields=["due_at", "updated_at"])
        extension.save()
        record(order=order, code=EventCode.EXTENSION_DECIDED, actor_id=actor.user_id, at=now, reason=note,
               assignment=assignment,
               data={"extension": extension.pk, "approved": approve,
                     "old_due_at": extension.old_due_at.isoformat(),
                     "new_due_at": extension.new_due_at.isoformat() if extension.new_due_at else None})
    return extension


def record_contact(*, actor: Actor, number: str, note: str = "", unit: str | None = None) -> WorkOrder:
    """The handler reached the requester (counts for the response rate)."""
    note = clean_text(note, field="note", label=_("the note"), required=False, max_length=MAX_REASON)
    with transaction.atomic():
        order = lock_order(number)
        assignment = _assignment(order, actor, Action.CONTACT, unit)
        if assignment.state != AssignmentState.ACCEPTED:
            raise IllegalTransition(_("Accept the assignment before recording contact."))
        now = clock.now()
        first = assignment.contacted_at is None
        if first:
            assignment.contacted_at = now
            assignment.save(update_fields=["contacted_at"])
        record(order=order, code=EventCode.CONTACTED, actor_id=actor.user_id, at=now, reason=note,
               assignment=assignment, data={"first": first, "in_time": now <= assignment.contact_due_at})
    return order


def reply_to_order(
    *, actor: Actor, number: str, body: str, outcome: str, co_unit_summary: str = "", unit: str | None = None
) -> WorkOrder:
    """答复. A co-unit replies on its own assignment; the lead's reply closes the handling step
    and must say what the co-units did (DESIGN §3)."""
    body = clean_text(body, field="body", label=_("the reply"))
    summary = clean_text(co_unit_summary, field="co_unit_summary", label=_("what the co-handling units did"),
                         required=False)
    if outcome not in ReplyOutcome.values:
        raise InvalidInput(_("Choose the outcome of the handling."), field="outcome")
    with transaction.atomic():
        order = lock_order(number)
        assignment = _assignment(order, actor, Action.REPLY, unit)
        if assignment.state != AssignmentState.ACCEPTED:
            raise IllegalTransition(_("Accept the assignment before replying."))
        is_lead = assignment.role == AssignmentRole.LEAD
        if is_lead:
            guard_move(order, State.REPLIED, _("replied"))
            has_co = order.assignments.filter(role=AssignmentRole.CO).exclude(
                state=AssignmentState.CANCELLED).exists()
            if has_co and not summary:
                raise InvalidInput(_("Say what the co-handling units did."), field="co_unit_summary")
        now = clock.now()
        reply = Reply.objects.create(order=order, assignment=assignment, author_id=actor.user_id, body=body,  # type: ignore[misc]
                                     co_unit_summary=summary, outcome=outcome, created_at=now)
        assignment.state, assignment.replied_at = AssignmentState.REPLIED, now
        update = ["state", "replied_at"]
        if assignment.contacted_at is None:
            # A reply is given to the requester: it is contact, late or not.
            assignment.contacted_at = now
            update.append("contacted_at")
        assignment.save(update_fields=update)
        source = order.state
        if is_lead:
            order.state = State.REPLIED
            order.save(update_fields=["state", "updated_at"])
        record(order=order, code=EventCode.REPLIED, actor_id=actor.user_id, at=now, from_state=source,
               to_state=order.state, assignment=assignment,
               data={"reply": reply.pk, "outcome": outcome, "unit": assignment.unit.code, "role": assignment.role,
                     "late": now > assignment.due_at})
        if is_lead:
            order_id = order.pk
            after_commit(lambda: _queue_callback(order_id))
    return order


def _queue_callback(order_id: int) -> None:
    from jiesu.orders.tasks import open_callback

    open_callback.enqueue(order_id)
