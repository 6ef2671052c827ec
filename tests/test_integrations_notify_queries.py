"""The notification task's cost: one task per transaction creates and sends its messages in a
fixed number of queries, whatever the number of recipients; a failing channel is retried
without holding up the others, and nothing is sent twice."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail.backends import locmem

from jiesu.integrations import notifications
from jiesu.integrations.defaults import seed_templates
from jiesu.integrations.models import DeliveryStatus, Notification, NotificationTemplate
from jiesu.orders import actions
from jiesu.orders.actions import RequesterInput
from jiesu.orders.models import Event

EMAIL = "jiesu.integrations.transports.EmailTransport"
GATEWAY = "jiesu.integrations.transports.HttpSmsTransport"
# The events' orders (1), the requesters (1), the dispatch's assignments with their units'
# addresses (1), the templates (1), the rows (one insert that answers their ids: 1), the
# outcome (one update for all the sent ones: 1).
FAN_OUT_QUERIES = 6


class CountingBackend(locmem.EmailBackend):
    """Django's test outbox, counting the sessions opened."""

    opened = 0

    def open(self):
        CountingBackend.opened += 1
        return super().open()


@pytest.fixture(autouse=True)
def _templates(db):
    seed_templates(NotificationTemplate)


def _emails(city, names):
    for name in names:
        user = city.users[name]
        user.email = f"{name}@example.org"
        user.save()


def _intake(city, new_order, phones, co_units):
    order = new_order(requesters=[RequesterInput(phone=p, name="张三") for p in phones])
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT", co_units=co_units)
    return list(Event.objects.filter(order=order).order_by("pk").values_list("pk", flat=True))


@pytest.mark.parametrize(("phones", "co_units", "emails"), [
    (["13812345678"], [], ["handler"]),
    (["13812345678", "13900000001", "13900000002"], ["ZGC"], ["handler", "lead", "zgc_handler"]),
])
def test_one_transactions_messages_cost_a_fixed_number_of_queries(city, new_order, settings, phones, co_units,
                                                                  emails, django_assert_num_queries):
    settings.JIESU = {**settings.JIESU, "NOTIFY_TRANSPORTS": {"sms": "jiesu.integrations.transports.ConsoleTransport",
                                                              "email": EMAIL}}
    settings.EMAIL_BACKEND = "tests.test_integrations_notify_queries.CountingBackend"
    CountingBackend.opened = 0
    _emails(city, emails)
    event_ids = _intake(city, new_order, phones, co_units)  # on-commit work does not run here
    assert not Notification.objects.exists()
    with django_assert_num_queries(FAN_OUT_QUERIES):
        sent = notifications.fan_out_events(event_ids)
    assert sent == len(phones) + len(emails)
    rows = Notification.objects.all()
    assert {(r.status, r.attempts, r.next_attempt_at) for r in rows} == {(DeliveryStatus.SENT, 1, None)}
    assert {(r.channel, r.provider_ref) for r in rows} == {("sms", "console"), ("email", "email")}  # each its own
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"{n}@example.org" for n in emails)
    assert CountingBackend.opened == 1  # the task's e-mails in one session
    assert notifications.fan_out_events(event_ids) == 0  # a re-run task sends nothing twice
    assert len(mail.outbox) == len(emails)


def test_a_failing_channel_is_retried_and_the_others_are_sent(city, new_order, settings):
    settings.JIESU = {**settings.JIESU, "NOTIFY_TRANSPORTS": {"sms": GATEWAY, "email": EMAIL},
                      "SMS_GATEWAY": {"url": "http://127.0.0.1:9/"},  # nobody listens: no answer
                      "NOTIFY_RETRY": {"base_seconds": 60, "max_attempts": 3}}
    _emails(city, ["handler"])
    event_ids = _intake(city, new_order, ["13812345678"], [])
    assert notifications.fan_out_events(event_ids) == 2
    sms = Notification.objects.get(channel="sms")
    assert (sms.status, sms.attempts) == (DeliveryStatus.PENDING, 1) and sms.last_error
    assert sms.next_attempt_at > sms.created_at  # the backoff's next try
    email = Notification.objects.get(channel="email")
    assert (email.status, email.attempts, email.to) == (DeliveryStatus.SENT, 1, "handler@example.org")
    assert len(mail.outbox) == 1


def test_a_switched_off_template_sends_nothing_and_an_edit_is_seen_at_once(city, new_order):
    event_ids = _intake(city, new_order, ["13812345678"], [])
    NotificationTemplate.objects.filter(kind="received").update(is_active=False)
    assert notifications.fan_out_events(event_ids[:1]) == 0
    NotificationTemplate.objects.filter(kind="received").update(is_active=True, body="编号{{ number }}：收到")
    assert notifications.fan_out_events(event_ids[:1]) == 1
    assert Notification.objects.get().body.endswith("：收到")
