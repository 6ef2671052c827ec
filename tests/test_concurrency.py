"""Concurrent writers: numbers stay unique and gap-free, a retried key makes one order, and
two people acting on one order at once cannot both win."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from jiesu.orders import actions
from jiesu.orders.errors import IllegalTransition
from jiesu.orders.models import Event, WorkOrder
from jiesu.orders.states import State
from tests.conftest import build_city

pytestmark = pytest.mark.django_db(transaction=True)


def run_threads(n: int, fn) -> list:
    results: list = [None] * n
    barrier = threading.Barrier(n)

    def work(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _create(city, **kw):
    return actions.create_order(
        actor=city.actor("calltaker"), request_type="complaint", channel="hotline",
        content="楼上装修噪音太大，晚上十点以后还在施工。",
        requesters=[actions.RequesterInput(phone="13812345678")], **kw,
    )


def test_parallel_intake_gets_unique_consecutive_numbers():
    city = build_city()
    results = run_threads(8, lambda i: _create(city).number)
    assert all(isinstance(r, str) for r in results), results
    assert len(set(results)) == 8
    assert sorted(int(r[-6:]) for r in results) == list(range(1, 9))


def test_parallel_retries_with_one_key_make_one_order():
    city = build_city()
    results = run_threads(6, lambda i: _create(city, idempotency_key="double-click").number)
    assert all(isinstance(r, str) for r in results), results
    assert len(set(results)) == 1
    assert WorkOrder.objects.count() == 1


def test_two_handlers_accepting_at_once_one_wins():
    city = build_city()
    order = _create(city)
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    results = run_threads(2, lambda i: actions.accept_assignment(
        actor=city.actor(["handler", "lead"][i]), number=order.number).state)
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], IllegalTransition), results
    assert WorkOrder.objects.get(pk=order.pk).state == State.ACCEPTED
    assert Event.objects.filter(order=order, code="accepted").count() == 1
