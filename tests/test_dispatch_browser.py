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
    # the suggestion requests do not inherit the form's hx-disabled-elt (nothing to disable)
    warnings = [m for m in console if "hx-disabled-elt" in m]
    assert len(warnings) <= len([m for m in history if m]), warnings
    context.close()
