"""Bring an order to any state through the real service functions (used by several tests)."""

from __future__ import annotations

from jiesu.orders import actions
from jiesu.orders.models import Satisfaction, WorkOrder
from jiesu.orders.states import State


def bring_to(city, new_order, state: State) -> WorkOrder:
    a = city.actor
    if state == State.DRAFT:
        return new_order(draft=True)
    order = new_order()
    n = order.number
    if state == State.RECEIVED:
        pass
    elif state == State.ANSWERED:
        actions.answer_order(actor=a("calltaker"), number=n, answer="已告知办理流程。")
    elif state == State.REFERRED:
        actions.refer_order(actor=a("calltaker"), number=n, outcome="emergency", referred_to="110")
    elif state == State.DECLINED:
        actions.decline_order(actor=a("dispatcher"), number=n, outcome="unlawful", reason="诉求违法。")
    elif state == State.MERGED:
        survivor = new_order(requesters=[actions.RequesterInput(phone="13900000000", name="李四")])
        actions.merge_orders(actor=a("dispatcher"), number=n, into=survivor.number)
    else:
        actions.dispatch_order(actor=a("dispatcher"), number=n, lead_unit="SLT")
        if state == State.RETURNED:
            actions.return_assignment(actor=a("handler"), number=n, reason="不属于本单位职责。")
        elif state != State.DISPATCHED:
            actions.accept_assignment(actor=a("handler"), number=n)
            if state != State.ACCEPTED:
                actions.reply_to_order(actor=a("handler"), number=n, body="已处理。", outcome="solved")
                if state != State.REPLIED:
                    actions.open_callback(actor=a("supervisor"), number=n)
                    if state == State.REOPENED:
                        actions.record_callback(actor=a("supervisor"), number=n, reached=True, solved=False,
                                                satisfaction=Satisfaction.UNSATISFIED)
                    elif state == State.CLOSED:
                        actions.record_callback(actor=a("supervisor"), number=n, reached=True, solved=True,
                                                satisfaction=Satisfaction.SATISFIED)
    order.refresh_from_db()
    assert order.state == state, (order.state, state)
    return order


def reply(city, order: WorkOrder) -> WorkOrder:
    """A received order dispatched to 三里屯's street office, accepted and replied to (solved)."""
    a, n = city.actor, order.number
    actions.dispatch_order(actor=a("dispatcher"), number=n, lead_unit="SLT")
    actions.accept_assignment(actor=a("handler"), number=n)
    actions.reply_to_order(actor=a("handler"), number=n, body="已处理。", outcome="solved")
    return WorkOrder.objects.get(pk=order.pk)


def snapshot(order: WorkOrder) -> tuple:
    """Everything a failed move must leave untouched."""
    fresh = WorkOrder.objects.get(pk=order.pk)
    row = {f.attname: getattr(fresh, f.attname) for f in WorkOrder._meta.concrete_fields}
    return (
        row,
        list(fresh.events.values_list("id", flat=True)),
        list(fresh.assignments.values_list("id", "state", "due_at", "contacted_at")),
        list(fresh.requesters.values_list("id", flat=True)),
        fresh.callbacks.count(),
        fresh.replies.count(),
    )
