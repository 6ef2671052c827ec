"""Insight screens in a real headless Chromium: the dashboard draws its charts with the locally
served ECharts (also after the desk's htmx navigation), the hotspot page lists its orders on a
timeline, and the public measures page works on a phone. No request leaves 127.0.0.1.

Screenshots go to /tmp/jiesu-shots/ for a human to look at.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlparse

import pytest

from jiesu.insight import assets, measures
from jiesu.insight.models import Measure, Milestone
from jiesu.orders import actions
from tests.browser_kit import SHOTS, log_in, require_chromium
from tests.conftest import build_city

playwright_api = require_chromium()
expect = playwright_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCAL = {"127.0.0.1", "localhost"}


@pytest.fixture
def city_live(live_server):
    return build_city()


class Watch:
    """JavaScript errors and every request's host, for one page."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.hosts: set[str] = set()
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: self.hosts.add(urlparse(r.url).hostname or r.url))

    def check(self) -> None:
        # Nothing may fail, not even the browser's icon probe (the pages name their icon).
        assert not self.errors, self.errors
        assert self.hosts <= LOCAL, self.hosts


def _context(browser, **kw):
    context = browser.new_context(locale="zh-CN", **kw)
    context.set_default_timeout(15_000)
    return context


def _orders(city) -> None:
    a = city.actor
    for i in range(3):
        order = actions.create_order(
            actor=a("calltaker"), request_type="complaint", channel="hotline", category_code="010101",
            content=f"三里屯路19号路口的路灯坏了一个星期，晚上很黑，第{i + 1}次反映。", area_code="110105001",
            requesters=[actions.RequesterInput(phone=f"1381234567{i}")])
        if i < 2:
            actions.dispatch_order(actor=a("dispatcher"), number=order.number, lead_unit="SLT")
            actions.accept_assignment(actor=a("handler"), number=order.number)
            actions.reply_to_order(actor=a("handler"), number=order.number, body="已更换灯泡。", outcome="solved")
    actions.create_order(actor=a("calltaker"), request_type="help", channel="web", content="公交末班车太早。",
                         area_code="110108001", requesters=[actions.RequesterInput(phone="13900000000")])


def test_dashboard_draws_its_charts_locally(browser, live_server, city_live):
    _orders(city_live)
    base = live_server.url
    context = _context(browser, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    watch = Watch(page)
    log_in(page, base, "analyst")
    page.locator(".topbar nav a[href='/desk/insight/']").click()
    expect(page.locator("[data-kpi=total]")).to_have_text("4")
    if not assets.TARGET.exists():
        expect(page.locator(".notice")).to_be_visible()
        pytest.skip("ECharts is not installed (python -m jiesu.insight.assets): tables only")
    charts = page.locator("[data-chart]")
    expect(charts).to_have_count(7)
    for i in range(7):
        expect(charts.nth(i).locator("canvas")).to_have_count(1)
        expect(charts.nth(i)).to_have_attribute("data-rendered", "1")
    assert page.evaluate("typeof window.echarts") == "object"
    page.screenshot(path=str(SHOTS / "insight-dashboard.png"), full_page=True)
    # After the desk's htmx navigation (hx-boost) the charts are drawn again.
    page.locator(".tabs a[href='/desk/insight/hotspots/']").click()
    expect(page.locator("table.hotspots")).to_be_visible()
    page.locator(".tabs a[href='/desk/insight/']").click()
    expect(page.locator("[data-chart=tiles] canvas")).to_have_count(1)
    expect(page.locator("[data-chart=trend]")).to_have_attribute("data-rendered", "1")
    watch.check()
    context.close()


def test_hotspot_page_lists_its_orders_on_a_timeline(browser, live_server, city_live):
    _orders(city_live)
    base = live_server.url
    context = _context(browser, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(page)
    log_in(page, base, "analyst")
    page.goto(f"{base}/desk/insight/hotspots/")
    rows = page.locator("table.hotspots tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("三里屯街道")
    rows.first.locator("a").first.click()
    expect(page.locator(".hotspot-members li")).to_have_count(3)
    expect(page.locator("h1#hs-h")).to_contain_text("三里屯街道")
    if assets.TARGET.exists():
        expect(page.locator("[data-chart=timeline] canvas")).to_have_count(1)
    page.screenshot(path=str(SHOTS / "insight-hotspot.png"), full_page=True)
    # From the hotspot to a proactive work item, pre-filled.
    page.locator("a.btn.primary").first.click()
    expect(page.locator("#id_area")).to_have_value("110105001")
    expect(page.locator("#id_content")).to_contain_text("三里屯街道")
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator(".order-head .chip.proactive")).to_be_visible()
    watch.check()
    context.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_public_measures_page(browser, live_server, city_live, width):
    shown = Measure.objects.create(title="公证机构周末办证", owner_unit=city_live.water, target="每周六开放11家",
                                   category="公共法律服务", public=True)
    Measure.objects.create(title="内部考核措施", owner_unit=city_live.water, target="不公开", public=False)
    Milestone.objects.create(measure=shown, title="公布开放名单", due=dt.date(2026, 12, 1))
    measures.add_update(city_live.actor("admin"), shown, percent=60, evidence="已开放7家。")
    base = live_server.url
    phone = width < 600
    context = _context(browser, viewport={"width": width, "height": 800}, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{base}/measures/")
    expect(page.locator("article.measure")).to_have_count(1)
    expect(page.locator("article.measure h2")).to_have_text("公证机构周末办证")
    expect(page.locator("main")).not_to_contain_text("内部考核措施")
    expect(page.locator("article.measure [role=progressbar]")).to_have_attribute("aria-valuenow", "60")
    page.locator("article.measure details summary").click()
    expect(page.locator(".milestones li")).to_contain_text("公布开放名单")
    page.locator("[data-large-toggle]").click()
    expect(page.locator("html")).to_have_class(re.compile("large-text"))
    expect(page.locator("article.measure")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(SHOTS / f"insight-measures-{width}.png"), full_page=True)
    watch.check()
    context.close()
