"""Notifications: triggered by the order history after commit, queued, retried, and never in
the way of the work order. The SMS gateway is a real local HTTP server."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail

from jiesu import clock
from jiesu.followup import services as followup
from jiesu.integrations import notifications
from jiesu.integrations.defaults import seed_templates
from jiesu.integrations.models import DeliveryStatus, Notification, NotificationTemplate
from jiesu.orders import actions
from jiesu.orders.models import Assignment, Satisfaction
from jiesu.orders.states import State
from tests.conftest import at
from tests.http_receiver import Receiver, free_port
from tests.lifecycle import bring_to

GATEWAY = "jiesu.integrations.transports.HttpSmsTransport"
EMAIL = "jiesu.integrations.transports.EmailTransport"


@pytest.fixture(autouse=True)
def _templates(db):
    seed_templates(NotificationTemplate)


@pytest.fixture
def gateway(settings):
    receiver = Receiver().start()

    def configure(**config):
        settings.JIESU = {**settings.JIESU, "NOTIFY_TRANSPORTS": {"sms": GATEWAY, "email": EMAIL},
                          "SMS_GATEWAY": {"url": receiver.url, **config}}
        return receiver

    yield configure
    receiver.stop()


def _emails(city):
    for name in ("handler", "lead", "zgc_handler"):
        user = city.users[name]
        user.email = f"{name}@example.org"
        user.save()


def test_the_requester_hears_the_number_by_sms_through_the_gateway(city, new_order, gateway,
                                                                  django_capture_on_commit_callbacks):
    receiver = gateway(format="json", headers={"Authorization": "Bearer k-1"},
                       fields={"to": "mobile", "text": "content"}, extra={"sign": "12345"})
    with django_capture_on_commit_callbacks(execute=True):
        order = new_order()
    row = Notification.objects.get(order=order)
    assert (row.kind, row.channel, row.to, row.status, row.attempts) == ("received", "sms", "13812345678", "sent", 1)
    assert order.number in row.body and "已受理" in row.body
    [request] = receiver.seen
    assert request.headers["Authorization"] == "Bearer k-1"
    assert json.loads(request.body) == {"sign": "12345", "mobile": "13812345678", "content": row.body}


def test_a_form_encoded_gateway(city, new_order, gateway, django_capture_on_commit_callbacks):
    receiver = gateway(format="form")
    with django_capture_on_commit_callbacks(execute=True):
        order = new_order()
    body = receiver.seen[0].body.decode()
    assert receiver.seen[0].headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "to=13812345678" in body and order.number in Notification.objects.get().body


def test_a_gateway_that_is_down_never_blocks_the_order_and_the_message_is_retried(
        city, new_order, settings, django_capture_on_commit_callbacks):
    port = free_port()  # nobody listens: connection refused
    settings.JIESU = {**settings.JIESU, "NOTIFY_TRANSPORTS": {"sms": GATEWAY},
                      "SMS_GATEWAY": {"url": f"http://127.0.0.1:{port}/sms"},
                      "NOTIFY_RETRY": {"base_seconds": 60, "max_attempts": 3}}
    start = at("2026-11-02 09:00")
    with clock.frozen(start), django_capture_on_commit_callbacks(execute=True):
        order = new_order()
    assert order.state == State.RECEIVED  # the order is there whatever the gateway did
    row = Notification.objects.get()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1 and row.last_error
    assert row.next_attempt_at == start + dt.timedelta(seconds=60)
    # Not due yet: nothing is sent.
    with clock.frozen(start + dt.timedelta(seconds=30)):
        assert notifications.send_due() == 0
    receiver = Receiver(port=port).start()  # the gateway is back
    try:
        with clock.frozen(start + dt.timedelta(seconds=61)):
            assert notifications.send_due() == 1
    finally:
        receiver.stop()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.attempts == 2 and len(receiver.seen) == 1


def test_a_message_gives_up_after_the_last_attempt(city, new_order, settings, django_capture_on_commit_callbacks):
    settings.JIESU = {**settings.JIESU, "NOTIFY_TRANSPORTS": {"sms": GATEWAY},
                      "SMS_GATEWAY": {"url": f"http://127.0.0.1:{free_port()}/sms"},
                      "NOTIFY_RETRY": {"base_seconds": 10, "max_attempts": 2}}
    start = at("2026-11-02 09:00")
    with clock.frozen(start), django_capture_on_commit_callbacks(execute=True):
        new_order()
    with clock.frozen(start + dt.timedelta(seconds=11)):
        notifications.send_due()
    row = Notification.objects.get()
    assert (row.status, row.attempts, row.next_attempt_at) == (DeliveryStatus.FAILED, 2, None)


def test_handlers_hear_of_new_assignments_reopened_orders_and_deadlines(city, new_order, settings,
                                                                      django_capture_on_commit_callbacks):
    settings.JIESU = {**settings.JIESU, "NOTIFY_TRANSPORTS": {"email": EMAIL}}
    _emails(city)
    with django_capture_on_commit_callbacks(execute=True):
        order = new_order()
        actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT",
                               co_units=["ZGC"])
    assigned = Notification.objects.filter(kind="assigned")
    assert sorted(assigned.values_list("to", flat=True)) == [
        "handler@example.org", "lead@example.org", "zgc_handler@example.org"]
    assert {m.to[0] for m in mail.outbox} == {"handler@example.org", "lead@example.org", "zgc_handler@example.org"}
    assert all(order.number in m.subject for m in mail.outbox)

    lead = Assignment.objects.get(order=order, role="lead")
    before = lead.due_at - dt.timedelta(hours=3)
    with clock.frozen(before):
        assert notifications.remind_deadlines() == 3
        assert notifications.remind_deadlines() == 0  # once per deadline
    assert Notification.objects.filter(kind="deadline_soon").count() == 3

    with django_capture_on_commit_callbacks(execute=True):
        actions.accept_assignment(actor=city.actor("handler"), number=order.number)
        actions.reply_to_order(actor=city.actor("handler"), number=order.number, body="已修复。", outcome="solved",
                               co_unit_summary="中关村配合查看。")
        actions.open_callback(actor=city.actor("supervisor"), number=order.number)
        actions.record_callback(actor=city.actor("supervisor"), number=order.number, reached=True, solved=False,
                                satisfaction=Satisfaction.UNSATISFIED)
    reopened = Notification.objects.filter(kind="reopened")
    assert sorted(reopened.values_list("to", flat=True)) == ["handler@example.org", "lead@example.org"]
    replied = Notification.objects.get(kind="replied")
    assert replied.to == "13812345678" and order.number in replied.body


def test_templates_are_edited_in_the_admin_and_can_be_switched_off(city, new_order,
                                                                   django_capture_on_commit_callbacks):
    NotificationTemplate.objects.filter(kind="received", language="zh-hans").update(
        body="收到 {{ number }}，谢谢！")
    with django_capture_on_commit_callbacks(execute=True):
        order = new_order()
    assert Notification.objects.get().body == f"收到 {order.number}，谢谢！"
    NotificationTemplate.objects.filter(kind="received").update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        new_order()
    assert Notification.objects.count() == 1


def test_the_english_template_is_used_on_an_english_site(city, new_order, settings,
                                                         django_capture_on_commit_callbacks):
    settings.LANGUAGE_CODE = "en"
    with django_capture_on_commit_callbacks(execute=True):
        order = new_order()
    assert Notification.objects.get().body.startswith(f"12345 hotline: your request is received, number {order.number}")


def test_merged_requesters_hear_the_reply_once_each(city, new_order, django_capture_on_commit_callbacks):
    survivor = new_order()
    duplicate = new_order(requesters=[actions.RequesterInput(phone="13900000000", name="李四")])
    a = city.actor
    actions.merge_orders(actor=a("dispatcher"), number=duplicate.number, into=survivor.number)
    actions.dispatch_order(actor=a("dispatcher"), number=survivor.number, lead_unit="SLT")
    actions.accept_assignment(actor=a("handler"), number=survivor.number)
    with django_capture_on_commit_callbacks(execute=True):
        actions.reply_to_order(actor=a("handler"), number=survivor.number, body="已处理。", outcome="solved")
    assert sorted(Notification.objects.filter(kind="replied").values_list("to", flat=True)) == [
        "13812345678", "13900000000"]


def test_fanning_out_twice_sends_nothing_twice(city, new_order):
    order = new_order()
    event = order.events.get(code="created")
    assert notifications.fan_out(event.pk) == 1
    assert notifications.fan_out(event.pk) == 0
    assert Notification.objects.count() == 1


def test_the_callback_link_goes_through_the_transports(city, new_order, gateway, settings,
                                                         django_capture_on_commit_callbacks):
    receiver = gateway()
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    with django_capture_on_commit_callbacks(execute=True):
        sent = followup.send_callback_link(actor=city.actor("supervisor"), number=order.number, channel="sms",
                                             base_url="https://12345.example.org")
    row = Notification.objects.get(kind="callback_link")
    assert row.pk == sent.pk and row.status == DeliveryStatus.SENT and row.to == "13812345678"
    assert "https://12345.example.org/callback/" in json.loads(receiver.seen[-1].body)["text"]


def test_jiesu_deliver_sends_reminders_and_what_is_due(city, new_order, settings, capsys,
                                                      django_capture_on_commit_callbacks):
    from django.core.management import call_command

    settings.JIESU = {**settings.JIESU, "NOTIFY_TRANSPORTS": {"email": EMAIL}}
    _emails(city)
    order = new_order()
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    due = Assignment.objects.get(order=order).due_at
    with clock.frozen(due - dt.timedelta(hours=1)):
        call_command("deliver")
    assert "reminders: 2" in capsys.readouterr().out
    assert sorted(m.to[0] for m in mail.outbox) == ["handler@example.org", "lead@example.org"]
    assert set(Notification.objects.values_list("kind", "status")) == {("deadline_soon", "sent")}


@pytest.mark.parametrize("model", ["notificationtemplate", "notification", "webhooksubscription",
                                   "webhookdelivery"])
def test_the_admin_lists_render(admin_client, model):
    from django.urls import reverse

    assert admin_client.get(reverse(f"admin:integrations_{model}_changelist")).status_code == 200
