"""The staff desk through the Django test client: who sees which screen, every action through
its screen, refused actions change nothing, privacy, escaping, idempotency, query counts."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from jiesu import clock
from jiesu.accounts.policy import Actor
from jiesu.catalogue.models import RequestType, Urgency
from jiesu.orders import actions
from jiesu.orders.models import (
    Assignment,
    AssignmentState,
    Event,
    Extension,
    ExtensionState,
    PersonalDataView,
    Satisfaction,
    WorkOrder,
)
from jiesu.orders.states import State
from tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client, city):
    """Sign in as a test user, in English (the catalogue may or may not be compiled)."""

    def as_user(username: str):
        client.force_login(city.users[username])
        client.cookies["django_language"] = "en"
        return client

    return as_user


def dispatched(city, new_order, *, lead="SLT", co=None, **kw) -> WorkOrder:
    order = new_order(**kw)
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit=lead, co_units=co or [])
    return WorkOrder.objects.get(pk=order.pk)


def in_callback(city, new_order, **kw) -> WorkOrder:
    order = dispatched(city, new_order, **kw)
    actions.accept_assignment(actor=city.actor("handler"), number=order.number)
    actions.reply_to_order(actor=city.actor("handler"), number=order.number, body="路灯已修复。", outcome="solved")
    actions.open_callback(actor=Actor.system(), number=order.number)
    return WorkOrder.objects.get(pk=order.pk)


def act(client, number: str, action: str, data: dict | None = None, next_screen: str = "order"):
    return client.post(reverse("desk:action", args=[number, action]), {"next": next_screen, **(data or {})})


def state_of(order: WorkOrder) -> str:
    return WorkOrder.objects.values_list("state", flat=True).get(pk=order.pk)


# --- access -----------------------------------------------------------------------------------

SCREENS = {
    "desk:intake": ({"calltaker", "dispatcher", "supervisor", "outreach", "admin"},
                    {"handler", "analyst", "nobody", "service"}),
    "desk:dispatch": ({"dispatcher", "admin"}, {"calltaker", "handler", "supervisor", "analyst", "nobody"}),
    "desk:inbox": ({"handler", "lead", "admin"}, {"calltaker", "dispatcher", "supervisor", "nobody"}),
    "desk:supervise": ({"supervisor", "admin"}, {"calltaker", "dispatcher", "handler", "nobody"}),
    "desk:orders": ({"analyst", "handler", "calltaker"}, {"nobody", "service"}),
}


@pytest.mark.parametrize("url_name", list(SCREENS))
def test_screens_need_login(client, city, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("desk:login"))


@pytest.mark.parametrize("url_name", list(SCREENS))
def test_each_screen_renders_for_its_roles_and_refuses_others(login, city, url_name):
    allowed, refused = SCREENS[url_name]
    for name in allowed:
        assert login(name).get(reverse(url_name)).status_code == 200, name
    for name in refused:
        assert login(name).get(reverse(url_name)).status_code == 403, name


def test_home_shows_only_the_users_screens_with_counts(login, city, new_order):
    new_order()
    html = login("dispatcher").get(reverse("desk:home")).content.decode()
    assert reverse("desk:dispatch") in html and reverse("desk:inbox") not in html
    assert 'class="tile-count">1<' in html
    html = login("handler").get(reverse("desk:home")).content.decode()
    assert reverse("desk:inbox") in html and reverse("desk:dispatch") not in html
    assert reverse("desk:intake") not in html
    html = login("nobody").get(reverse("desk:home")).content.decode()
    assert "no role" in html
    # window staff and outreach staff get a tile too, not only a greeting
    for name in ("service", "outreach"):
        html = login(name).get(reverse("desk:home")).content.decode()
        assert f'class="tile" href="{reverse("services:home")}"' in html, name
    html = login("analyst").get(reverse("desk:home")).content.decode()
    assert reverse("insight:dashboard") in html and reverse("followup:scorecards") in html


def test_login_page_and_sign_in_and_out(client, city):
    response = client.get(reverse("desk:login"))
    assert response.status_code == 200 and b'name="password"' in response.content
    response = client.post(reverse("desk:login"), {"username": "calltaker", "password": "pw-calltaker"})
    assert response.status_code == 302 and response.url == reverse("desk:home")
    assert client.get(reverse("desk:home")).status_code == 200
    client.post(reverse("desk:logout"))
    assert client.get(reverse("desk:home")).status_code == 302
    response = client.post(reverse("desk:login"), {"username": "calltaker", "password": "wrong"})
    assert response.status_code == 200 and b'class="form-error"' in response.content


def test_language_switch_to_english(client, city):
    client.force_login(city.users["calltaker"])
    response = client.post("/i18n/setlang/", {"language": "en", "next": reverse("desk:intake")})
    assert response.status_code == 302
    html = client.get(reverse("desk:intake")).content.decode()
    assert '<html lang="en"' in html and "Record a call" in html


# --- intake -----------------------------------------------------------------------------------


def intake_data(**kw):
    data = {
        "phone": "13912345678", "name": "李四", "request_type": RequestType.COMPLAINT, "urgency": Urgency.NORMAL,
        "content": "小区门口的井盖丢了，很危险。", "address": "朝阳区三里屯路1号", "area": "110105001",
        "category": "010101", "channel": "hotline", "do": "dispatch", "idempotency_key": "k-1",
    }
    data.update(kw)
    return data


def test_intake_form_renders_with_autofocus_and_tab_order(login, city):
    html = login("calltaker").get(reverse("desk:intake")).content.decode()
    names = re.findall(r'<(?:input|select|textarea)[^>]*\bname="(phone|name|request_type|urgency|content|address|area|category)"',
                       html)
    assert names == ["phone", "name", "request_type", "urgency", "content", "address", "area", "category"]
    assert re.search(r'<input id="f-phone"[^>]*autofocus', html)
    assert 'name="idempotency_key" value="' in html
    assert "三里屯街道" in html and "道路 / 路灯" in html  # areas; leaf categories with their path


def test_intake_sends_for_dispatch(login, city):
    client = login("calltaker")
    response = client.post(reverse("desk:intake"), intake_data())
    assert response.status_code == 302
    order = WorkOrder.objects.get()
    assert order.state == State.RECEIVED and order.channel == "hotline"
    assert order.area.code == "110105001" and order.category.code == "010101"
    assert order.requesters.get().phone == "13912345678"
    page = client.get(response.url).content.decode()
    assert f"Order {order.number} recorded and sent for dispatch." in page
    assert reverse("desk:order", args=[order.number]) in page


def test_intake_drops_the_invisible_characters_a_paste_brings(login, city):
    """A NUL, BEL, ESC or a right-to-left override pasted into the form is removed, not stored
    (they showed as boxes) and not refused with a message about characters no one can see."""
    response = login("calltaker").post(reverse("desk:intake"), intake_data(
        content="小区门口\x00的井盖\x07丢了\x1b[31m，\u202e很危险\n请尽快处理", name="张\x08三",
        address="朝阳区\x0c三里屯路19号"))
    assert response.status_code == 302, response.content.decode()[:2000]
    order = WorkOrder.objects.get()
    assert order.content == "小区门口的井盖丢了[31m，很危险\n请尽快处理"
    assert order.address == "朝阳区三里屯路19号" and order.requesters.get().name == "张三"


def test_intake_answers_on_the_spot_and_closes(login, city):
    response = login("calltaker").post(reverse("desk:intake"), intake_data(
        request_type=RequestType.CONSULT, do="answer", answer="社保卡补办请到区社保中心。", area="", category=""))
    assert response.status_code == 302
    order = WorkOrder.objects.get()
    assert order.state == State.CLOSED and order.answer.startswith("社保卡")
    assert list(order.events.values_list("code", flat=True)) == ["created", "answered", "closed"]


def test_intake_double_submit_makes_one_order(login, city):
    client = login("calltaker")
    first = client.post(reverse("desk:intake"), intake_data(idempotency_key="same-key"))
    second = client.post(reverse("desk:intake"), intake_data(idempotency_key="same-key"))
    assert first.status_code == second.status_code == 302
    assert WorkOrder.objects.count() == 1
    # …also for "answer on the spot": the retry does not try to answer a closed order again.
    client.post(reverse("desk:intake"), intake_data(idempotency_key="k-2", do="answer", answer="已解答"))
    again = client.post(reverse("desk:intake"), intake_data(idempotency_key="k-2", do="answer", answer="已解答"))
    assert again.status_code == 302 and WorkOrder.objects.count() == 2


def test_intake_invalid_phone_shows_message_keeps_form_changes_nothing(login, city):
    response = login("calltaker").post(reverse("desk:intake"), intake_data(phone="12"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "is not a valid phone number" in html
    assert 'aria-invalid="true" aria-describedby="f-phone-err"' in html
    assert "小区门口的井盖丢了" in html  # the form is kept
    assert 'value="k-1"' in html  # with the same key, so a fixed retry cannot duplicate
    assert WorkOrder.objects.count() == 0


def test_intake_refused_keeps_the_suggestion_and_the_callers_history(login, city, new_order):
    """After a refusal the panels beside the form show what they showed before the click (the
    suggestion with its "use it" button, the caller's orders), not their empty placeholders."""
    earlier = new_order(requesters=[actions.RequesterInput(phone="13912345678")])
    response = login("calltaker").post(reverse("desk:intake"), intake_data(
        do="answer", answer="", content="三里屯路口的路灯坏了一个星期，晚上很黑", category="", area=""))
    assert response.status_code == 422
    html = response.content.decode()
    assert "data-triage-fill" in html and 'data-category="010101"' in html
    assert "Suggestions appear here" not in html
    assert reverse("desk:order", args=[earlier.number]) in html


def test_intake_answer_needs_text_and_nothing_is_created(login, city):
    response = login("calltaker").post(reverse("desk:intake"), intake_data(do="answer", answer=""))
    assert response.status_code == 422
    assert b"Write the answer given to the caller." in response.content
    assert WorkOrder.objects.count() == 0


def test_intake_answer_refused_for_outreach_rolls_back(login, city):
    # Outreach staff may record but not answer: the refusal leaves no half-made order behind.
    response = login("outreach").post(reverse("desk:intake"), intake_data(do="answer", answer="x"))
    assert response.status_code == 422
    assert b"You are not allowed to do this." in response.content
    assert WorkOrder.objects.count() == 0


def test_caller_history_via_htmx(login, city, new_order):
    order = new_order()
    client = login("calltaker")
    response = client.get(reverse("desk:caller_history"), {"phone": "138 1234 5678"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="caller-history"' in html and order.number in html and "<html" not in html
    html = client.get(reverse("desk:caller_history"), {"phone": "13900000000"}).content.decode()
    assert "No earlier orders" in html
    assert login("handler").get(reverse("desk:caller_history"), {"phone": "13812345678"}).status_code == 403


# --- dispatcher ---------------------------------------------------------------------------------


def test_dispatch_queue_shows_returns_first_with_reason(login, city, new_order):
    plain = new_order()
    returned = dispatched(city, new_order, content="第二个工单")
    actions.return_assignment(actor=city.actor("handler"), number=returned.number, reason="不属于本街道职责范围")
    html = login("dispatcher").get(reverse("desk:dispatch")).content.decode()
    assert html.index(returned.number) < html.index(plain.number)
    assert "Returned by 三里屯街道办事处:" in html and "不属于本街道职责范围" in html


def test_any_order_opens_by_its_number_beyond_the_lists_first_rows(login, city, new_order, monkeypatch):
    """The queue shows its oldest 100; the "order no." box opens any other, and a number the user
    may not open gives the queue with a message, not a "not found" page."""
    from jiesu.desk.views import dispatch as dispatch_view
    from jiesu.desk.views import supervise as supervise_view

    monkeypatch.setattr(dispatch_view, "QUEUE_LIMIT", 2)
    orders = [new_order(content=f"第{i}个工单，路灯坏了") for i in range(4)]
    client = login("dispatcher")
    page = client.get(reverse("desk:dispatch")).content.decode()
    assert 'name="n"' in page and "Only the first 2 are shown, the oldest first" in page
    assert orders[3].number not in page
    page = client.get(reverse("desk:dispatch"), {"n": orders[3].number}).content.decode()
    assert f'data-number="{orders[3].number}"' in page or f"/desk/orders/{orders[3].number}/" in page
    missing = client.get(reverse("desk:dispatch"), {"n": "20990101000001"})
    assert missing.status_code == 200
    assert "There is no order 20990101000001 that you can open." in missing.content.decode()
    monkeypatch.setattr(supervise_view, "LIST_LIMIT", 1)
    page = login("supervisor").get(reverse("desk:supervise"), {"tab": "overdue", "n": "x"}).content.decode()
    assert "There is no order x that you can open." in page and 'name="tab" value="overdue"' in page


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 9])
def test_the_queue_head_is_the_queue_cut_at_its_limit(city, new_order, limit):
    from jiesu.desk.selectors import returned_assignment
    from jiesu.orders import selectors

    # received and returned orders interleaved in time, two received at the same instant, and
    # orders that are not waiting (dispatched) that neither may show
    for i in range(7):
        with clock.frozen(at(f"2026-01-05 {9 + i:02d}:00" if i != 3 else "2026-01-05 11:00")):
            if i % 3 == 1:
                order = dispatched(city, new_order, content=f"退回 {i}")
                actions.return_assignment(actor=city.actor("handler"), number=order.number, reason=f"非本辖区 {i}")
            elif i == 5:
                dispatched(city, new_order, content=f"已派 {i}")
            else:
                new_order(content=f"待派 {i}")
    dispatcher = city.actor("dispatcher")
    whole = list(selectors.triage_queue(dispatcher))
    assert [o.state for o in whole[:2]] == [State.RETURNED] * 2 and len(whole) == 6
    head = selectors.triage_queue_head(dispatcher, limit=limit)
    assert [o.number for o in head] == [o.number for o in whole[:limit]]
    # the assignments come with the head, as with the queue: the returned ones say who returned them
    assert [getattr(returned_assignment(o), "return_reason", None) for o in head] == [
        getattr(returned_assignment(o), "return_reason", None) for o in whole[:limit]]


def test_dispatch_through_the_screen(login, city, new_order):
    order = new_order(category_code=None, area_code=None)
    client = login("dispatcher")
    page = client.get(reverse("desk:dispatch"), {"n": order.number}).content.decode()
    assert 'data-action="dispatch"' in page and 'data-action="refer"' in page
    response = act(client, order.number, "dispatch", {
        "area": "110105001", "category": "010101", "lead_unit": "SLT", "co_units": ["PSB-SLT"], "note": "请尽快"},
        next_screen="dispatch")
    assert response.status_code == 302 and response.url == reverse("desk:dispatch")
    order.refresh_from_db()
    assert order.state == State.DISPATCHED and order.area.code == "110105001"
    units = sorted(order.assignments.values_list("unit__code", "role"))
    assert units == [("PSB-SLT", "co"), ("SLT", "lead")]
    assert f"Order {order.number} dispatched to 三里屯街道办事处." in client.get(response.url).content.decode()


def test_a_returned_order_dispatched_again_names_its_new_lead(login, city, new_order):
    """The message and the lists name the unit it went to now, not the one that returned it."""
    order = dispatched(city, new_order)
    actions.return_assignment(actor=city.actor("handler"), number=order.number, reason="应由自来水集团处理")
    order = WorkOrder.objects.prefetch_related("assignments__unit").get(pk=order.pk)
    assert order.lead_assignment.unit.code == "SLT"  # waiting again: who returned it
    client = login("dispatcher")
    response = act(client, order.number, "dispatch", {
        "area": "110105001", "category": "010101", "lead_unit": "WATER", "note": ""}, next_screen="dispatch")
    assert response.status_code == 302
    assert f"Order {order.number} dispatched to 自来水集团." in client.get(response.url).content.decode()
    order = WorkOrder.objects.prefetch_related("assignments__unit").get(pk=order.pk)
    assert order.lead_assignment.unit.code == "WATER"


def test_dispatch_refused_by_service_shows_message_keeps_form_changes_nothing(login, city, new_order):
    order = new_order()
    client = login("dispatcher")
    response = act(client, order.number, "dispatch", {"lead_unit": "C12345", "note": "保留这段备注"},
                   next_screen="dispatch")
    assert response.status_code == 422
    html = response.content.decode()
    assert "is a centre, not a handling unit" in html
    assert "保留这段备注" in html and 'aria-describedby="f-dispatch-lead_unit-err"' in html
    assert state_of(order) == State.RECEIVED and not Assignment.objects.exists()
    # A form-level refusal (no lead unit) is also explained next to the form.
    response = act(client, order.number, "dispatch", {"lead_unit": ""}, next_screen="dispatch")
    assert response.status_code == 422 and b"Choose the lead unit." in response.content


def test_dispatch_of_an_order_already_dispatched_is_refused(login, city, new_order):
    order = dispatched(city, new_order)
    response = act(login("dispatcher"), order.number, "dispatch", {"lead_unit": "ZGC"})
    assert response.status_code == 422
    assert "it cannot be dispatched" in response.content.decode()
    assert list(order.assignments.values_list("unit__code", flat=True)) == ["SLT"]


def test_refer_and_decline_with_art11_outcomes(login, city, new_order):
    client = login("dispatcher")
    a, b = new_order(), new_order()
    html = client.get(reverse("desk:dispatch"), {"n": a.number}).content.decode()
    for outcome in ("emergency", "legal_process", "duplicate", "secret", "no_duty", "unlawful"):
        assert f'value="{outcome}"' in html
    assert act(client, a.number, "refer", {"outcome": "emergency", "referred_to": "110"}).status_code == 302
    assert state_of(a) == State.REFERRED
    response = act(client, b.number, "decline", {"outcome": "no_duty", "reason": ""})
    assert response.status_code == 422 and b"Please fill in" in response.content
    assert state_of(b) == State.RECEIVED
    assert act(client, b.number, "decline", {"outcome": "no_duty", "reason": "不属于政府职责"}).status_code == 302
    assert state_of(b) == State.DECLINED


def test_merge_requeue_and_extension_rulings(login, city, new_order):
    client = login("dispatcher")
    keep, dup = new_order(), new_order(requesters=[actions.RequesterInput(phone="13700000000", name="王五")])
    assert act(client, dup.number, "merge", {"into": keep.number}, "dispatch").status_code == 302
    assert state_of(dup) == State.MERGED and keep.requesters.count() == 2
    response = act(client, keep.number, "merge", {"into": keep.number}, "dispatch")
    assert response.status_code == 422 and b"cannot be merged into itself" in response.content

    returned = dispatched(city, new_order)
    actions.return_assignment(actor=city.actor("handler"), number=returned.number, reason="非本辖区")
    assert act(client, returned.number, "requeue", {"reason": "维持退单"}, "dispatch").status_code == 302
    assert state_of(returned) == State.RECEIVED

    slow = dispatched(city, new_order)
    actions.accept_assignment(actor=city.actor("handler"), number=slow.number)
    ext = actions.request_extension(actor=city.actor("handler"), number=slow.number, working_days=3, reason="需协调")
    html = client.get(reverse("desk:dispatch"), {"tab": "extensions"}).content.decode()
    assert slow.number in html and "需协调" in html
    response = act(client, slow.number, "decide_extension", {"extension": ext.pk, "decision": "approve"},
                   "dispatch")
    assert response.status_code == 302
    ext.refresh_from_db()
    assert ext.state == ExtensionState.APPROVED and ext.new_due_at is not None
    # Ruling again: refused, shown at that request, nothing changes.
    response = act(client, slow.number, "decide_extension", {"extension": ext.pk, "decision": "reject"}, "dispatch")
    assert response.status_code == 422 and b"No extension request is waiting" in response.content
    assert Extension.objects.get(pk=ext.pk).state == ExtensionState.APPROVED


# --- unit inbox -----------------------------------------------------------------------------------


def test_inbox_colours_and_actions(login, city, new_order):
    order = dispatched(city, new_order, co=["PSB-SLT"])
    client = login("handler")
    html = client.get(reverse("desk:inbox")).content.decode()
    assert order.number in html and "dl-ok" in html and "left" in html
    assert act(client, order.number, "accept", {}, "inbox").status_code == 302
    assert state_of(order) == State.ACCEPTED
    assert act(client, order.number, "contact", {"note": "已电话联系"}, "inbox").status_code == 302
    assert Assignment.objects.get(order=order, role="lead").contacted_at is not None
    assert act(client, order.number, "extend", {"working_days": "2", "reason": "等待配件"}, "inbox").status_code == 302
    assert Extension.objects.get().state == ExtensionState.PENDING
    # The lead's reply must say what the co-unit did: refused, form kept, nothing changed.
    page = client.get(reverse("desk:inbox"), {"n": order.number}).content.decode()
    assert 'name="co_unit_summary"' in page
    response = act(client, order.number, "reply", {"body": "路灯已修复", "outcome": "solved"}, "inbox")
    assert response.status_code == 422
    assert b"Say what the co-handling units did." in response.content and "路灯已修复" in response.content.decode()
    assert state_of(order) == State.ACCEPTED
    response = act(client, order.number, "reply", {"body": "路灯已修复", "outcome": "solved",
                                                   "co_unit_summary": "派出所维持秩序"}, "inbox")
    assert response.status_code == 302
    assert state_of(order) in (State.REPLIED, State.CALLBACK_DUE)


def test_inbox_overdue_is_red_and_soon_is_amber(login, city, new_order):
    with clock.frozen(at("2026-01-05 10:00")):
        late = dispatched(city, new_order)
    soon = dispatched(city, new_order, urgency=Urgency.EMERGENCY)
    html = login("handler").get(reverse("desk:inbox")).content.decode()
    row = re.search(rf'class="item (dl-\w+)" href="\?n={late.number}"', html)
    assert row and row.group(1) == "dl-over" and "overdue by" in html
    row = re.search(rf'class="item (dl-\w+)" href="\?n={soon.number}"', html)
    assert row and row.group(1) == "dl-soon"


def test_a_missed_contact_deadline_is_shown_until_contact_is_recorded(login, city, new_order):
    with clock.frozen(at("2026-01-05 10:00")):
        late = dispatched(city, new_order)
    client = login("handler")
    html = client.get(reverse("desk:inbox"), {"n": late.number}).content.decode()
    chip = re.search(r'<span class="chip (dl-\w+)" data-contact-left>([^<]*)</span>', html)
    assert chip and chip.group(1) == "dl-over" and "overdue by" in chip.group(2)
    actions.accept_assignment(actor=city.actor("handler"), number=late.number)
    actions.record_contact(actor=city.actor("handler"), number=late.number, note="已电话联系")
    html = client.get(reverse("desk:inbox"), {"n": late.number}).content.decode()
    assert "data-contact-left" not in html and " ✓" in html


def test_return_with_reason_from_inbox(login, city, new_order):
    order = dispatched(city, new_order)
    client = login("handler")
    response = act(client, order.number, "return", {"reason": ""}, "inbox")
    assert response.status_code == 422 and state_of(order) == State.DISPATCHED
    # sent by htmx (a boosted form), the refusal keeps the address bar on the inbox: a reload of
    # the action's address would otherwise be a GET of a POST-only URL
    url = reverse("desk:action", args=[order.number, "return"])
    refused = client.post(url, {"next": "inbox", "reason": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422 and refused["HX-Push-Url"] == "false"
    assert "HX-Push-Url" not in client.get(reverse("desk:inbox"), HTTP_HX_REQUEST="true")
    assert act(client, order.number, "return", {"reason": "应由自来水集团处理"}, "inbox").status_code == 302
    assert state_of(order) == State.RETURNED


def test_handler_of_unit_a_never_sees_unit_b_order(login, city, new_order):
    order = dispatched(city, new_order)
    client = login("zgc_handler")
    assert client.get(reverse("desk:order", args=[order.number])).status_code == 404
    assert client.get(reverse("desk:inbox"), {"n": order.number}).status_code == 404
    assert order.number not in client.get(reverse("desk:inbox")).content.decode()
    assert order.number not in client.get(reverse("desk:orders")).content.decode()
    assert act(client, order.number, "accept", {}, "inbox").status_code == 404
    assert state_of(order) == State.DISPATCHED


def test_confidential_report_hides_requester_from_the_unit(login, city, new_order):
    order = dispatched(city, new_order, request_type=RequestType.REPORT,
                       requesters=[actions.RequesterInput(phone="13812345678", name="张三丰")])
    client = login("handler")
    for url in (reverse("desk:order", args=[order.number]), f"{reverse('desk:inbox')}?n={order.number}"):
        html = client.get(url).content.decode()
        assert order.number in html
        assert "张三丰" not in html and "13812345678" not in html
        assert "138****5678" in html
    assert not PersonalDataView.objects.filter(user=city.users["handler"]).exists()


def test_unmasked_view_is_logged(login, city, new_order):
    order = new_order()
    html = login("dispatcher").get(reverse("desk:order", args=[order.number])).content.decode()
    assert "13812345678" in html and "张三" in html
    view = PersonalDataView.objects.get()
    assert view.user == city.users["dispatcher"] and view.order_id == order.pk


def test_script_in_fields_is_escaped(login, city, new_order):
    order = new_order(content="<script>alert('x')</script>", address="<img src=x onerror=alert(1)>",
                      requesters=[actions.RequesterInput(phone="13812345678", name="<b>坏人</b>")])
    actions.add_note(actor=city.actor("dispatcher"), number=order.number, text="<script>note()</script>")
    client = login("dispatcher")
    for url in (reverse("desk:order", args=[order.number]), reverse("desk:dispatch"), reverse("desk:orders")):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>坏人" not in html
        assert "<script>note" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in client.get(
        reverse("desk:order", args=[order.number])).content.decode()


# --- supervision ---------------------------------------------------------------------------------


def test_supervise_overdue_urge_and_at_risk(login, city, new_order):
    with clock.frozen(at("2026-01-05 10:00")):
        late = dispatched(city, new_order)
    soon = dispatched(city, new_order, urgency=Urgency.EMERGENCY)
    client = login("supervisor")
    html = client.get(reverse("desk:supervise")).content.decode()
    assert late.number in html and soon.number not in html.split('class="queue"')[1].split("</ul>")[0]
    assert soon.number in client.get(reverse("desk:supervise"), {"tab": "risk"}).content.decode()
    response = act(client, late.number, "urge", {"reason": "请今日内办结"}, "supervise")
    assert response.status_code == 302
    assert Event.objects.filter(order=late, code="urged", reason="请今日内办结").exists()
    response = act(client, late.number, "urge", {"reason": ""}, "supervise")
    assert response.status_code == 422 and Event.objects.filter(code="urged").count() == 1


def test_callback_closes_reopens_and_counts_attempts(login, city, new_order):
    client = login("supervisor")
    good, bad, far = (in_callback(city, new_order) for _ in range(3))
    html = client.get(reverse("desk:supervise"), {"tab": "callback", "n": good.number}).content.decode()
    assert 'data-action="callback"' in html and "13812345678" in html  # the supervisor calls back
    # Reached but no answers: refused, nothing recorded.
    response = act(client, good.number, "callback", {"reached": "yes", "via": "phone"}, "supervise")
    assert response.status_code == 422 and state_of(good) == State.CALLBACK_DUE
    assert b"Record whether it was solved" in response.content
    ok = {"reached": "yes", "contacted": "yes", "solved": "yes", "satisfaction": Satisfaction.SATISFIED,
          "via": "phone", "tab": "callback"}
    assert act(client, good.number, "callback", ok, "supervise").status_code == 302
    assert state_of(good) == State.CLOSED
    no = {**ok, "solved": "no", "satisfaction": Satisfaction.UNSATISFIED}
    assert act(client, bad.number, "callback", no, "supervise").status_code == 302
    assert state_of(bad) == State.REOPENED
    response = act(client, far.number, "callback", {"reached": "no", "via": "phone", "tab": "callback"}, "supervise")
    assert response.status_code == 302
    far.refresh_from_db()
    assert far.state == State.CALLBACK_DUE and far.callback_attempts == 1
    assert "attempt 1 of 3" in client.get(response.url).content.decode()


def test_reopen_a_closed_order(login, city, new_order):
    order = in_callback(city, new_order)
    actions.record_callback(actor=city.actor("supervisor"), number=order.number, reached=True, contacted=True,
                            solved=True, satisfaction=Satisfaction.SATISFIED)
    client = login("supervisor")
    assert 'data-action="reopen"' in client.get(reverse("desk:order", args=[order.number])).content.decode()
    assert act(client, order.number, "reopen", {"reason": "群众再次反映"}).status_code == 302
    assert state_of(order) == State.REOPENED


# --- the order page ---------------------------------------------------------------------------------


def test_order_page_timeline(login, city, new_order):
    with clock.frozen(at("2026-09-30 16:00")):
        order = dispatched(city, new_order, co=["PSB-SLT"])
    actions.return_assignment(actor=city.actor("police_handler"), number=order.number, reason="非本所职责")
    html = login("supervisor").get(reverse("desk:order", args=[order.number])).content.decode()
    for text in ("Recorded", "Dispatched", "Returned", "2026-09-30 16:00", "Received → Dispatched",
                 "三里屯派出所", "非本所职责", "calltaker", "dispatcher", "Lead unit", "三里屯街道办事处"):
        assert text in html, text
    assert 'data-action="urge"' in html  # the supervisor's action here
    assert 'data-action="dispatch"' not in html


def test_order_actions_offered_match_the_role(login, city, new_order):
    order = dispatched(city, new_order)
    html = login("handler").get(reverse("desk:order", args=[order.number])).content.decode()
    assert 'data-action="accept"' in html and 'data-action="urge"' not in html
    html = login("calltaker").get(reverse("desk:order", args=[order.number])).content.decode()
    assert 'data-action="accept"' not in html and 'data-action="dispatch"' not in html


def test_answered_order_is_closed_from_its_page(login, city, new_order):
    order = new_order()
    client = login("calltaker")
    assert act(client, order.number, "answer", {"answer": "已告知办理流程"}).status_code == 302
    assert state_of(order) == State.ANSWERED
    response = act(client, order.number, "close", {})
    assert response.status_code == 302
    html = client.get(response.url).content.decode()
    assert state_of(order) == State.CLOSED and "Closed" in html


def test_unknown_action_is_refused_and_a_get_leads_to_the_order(login, city, new_order):
    order = new_order()
    client = login("dispatcher")
    assert act(client, order.number, "explode").status_code == 404
    # a reload or bookmark of an action's address: the order's page, where its form is
    got = client.get(reverse("desk:action", args=[order.number, "dispatch"]))
    assert got.status_code == 302 and got["Location"] == reverse("desk:order", args=[order.number])
    assert state_of(order) == State.RECEIVED
    assert login("handler").get(reverse("desk:action", args=[order.number, "dispatch"])).status_code == 404
    assert client.put(reverse("desk:action", args=[order.number, "dispatch"])).status_code == 405


def test_order_search(login, city, new_order):
    a = new_order(content="噪音扰民，夜间施工")
    b = new_order(requesters=[actions.RequesterInput(phone="13700000001")])
    client = login("calltaker")
    html = client.get(reverse("desk:orders"), {"q": "夜间施工"}).content.decode()
    assert a.number in html and b.number not in html
    html = client.get(reverse("desk:orders"), {"phone": "13700000001"}).content.decode()
    assert b.number in html and a.number not in html
    # Units may not filter by phone (they could probe who filed a confidential report).
    html = login("analyst").get(reverse("desk:orders"), {"phone": "13700000001"}).content.decode()
    assert 'name="phone"' not in html


# --- query counts: a list costs the same whatever its length -------------------------------------


def _make(city, new_order, n: int, kind: str) -> WorkOrder | None:
    last = None
    for i in range(n):
        if kind == "received":
            last = new_order(content=f"工单 {i}")
        elif kind == "dispatched":
            with clock.frozen(at("2026-01-05 10:00")):
                last = dispatched(city, new_order, co=["PSB-SLT"], content=f"工单 {i}")
        elif kind == "callback":
            last = in_callback(city, new_order, content=f"工单 {i}")
        elif kind == "returned":  # half of them returned by the unit, with a reason; urgent ones too
            last = dispatched(city, new_order, content=f"工单 {i}", urgency="urgent" if i % 3 else "normal")
            if i % 2:
                actions.return_assignment(actor=city.actor("handler"), number=last.number, reason=f"非本辖区 {i}")
    return last


LIST_SCREENS = [
    # user, screen, query, what the list holds, max queries (measured: the same for 5 and 20 orders)
    # The duplicates come after the page (desk:dispatch_duplicates, tests/test_dispatch_desk.py).
    # The queue is read as returned, then received orders, then their assignments (triage_queue_head).
    ("dispatcher", "desk:dispatch", {}, "received", 16),
    ("dispatcher", "desk:dispatch", {}, "returned", 16),
    ("dispatcher", "desk:dispatch", {"tab": "extensions"}, "received", 8),
    ("handler", "desk:inbox", {}, "dispatched", 10),  # the pane without its history (inbox_pane_order)
    ("supervisor", "desk:supervise", {}, "dispatched", 17),
    ("supervisor", "desk:supervise", {"tab": "callback"}, "callback", 22),
    ("calltaker", "desk:orders", {}, "received", 7),
    ("dispatcher", "desk:home", {}, "received", 8),
    ("supervisor", "desk:home", {}, "dispatched", 8),
    ("handler", "desk:home", {}, "dispatched", 8),
]


@pytest.mark.parametrize(("user", "url_name", "params", "kind", "limit"), LIST_SCREENS)
@pytest.mark.parametrize("n", [5, 20])
def test_list_screens_query_count_does_not_grow(login, city, new_order, django_assert_max_num_queries,
                                                user, url_name, params, kind, limit, n):
    _make(city, new_order, n, kind)
    client = login(user)
    with django_assert_max_num_queries(limit):
        response = client.get(reverse(url_name), params)
    assert response.status_code == 200


@pytest.mark.parametrize("n", [5, 20])
def test_order_page_query_count_does_not_grow_with_history(login, city, new_order,
                                                           django_assert_max_num_queries, n):
    order = dispatched(city, new_order, co=["PSB-SLT"])
    for i in range(n):
        actions.urge_order(actor=city.actor("supervisor"), number=order.number, reason=f"督办 {i}")
    client = login("supervisor")
    with django_assert_max_num_queries(30):
        assert client.get(reverse("desk:order", args=[order.number])).status_code == 200


def test_extension_pending_order_still_listed(login, city, new_order):
    order = dispatched(city, new_order)
    actions.accept_assignment(actor=city.actor("handler"), number=order.number)
    actions.request_extension(actor=city.actor("handler"), number=order.number, working_days=2, reason="r")
    html = login("handler").get(reverse("desk:inbox")).content.decode()
    assert "extension asked" in html
    assert Assignment.objects.get(order=order).state == AssignmentState.ACCEPTED


@pytest.mark.parametrize("n", [5, 20])
def test_caller_history_query_count(login, city, new_order, django_assert_max_num_queries, n):
    for i in range(n):
        new_order(content=f"第 {i} 次来电")
    client = login("calltaker")
    with django_assert_max_num_queries(5):
        html = client.get(reverse("desk:caller_history"), {"phone": "13812345678"}).content.decode()
    assert html.count('<li>') == min(n, 10)


def test_desk_keeps_no_personal_data_in_the_browser_history_cache(login, city):
    html = login("dispatcher").get(reverse("desk:dispatch")).content.decode()
    assert '"historyCacheSize":0' in html
