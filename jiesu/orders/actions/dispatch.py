"""派单: handing an order to a lead unit and co-handling units, and taking it back (Art. 12–14)."""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts.policy import Action, Actor
from jiesu.catalogue.models import Category
from jiesu.deadlines import services as deadlines
from jiesu.deadlines.calendar import WorkCalendar
from jiesu.deadlines.limits import LimitRow
from jiesu.orders.actions.base import MAX_REASON, clean_text, guard_move, lock_order, require
from jiesu.orders.errors import InvalidInput
from jiesu.orders.events import EventCode, record
from jiesu.orders.models import Assignment, AssignmentRole, AssignmentState, WorkOrder
from jiesu.orders.states import State
from jiesu.org.models import Area, Unit


def _unit(code: str | Unit) -> Unit:
    if isinstance(code, Unit):
        unit: Unit | None = code if code.is_active else None  # the triage engine's (jiesu.dispatch.runtime)
    else:
        unit = Unit.objects.filter(code=code, is_active=True).first()
    if unit is None:
        raise InvalidInput(_("Unknown unit “%(code)s”."), field="unit", code=str(code)[:40])
    if unit.is_centre:
        raise InvalidInput(_("“%(name)s” is a centre, not a handling unit."), field="unit", name=unit.name)
    return unit


def build_assignment(
    *, order: WorkOrder, unit: Unit, role: str, actor_id: int | None, at: dt.datetime,
    calendar: WorkCalendar | None = None, limit_rows: list[LimitRow] | None = None,
) -> Assignment:
    """An assignment with its deadlines (DESIGN §4), not yet saved: ``dispatch_order`` saves it,
    the batch intake (``jiesu.orders.actions.receipts``) inserts many at once."""
    terms = deadlines.terms_for(request_type=order.request_type, urgency=order.urgency, category=order.category,
                                rows=limit_rows)
    due = deadlines.compute_due(at, terms.handling, calendar)
    return Assignment(
        order=order,
        unit=unit,
        role=role,
        dispatched_at=at,
        dispatched_by_id=actor_id,
        return_due_at=at + dt.timedelta(hours=terms.return_window_hours),
        contact_due_at=min(at + dt.timedelta(hours=terms.contact_hours), due),
        due_at=due,
        original_due_at=due,
    )


def checked_units(lead_unit: str | Unit, co_units: list[str] | list[Unit] | None) -> tuple[Unit, list[Unit]]:
    """The lead and the co-handling units of a dispatch: active handling units, the lead not
    among the co-units, at most 20 of them. Raises ``InvalidInput``."""
    lead = _unit(lead_unit)
    co = [_unit(unit) for unit in _distinct(co_units or []) if _code(unit) != lead.code]
    if len(co) > 20:
        raise InvalidInput(_("Too many co-handling units."), field="co_units")
    return lead, co


def checked_category(code: str | Category) -> Category:
    category = code if isinstance(code, Category) else Category.objects.filter(code=code, is_active=True).first()
    if category is None or not category.is_active:
        raise InvalidInput(_("Unknown category “%(code)s”."), field="category", code=str(code)[:40])
    return category


def checked_area(code: str | Area) -> Area:
    area = code if isinstance(code, Area) else Area.objects.filter(code=code).first()
    if area is None:
        raise InvalidInput(_("Unknown area “%(code)s”."), field="area", code=str(code)[:40])
    return area


def dispatched_data(*, order: WorkOrder, lead: Unit, co: list[Unit], due_at: dt.datetime, source: str,
                    data: dict | None) -> dict:
    """The "dispatched" event's payload, whoever writes it."""
    return {
        "lead": lead.code, "co": [u.code for u in co], "due_at": due_at.isoformat(),
        "category": order.category.code if order.category else None,
        "area": order.area.code if order.area else None,
        "redispatch": source == State.RETURNED,
        **(data or {}),
    }


@dataclass
class DispatchPlan:
    """What a dispatch writes, checked and built but not saved: the order's new state, due date,
    category and area are set on the order; the assignments (lead first) and the event's
    payload are here."""

    at: dt.datetime
    source: str
    assignments: list[Assignment]
    data: dict


