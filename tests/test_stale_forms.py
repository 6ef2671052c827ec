"""Two people acting on one order at once: one wins, the other is told "changed by someone else"
and nothing of theirs is applied (desk forms carry the version; API clients send If-Match).

The parallel tests use real threads with their own database connections (transaction=True), so
on PostgreSQL they exercise the row lock; on SQLite, BEGIN IMMEDIATE."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection
from django.test import Client

from jiesu.orders import actions, concurrency
from jiesu.orders.errors import ChangedMeanwhile, IllegalTransition
from jiesu.orders.models import Event, WorkOrder
from jiesu.orders.states import State
from tests.api_helpers import Api
from tests.conftest import build_city


def _version(number: str) -> str:
    return concurrency.version_of(WorkOrder.objects.get(number=number))


def test_every_recorded_change_moves_the_version(city, new_order):
    order = new_order()
    before = _version(order.number)
    actions.add_note(actor=city.actor("dispatcher"), number=order.number, text="先打电话确认地址")
    assert _version(order.number) != before


def test_a_stale_desk_form_is_refused_with_a_clear_message(city, new_order):
    order = new_order()
    seen = _version(order.number)
    dispatcher, other = Client(HTTP_ACCEPT_LANGUAGE="zh-hans"), Client()
    dispatcher.force_login(city.users["dispatcher"])
    other.force_login(city.users["calltaker"])
    page = dispatcher.get(f"/desk/orders/{order.number}/").content.decode()
    assert f'name="version" value="{seen}"' in page
    # Meanwhile the call-taker answers it on the spot…
    assert other.post(f"/desk/orders/{order.number}/do/note/", {"note": "来电人补充：路口东侧", "next": "order",
                                                              "version": seen}).status_code == 302
    # …so the dispatcher's form, made from the old page, is refused and changes nothing.
    response = dispatcher.post(f"/desk/orders/{order.number}/do/decline/", {
        "outcome": "duplicate", "reason": "重复", "next": "order", "version": seen})
    assert response.status_code == 422
    assert "已被他人修改" in response.content.decode()
    assert WorkOrder.objects.get(pk=order.pk).state == State.RECEIVED
    assert not Event.objects.filter(order=order, code="declined").exists()
    # With the page as it is now, the same decision goes through.
    fresh = _version(order.number)
    assert dispatcher.post(f"/desk/orders/{order.number}/do/decline/", {
        "outcome": "duplicate", "reason": "重复", "next": "order", "version": fresh}).status_code == 302
    assert WorkOrder.objects.get(pk=order.pk).state == State.DECLINED


def test_api_if_match(city, new_order):
    api = Api(city)
    order = new_order()
    read = api.call("GET", f"orders/{order.number}")
    etag = read["ETag"]
    assert etag == f'"{_version(order.number)}"'
    actions.add_note(actor=city.actor("supervisor"), number=order.number, text="已督办")
    stale = api.call("POST", f"orders/{order.number}/note", {"text": "补充"}, as_="dispatcher",
                     headers={"If-Match": etag}, lang="en")
    assert stale.status_code == 409
    assert stale.json()["code"] == "changed" and "changed by someone else" in stale.json()["message"]
    assert Event.objects.filter(order=order, code="note").count() == 1
    fresh = api.call("GET", f"orders/{order.number}")["ETag"]
    assert api.call("POST", f"orders/{order.number}/note", {"text": "补充"}, as_="dispatcher",
                    headers={"If-Match": fresh}).status_code == 200


def test_an_expectation_does_not_outlive_its_request(city, new_order):
    order = new_order()
    with concurrency.expecting(order.number, "1.000001"):
        pass
    actions.add_note(actor=city.actor("dispatcher"), number=order.number, text="无关")  # not refused


# ---------------------------------------------------------------- real parallel connections


def _parallel(fns) -> list:
    results: list = [None] * len(fns)
    barrier = threading.Barrier(len(fns))

    def work(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fns[i]()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_with_the_same_page_one_wins_the_other_is_told():
    city = build_city()
    order = actions.create_order(
        actor=city.actor("calltaker"), request_type="complaint", channel="hotline", content="噪音扰民",
        area_code="110105001", requesters=[actions.RequesterInput(phone="13812345678")])
    seen = _version(order.number)

    def decide(who: str, unit: str):
        def run():
            with concurrency.expecting(order.number, seen):
                return actions.dispatch_order(actor=city.actor(who), number=order.number, lead_unit=unit).state
        return run

    results = _parallel([decide("dispatcher", "SLT"), decide("cy_dispatcher", "WATER")])
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ChangedMeanwhile), results
    assert errors[0].code == "changed" and "已被他人修改" in str(errors[0])
    # No lost update: exactly one dispatch, and the order went to the winner's unit.
    assert Event.objects.filter(order=order, code="dispatched").count() == 1
    winner = "SLT" if results[0] == State.DISPATCHED else "WATER"
    assert list(WorkOrder.objects.get(pk=order.pk).assignments.values_list("unit__code", flat=True)) == [winner]


@pytest.mark.django_db(transaction=True)
def test_many_parallel_notes_none_lost():
    city = build_city()
    order = actions.create_order(
        actor=city.actor("calltaker"), request_type="complaint", channel="hotline", content="噪音扰民",
        requesters=[actions.RequesterInput(phone="13812345678")])
    results = _parallel([
        (lambda i=i: actions.add_note(actor=city.actor("dispatcher"), number=order.number, text=f"备注{i}"))
        for i in range(6)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Event.objects.filter(order=order, code="note").count() == 6


@pytest.mark.django_db(transaction=True)
def test_parallel_dispatch_and_decline_one_applies():
    city = build_city()
    order = actions.create_order(
        actor=city.actor("calltaker"), request_type="complaint", channel="hotline", content="路灯坏了",
        requesters=[actions.RequesterInput(phone="13812345678")])
    results = _parallel([
        lambda: actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT").state,
        lambda: actions.decline_order(actor=city.actor("dispatcher"), number=order.number, outcome="duplicate",
                                      reason="重复").state,
    ])
    ok = [r for r in results if not isinstance(r, Exception)]
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(ok) == 1 and len(errors) == 1 and isinstance(errors[0], IllegalTransition), results
    assert WorkOrder.objects.get(pk=order.pk).state == ok[0]
    assert Event.objects.filter(order=order, code__in=["dispatched", "declined"]).count() == 1
