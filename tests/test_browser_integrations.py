"""The import page and the export links in a real headless Chromium, in Chinese: an
administrator uploads a broken sheet and reads the per-row report; a supervisor downloads the
search list as Excel. Screenshots go to /tmp/jiesu-shots/integrations-*.png."""

from __future__ import annotations

import pytest
from openpyxl import Workbook, load_workbook

from jiesu.org.models import Area
from tests.browser_kit import SHOTS, require_chromium
from tests.conftest import build_city

playwright_api = require_chromium()
expect = playwright_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city_live(live_server):
    return build_city()


def _login(browser, base: str, username: str):
    context = browser.new_context(locale="zh-CN", accept_downloads=True)
    context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": base}])
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{base}/desk/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.locator("form button[type=submit]").last.click()
    expect(page.locator(".topbar .user")).to_have_text(username)
    return context, page


def test_an_admin_uploads_a_sheet_and_reads_the_report(browser, live_server, city_live, tmp_path):
    book = Workbook()
    for row in (["编码", "名称", "层级", "上级编码"], ["110105002", "团结湖街道", 3, "110105"],
                ["110105003", "", 3, "110105"]):
        book.active.append(row)
    path = tmp_path / "辖区.xlsx"
    book.save(path)
    context, page = _login(browser, live_server.url, "admin")
    page.get_by_role("link", name="导入").click()
    page.select_option("#id_kind", "areas")
    page.set_input_files("#id_file", str(path))
    page.get_by_role("button", name="导入").click()
    report = page.locator("[data-import-report]")
    expect(report.locator("[data-summary]")).to_have_text("共 2 行：新建 1，更新 0，未变 0，拒绝 1。")
    expect(report.locator("[data-problems] tbody tr")).to_have_count(1)
    expect(report.locator("[data-problems] td").first).to_have_text("3")
    expect(report.locator("[data-problems] td").nth(1)).to_contain_text("名称为空")
    page.screenshot(path=str(SHOTS / "integrations-import.png"), full_page=True)
    assert Area.objects.filter(code="110105002").exists()
    context.close()


def test_a_supervisor_downloads_the_search_as_excel(browser, live_server, city_live):
    from jiesu.orders.actions import RequesterInput, create_order

    for text in ("路灯坏了。", "噪音扰民。"):
        create_order(actor=city_live.actor("calltaker"), request_type="complaint", channel="hotline",
                     content=text, requesters=[RequesterInput(phone="13812345678")])
    context, page = _login(browser, live_server.url, "supervisor")
    page.goto(f"{live_server.url}/desk/orders/?q=路灯")
    with page.expect_download() as info:
        page.locator("[data-export] [data-export-format=xlsx]").click()
    download = info.value
    assert download.suggested_filename.startswith("jiesu-orders-") and download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as fh:  # the saved file has no extension: openpyxl wants a file object
        rows = list(load_workbook(fh).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][-1] == "路灯坏了。"
    context.close()
