"""Webhooks against a real local receiver: signed, logged, retried with backoff, replayed;
the acceptance test: a receiver that is down for a while (connection refused, then 500s) gets
every delivery exactly once when it recovers, each with one delivery id on every try."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from django.urls import reverse

from jiesu import clock
from jiesu.integrations import signing, webhooks
from jiesu.integrations.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from jiesu.orders import actions
from jiesu.orders.errors import IllegalTransition, NotFound
from tests.conftest import at
from tests.http_receiver import Receiver, free_port

START = at("2026-11-02 09:00")


@pytest.fixture
def retry(settings):
    settings.JIESU = {**settings.JIESU, "WEBHOOK_RETRY": {"base_seconds": 30, "cap_seconds": 600, "max_attempts": 8}}


def _orders(new_order, city, n, capture):
    numbers = []
    with clock.frozen(START), capture(execute=True):
        for _ in range(n):
            order = new_order()
            actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
            numbers.append(order.number)
    return numbers


def _drive(until: dt.datetime, step=dt.timedelta(seconds=30), start=START):
    """What the worker and ``jiesu deliver`` do over time: send whatever is due."""
    now = start
    while now <= until:
        with clock.frozen(now):
            webhooks.send_due()
        now += step


def test_a_receiver_down_for_a_while_gets_everything_exactly_once(city, new_order, retry,
                                                                   django_capture_on_commit_callbacks):
    port = free_port()
    WebhookSubscription.objects.create(name="unit system", url=f"http://127.0.0.1:{port}/hook", secret="k",
                                       event_codes=["created", "dispatched"])
    numbers = _orders(new_order, city, 3, django_capture_on_commit_callbacks)  # refused: nobody listens
    assert WebhookDelivery.objects.count() == 6
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {(DeliveryStatus.PENDING, 1)}
    _drive(START + dt.timedelta(seconds=60))  # still down: attempts 2 (30 s) and 3 (90 s) not yet
    receiver = Receiver(port=port, script=[500] * 4).start()  # up again, but failing for 4 requests
    try:
        _drive(START + dt.timedelta(hours=1), start=START + dt.timedelta(seconds=90))
    finally:
        receiver.stop()
    rows = list(WebhookDelivery.objects.all())
    assert all(r.status == DeliveryStatus.SENT for r in rows)
    ok = Counter(s.headers[signing.DELIVERY_HEADER] for s, status in zip(receiver.seen, [500] * 4 + [200] * 99,
                                                                         strict=False) if status == 200)
    assert sorted(ok) == sorted(str(r.delivery_id) for r in rows) and set(ok.values()) == {1}
    # Every request named one of the deliveries and carried its body unchanged.
    by_id = {str(r.delivery_id): r for r in rows}
    for seen in receiver.seen:
        row = by_id[seen.headers[signing.DELIVERY_HEADER]]
        assert json.loads(seen.body) == row.payload and seen.headers[signing.EVENT_HEADER] == row.event_code
    assert {r.payload["order"]["number"] for r in rows} == set(numbers)
    log = sum((list(r.log.all()) for r in rows), [])
    assert len(log) == sum(r.attempts for r in rows) == 6 * 2 + 4 + 6  # two refused each, 4 × 500, 6 × 200
    assert {(a.response_status, a.error) for a in log if a.response_status == 500} == {(500, "HTTP 500")}


def test_requests_are_signed_with_the_subscription_secret(city, new_order, django_capture_on_commit_callbacks):
    receiver = Receiver().start()
    try:
        WebhookSubscription.objects.create(name="portal", url=receiver.url, secret="s3cret", event_codes=["created"])
        with clock.frozen(START), django_capture_on_commit_callbacks(execute=True):
            order = new_order()
    finally:
        receiver.stop()
    [seen] = receiver.seen
    assert signing.verify("s3cret", seen.headers[signing.HEADER], seen.body, now=int(START.timestamp()))
    body = json.loads(seen.body)
    assert body["event"]["code"] == "created" and body["order"]["number"] == order.number
    assert "13812345678" not in seen.body.decode()  # never the requester's phone
    row = WebhookDelivery.objects.get()
    assert (row.status, row.response_status, row.response_body) == (DeliveryStatus.SENT, 200, '{"ok": true}')


def test_a_unit_subscription_gets_only_its_own_orders_and_codes(city, new_order, django_capture_on_commit_callbacks):
    receiver = Receiver().start()
    try:
        WebhookSubscription.objects.create(name="SLT system", url=receiver.url, unit=city.sanlitun_office,
                                           event_codes=["dispatched", "replied"])
        with django_capture_on_commit_callbacks(execute=True):
            mine, other = new_order(), new_order()
            actions.dispatch_order(actor=city.actor("dispatcher"), number=mine.number, lead_unit="SLT")
            actions.dispatch_order(actor=city.actor("dispatcher"), number=other.number, lead_unit="ZGC")
    finally:
        receiver.stop()
    assert [(r.event_code, r.payload["order"]["number"]) for r in WebhookDelivery.objects.all()] == [
        ("dispatched", mine.number)]


def test_a_failed_delivery_is_replayed_with_the_same_id(city, new_order, settings, admin_client,
                                                        django_capture_on_commit_callbacks):
    settings.JIESU = {**settings.JIESU, "WEBHOOK_RETRY": {"base_seconds": 1, "max_attempts": 1}}
    receiver = Receiver(script=[503]).start()
    try:
        WebhookSubscription.objects.create(name="x", url=receiver.url, event_codes=["created"])
        with django_capture_on_commit_callbacks(execute=True):
            new_order()
        row = WebhookDelivery.objects.get()
        assert row.status == DeliveryStatus.FAILED and row.response_status == 503
        with pytest.raises(NotFound):
            webhooks.replay(actor=city.actor("admin"), delivery_id="not-a-uuid")
        response = admin_client.post(reverse("admin:integrations_webhookdelivery_changelist"),
                                     {"action": "replay_deliveries", "_selected_action": [row.pk]})
        assert response.status_code == 302
    finally:
        receiver.stop()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.attempts == 2
    assert [s.headers[signing.DELIVERY_HEADER] for s in receiver.seen] == [str(row.delivery_id)] * 2
    assert [a.replay for a in row.log.all()] == [False, True]
    with pytest.raises(IllegalTransition):
        webhooks.replay(actor=city.actor("admin"), delivery_id=str(row.delivery_id))


def test_no_subscription_no_delivery_and_the_order_never_waits(city, new_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        new_order()
    assert not WebhookDelivery.objects.exists()


def test_without_subscriptions_a_transaction_costs_no_query_for_webhooks(city, new_order, monkeypatch,
                                                                         django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jiesu.integrations import selectors

    clock_now = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock_now[0])
    with django_capture_on_commit_callbacks(execute=True):
        new_order()  # the process's first look at the subscriptions
    with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
        new_order()
    assert not [q for q in ctx.captured_queries if "webhooksubscription" in q["sql"]]
    # A subscription saved in this process is served at once.
    sub = WebhookSubscription.objects.create(name="sys", url="http://127.0.0.1:9/hook")
    with django_capture_on_commit_callbacks(execute=True):
        new_order()
    assert WebhookDelivery.objects.filter(subscription=sub).exists()
    # One switched off elsewhere (no signal here) is seen once the second has passed.
    WebhookSubscription.objects.filter(pk=sub.pk).update(is_active=False)
    served = WebhookDelivery.objects.count()
    clock_now[0] += 0.5
    with django_capture_on_commit_callbacks(execute=True):
        new_order()  # still trusted: a task is queued, and finds nobody to serve
    clock_now[0] += 1
    with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
        new_order()
    assert len([q for q in ctx.captured_queries if "webhooksubscription" in q["sql"]]) == 1  # read again
    assert WebhookDelivery.objects.count() == served
