"""回访: three-valued outcomes, reopening with the requester's words, the overdue sweep and its
callbacks, the requester's signed link (send, answer, and its security), the notifier."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail, signing
from django.core.management import call_command
from django.urls import reverse

from jiesu import clock
from jiesu.followup import links, services
from jiesu.followup.models import Overdue
from jiesu.followup.selectors import callback_queue
from jiesu.integrations.models import DeliveryStatus, Notification
from jiesu.orders import actions
from jiesu.orders.errors import IllegalTransition, InvalidInput, NotAllowed
from jiesu.orders.models import Callback, Event, Resolution, Satisfaction, WorkOrder
from jiesu.orders.states import State
from tests.conftest import at
from tests.lifecycle import bring_to

pytestmark = pytest.mark.django_db


def _callback(city, order, **kw):
    return actions.record_callback(actor=city.actor("supervisor"), number=order.number, **kw)


# --- outcomes -------------------------------------------------------------------------------


@pytest.mark.parametrize(("resolution", "satisfaction", "neither", "either"), [
    (Resolution.SOLVED, Satisfaction.SATISFIED, State.CLOSED, State.CLOSED),
    (Resolution.PARTLY, Satisfaction.BASIC, State.CLOSED, State.CLOSED),
    (Resolution.PARTLY, Satisfaction.UNSATISFIED, State.REOPENED, State.REOPENED),
    (Resolution.UNSOLVED, Satisfaction.BASIC, State.CLOSED, State.REOPENED),
    (Resolution.SOLVED, Satisfaction.UNSATISFIED, State.CLOSED, State.REOPENED),
    (Resolution.UNSOLVED, Satisfaction.UNSATISFIED, State.REOPENED, State.REOPENED),
])
@pytest.mark.parametrize("rule", ["neither", "either"])
def test_three_valued_outcomes_under_both_reopen_rules(city, new_order, settings, resolution, satisfaction,
                                                       neither, either, rule):
    settings.JIESU = {**settings.JIESU, "CALLBACK_REOPEN_RULE": rule}
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    _callback(city, order, reached=True, contacted=True, resolution=resolution, satisfaction=satisfaction)
    order.refresh_from_db()
    assert order.state == (neither if rule == "neither" else either)
    assert order.resolution == resolution and order.solved is (resolution == Resolution.SOLVED)
    cb = Callback.objects.get(order=order)
    assert cb.resolution == resolution and cb.satisfaction == satisfaction


def test_the_boolean_still_works_and_an_unknown_resolution_is_refused(city, new_order):
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    with pytest.raises(InvalidInput):
        _callback(city, order, reached=True, resolution="maybe", satisfaction=Satisfaction.SATISFIED)
    _callback(city, order, reached=True, solved=True, satisfaction=Satisfaction.BASIC)
    order.refresh_from_db()
    assert order.resolution == Resolution.SOLVED and order.state == State.CLOSED


def test_reopen_goes_to_the_same_unit_with_the_requesters_words(city, new_order):
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    _callback(city, order, reached=False)
    _callback(city, order, reached=True, resolution=Resolution.UNSOLVED, satisfaction=Satisfaction.UNSATISFIED,
              note="路灯还是不亮，晚上依旧很黑。")
    order.refresh_from_db()
    assert order.state == State.REOPENED and order.reopen_count == 1
    assert order.callback_attempts == 0  # a new round gets the full number of tries
    assert order.lead_assignment.unit.code == "SLT"
    reopened = Event.objects.filter(order=order, code="reopened").get()
    assert reopened.reason == "路灯还是不亮，晚上依旧很黑。"
    assert reopened.from_state == State.CALLBACK_DUE and reopened.to_state == State.REOPENED


# --- the overdue sweep ----------------------------------------------------------------------


def _overdue_order(city, new_order):
    with clock.frozen(at("2026-11-02 09:00")):
        order = bring_to(city, new_order, State.ACCEPTED)
    return order


def test_the_sweep_flags_each_overdue_order_once(city, new_order):
    order = _overdue_order(city, new_order)
    fresh = new_order()  # received, not dispatched: nothing to flag
    due = WorkOrder.objects.get(pk=order.pk).due_at
    assert services.sweep(now=due - dt.timedelta(minutes=1)).overdue == 0
    first = services.sweep(now=due + dt.timedelta(hours=1))
    again = services.sweep(now=due + dt.timedelta(hours=2))
    call_command("sweep", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (first.overdue, again.overdue) == (1, 0)
    events = Event.objects.filter(order=order, code="overdue")
    assert events.count() == 1 and events.get().data["unit"] == "SLT"
    assert Overdue.objects.filter(order=order).count() == 1
    assert not Event.objects.filter(order=fresh, code="overdue").exists()
    assert WorkOrder.objects.get(pk=order.pk).state == State.ACCEPTED  # no new state


def test_overdue_orders_join_the_callback_list_and_take_a_callback(city, new_order):
    order = _overdue_order(city, new_order)
    due = WorkOrder.objects.get(pk=order.pk).due_at
    later = due + dt.timedelta(hours=3)
    with clock.frozen(later):
        assert not callback_queue(city.actor("supervisor")).filter(pk=order.pk).exists()
        services.sweep(now=later)
        listed = callback_queue(city.actor("supervisor")).get(pk=order.pk)
        assert listed.overdue_open
        services.record_any_callback(actor=city.actor("supervisor"), number=order.number, reached=True,
                                     contacted=False, resolution=Resolution.UNSOLVED,
                                     satisfaction=Satisfaction.UNSATISFIED, note="一直没人联系我。")
        order.refresh_from_db()
        assert order.state == State.ACCEPTED and order.satisfaction == Satisfaction.UNSATISFIED
        assert not callback_queue(city.actor("supervisor")).filter(pk=order.pk).exists()
        urged = Event.objects.filter(order=order, code="urged").get()
        assert urged.reason == "一直没人联系我。" and urged.data["overdue"] is True
        with pytest.raises(IllegalTransition):
            services.record_overdue_callback(actor=city.actor("supervisor"), number=order.number, reached=False)


def test_an_overdue_requester_unreachable_after_the_tries_leaves_the_list(city, new_order, settings):
    order = _overdue_order(city, new_order)
    later = WorkOrder.objects.get(pk=order.pk).due_at + dt.timedelta(hours=3)
    with clock.frozen(later):
        services.sweep(now=later)
        for _ in range(settings.JIESU["CALLBACK_MAX_ATTEMPTS"]):
            services.record_overdue_callback(actor=city.actor("supervisor"), number=order.number, reached=False)
        assert not callback_queue(city.actor("supervisor")).filter(pk=order.pk).exists()
    assert Event.objects.filter(order=order, code="callback").last().data["unreachable"] is True


def test_the_sweep_queues_a_callback_whose_task_was_lost(city, new_order, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with clock.frozen(at("2026-11-02 09:00")):
        order = bring_to(city, new_order, State.REPLIED)
    assert services.sweep(now=at("2026-11-02 09:05")).callbacks_queued == 0  # the task may still run
    assert services.sweep(now=at("2026-11-02 10:00")).callbacks_queued == 1
    assert WorkOrder.objects.get(pk=order.pk).state == State.CALLBACK_DUE


def test_only_callback_roles_record_overdue_callbacks(city, new_order):
    order = _overdue_order(city, new_order)
    later = WorkOrder.objects.get(pk=order.pk).due_at + dt.timedelta(hours=3)
    with clock.frozen(later):
        services.sweep(now=later)
        with pytest.raises(NotAllowed):
            services.record_overdue_callback(actor=city.actor("handler"), number=order.number, reached=False)


# --- the signed link ------------------------------------------------------------------------

BASE = "http://testserver"


def _send(city, order, channel="sms", **kw) -> Notification:
    return services.send_callback_link(actor=city.actor("supervisor"), number=order.number, channel=channel,
                                       base_url=BASE, **kw)


def _token(row: Notification) -> str:
    return row.body.split("/callback/")[1].split("/")[1]


def _link(order, token) -> str:
    return reverse("callback_link", args=[order.number, token])


ANSWER = {"contacted": "yes", "resolution": "solved", "satisfaction": "satisfied", "comment": "谢谢，修好了。"}


def test_sms_link_is_queued_as_a_notification_and_answers_the_callback(client, city, new_order):
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    row = _send(city, order)
    # Queued: the first try runs when the transaction commits (the integrations' queue).
    assert row.channel == "sms" and row.to == "13812345678" and row.status == DeliveryStatus.PENDING
    assert row.kind == "callback_link" and row.order_id == order.pk
    assert f"{BASE}/callback/{order.number}/" in row.body
    assert Event.objects.filter(order=order, code="link_sent").get().data["to"] == "138****5678"
    url = _link(order, _token(row))
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "已处理。" in page.content.decode()  # the reply is shown
    response = client.post(url, ANSWER, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and b"Thank you" in response.content
    order.refresh_from_db()
    assert order.state == State.CLOSED and order.resolution == Resolution.SOLVED
    cb = Callback.objects.get(order=order)
    assert cb.via == "sms" and cb.note == "谢谢，修好了。" and cb.contacted is True


def test_a_link_cannot_be_reused_after_answering(client, city, new_order):
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    url = _link(order, _token(_send(city, order)))
    assert client.post(url, ANSWER).status_code == 200
    again = client.post(url, {**ANSWER, "satisfaction": "unsatisfied"})
    assert again.status_code == 410 and b'data-reason="used"' in again.content
    assert client.get(url).status_code == 410
    assert Callback.objects.filter(order=order).count() == 1


def test_a_link_dies_with_its_round_even_when_the_order_waits_again(client, city, new_order):
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    old = _link(order, _token(_send(city, order)))
    assert client.post(old, {**ANSWER, "resolution": "unsolved", "satisfaction": "unsatisfied"}).status_code == 200
    assert WorkOrder.objects.get(pk=order.pk).state == State.REOPENED
    actions.accept_assignment(actor=city.actor("handler"), number=order.number)
    actions.reply_to_order(actor=city.actor("handler"), number=order.number, body="已再次修复。", outcome="solved")
    actions.open_callback(actor=city.actor("supervisor"), number=order.number)  # the task, after commit
    assert WorkOrder.objects.get(pk=order.pk).state == State.CALLBACK_DUE
    assert client.get(old).status_code == 410
    fresh = _link(order, _token(_send(city, order)))
    assert client.get(fresh).status_code == 200


def test_a_link_cannot_be_forged(client, city, new_order):
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    token = _token(_send(city, order))
    damaged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    forged = signing.dumps([order.pk, order.reopen_count, 4102444800, "s"], salt=links.salt_for(order.pk),
                           key="not-the-secret-key", compress=True)
    unsalted = signing.dumps([order.pk, order.reopen_count, 4102444800, "s"], compress=True)
    for bad in (damaged, forged, unsalted, "x", "a" * 400):
        response = client.post(_link(order, bad), ANSWER)
        assert response.status_code == 404 and b'data-reason="invalid"' in response.content
    assert WorkOrder.objects.get(pk=order.pk).state == State.CALLBACK_DUE
    assert not Callback.objects.filter(order=order).exists()


def test_a_link_cannot_be_used_for_another_order(client, city, new_order):
    mine = bring_to(city, new_order, State.CALLBACK_DUE)
    other = bring_to(city, new_order, State.CALLBACK_DUE)
    token = _token(_send(city, mine))
    response = client.post(_link(other, token), ANSWER)
    assert response.status_code == 404
    # Even a token signed with the other order's salt but naming my order is refused.
    crossed = signing.dumps([mine.pk, 0, 4102444800, "s"], salt=links.salt_for(other.pk), compress=True)
    assert client.post(_link(other, crossed), ANSWER).status_code == 404
    assert client.get(_link(WorkOrder(number="20990101000001"), token)).status_code == 404
    assert WorkOrder.objects.get(pk=other.pk).state == State.CALLBACK_DUE
    assert client.get(_link(mine, token)).status_code == 200


def test_a_link_expires(client, city, new_order, settings):
    with clock.frozen(at("2026-11-02 09:00")):
        order = bring_to(city, new_order, State.CALLBACK_DUE)
        url = _link(order, _token(_send(city, order)))
    days = settings.JIESU["CALLBACK_LINK_DAYS"]
    with clock.frozen(at("2026-11-02 09:00") + dt.timedelta(days=days, seconds=-1)):
        assert client.get(url).status_code == 200
    with clock.frozen(at("2026-11-02 09:00") + dt.timedelta(days=days)):
        response = client.post(url, ANSWER)
        assert response.status_code == 410 and b'data-reason="expired"' in response.content


def test_the_link_page_says_what_is_missing(client, city, new_order):
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    url = _link(order, _token(_send(city, order)))
    response = client.post(url, {"contacted": "yes"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert b"Please say whether the problem was solved." in response.content
    assert WorkOrder.objects.get(pk=order.pk).state == State.CALLBACK_DUE


def test_email_link_goes_through_the_email_transport(city, new_order, settings,
                                                     django_capture_on_commit_callbacks):
    settings.JIESU = {**settings.JIESU, "NOTIFY_TRANSPORTS": {"email": "jiesu.integrations.transports.EmailTransport"}}
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    with pytest.raises(InvalidInput):
        _send(city, order, channel="email", to="not an address")
    with pytest.raises(InvalidInput):  # no address given, and none on the order
        _send(city, order, channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        row = _send(city, order, channel="email", to="zhang@example.org")
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and len(mail.outbox) == 1
    assert mail.outbox[0].subject == f"您的诉求 {order.number} 办理得怎么样？"
    assert mail.outbox[0].to == ["zhang@example.org"] and f"/callback/{order.number}/" in mail.outbox[0].body
    token = _token(row)
    assert links.check(WorkOrder.objects.get(pk=order.pk), token, now=clock.now()).via == "web"


def test_links_only_for_orders_waiting_for_a_callback_and_only_by_callback_roles(city, new_order):
    order = bring_to(city, new_order, State.ACCEPTED)
    with pytest.raises(IllegalTransition):
        _send(city, order)
    waiting = bring_to(city, new_order, State.CALLBACK_DUE)
    with pytest.raises(NotAllowed):
        services.send_callback_link(actor=city.actor("handler"), number=waiting.number, channel="sms",
                                    base_url=BASE)
    assert not Notification.objects.filter(kind="callback_link").exists()


def test_the_link_text_is_the_admins_template(city, new_order):
    from jiesu.integrations.models import NotificationTemplate

    NotificationTemplate.objects.update_or_create(kind="callback_link", channel="sms", language="zh-hans",
                                                  defaults={"body": "请评价 {{ number }}：{{ url }}"})
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    row = _send(city, order)
    assert row.body.startswith(f"请评价 {order.number}：{BASE}/callback/{order.number}/")
    NotificationTemplate.objects.filter(kind="callback_link").update(is_active=False)
    with pytest.raises(InvalidInput):  # switched off: said so, nothing recorded
        _send(city, bring_to(city, new_order, State.CALLBACK_DUE))
    assert Event.objects.filter(code="link_sent").count() == 1


# --- the supervisor's screen ----------------------------------------------------------------


@pytest.fixture
def supervisor(client, city):
    client.force_login(city.users["supervisor"])
    client.cookies["django_language"] = "en"
    return client


def test_the_phone_script_shows_the_reply_and_asks_in_order(supervisor, city, new_order):
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    page = supervisor.get(reverse("desk:supervise"), {"tab": "callback", "n": order.number}).content.decode()
    form = page[page.index('data-action="callback"'):page.index('data-action="send_link"')]
    assert "已处理。" in form  # the reply to read out
    q = [form.index(s) for s in ('name="contacted"', 'name="resolution"', 'name="satisfaction"', 'name="note"')]
    assert q == sorted(q)
    assert 'value="partly"' in form
    response = supervisor.post(reverse("desk:action", args=[order.number, "callback"]), {
        "next": "supervise", "tab": "callback", "reached": "yes", "contacted": "yes", "resolution": "partly",
        "satisfaction": "unsatisfied", "note": "只修了一半。", "via": "phone"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == State.REOPENED and order.resolution == Resolution.PARTLY
    assert Event.objects.filter(order=order, code="reopened").get().reason == "只修了一半。"


def test_the_supervisor_sends_a_link_from_the_script(supervisor, city, new_order):
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    response = supervisor.post(reverse("followup:send_link", args=[order.number]), {"channel": "sms"})
    assert response.status_code == 302 and "tab=callback" in response["Location"]
    row = Notification.objects.get(kind="callback_link")
    assert "http://testserver/callback/" in row.body
    # Refused (e-mail without an address): a message, nothing sent.
    supervisor.post(reverse("followup:send_link", args=[order.number]), {"channel": "email", "to": ""})
    assert Notification.objects.filter(kind="callback_link").count() == 1


def test_the_overdue_order_has_its_script_on_the_callback_tab(supervisor, city, new_order):
    order = _overdue_order(city, new_order)
    later = WorkOrder.objects.get(pk=order.pk).due_at + dt.timedelta(hours=3)
    with clock.frozen(later):
        services.sweep(now=later)
        page = supervisor.get(reverse("desk:supervise"), {"tab": "callback"}).content.decode()
        assert order.number in page and "data-overdue" in page
        page = supervisor.get(reverse("desk:supervise"), {"tab": "callback", "n": order.number}).content.decode()
        assert "has not replied by its deadline" in page and 'data-action="send_link"' not in page
        response = supervisor.post(reverse("desk:action", args=[order.number, "callback"]), {
            "next": "supervise", "tab": "callback", "reached": "yes", "contacted": "no", "resolution": "unsolved",
            "satisfaction": "basic", "note": "", "via": "phone"})
        assert response.status_code == 302
    assert Callback.objects.filter(order=order, reached=True).count() == 1
