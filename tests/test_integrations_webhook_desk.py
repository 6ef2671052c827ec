"""The desk's webhook page: a unit's administrator (unit lead) sees the own unit's subscriptions
and their delivery log, and replays a failed delivery; other units' and whole-system ones stay
hidden; handlers and centre staff have no such page; the list is a fixed number of queries."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jiesu import clock
from jiesu.accounts.models import Membership, Role, User
from jiesu.accounts.policy import Actor
from jiesu.integrations import selectors
from jiesu.integrations.models import DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookSubscription
from tests.http_receiver import Receiver

pytestmark = pytest.mark.django_db
PAGE = "/desk/webhooks/"


def _subscription(name, unit=None, url="http://127.0.0.1:9/hook"):
    return WebhookSubscription.objects.create(name=name, url=url, unit=unit, event_codes=["dispatched"])


def _failed(subscription, n: int = 1) -> list[WebhookDelivery]:
    rows = []
    for i in range(n):
        row = WebhookDelivery.objects.create(subscription=subscription, event_code="dispatched",
                                             payload={"n": i}, status=DeliveryStatus.FAILED, attempts=1,
                                             response_status=503, created_at=clock.now())
        DeliveryAttempt.objects.create(delivery=row, number=1, at=clock.now(), response_status=503,
                                       response_body="down for maintenance")
        rows.append(row)
    return rows


@pytest.fixture
def hooks(city):
    zgc_lead = User.objects.create_user(username="zgc_lead", password="pw-zgc_lead")
    Membership.objects.create(user=zgc_lead, unit=city.zhongguancun_office, role=Role.UNIT_LEAD)
    slt = _subscription("三里屯工单系统", city.sanlitun_office)
    zgc = _subscription("中关村工单系统", city.zhongguancun_office)
    system = _subscription("市级数据中心")
    return {"slt": _failed(slt)[0], "zgc": _failed(zgc)[0], "system": _failed(system)[0], "zgc_lead": zgc_lead}


def _signed_in(client, user):
    client.force_login(user)
    return client


def test_a_unit_lead_sees_only_the_own_units_subscriptions_and_log(client, city, hooks):
    html = _signed_in(client, city.users["lead"]).get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "三里屯工单系统" in html and "中关村工单系统" not in html and "市级数据中心" not in html
    assert str(hooks["slt"].delivery_id) in html and str(hooks["zgc"].delivery_id) not in html
    assert "down for maintenance" in html and 'data-replay' in html
    admin = _signed_in(client, city.users["admin"]).get(PAGE).content.decode()
    assert all(str(hooks[k].delivery_id) in admin for k in ("slt", "zgc", "system"))


def test_handlers_and_centre_staff_have_no_webhook_page(client, city, hooks):
    for name in ("handler", "supervisor", "dispatcher"):
        assert _signed_in(client, city.users[name]).get(PAGE).status_code == 403
        url = reverse("integrations:webhook_replay", args=[hooks["slt"].delivery_id])
        assert client.post(url).status_code == 403
    assert WebhookDelivery.objects.get(pk=hooks["slt"].pk).attempts == 1


def test_a_unit_lead_replays_a_failed_delivery_with_the_same_id(client, city, hooks):
    receiver = Receiver().start()
    try:
        WebhookSubscription.objects.filter(pk=hooks["slt"].subscription_id).update(url=receiver.url)
        url = reverse("integrations:webhook_replay", args=[hooks["slt"].delivery_id])
        response = _signed_in(client, city.users["lead"]).post(url, {"failed": "1"}, HTTP_ACCEPT_LANGUAGE="en")
    finally:
        receiver.stop()
    assert response.status_code == 302 and response["Location"].endswith("?failed=1")
    row = WebhookDelivery.objects.get(pk=hooks["slt"].pk)
    assert row.status == DeliveryStatus.SENT and row.attempts == 2
    assert [a.replay for a in row.log.all()] == [False, True]
    assert len(receiver.seen) == 1 and str(row.delivery_id) in receiver.seen[0].headers.values()
    # Sent now: nothing more to replay; the page says so.
    again = client.post(url, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "Only a failed delivery" in again.content.decode()


def test_another_units_delivery_is_not_found_and_unchanged(client, city, hooks):
    for key in ("zgc", "system"):
        url = reverse("integrations:webhook_replay", args=[hooks[key].delivery_id])
        page = _signed_in(client, city.users["lead"]).post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
        assert "No webhook delivery" in page.content.decode()
        assert WebhookDelivery.objects.get(pk=hooks[key].pk).attempts == 1
    bogus = reverse("integrations:webhook_replay", args=["not-a-uuid"])
    assert "No webhook delivery" in client.post(bogus, follow=True, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    missing = reverse("integrations:webhook_replay", args=[uuid.uuid4()])
    assert client.post(missing).status_code == 302
    # The other unit's lead sees its own.
    mine = selectors.delivery_log(Actor.of(hooks["zgc_lead"]))
    assert [d.pk for d in mine] == [hooks["zgc"].pk]


def test_filters_failed_only_and_one_subscription(client, city, hooks):
    slt = WebhookSubscription.objects.get(pk=hooks["slt"].subscription_id)
    WebhookDelivery.objects.create(subscription=slt, event_code="dispatched", payload={}, status=DeliveryStatus.SENT,
                                   attempts=1, created_at=clock.now())
    actor = Actor.of(city.users["lead"])
    assert len(selectors.delivery_log(actor)) == 2
    assert [d.pk for d in selectors.delivery_log(actor, failed_only=True)] == [hooks["slt"].pk]
    client.force_login(city.users["admin"])
    html = client.get(PAGE, {"subscription": str(slt.pk), "failed": "1"}).content.decode()
    assert str(hooks["slt"].delivery_id) in html and str(hooks["zgc"].delivery_id) not in html


def test_the_page_is_a_fixed_number_of_queries(client, city, hooks):
    slt = WebhookSubscription.objects.get(pk=hooks["slt"].subscription_id)
    client.force_login(city.users["lead"])
    client.get(PAGE)  # warm the session and the language
    with CaptureQueriesContext(connection) as few:
        assert client.get(PAGE).status_code == 200
    _failed(slt, 15)
    with CaptureQueriesContext(connection) as many:
        assert client.get(PAGE).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many]
