"""Every (state, action) pair: the legal moves succeed for the right role; every other move
raises the domain error and changes nothing (DESIGN §3)."""

from __future__ import annotations

import pytest

from jiesu.orders import actions
from jiesu.orders.errors import DomainError, IllegalTransition
from jiesu.orders.models import Satisfaction, WorkOrder
from jiesu.orders.states import TRANSITIONS, State
from tests.lifecycle import bring_to, snapshot

S = State


def _merge(city, order, new_order):
    other = new_order(requesters=[actions.RequesterInput(phone="13700000000")])
    return actions.merge_orders(actor=city.actor("dispatcher"), number=order.number, into=other.number)


# action name → (who, the call, the state it leads to)
ACTIONS = {
    "submit": ("calltaker", lambda c, o, n: actions.submit_order(actor=c.actor("calltaker"), number=o.number),
               S.RECEIVED),
    "answer": ("calltaker", lambda c, o, n: actions.answer_order(actor=c.actor("calltaker"), number=o.number,
                                                                 answer="已解答。"), S.ANSWERED),
    "dispatch": ("dispatcher", lambda c, o, n: actions.dispatch_order(actor=c.actor("dispatcher"),
                                                                      number=o.number, lead_unit="SLT"),
                 S.DISPATCHED),
    "requeue": ("dispatcher", lambda c, o, n: actions.requeue_order(actor=c.actor("dispatcher"), number=o.number,
                                                                    reason="退单理由成立。"), S.RECEIVED),
    "refer": ("calltaker", lambda c, o, n: actions.refer_order(actor=c.actor("calltaker"), number=o.number,
                                                               outcome="legal_process", referred_to="法院"),
              S.REFERRED),
    "decline": ("dispatcher", lambda c, o, n: actions.decline_order(actor=c.actor("dispatcher"), number=o.number,
                                                                    outcome="no_duty", reason="无职责单位。"),
                S.DECLINED),
    "merge": ("dispatcher", lambda c, o, n: _merge(c, o, n), S.MERGED),
    "accept": ("handler", lambda c, o, n: actions.accept_assignment(actor=c.actor("handler"), number=o.number),
               S.ACCEPTED),
    "return": ("handler", lambda c, o, n: actions.return_assignment(actor=c.actor("handler"), number=o.number,
                                                                    reason="非本单位职责。"), S.RETURNED),
    "reply": ("handler", lambda c, o, n: actions.reply_to_order(actor=c.actor("handler"), number=o.number,
                                                                body="已修复。", outcome="solved"), S.REPLIED),
    "open_callback": ("supervisor", lambda c, o, n: actions.open_callback(actor=c.actor("supervisor"),
                                                                          number=o.number), S.CALLBACK_DUE),
    "callback_close": ("supervisor", lambda c, o, n: actions.record_callback(
        actor=c.actor("supervisor"), number=o.number, reached=True, solved=True,
        satisfaction=Satisfaction.SATISFIED), S.CLOSED),
    "callback_reopen": ("supervisor", lambda c, o, n: actions.record_callback(
        actor=c.actor("supervisor"), number=o.number, reached=True, solved=False,
        satisfaction=Satisfaction.UNSATISFIED), S.REOPENED),
    "reopen": ("supervisor", lambda c, o, n: actions.reopen_order(actor=c.actor("supervisor"), number=o.number,
                                                                  reason="群众不满意。"), S.REOPENED),
    "close": ("calltaker", lambda c, o, n: actions.close_order(actor=c.actor("calltaker"), number=o.number),
              S.CLOSED),
}

# Which action realises which edge of the transition table.
EDGES = {
    (S.DRAFT, "submit"), (S.RECEIVED, "answer"), (S.RECEIVED, "dispatch"), (S.RETURNED, "dispatch"),
    (S.RETURNED, "requeue"), (S.RECEIVED, "refer"), (S.RECEIVED, "decline"), (S.RECEIVED, "merge"),
    (S.DISPATCHED, "merge"), (S.DISPATCHED, "accept"), (S.REOPENED, "accept"), (S.DISPATCHED, "return"),
    (S.ACCEPTED, "return"), (S.ACCEPTED, "reply"), (S.REPLIED, "open_callback"),
    (S.CALLBACK_DUE, "callback_close"), (S.CALLBACK_DUE, "callback_reopen"), (S.CALLBACK_DUE, "reopen"),
    (S.CLOSED, "reopen"), (S.ANSWERED, "close"), (S.REFERRED, "close"), (S.DECLINED, "close"),
}


def test_edges_cover_the_transition_table_exactly():
    realised = {(source, ACTIONS[name][2]) for source, name in EDGES}
    table = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert realised == table


@pytest.mark.django_db
@pytest.mark.parametrize("source", list(State))
@pytest.mark.parametrize("name", list(ACTIONS))
def test_every_state_action_pair(city, new_order, source, name):
    order = bring_to(city, new_order, source)
    _who, call, target = ACTIONS[name]
    if (source, name) in EDGES:
        call(city, order, new_order)
        order = WorkOrder.objects.get(pk=order.pk)
        assert order.state == target
        last = order.events.order_by("-id").first()
        assert last.from_state == source and last.to_state == target
        assert last.actor_id is not None
    else:
        before = snapshot(order)
        with pytest.raises(DomainError) as info:
            call(city, order, new_order)
        # The state guard speaks, not some accident of missing data.
        assert isinstance(info.value, IllegalTransition | DomainError)
        assert info.value.status in (404, 409)
        assert snapshot(order) == before


WRONG_ROLES = ["nobody", "analyst", "service", "zgc_handler", "water_handler"]


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "name"), sorted(EDGES))
def test_legal_moves_refuse_the_wrong_roles(city, new_order, source, name):
    order = bring_to(city, new_order, source)
    who, call, _target = ACTIONS[name]
    for wrong in WRONG_ROLES:
        impostor = type(city)(**{**city.__dict__, "users": {**city.users, who: city.users[wrong]}})
        before = snapshot(order)
        with pytest.raises(DomainError) as info:
            call(impostor, order, new_order)
        assert info.value.status in (403, 404), (wrong, info.value)
        assert snapshot(order) == before
