"""A requester without a phone (Open311 makes every contact field optional): one with only an
e-mail gets the callback link by e-mail; a fully anonymous one cannot be called back, and the
callback is recorded as unreachable at once (reason code ``no_contact``) so the order closes
and the scorecard counts it honestly. Every other channel still needs a phone."""

from __future__ import annotations

import datetime as dt

import pytest

from jiesu import clock
from jiesu.catalogue.models import Channel
from jiesu.followup import metrics, services
from jiesu.followup.models import Overdue
from jiesu.integrations.models import Notification
from jiesu.orders import actions, tasks
from jiesu.orders.errors import InvalidInput, NotFound
from jiesu.orders.models import Assignment, Callback, Event, Requester, WorkOrder
from jiesu.orders.selectors import caller_history, order_for_requester
from jiesu.orders.states import State
from tests.lifecycle import reply
from tests.open311_helpers import build, good_form, js, json_errors, post

pytestmark = pytest.mark.django_db

BASE = "https://12345.example.gov.cn"
EMAIL_ONLY = actions.RequesterInput(email="Zhang.San@Example.ORG", name="张三")
ANONYMOUS = actions.RequesterInput()


@pytest.fixture(autouse=True)
def _site_language():
    """A request with ``Accept-Language: en`` leaves English active in this thread (Django's
    LocaleMiddleware does not switch back): restore the site language for the tests after."""
    from django.conf import settings
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def public_base(settings):
    settings.JIESU = {**settings.JIESU, "PUBLIC_BASE_URL": BASE}


def _open311(new_order, requester):
    return new_order(channel=Channel.OPEN311, requesters=[requester])


def _callback_task(order, capture) -> None:
    with capture(execute=True):
        tasks.open_callback.call(order.pk)


# --- intake ---------------------------------------------------------------------------------


def test_only_a_channel_without_a_phone_accepts_a_requester_without_one(city, new_order):
    for channel in (Channel.HOTLINE, Channel.WEB, Channel.API, Channel.WALK_IN):
        with pytest.raises(InvalidInput) as info:
            new_order(channel=channel, requesters=[EMAIL_ONLY])
        assert info.value.field == "phone"
    assert not WorkOrder.objects.exists()
    order = _open311(new_order, EMAIL_ONLY)
    person = Requester.objects.get(order=order)
    # The domain is case-insensitive and stored in lower case; the mailbox name is kept.
    assert (person.phone, person.email, person.has_contact) == ("", "Zhang.San@example.org", True)
    assert person.masked_email == "Z***@example.org" and person.masked_phone == ""
    anonymous = Requester.objects.get(order=_open311(new_order, ANONYMOUS))
    assert not anonymous.has_contact and anonymous.masked_email == ""


def test_a_bad_email_is_refused_on_every_channel(city, new_order):
    with pytest.raises(InvalidInput) as info:
        new_order(requesters=[actions.RequesterInput(phone="13812345678", email="not-mail")])
    assert info.value.field == "email"
    with pytest.raises(InvalidInput):
        _open311(new_order, actions.RequesterInput(email="a@b@c"))
    assert not WorkOrder.objects.exists()


def test_the_desk_form_still_requires_a_phone():
    from jiesu.desk.forms import IntakeForm

    assert IntakeForm.base_fields["phone"].required


def test_the_track_page_and_caller_history_never_match_a_blank_phone(city, new_order):
    order = _open311(new_order, ANONYMOUS)
    with pytest.raises(NotFound):
        order_for_requester(number=order.number, phone="")
    assert caller_history(city.actor("calltaker"), "") == []
    phoned = new_order()
    assert order_for_requester(number=phoned.number, phone="13812345678") == phoned


def test_merging_keeps_requesters_without_a_phone(city, new_order):
    survivor = new_order()
    duplicate = _open311(new_order, EMAIL_ONLY)
    actions.merge_orders(actor=city.actor("dispatcher"), number=duplicate.number, into=survivor.number)
    emails = list(Requester.objects.filter(order=survivor).values_list("phone", "email"))
    assert emails == [("13812345678", ""), ("", "Zhang.San@example.org")]


# --- Open311 --------------------------------------------------------------------------------


def test_open311_posts_with_only_an_email_or_nothing_at_all(client, city):
    o311 = build(city)
    response = post(client, "requests.json", good_form(o311.key, phone=None, email="li@example.cn"))
    assert response.status_code == 200, response.content
    email_only = WorkOrder.objects.get(number=js(response)[0]["service_request_id"])
    assert list(email_only.requesters.values_list("phone", "email")) == [("", "li@example.cn")]
    anonymous = post(client, "requests.json", good_form(o311.key, phone=None, first_name=None, last_name=None))
    assert anonymous.status_code == 200
    order = WorkOrder.objects.get(number=js(anonymous)[0]["service_request_id"])
    assert list(order.requesters.values_list("phone", "email", "name")) == [("", "", "")]
    assert order.channel == Channel.OPEN311


