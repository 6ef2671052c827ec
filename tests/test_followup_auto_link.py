"""The callback link sent by itself when an order is queued for its callback; the portal's
rating with the link page's questions; proactive items verified by the centre, not called back."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from jiesu.catalogue.models import Channel
from jiesu.followup import services
from jiesu.followup.script import callback_script
from jiesu.integrations.models import DeliveryStatus, Notification
from jiesu.integrations.notifications import send_message
from jiesu.orders import actions, tasks
from jiesu.orders.errors import IllegalTransition, InvalidInput
from jiesu.orders.models import Callback, Event, Resolution, Satisfaction, WorkOrder
from jiesu.orders.states import State
from tests.lifecycle import bring_to, reply

pytestmark = pytest.mark.django_db

BASE = "https://12345.example.gov.cn"


@pytest.fixture
def public_base(settings):
    settings.JIESU = {**settings.JIESU, "PUBLIC_BASE_URL": BASE}


def _replied(city, new_order, **kw) -> WorkOrder:
    return bring_to(city, new_order, State.REPLIED) if not kw else reply(city, new_order(**kw))


def _proactive(city, new_order) -> WorkOrder:
    return new_order(actor=city.actor("supervisor"), channel=Channel.PROACTIVE, requesters=[], proactive=True)


def _run_task(order, capture) -> str:
    with capture(execute=True):
        return tasks.open_callback.call(order.pk)


# --- 1. the automatic link ------------------------------------------------------------------


def test_the_callback_task_sends_the_link_by_sms_once_per_round(city, new_order, public_base,
                                                               django_capture_on_commit_callbacks, client):
    order = _replied(city, new_order)
    assert _run_task(order, django_capture_on_commit_callbacks) == "queued"
    assert WorkOrder.objects.get(pk=order.pk).state == State.CALLBACK_DUE
    row = Notification.objects.get(order=order, kind="callback_link")
    assert row.channel == "sms" and row.to == "13812345678" and row.status == DeliveryStatus.SENT
    assert f"{BASE}/callback/{order.number}/" in row.body
    sent = Event.objects.get(order=order, code="link_sent")
    assert sent.data["auto"] is True and sent.data["round"] == 0 and sent.actor_id is None
    # The link works: the requester answers through it.
    token = row.body.split("/callback/")[1].split("/")[1]
    answer = {"contacted": "yes", "resolution": "unsolved", "satisfaction": "unsatisfied"}
    assert client.post(reverse("callback_link", args=[order.number, token]), answer).status_code == 200
    assert WorkOrder.objects.get(pk=order.pk).state == State.REOPENED
    # Once per round: a second run for the same round sends nothing more.
    assert services.auto_send_link(order.pk) is None
    # The next round (after the reopen and a new reply) gets its own link.
    _again = actions.accept_assignment(actor=city.actor("handler"), number=order.number)
    actions.reply_to_order(actor=city.actor("handler"), number=order.number, body="再次处理。", outcome="solved")
    _run_task(order, django_capture_on_commit_callbacks)
    assert Notification.objects.filter(order=order, kind="callback_link").count() == 2
    assert services.auto_send_link(order.pk) is None
    assert Notification.objects.filter(order=order, kind="callback_link").count() == 2


def test_the_sweep_that_queues_a_lost_callback_sends_the_link_too(city, new_order, public_base,
                                                                  django_capture_on_commit_callbacks):
    import datetime as dt

    from jiesu import clock

    order = _replied(city, new_order)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.sweep(now=clock.now() + dt.timedelta(minutes=30))
    assert result.callbacks_queued == 1
    assert Notification.objects.filter(order=order, kind="callback_link", channel="sms").count() == 1


def test_no_automatic_link_when_off_without_phone_or_base_or_for_proactive(city, new_order, settings,
                                                                          django_capture_on_commit_callbacks):
    settings.JIESU = {**settings.JIESU, "PUBLIC_BASE_URL": BASE, "CALLBACK_LINK_AUTO": False}
    off = _replied(city, new_order)
    _run_task(off, django_capture_on_commit_callbacks)
    settings.JIESU = {**settings.JIESU, "CALLBACK_LINK_AUTO": True}
    proactive = reply(city, _proactive(city, new_order))
    _run_task(proactive, django_capture_on_commit_callbacks)
    settings.JIESU = {**settings.JIESU, "PUBLIC_BASE_URL": ""}
    no_base = _replied(city, new_order)
    _run_task(no_base, django_capture_on_commit_callbacks)
    for order in (off, proactive, no_base):
        assert WorkOrder.objects.get(pk=order.pk).state == State.CALLBACK_DUE
    assert not Notification.objects.filter(kind="callback_link").exists()


def test_a_failing_transport_never_breaks_the_transition(city, new_order, public_base, settings,
                                                         django_capture_on_commit_callbacks):
    settings.JIESU = {**settings.JIESU, "NOTIFY_TRANSPORTS": {"sms": "no.such.Transport"}}
    order = _replied(city, new_order)
    assert _run_task(order, django_capture_on_commit_callbacks) == "queued"
    assert WorkOrder.objects.get(pk=order.pk).state == State.CALLBACK_DUE
    assert Event.objects.filter(order=order, code="link_sent").exists()
    # The link waits in the queue for its next try (``jiesu deliver``), with the error.
    row = Notification.objects.get(order=order, kind="callback_link")
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1 and "No module named" in row.last_error


def test_a_template_switched_off_is_logged_not_raised(city, new_order, public_base, caplog,
                                                      django_capture_on_commit_callbacks):
    from jiesu.integrations.defaults import seed_templates
    from jiesu.integrations.models import NotificationTemplate

    seed_templates(NotificationTemplate)
    NotificationTemplate.objects.filter(kind="callback_link").update(is_active=False)
    order = _replied(city, new_order)
    with caplog.at_level(logging.ERROR, logger="jiesu.followup.services"):
        assert _run_task(order, django_capture_on_commit_callbacks) == "queued"
    assert "automatic callback link" in caplog.text
    assert WorkOrder.objects.get(pk=order.pk).state == State.CALLBACK_DUE
    assert not Event.objects.filter(order=order, code="link_sent").exists()


# --- 2. the portal's rating asks the link page's questions ----------------------------------


def test_portal_rating_has_three_valued_resolution(client, city, new_order):
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    client.post(reverse("portal:track"), {"number": order.number, "phone": "13812345678"})
    html = client.get(reverse("portal:track_detail", args=[order.number]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for value in ("solved", "partly", "unsolved"):
        assert f'name="resolution" value="{value}"' in html
    assert 'name="contacted"' in html and 'name="solved"' not in html
    response = client.post(reverse("portal:rate", args=[order.number]),
                           {"contacted": "yes", "resolution": "partly", "satisfaction": "basic"})
    assert response.status_code == 302
    cb = Callback.objects.get(order=order)
    assert cb.resolution == Resolution.PARTLY and cb.satisfaction == Satisfaction.BASIC and cb.via == "web"
    assert cb.contacted is True and cb.solved is False
    assert WorkOrder.objects.get(pk=order.pk).state == State.CLOSED


# --- 3. proactive items: verified, not called back ------------------------------------------


def test_a_proactive_item_is_verified_by_the_centre(city, new_order):
    order = reply(city, _proactive(city, new_order))
    actions.open_callback(actor=city.actor("supervisor"), number=order.number)
    order = WorkOrder.objects.prefetch_related("assignments__unit", "replies").get(pk=order.pk)
    script = callback_script(order)
    assert script.verify and not script.can_send_link
    with pytest.raises(IllegalTransition):
        services.send_callback_link(actor=city.actor("supervisor"), number=order.number, channel="email",
                                    base_url=BASE, to="a@example.org")
    sup = city.actor("supervisor")
    with pytest.raises(InvalidInput):  # no "not reached" for a verification
        actions.record_callback(actor=sup, number=order.number, reached=False)
    with pytest.raises(InvalidInput):  # the result is needed; satisfaction is not
        actions.record_callback(actor=sup, number=order.number, reached=True)
    actions.record_callback(actor=sup, number=order.number, reached=True, resolution=Resolution.UNSOLVED,
                            satisfaction=Satisfaction.SATISFIED, note="现场查看，路灯仍不亮。")
    order.refresh_from_db()
    assert order.state == State.REOPENED and order.satisfaction == ""
    cb = Callback.objects.get(order=order)
    assert cb.via == "verify" and cb.reached and cb.contacted is None and cb.satisfaction == ""
    assert Event.objects.get(order=order, code="reopened").reason == "现场查看，路灯仍不亮。"
    actions.accept_assignment(actor=city.actor("handler"), number=order.number)
    actions.reply_to_order(actor=city.actor("handler"), number=order.number, body="已修复。", outcome="solved")
    actions.open_callback(actor=sup, number=order.number)
    actions.record_callback(actor=sup, number=order.number, reached=True, resolution=Resolution.SOLVED)
    assert WorkOrder.objects.get(pk=order.pk).state == State.CLOSED


def test_verify_is_only_for_proactive_items(city, new_order):
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    with pytest.raises(InvalidInput):
        actions.record_callback(actor=city.actor("supervisor"), number=order.number, reached=True,
                                resolution=Resolution.SOLVED, satisfaction=Satisfaction.SATISFIED, via="verify")


def test_the_supervisor_pane_shows_the_verification_script(client, city, new_order):
    order = reply(city, _proactive(city, new_order))
    actions.open_callback(actor=city.actor("supervisor"), number=order.number)
    client.force_login(city.users["supervisor"])
    html = client.get(reverse("desk:supervise"), {"tab": "callback", "n": order.number},
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "data-verify" in html and 'name="via" value="verify"' in html
    assert "Send by SMS" not in html and 'value="no"' not in html.split('data-action="callback"')[1].split("</form>")[0]
    response = client.post(reverse("desk:action", args=[order.number, "callback"]),
                           {"reached": "yes", "via": "verify", "resolution": "solved", "note": "现场已修好。",
                            "next": "supervise", "tab": "callback"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (302, 303)
    assert WorkOrder.objects.get(pk=order.pk).state == State.CLOSED
    assert Callback.objects.get(order=order).via == "verify"


def test_send_message_is_idempotent_by_key_and_knows_its_channels(city):
    first = send_message(kind="booking_reminder", channel="sms", to="13800000000", body="hi", key="k1")
    again = send_message(kind="booking_reminder", channel="sms", to="13800000000", body="hi", key="k1")
    assert first.pk == again.pk and Notification.objects.count() == 1
    with pytest.raises(LookupError):
        send_message(kind="received", channel="pigeon", to="x", body="hi")


# --- 3. the link for an order past its deadline without a reply -----------------------------


def _overdue(city, new_order, capture):
    import datetime as dt


    order = bring_to(city, new_order, State.ACCEPTED)
    later = WorkOrder.objects.get(pk=order.pk).due_at + dt.timedelta(hours=1)
    with capture(execute=True):
        assert services.sweep(now=later).overdue == 1
    return WorkOrder.objects.get(pk=order.pk), later


def _token(row: Notification) -> str:
    return row.body.split("/callback/")[1].split("/")[1].split(" ")[0]


def test_the_sweep_sends_the_link_when_the_deadline_passes_without_a_reply(
        city, new_order, public_base, django_capture_on_commit_callbacks, client):
    from jiesu import clock

    order, later = _overdue(city, new_order, django_capture_on_commit_callbacks)
    row = Notification.objects.get(order=order, kind="callback_link")
    assert row.channel == "sms" and row.to == "13812345678" and f"{BASE}/callback/{order.number}/" in row.body
    sent = Event.objects.get(order=order, code="link_sent")
    assert sent.data["auto"] is True and sent.data["overdue"]
    # Sweeping again sends nothing more: once per overdue flag.
    with django_capture_on_commit_callbacks(execute=True):
        services.sweep(now=later)
    assert services.auto_send_link(order.pk) is None
    assert Notification.objects.filter(order=order, kind="callback_link").count() == 1
    url = reverse("callback_link", args=[order.number, _token(row)])
    with clock.frozen(later):
        page = client.get(url)
        assert page.status_code == 200 and "link-form" in page.content.decode()
        answer = {"contacted": "no", "resolution": "unsolved", "satisfaction": "unsatisfied", "comment": "没人联系我。"}
        assert client.post(url, answer).status_code == 200
        # Recorded as the overdue callback: the order stays with the unit, urged with the words.
        fresh = WorkOrder.objects.get(pk=order.pk)
        assert fresh.state == State.ACCEPTED and fresh.satisfaction == Satisfaction.UNSATISFIED
        callback = Callback.objects.get(order=order)
        assert callback.via == "sms" and callback.reached and callback.resolution == Resolution.UNSOLVED
        assert Event.objects.get(order=order, code="urged").reason == "没人联系我。"
        # Answered: the link is dead.
        assert client.get(url).status_code == 410
        assert client.post(url, answer).status_code == 410
    assert Callback.objects.filter(order=order).count() == 1


def test_an_overdue_link_dies_when_the_unit_replies_and_is_not_good_for_another_order(
        city, new_order, public_base, django_capture_on_commit_callbacks, client):
    from jiesu import clock

    order, later = _overdue(city, new_order, django_capture_on_commit_callbacks)
    other, _later = _overdue(city, new_order, django_capture_on_commit_callbacks)
    token = _token(Notification.objects.get(order=order, kind="callback_link"))
    with clock.frozen(later):
        assert client.get(reverse("callback_link", args=[other.number, token])).status_code == 404
        actions.reply_to_order(actor=city.actor("handler"), number=order.number, body="已处理。", outcome="solved")
        assert client.get(reverse("callback_link", args=[order.number, token])).status_code == 410


def test_the_supervisor_can_send_the_overdue_link_by_hand(city, new_order, settings,
                                                          django_capture_on_commit_callbacks):
    from jiesu import clock

    settings.JIESU = {**settings.JIESU, "CALLBACK_LINK_AUTO": False}
    order, later = _overdue(city, new_order, django_capture_on_commit_callbacks)
    assert not Notification.objects.filter(kind="callback_link").exists()
    with clock.frozen(later):
        row = services.send_callback_link(actor=city.actor("supervisor"), number=order.number, channel="email",
                                          base_url=BASE, to="zhang@example.cn")
    assert row.channel == "email" and "超过办理时限" in row.body
    assert Event.objects.get(order=order, code="link_sent").data["overdue"]
    fresh = new_order()
    with pytest.raises(IllegalTransition):
        services.send_callback_link(actor=city.actor("supervisor"), number=fresh.number, channel="sms", base_url=BASE)
