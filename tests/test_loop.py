"""The whole loop, intake to close, through the service functions."""

from __future__ import annotations

import pytest

from jiesu import clock
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.orders import actions
from jiesu.orders.models import AssignmentState, Satisfaction, WorkOrder
from jiesu.orders.states import State
from tests.conftest import at


@pytest.mark.django_db
def test_full_loop_received_to_closed(city, new_order, django_capture_on_commit_callbacks):
    with clock.frozen(at("2026-09-30 16:00")):
        order = new_order()
    assert order.number.startswith("20260930") and len(order.number) == 14
    assert order.state == State.RECEIVED
    with clock.frozen(at("2026-09-30 16:10")):
        actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT",
                               co_units=["PSB-SLT"])
    order.refresh_from_db()
    assert order.state == State.DISPATCHED
    # 7 working days after 2026-09-30: Oct 1–7 is the National Day holiday; Oct 8, 9, the make-up
    # Saturday Oct 10, then Oct 12–15.
    assert order.due_at.astimezone(SHANGHAI).isoformat() == "2026-10-15T23:59:59+08:00"
    with clock.frozen(at("2026-09-30 17:00")):
        actions.accept_assignment(actor=city.actor("handler"), number=order.number)
        actions.accept_assignment(actor=city.actor("police_handler"), number=order.number)
    with clock.frozen(at("2026-10-09 10:00")):
        actions.reply_to_order(actor=city.actor("police_handler"), number=order.number, body="已协助巡查。",
                               outcome="solved")
        with django_capture_on_commit_callbacks(execute=True):
            actions.reply_to_order(actor=city.actor("handler"), number=order.number, body="路灯已修复。",
                                   outcome="solved", co_unit_summary="派出所协助维持秩序。")
    order.refresh_from_db()
    assert order.state == State.CALLBACK_DUE
    with clock.frozen(at("2026-10-10 10:00")):
        actions.record_callback(actor=city.actor("supervisor"), number=order.number, reached=True, contacted=True,
                                solved=True, satisfaction=Satisfaction.SATISFIED)
    order = WorkOrder.objects.get(pk=order.pk)
    assert order.state == State.CLOSED
    assert [a.state for a in order.assignments.all()] == [AssignmentState.REPLIED, AssignmentState.REPLIED]
    codes = list(order.events.values_list("code", flat=True))
    assert codes == ["created", "dispatched", "accepted", "accepted", "replied", "replied", "callback_opened",
                     "callback"]
