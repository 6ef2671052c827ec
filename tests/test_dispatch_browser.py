"""Triage suggestions as the call-taker types, in a real headless Chromium (htmx, debounced)."""

from __future__ import annotations

import pytest

from jiesu.dispatch import runtime
from tests.browser_kit import SHOTS
from tests.test_browser import _context, _login, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city_live(live_server, city):
    runtime.reset()
    city.lamp.keywords = "路灯 不亮"
    city.lamp.save()
    yield city
    runtime.reset()


def test_suggestions_appear_while_typing(browser, live_server, city_live, new_order):  # noqa: F811
    earlier = new_order(content="三里屯路口的路灯坏了一个星期，晚上很黑，请尽快修理。")
    context = _context(browser, "en", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    history: list[str] = []
    page.on("request", lambda r: history.append(r.url) if "/intake/history/" in r.url else None)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/desk/triage/" in r.url else None)
    _login(page, live_server.url, "calltaker", "en")
    page.goto(f"{live_server.url}/desk/intake/")
    panel = page.locator("#triage-panel")
    expect(panel).to_contain_text("Suggestions appear here")
    page.locator("#f-phone").press_sequentially("13800138000", delay=20)
    expect(page.locator("#caller-history")).to_contain_text("No earlier orders")
    page.locator("#f-content").press_sequentially("路口的路灯坏了好几天，晚上很黑", delay=20)
    expect(panel).to_contain_text("路灯")
    expect(panel.locator("mark")).to_have_count(1)
    # debounced: one request for the whole burst of keys, not one per key
    assert 1 <= len(requests) <= 2, requests
    sent = len(requests)
    page.locator("#f-address").press_sequentially("朝阳区三里屯街道", delay=20)
    expect(panel).to_contain_text("三里屯街道")
    assert sent < len(requests) <= sent + 2, requests
    expect(panel).to_contain_text("Possible duplicates")
    expect(panel.locator(f"a:has-text('{earlier.number}')")).to_be_visible()
    page.locator("[data-triage-fill]").click()
    expect(page.locator("#f-area")).to_have_value("110105001")
    expect(page.locator("#f-category")).to_have_value("010101")
    page.screenshot(path=str(SHOTS / "en-intake-triage.png"), full_page=True)
    assert not errors
    assert history, "typing the phone number asks for the caller's earlier orders"
    # Neither the suggestion nor the history requests inherit the form's hx-disabled-elt (they
    # have no submit button to disable: htmx would log an error for each), and the page has its
    # icon (no 404 for /favicon.ico): the console stays empty.
    assert console == [], console
    context.close()


def test_the_dispatchers_pane_loads_the_duplicates_after_the_page(browser, live_server, city_live, new_order):  # noqa: F811
    """The page comes without the duplicates; htmx asks for them once it has loaded, and again for
    each order chosen from the queue (a boosted swap of the page)."""
    from jiesu.dispatch.models import DispatchSettings
    from jiesu.orders.models import WorkOrder
    from jiesu.orders.states import State

    DispatchSettings.objects.update_or_create(pk=1, defaults={"auto_dispatch": False})
    earlier = new_order(content="三里屯路口的路灯坏了一个星期，晚上很黑，请尽快修理。")
    first = new_order(content="三里屯路口路灯坏了好几天了，晚上很黑", category_code=None, area_code=None,
                      address="朝阳区三里屯街道")
    second = new_order(content="海淀区某小区夜间施工噪音很大，影响休息", category_code=None, area_code=None,
                       address="海淀区中关村街道")
    assert WorkOrder.objects.filter(state=State.RECEIVED).count() == 3
    context = _context(browser, "en", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/duplicates/" in r.url else None)
    _login(page, live_server.url, "dispatcher", "en")
    page.goto(f"{live_server.url}/desk/dispatch/?n={first.number}")
    dups = page.locator("#dups-panel")
    expect(dups).to_contain_text("Possible duplicates")
    expect(dups).not_to_have_attribute("aria-busy", "true")
    expect(dups.locator(f"a:has-text('{earlier.number}')")).to_be_visible()
    page.screenshot(path=str(SHOTS / "en-dispatch-duplicates.png"), full_page=True)
    # Another order from the queue: its own duplicates (none), asked for after the swap.
    page.locator(f".queue a:has-text('{second.number}')").click()
    expect(page.locator(".queue [aria-current=true]")).to_contain_text(second.number)
    expect(page.locator("#dups-panel")).to_contain_text("No possible duplicates.")
    # Back to the first, and merge it into the earlier order from the panel.
    page.locator(f".queue a:has-text('{first.number}')").click()
    button = page.locator("#dups-panel").get_by_role("button", name=f"Merge into {earlier.number}")
    # Merging closes the order for good: the browser asks first, and "Cancel" changes nothing.
    asked_to_confirm: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked_to_confirm.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    button.click()
    expect(page.locator(".queue [aria-current=true]")).to_contain_text(first.number)
    assert WorkOrder.objects.get(pk=first.pk).state == State.RECEIVED
    page.once("dialog", lambda d: answer(d, True))
    button.click()
    expect(page.locator(".messages")).to_contain_text(earlier.number)
    assert len(asked_to_confirm) == 2 and "cannot be undone" in asked_to_confirm[0]
    assert first.number in asked_to_confirm[0] and earlier.number in asked_to_confirm[0]
    assert WorkOrder.objects.get(pk=first.pk).state == State.MERGED
    # One request per order shown (after the merge the page shows the next order, which asks too).
    assert [u.split("/desk/dispatch/")[1].split("/")[0] for u in asked][:3] == [first.number, second.number,
                                                                                first.number]
    assert not errors
    context.close()
