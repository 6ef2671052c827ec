"""Jiesu as an Open311 client of a unit's own case system. The unit's system here is a real
Open311 server over HTTP: a second Jiesu endpoint served by ``live_server`` (so the request
Jiesu sends becomes an order there, which that "system" then handles). No mocks."""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from jiesu import clock
from jiesu.open311 import outbound
from jiesu.open311.models import Outbound, PollMode, SendState, Submission, UnitLink
from jiesu.orders import actions
from jiesu.orders.models import Satisfaction, WorkOrder
from tests.conftest import build_city
from tests.open311_helpers import build

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(live_server):
    city = build_city()
    o = build(city)
    # SLT's own system takes its lamp orders as "noise" there: a service with no attributes.
    link = UnitLink.objects.create(unit=city.sanlitun_office, endpoint=f"{live_server.url}/open311/v2/",
                                   api_key=o.key, service_codes={"010101": "0201"}, acts_as=city.users["handler"])
    o.link = link
    return o


def _dispatch(o, number):
    actions.dispatch_order(actor=o.city.actor("dispatcher"), number=number, lead_unit="SLT")


def _new(o, **kw):
    return actions.create_order(
        actor=o.city.actor("calltaker"), request_type="complaint", channel="hotline",
        content="三里屯路口的路灯坏了一个星期。", requesters=[actions.RequesterInput(phone="13812345678", name="张三")],
        address="朝阳区三里屯路19号", category_code="010101", area_code="110105001", **kw)


def _remote_handles(o, remote_number: str, reply: str) -> None:
    """What happens inside the unit's system: its own dispatch, acceptance and reply."""
    a = o.city.actor
    actions.dispatch_order(actor=a("dispatcher"), number=remote_number, lead_unit="WATER")
    actions.accept_assignment(actor=a("water_handler"), number=remote_number)
    actions.reply_to_order(actor=a("water_handler"), number=remote_number, body=reply, outcome="solved")


def test_dispatch_sends_the_assignment_and_the_reply_comes_back(world):
    order = _new(world)
    _dispatch(world, order.number)  # the send task runs after the commit
    row = Outbound.objects.get(assignment__order=order)
    assert row.state == SendState.SENT and row.attempts == 1 and row.last_error == ""
    remote = WorkOrder.objects.get(number=row.remote_id)
    assert remote.channel == "open311" and remote.category.code == "0201"
    assert remote.content.startswith(f"[12345 {order.number}] ") and remote.address == order.address
    assert remote.requesters.get().phone == "13812345678"
    assert Submission.objects.get(order=remote).service_code == "0201"

    _remote_handles(world, remote.number, "已更换灯泡，恢复照明。")
    counts = outbound.poll(link_id=world.link.pk)
    assert counts["recorded"] == 2  # accepted, then replied
    order.refresh_from_db()
    assert order.state == "callback_due"  # replied, and queued for the centre's callback (回访)
    reply = order.replies.get()
    assert reply.body == "已更换灯泡，恢复照明。" and reply.author == world.city.users["handler"]
    assert list(order.events.values_list("code", flat=True)) == ["created", "dispatched", "accepted", "replied",
                                                                   "callback_opened"]
    row.refresh_from_db()
    assert row.state == SendState.DONE and row.remote_status == "FIXED"
    # Polling again records nothing twice.
    assert outbound.poll(link_id=world.link.pk) == {"updates": 0, "recorded": 0}
    assert order.replies.count() == 1