def plan_dispatch(
    *, order: WorkOrder, actor: Actor, lead: Unit, co: list[Unit], at: dt.datetime,
    category_code: str | Category | None = None, area_code: str | Area | None = None, data: dict | None = None,
    calendar: WorkCalendar | None = None, limit_rows: list[LimitRow] | None = None,
) -> DispatchPlan:
    """The one set of rules of a dispatch (permission, state, category, area, deadlines), for
    ``dispatch_order`` and for the batch intake, which inserts many plans at once. Raises before
    it changes ``order`` when a check fails, except for the category and area it has set."""
    require(actor, Action.DISPATCH, order)
    guard_move(order, State.DISPATCHED, _("dispatched"))
    if category_code:
        order.category = checked_category(category_code)
    if area_code:
        order.area = checked_area(area_code)
    if calendar is None or limit_rows is None:
        calendar, limit_rows = deadlines.load_config()
    made = [
        build_assignment(order=order, unit=unit, role=role, actor_id=actor.user_id, at=at, calendar=calendar,
                         limit_rows=limit_rows)
        for unit, role in [(lead, AssignmentRole.LEAD), *((u, AssignmentRole.CO) for u in co)]
    ]
    source = order.state
    order.state, order.due_at = State.DISPATCHED, made[0].due_at
    return DispatchPlan(at=at, source=source, assignments=made,
                        data=dispatched_data(order=order, lead=lead, co=co, due_at=made[0].due_at, source=source,
                                             data=data))


def dispatch_order(
    *,
    actor: Actor,
    number: str,
    lead_unit: str | Unit,
    co_units: list[str] | list[Unit] | None = None,
    category_code: str | Category | None = None,
    area_code: str | Area | None = None,
    note: str = "",
    data: dict | None = None,
    new_order: WorkOrder | None = None,
) -> WorkOrder:
    """Dispatch a received order, or re-dispatch a returned one after ruling on the return.
    ``data`` is merged into the event's data (triage: ``auto``, ``model_version``, ``confidence``).
    Units, category and area are codes, or rows the caller already holds (triage's, kept per
    process by jiesu.dispatch.runtime), checked the same way.

    ``new_order``: the order the caller's transaction has just created (intake's inline
    triage). Its row is already this transaction's, so it is neither read again nor locked
    again, and it has no assignments to cancel; the caller's transaction (or savepoint) is the
    one this dispatch commits or rolls back with."""
    note = clean_text(note, field="note", label=_("the note"), required=False, max_length=MAX_REASON)
    lead, co = checked_units(lead_unit, co_units)
    if new_order is not None and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("dispatch_order(new_order=…) must run in the transaction that created the order")
    # With new_order, no block of its own: a refusal (all come before the first write) must not
    # doom the caller's transaction, which a savepoint-less atomic block would do.
    with transaction.atomic() if new_order is None else nullcontext():
        order = lock_order(number) if new_order is None else new_order
        plan = plan_dispatch(order=order, actor=actor, lead=lead, co=co, category_code=category_code,
                             area_code=area_code, at=clock.now(), data=data)
        if new_order is None:
            previous = list(
                order.assignments.exclude(state__in=[AssignmentState.CANCELLED, AssignmentState.RETURNED])
            )
            for old in previous:
                old.state = AssignmentState.CANCELLED
                old.save(update_fields=["state"])
        made = plan.assignments
        for assignment in made:
            assignment.save(force_insert=True)
        order.save(update_fields=["state", "due_at", "category", "area", "updated_at"])
        event = record(
            order=order, code=EventCode.DISPATCHED, actor_id=actor.user_id, at=plan.at, from_state=plan.source,
            to_state=State.DISPATCHED, reason=note, assignment=made[0], saved=True, data=plan.data,
        )
        if new_order is not None and new_order.written is not None:
            # What the create answer presents (selectors.created_order_detail) without a read.
            requesters, events, _none = new_order.written
            new_order.written = (requesters, [*events, event], made)
    return order


def _code(unit: str | Unit) -> str:
    return unit.code if isinstance(unit, Unit) else unit


def _distinct(units: list[str] | list[Unit]) -> list[str | Unit]:
    seen: dict[str, str | Unit] = {}
    for unit in units:
        seen.setdefault(_code(unit), unit)
    return list(seen.values())


def requeue_order(*, actor: Actor, number: str, reason: str) -> WorkOrder:
    """Uphold a return and send the order back to triage (returned → received)."""
    reason = clean_text(reason, field="reason", label=_("the reason"), max_length=MAX_REASON)
    with transaction.atomic():
        order = lock_order(number)
        require(actor, Action.REQUEUE, order)
        guard_move(order, State.RECEIVED, _("sent back to triage"), sources=frozenset({State.RETURNED}))
        order.assignments.filter(state=AssignmentState.DISPATCHED).update(state=AssignmentState.CANCELLED)
        order.state, order.due_at = State.RECEIVED, None
        order.save(update_fields=["state", "due_at", "updated_at"])
        record(order=order, code=EventCode.REQUEUED, actor_id=actor.user_id, at=clock.now(),
               from_state=State.RETURNED, to_state=State.RECEIVED, reason=reason)
    return order
