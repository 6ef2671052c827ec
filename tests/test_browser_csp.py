"""The strict Content-Security-Policy breaks nothing: real headless Chromium opens the public
portal, the desk (with htmx navigation and an action), the insight dashboard (ECharts), the API
docs (Swagger UI) and the admin, and the browser reports no policy violation at all."""

from __future__ import annotations

import pytest

from jiesu.orders import actions
from tests.browser_kit import log_in, require_chromium
from tests.conftest import build_city

playwright_api = require_chromium()
expect = playwright_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every violation the page sees, kept on window (the init script runs before any page script).
RECORD = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


def _violations(page) -> list[str]:
    return page.evaluate("window.__csp || []")


def test_no_page_violates_the_content_security_policy(browser, live_server):
    city = build_city()
    order = actions.create_order(
        actor=city.actor("calltaker"), request_type="complaint", channel="hotline", category_code="010101",
        content="三里屯路19号路口的路灯坏了。", area_code="110105001",
        requesters=[actions.RequesterInput(phone="13812345678")])
    base = live_server.url
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(15_000)
    context.add_init_script(RECORD)
    messages: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: messages.append(m.text) if "Content Security Policy" in m.text else None)
    seen: dict[str, list[str]] = {}

    def visit(path: str) -> None:
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        seen[path] = _violations(page)

    for path in ["/", "/submit/", "/track/", "/measures/", "/api/v1/docs"]:
        visit(path)
    log_in(page, base, "admin")
    for path in [f"/desk/orders/{order.number}/", "/desk/dispatch/", "/desk/insight/", "/admin/",
                 "/admin/orders/workorder/", "/admin/accounts/user/add/"]:
        visit(path)
    # An htmx-driven action on the desk (the note form) and its swap.
    page.goto(f"{base}/desk/orders/{order.number}/")
    page.locator("form[data-action=note] textarea, form[data-action=note] input[name=note]").first.fill("已联系")
    page.locator("form[data-action=note] button[type=submit]").first.click()
    expect(page.locator(".messages")).to_be_visible()
    seen["htmx note"] = _violations(page)
    context.close()
    assert {k: v for k, v in seen.items() if v} == {}
    assert messages == []
