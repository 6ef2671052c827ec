"""The order page's selector (``jiesu.orders.selectors.order_detail``) reads the order and each
kind of its rows once: a fixed number of index probes, however much history the order has."""

from __future__ import annotations

import pytest

from jiesu.orders import selectors
from jiesu.orders.states import State
from tests.lifecycle import bring_to


@pytest.mark.parametrize("state", [State.RECEIVED, State.REPLIED, State.CLOSED])
def test_order_detail_costs_a_fixed_number_of_queries(city, new_order, django_assert_num_queries, state):
    order = bring_to(city, new_order, state)
    actor = city.actor("supervisor")
    actor.unit_ids()  # the actor's grants, read once per request
    # The order with its area and category; assignments, extensions (only when there are
    # assignments), requesters, replies with authors and units, callbacks, events with actors.
    with django_assert_num_queries(6 if state == State.RECEIVED else 7):
        detail = selectors.order_detail(actor, order.number)
        replies = [(r.author.username, r.assignment.unit.code) for r in detail.replies.all()]
        events = [e.actor for e in detail.events.all()]
        assignments = [(a.unit.code, list(a.extensions.all())) for a in detail.assignments.all()]
    assert events and (replies if state != State.RECEIVED else not replies)
    assert assignments if state != State.RECEIVED else not assignments