def test_open311_bad_email_is_a_400_in_open311s_error_format(client, city):
    o311 = build(city)
    response = post(client, "requests.json", good_form(o311.key, phone=None, email="li at example"),
                    HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert any("email" in e["description"] for e in json_errors(response))
    assert not WorkOrder.objects.exists()


# --- follow-up ------------------------------------------------------------------------------


def test_an_email_only_requester_gets_the_callback_link_by_email(city, new_order, public_base,
                                                                 django_capture_on_commit_callbacks):
    order = reply(city, _open311(new_order, EMAIL_ONLY))
    _callback_task(order, django_capture_on_commit_callbacks)
    assert WorkOrder.objects.get(pk=order.pk).state == State.CALLBACK_DUE
    row = Notification.objects.get(order=order, kind="callback_link")
    assert (row.channel, row.to) == ("email", "Zhang.San@example.org")
    assert f"{BASE}/callback/{order.number}/" in row.body and row.subject
    sent = Event.objects.get(order=order, code="link_sent")
    assert sent.data["channel"] == "email" and sent.data["to"] == "Z***@example.org"  # masked in the history
    # By hand, the supervisor's e-mail button needs no address: the requester's is used.
    again = services.send_callback_link(actor=city.actor("supervisor"), number=order.number, channel="email",
                                        base_url=BASE)
    assert again.to == "Zhang.San@example.org"
    with pytest.raises(InvalidInput):  # and there is no phone for an SMS
        services.send_callback_link(actor=city.actor("supervisor"), number=order.number, channel="sms",
                                    base_url=BASE)


def test_an_anonymous_request_closes_as_unreachable_with_a_reason_code(city, new_order, public_base,
                                                                       django_capture_on_commit_callbacks):
    order = reply(city, _open311(new_order, ANONYMOUS))
    _callback_task(order, django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.state == State.CLOSED and order.closed_at is not None
    assert order.satisfaction == "" and order.resolution == ""
    callback = Callback.objects.get(order=order)
    assert (callback.via, callback.reached, callback.attempt) == ("none", False, 1)
    event = Event.objects.get(order=order, code="callback")
    assert event.data["unreachable"] is True and event.data["reason_code"] == "no_contact"
    assert event.from_state == State.CALLBACK_DUE and event.to_state == State.CLOSED
    assert not Notification.objects.filter(kind="callback_link").exists()
    # The scorecard: replied and handled, but not reached — so neither solved nor unsatisfied.
    counts = Assignment.objects.filter(order=order).aggregate(**metrics.aggregates(clock.now()))
    assert counts["replied"] == 1 and counts["reached"] == 0 and counts["unsatisfied"] == 0


def test_not_reached_on_an_anonymous_order_closes_at_once_and_none_is_not_for_others(city, new_order):
    anonymous = reply(city, _open311(new_order, ANONYMOUS))
    actions.open_callback(actor=city.actor("supervisor"), number=anonymous.number)
    actions.record_callback(actor=city.actor("supervisor"), number=anonymous.number, reached=False)
    assert WorkOrder.objects.get(pk=anonymous.pk).state == State.CLOSED
    phoned = reply(city, new_order())
    actions.open_callback(actor=city.actor("supervisor"), number=phoned.number)
    with pytest.raises(InvalidInput):
        actions.record_callback(actor=city.actor("supervisor"), number=phoned.number, reached=False, via="none")
    actions.record_callback(actor=city.actor("supervisor"), number=phoned.number, reached=False)
    assert WorkOrder.objects.get(pk=phoned.pk).state == State.CALLBACK_DUE  # tried again later


def test_an_anonymous_overdue_order_leaves_the_callback_list_at_once(city, new_order, public_base,
                                                                     django_capture_on_commit_callbacks):
    order = _open311(new_order, ANONYMOUS)
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    later = WorkOrder.objects.get(pk=order.pk).due_at + dt.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep(now=later).overdue == 1
    flag = Overdue.objects.get(order=order)
    assert flag.done_at == later and flag.callback_attempts == 1
    event = Event.objects.get(order=order, code="callback")
    assert event.data["overdue"] and event.data["reason_code"] == "no_contact"
    assert WorkOrder.objects.get(pk=order.pk).state == State.DISPATCHED  # still with the unit
    assert not Notification.objects.filter(kind="callback_link").exists()


def test_the_email_is_shown_to_those_who_see_the_requester_and_masked_for_the_rest(client, city, new_order):
    order = _open311(new_order, EMAIL_ONLY)
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    client.force_login(city.users["dispatcher"])
    page = client.get(f"/desk/orders/{order.number}/").content.decode()
    assert "Zhang.San@example.org" in page
    client.force_login(city.users["analyst"])  # an analyst sees the requester masked
    page = client.get(f"/desk/orders/{order.number}/").content.decode()
    assert "Zhang.San@example.org" not in page and "Z***@example.org" in page
    anonymous = _open311(new_order, ANONYMOUS)
    client.force_login(city.users["dispatcher"])
    assert "未留联系方式" in client.get(f"/desk/orders/{anonymous.number}/").content.decode()


def test_the_requesters_messages_go_by_email_when_there_is_no_phone(city, new_order,
                                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = _open311(new_order, EMAIL_ONLY)
        _open311(new_order, ANONYMOUS)  # nobody to tell
    received = Notification.objects.get(kind="received")
    assert (received.channel, received.to, received.order_id) == ("email", "Zhang.San@example.org", order.pk)
    assert received.subject == f"您的诉求已受理：{order.number}" and order.number in received.body
    with django_capture_on_commit_callbacks(execute=True):
        reply(city, order)
    replied = Notification.objects.get(kind="replied")
    assert (replied.channel, replied.to) == ("email", "Zhang.San@example.org")