def test_poll_by_get_requests_reads_the_closed_status(world):
    UnitLink.objects.filter(pk=world.link.pk).update(poll_mode=PollMode.REQUESTS)
    order = _new(world)
    _dispatch(world, order.number)
    remote_number = Outbound.objects.get().remote_id
    assert outbound.poll(link_id=world.link.pk)["recorded"] == 0  # still open there
    _remote_handles(world, remote_number, "已修复。")
    a = world.city.actor
    assert outbound.poll(link_id=world.link.pk)["recorded"] == 0  # replied there, but not closed yet
    actions.record_callback(actor=a("supervisor"), number=remote_number, reached=True, solved=True,
                            satisfaction=Satisfaction.SATISFIED)
    assert outbound.poll(link_id=world.link.pk)["recorded"] == 1
    order.refresh_from_db()
    assert order.state == "callback_due" and order.replies.get().body == "已修复。"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_unit_system_that_is_down_is_retried_with_back_off(world, live_server):
    UnitLink.objects.filter(pk=world.link.pk).update(endpoint=f"http://127.0.0.1:{_free_port()}/open311/v2")
    order = _new(world)
    start = clock.now()
    _dispatch(world, order.number)  # the dispatch itself succeeds whatever the unit's system does
    order.refresh_from_db()
    assert order.state == "dispatched"
    row = Outbound.objects.get()
    assert row.state == SendState.PENDING and row.attempts == 1 and "ConnectionError" in row.last_error
    assert row.next_attempt_at >= start + dt.timedelta(seconds=60)
    with clock.frozen(row.next_attempt_at + dt.timedelta(seconds=1)):
        assert outbound.retry_due() == 1  # still down: the second wait is twice as long
    row.refresh_from_db()
    assert row.attempts == 2 and row.state == SendState.PENDING
    second_wait = row.next_attempt_at
    with clock.frozen(second_wait - dt.timedelta(seconds=1)):
        assert outbound.retry_due() == 0  # not due yet
    # The system comes back.
    UnitLink.objects.filter(pk=world.link.pk).update(endpoint=f"{live_server.url}/open311/v2")
    with clock.frozen(second_wait + dt.timedelta(seconds=1)):
        assert outbound.retry_due() == 1
    row.refresh_from_db()
    assert row.state == SendState.SENT and row.attempts == 3 and WorkOrder.objects.filter(number=row.remote_id).exists()
    # Nothing is sent twice.
    with clock.frozen(second_wait + dt.timedelta(hours=1)):
        assert outbound.retry_due() == 0
    assert WorkOrder.objects.filter(channel="open311").count() == 1


def test_gives_up_after_the_last_attempt(world, settings):
    settings.JIESU = {**settings.JIESU, "OPEN311": {**settings.JIESU["OPEN311"], "SEND_ATTEMPTS": 2}}
    UnitLink.objects.filter(pk=world.link.pk).update(endpoint=f"http://127.0.0.1:{_free_port()}/open311/v2")
    order = _new(world)
    _dispatch(world, order.number)
    row = Outbound.objects.get()
    with clock.frozen(row.next_attempt_at + dt.timedelta(seconds=1)):
        outbound.retry_due()
    row.refresh_from_db()
    assert row.state == SendState.FAILED and row.attempts == 2 and row.next_attempt_at is None


def test_a_refusal_is_final_until_an_admin_sends_again(world):
    UnitLink.objects.filter(pk=world.link.pk).update(api_key="o311_wrong")
    order = _new(world)
    _dispatch(world, order.number)
    row = Outbound.objects.get()
    assert row.state == SendState.FAILED and row.attempts == 1 and "403" in row.last_error
    UnitLink.objects.filter(pk=world.link.pk).update(api_key=world.key)
    outbound.resend(outbound_id=row.pk)
    row.refresh_from_db()
    assert row.state == SendState.SENT and row.remote_id


def test_only_linked_and_enabled_units_are_sent_to(world):
    order = _new(world)
    actions.dispatch_order(actor=world.city.actor("dispatcher"), number=order.number, lead_unit="ZGC")
    UnitLink.objects.filter(pk=world.link.pk).update(enabled=False)
    other = _new(world)
    _dispatch(world, other.number)
    assert Outbound.objects.count() == 0
    assert WorkOrder.objects.filter(channel="open311").count() == 0


def test_sync_command_polls_every_link(world, capsys):
    from django.core.management import call_command

    order = _new(world)
    _dispatch(world, order.number)
    _remote_handles(world, Outbound.objects.get().remote_id, "已修复。")
    call_command("open311_sync")
    assert '"recorded": 2' in capsys.readouterr().out
    order.refresh_from_db()
    assert order.replies.get().body == "已修复。"
