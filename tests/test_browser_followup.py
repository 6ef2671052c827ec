"""Follow-up in a real headless Chromium: the supervisor's phone script, the requester's signed
link on a phone, and the scorecard ranking with its drill-down. Screenshots go to
/tmp/jiesu-shots/followup-*.png."""

from __future__ import annotations

import re

import pytest

from jiesu import clock
from jiesu.accounts.policy import Actor
from jiesu.integrations.models import Notification
from jiesu.orders import actions
from jiesu.orders.models import Callback, Event, WorkOrder
from jiesu.orders.states import State
from tests.browser_kit import SHOTS, log_in, require_chromium
from tests.conftest import at, build_city

playwright_api = require_chromium()
expect = playwright_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def city_live(live_server):
    return build_city()


def _context(browser, **kw):
    context = browser.new_context(locale="en-US", **kw)
    context.add_cookies([{"name": "django_language", "value": "en", "url": "http://localhost"}])
    context.set_default_timeout(15_000)
    return context


def _login(page, base: str, username: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    log_in(page, base, username)


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"followup-{name}.png"), full_page=True)


def _replied(city, content: str, *, when: str | None = None) -> str:
    a = city.actor
    from jiesu.orders.actions import RequesterInput

    def run() -> str:
        order = actions.create_order(
            actor=a("calltaker"), request_type="complaint", channel="hotline", content=content,
            requesters=[RequesterInput(phone="13812345678", name="张三")], address="朝阳区三里屯路19号",
            category_code="010101", area_code="110105001")
        actions.dispatch_order(actor=a("dispatcher"), number=order.number, lead_unit="SLT")
        actions.accept_assignment(actor=a("handler"), number=order.number)
        actions.reply_to_order(actor=a("handler"), number=order.number, body="已更换路灯灯泡，恢复照明。",
                               outcome="solved")
        if WorkOrder.objects.get(pk=order.pk).state == State.REPLIED:
            actions.open_callback(actor=Actor.system(), number=order.number)
        return order.number

    if when is None:
        return run()
    with clock.frozen(at(when)):
        return run()


def test_phone_script_and_the_requesters_link(browser, live_server, city_live):
    base = live_server.url
    first = _replied(city_live, "三里屯路口的路灯坏了一个星期，晚上很黑。")
    second = _replied(city_live, "小区门口的路灯不亮，老人出行不便。")
    context = _context(browser, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # 督办员: the phone script, questions in order, with the reply to read out.
    _login(page, base, "supervisor")
    page.goto(f"{base}/desk/supervise/?tab=callback&n={first}")
    form = page.locator("form[data-action=callback]")
    expect(form.locator("[data-reply]")).to_contain_text("已更换路灯灯泡")
    questions = form.locator(".script-questions > li")
    expect(questions).to_have_count(4)
    form.locator("input[name=contacted][value=yes]").check()
    form.locator("input[name=resolution][value=partly]").check()
    form.locator("input[name=satisfaction][value=unsatisfied]").check()
    page.fill("#f-callback-note", "只换了一盏，另一盏还是不亮。")
    _shot(page, "01-phone-script")
    form.locator("button[name=reached][value=yes]").click()
    expect(page.locator(".messages .msg-success")).to_contain_text("reopened to the unit")
    order = WorkOrder.objects.get(number=first)
    assert order.state == State.REOPENED and order.resolution == "partly"
    assert Event.objects.get(order=order, code="reopened").reason == "只换了一盏，另一盏还是不亮。"

    # The second order: send the requester a link by SMS instead.
    page.goto(f"{base}/desk/supervise/?tab=callback&n={second}")
    page.locator("form[data-action=send_link] button[value=sms]").click()
    expect(page.locator(".messages .msg-success")).to_contain_text(second)
    row = Notification.objects.get(order__number=second, kind="callback_link")
    link = re.search(r"https?://\S+/callback/\S+/", row.body).group(0)
    assert link.startswith(base)
    context.close()

    # The requester opens the link on a phone, without logging in.
    phone = _context(browser, viewport={"width": 375, "height": 740}, is_mobile=True)
    p = phone.new_page()
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.goto(link)
    expect(p.locator("#link-replies")).to_contain_text("已更换路灯灯泡")
    p.locator("#link-form button[type=submit]").click()  # nothing chosen: says what is missing
    expect(p.locator(".form-error")).to_be_visible()
    p.locator("input[name=contacted][value=yes]").check()
    p.locator("input[name=resolution][value=solved]").check()
    p.locator("input[name=satisfaction][value=basic]").check()
    p.fill("#p-comment", "修好了，谢谢。")
    _shot(p, "02-link-phone")
    assert p.evaluate("document.documentElement.scrollWidth") <= 375
    p.locator("#link-form button[type=submit]").click()
    expect(p.locator(".state-box.done")).to_be_visible()
    _shot(p, "03-link-thanks")
    order = WorkOrder.objects.get(number=second)
    assert order.state == State.CLOSED and order.satisfaction == "basic"
    assert Callback.objects.get(order=order).via == "sms"
    # The link is spent.
    p.goto(link)
    expect(p.locator("[data-reason=used]")).to_be_visible()
    phone.close()
    assert errors == []


def test_ranking_page_with_drill_down(browser, live_server, city_live):
    base = live_server.url
    for i in range(3):
        _replied(city_live, f"路灯坏了 {i}", when=f"2026-10-{5 + i:02d} 09:00")
    with clock.frozen(at("2026-10-20 09:00")):
        a = city_live.actor
        for i in range(2):
            number = WorkOrder.objects.filter(state=State.CALLBACK_DUE).order_by("number")[i].number
            actions.record_callback(actor=a("supervisor"), number=number, reached=True, contacted=True,
                                    resolution="solved", satisfaction="satisfied" if i else "unsatisfied")
    context = _context(browser, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, base, "analyst")
    page.locator(".topbar nav a[href='/desk/scorecards/']").click()
    page.select_option("#sc-level", "street")
    page.fill("#sc-period", "2026-10")
    page.locator("form.search-bar button[type=submit]").click()
    row = page.locator("tr[data-key='110105001']")
    expect(row.locator("[data-col='count:orders']")).to_have_text("3")
    expect(row.locator("[data-col='rate:satisfaction']")).to_have_text("50.0%")
    expect(row.locator("[data-col='rank']")).to_have_text("1")
    _shot(page, "04-ranking")
    # Drill down: the satisfied count opens the one order behind it.
    row.locator("a[data-col='count:satisfied']").click()
    expect(page.locator("[data-drill-total]")).to_have_text(re.compile(r"^1 order"))
    expect(page.locator("table.orders tbody tr")).to_have_count(1)
    _shot(page, "05-drill-down")
    page.go_back()
    page.locator("tr[data-key='110105001'] a[data-col='count:orders']").click()
    expect(page.locator("table.orders tbody tr")).to_have_count(3)
    # The monthly report prints (the print stylesheet hides the desk's frame).
    page.goto(f"{base}/desk/scorecards/report/2026-10/")
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    _shot(page, "06-report-print")
    context.close()
    assert errors == []
