"""The whole loop in a real headless Chromium, in Chinese and in English: call-taker → dispatcher
→ handler → supervisor → closed; and the public portal's submit, track and rate on a phone.

Screenshots of every main screen go to /tmp/jiesu-shots/ for a human to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jiesu.accounts.policy import Actor
from jiesu.orders import actions
from jiesu.orders.models import WorkOrder
from jiesu.orders.states import State
from tests.browser_kit import SHOTS, require_chromium
from tests.conftest import build_city

playwright_api = require_chromium()
expect = playwright_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# What each language shows at the checkpoints (the Chinese only once the catalogue is compiled).
TEXT = {
    "zh": {"closed": "已办结", "recorded": "已登记并转派单", "dispatched": "已派至", "accepted": "已签收",
           "replied": "答复已发送", "callback": "已办结", "intake": "登记来电", "submitted": "请妥善保存此编号",
           "thanks": "感谢您的评价", "waiting": "请在下方告诉我们", "no_history": "该号码没有以往工单"},
    "en": {"closed": "Closed", "recorded": "recorded and sent for dispatch", "dispatched": "dispatched to",
           "accepted": "accepted", "replied": "Reply to order", "callback": "is closed", "intake": "Record a call",
           "submitted": "Please keep this number.", "thanks": "Thank you. Your rating has been recorded.",
           "waiting": "Please tell us below", "no_history": "No earlier orders for this number."},
}


@pytest.fixture
def city_live(live_server):
    return build_city()


def _need_catalogue(lang: str) -> None:
    """The Chinese run checks Chinese text: say plainly when the catalogue is not compiled."""
    from django.conf import settings

    if lang == "zh" and not any(
        (Path(p) / "zh_Hans" / "LC_MESSAGES" / "django.mo").exists() for p in settings.LOCALE_PATHS
    ):
        pytest.fail("the Chinese catalogue is not compiled (jiesu/locale/zh_Hans/LC_MESSAGES/django.mo): "
                    "run `django-admin compilemessages` first")


def _context(browser, lang: str, **kw):
    _need_catalogue(lang)
    # The browser asks for Chinese; the English run switches with the language button.
    context = browser.new_context(locale="zh-CN", **kw)
    context.set_default_timeout(15_000)
    return context


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _login(page, base: str, username: str, lang: str) -> None:
    page.goto(f"{base}/desk/login/")
    if lang == "en" and page.locator("html").get_attribute("lang") != "en":
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.locator("form button[type=submit]").last.click()
    expect(page.locator(".topbar .user")).to_have_text(username)


def _logout(page) -> None:
    page.locator(".who form button").last.click()
    expect(page.locator("#id_username")).to_be_visible()


def _message(page, text: str) -> None:
    expect(page.locator(".messages .msg-success")).to_contain_text(text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_desk_loop_intake_to_closed(browser, live_server, city_live, lang):
    t = TEXT[lang]
    base = live_server.url
    context = _context(browser, lang, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # 话务员: record the call; the caller's history appears while typing the number.
    _login(page, base, "calltaker", lang)
    if lang == "zh":
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    _shot(page, f"{lang}-00-home-calltaker")
    page.locator(".topbar nav a").first.click()
    expect(page.locator("#intake-h")).to_have_text(t["intake"])
    expect(page.locator("#f-phone")).to_be_focused()
    page.locator("#f-phone").press_sequentially("13812345678")
    expect(page.locator("#caller-history")).to_contain_text(t["no_history"])
    page.keyboard.press("Enter")  # Enter moves on to the next field
    expect(page.locator("#f-name")).to_be_focused()
    page.keyboard.type("张三")
    page.keyboard.press("Enter")
    expect(page.locator("#f-request_type")).to_be_focused()
    page.select_option("#f-request_type", "complaint")
    page.keyboard.press("Enter")  # a drop-down passes Enter on too, instead of swallowing it
    expect(page.locator("#f-urgency")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#f-content")).to_be_focused()
    page.keyboard.type("三里屯路口的路灯坏了一个星期，晚上很黑，请尽快修理。")
    page.fill("#f-address", "朝阳区三里屯路19号")
    page.select_option("#f-area", "110105001")
    page.select_option("#f-category", "010101")
    _shot(page, f"{lang}-01-intake-filled")
    if lang == "zh":
        # the shortcut the form's hint offers; it must send what the button sends (do=dispatch)
        page.locator("#f-category").focus()
        page.keyboard.press("Control+Enter")
    else:
        page.locator("button[name=do][value=dispatch]").click()
    _message(page, t["recorded"])
    number = page.locator(".last-order a").inner_text().strip()
    assert re.fullmatch(r"\d{14}", number)
    expect(page.locator("#f-phone")).to_have_value("")
    _shot(page, f"{lang}-02-intake-recorded")
    assert WorkOrder.objects.get(number=number).state == State.RECEIVED
    _logout(page)

    # 派单员: the order is at the top of the queue; dispatch it to the street office.
    _login(page, base, "dispatcher", lang)
    page.goto(f"{base}/desk/dispatch/")
    expect(page.locator(".queue .item").first).to_contain_text(number)
    page.select_option("#f-dispatch-lead_unit", "SLT")
    page.select_option("#f-dispatch-co_units", ["PSB-SLT"])
    _shot(page, f"{lang}-03-dispatch")
    page.locator("form[data-action=dispatch] button[type=submit]").click()
    _message(page, t["dispatched"])
    assert WorkOrder.objects.get(number=number).state == State.DISPATCHED
    _logout(page)

    # The co-unit accepts and replies first (the lead must then say what it did).
    _login(page, base, "police_handler", lang)
    page.goto(f"{base}/desk/inbox/")
    page.locator(f".queue li:has-text('{number}') .row-action button").click()
    _message(page, t["accepted"])
    page.fill("#f-reply-body", "已派民警协助维持秩序。")
    page.locator("form[data-action=reply] button[type=submit]").click()
    _message(page, t["replied"])
    _logout(page)

    # 承办人: accept, reply with the co-unit summary.
    _login(page, base, "handler", lang)
    page.goto(f"{base}/desk/inbox/")
    item = page.locator(".queue .item").first
    expect(item).to_contain_text(number)
    expect(item).to_have_class(re.compile(r"dl-ok"))
    _shot(page, f"{lang}-04-inbox")
    page.locator("form[data-action=accept] button[type=submit]").click()
    _message(page, t["accepted"])
    # A refused reply (no co-unit summary) keeps the text and explains, in the user's language.
    page.fill("#f-reply-body", "路灯已更换灯泡，恢复照明。")
    page.locator("form[data-action=reply] button[type=submit]").click()
    expect(page.locator("form[data-action=reply] .form-error")).to_be_visible()
    expect(page.locator("#f-reply-body")).to_have_value("路灯已更换灯泡，恢复照明。")
    _shot(page, f"{lang}-05-inbox-refused")
    page.fill("#f-reply-co_unit_summary", "派出所协助维持秩序。")
    page.locator("form[data-action=reply] button[type=submit]").click()
    _message(page, t["replied"])
    order = WorkOrder.objects.get(number=number)
    assert order.state in (State.REPLIED, State.CALLBACK_DUE)
    if order.state == State.REPLIED:  # the task backend has no worker here: queue it as the worker would
        actions.open_callback(actor=Actor.system(), number=number)
    _logout(page)

    # 督办员: the callback closes the order.
    _login(page, base, "supervisor", lang)
    page.goto(f"{base}/desk/supervise/?tab=callback")
    expect(page.locator(".queue .item").first).to_contain_text(number)
    page.check("form[data-action=callback] input[name=contacted][value=yes]")
    page.check("form[data-action=callback] input[name=resolution][value=solved]")
    page.check("form[data-action=callback] input[name=satisfaction][value=satisfied]")
    _shot(page, f"{lang}-06-callback")
    page.locator("form[data-action=callback] button[name=reached][value=yes]").click()
    _message(page, t["callback"])
    assert WorkOrder.objects.get(number=number).state == State.CLOSED

    page.goto(f"{base}/desk/orders/{number}/")
    expect(page.locator(".order-head .st")).to_have_text(t["closed"])
    expect(page.locator(".timeline li")).to_have_count(8)
    _shot(page, f"{lang}-07-order-closed")
    page.goto(f"{base}/desk/supervise/")
    _shot(page, f"{lang}-08-supervise")
    assert not errors, errors
    context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_portal_submit_track_and_rate_on_a_phone(browser, live_server, city_live, lang):
    t = TEXT[lang]
    base = live_server.url
    context = _context(browser, lang, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{base}/")
    if lang == "en":
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    _shot(page, f"{lang}-20-portal-home")
    # Large text stays on from page to page.
    page.locator("[data-large-toggle]").click()
    expect(page.locator("html")).to_have_class(re.compile("large-text"))
    page.locator(".big-link").first.click()
    expect(page.locator("html")).to_have_class(re.compile("large-text"))
    expect(page.locator("[data-large-toggle]")).to_have_attribute("aria-pressed", "true")

    # A wrong phone: a clear message, the form kept.
    page.fill("#p-name", "赵六")
    page.fill("#p-phone", "12")
    page.locator("input[name=request_type][value=help]").check()
    page.fill("#p-content", "楼道灯坏了，老人上下楼不方便。")
    page.fill("#p-address", "朝阳区三里屯北里5号楼")
    page.select_option("#p-area", "110105001")
    page.locator("form button[type=submit]").last.click()
    expect(page.locator(".form-error")).to_be_visible()
    expect(page.locator("#p-content")).to_have_value("楼道灯坏了，老人上下楼不方便。")
    _shot(page, f"{lang}-21-portal-submit-error")
    page.fill("#p-phone", "13612345678")
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("[data-order-number]")).to_be_visible()
    expect(page.locator("main")).to_contain_text(t["submitted"])
    number = page.locator("[data-order-number]").inner_text().strip()
    _shot(page, f"{lang}-22-portal-submitted")
    assert WorkOrder.objects.filter(number=number, channel="web").count() == 1
    # Layout fits the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    # The centre and the unit do their part.
    dispatcher, handler = Actor.of(city_live.users["dispatcher"]), Actor.of(city_live.users["handler"])
    actions.dispatch_order(actor=dispatcher, number=number, lead_unit="SLT")
    actions.accept_assignment(actor=handler, number=number)
    actions.reply_to_order(actor=handler, number=number, body="已更换楼道灯。", outcome="solved")
    if WorkOrder.objects.get(number=number).state == State.REPLIED:
        actions.open_callback(actor=Actor.system(), number=number)

    # Track and rate.
    page.goto(f"{base}/track/")
    page.fill("#p-number", number)
    page.fill("#p-phone", "13612345678")
    page.locator("form button[type=submit]").last.click()
    expect(page.locator(".state-box")).to_contain_text(t["waiting"])
    expect(page.locator(".reply-box")).to_contain_text("三里屯街道办事处")
    expect(page.locator(".reply-box")).to_contain_text("已更换楼道灯。")
    page.locator("input[name=contacted][value=yes]").check()
    page.locator("input[name=resolution][value=solved]").check()
    page.locator("input[name=satisfaction][value=satisfied]").check()
    page.fill("#p-comment", "谢谢，很及时。")
    _shot(page, f"{lang}-23-portal-rate")
    page.locator("form[action$='/rate/'] button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text(t["thanks"])
    expect(page.locator("[data-state]")).to_have_text(t["closed"])
    _shot(page, f"{lang}-24-portal-closed")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert WorkOrder.objects.get(number=number).state == State.CLOSED
    context.close()
