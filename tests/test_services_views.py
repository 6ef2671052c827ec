"""The legal-service screens through Django's test client: public booking steps and bad input,
the window's day list, circuit filing with receipts and a correction notice, the 12309 queue
with its assignment slip and the reply coming back, statistics and the Excel export; each list
with a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.test import Client
from openpyxl import load_workbook

from jiesu import clock
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.orders import actions as order_actions
from jiesu.orders.models import WorkOrder
from jiesu.services import actions
from jiesu.services.models import Booking, Filing, FilingEvent, OutreachEvent
from tests.conftest import at
from tests.services_kit import build_services

pytestmark = pytest.mark.django_db
MONDAY = "2026-12-07"


@pytest.fixture
def svc(city):
    return build_services(city)


def login(name: str) -> Client:
    c = Client()
    assert c.login(username=name, password="pw-" + name)
    return c


def test_public_booking_steps_and_a_full_slot(svc, django_assert_max_num_queries):
    c = Client()
    with clock.frozen(at(f"{MONDAY} 08:00")):
        page = c.get("/services/book/", {"matter": svc.will.pk, "point": svc.notary.pk, "date": MONDAY})
        assert page.status_code == 200
        html = page.content.decode()
        assert "data-in-person" in html and "第二十六条" in html and 'value="2026-12-07T09:00:00+08:00"' in html
        with django_assert_max_num_queries(14):
            c.get("/services/book/", {"matter": svc.will.pk, "point": svc.notary.pk, "date": MONDAY})
        form = {"matter": svc.will.pk, "point": svc.notary.pk, "date": MONDAY, "name": "王五", "phone": "13812345678",
                "start": "2026-12-07T09:00:00+08:00", "idempotency_key": "one"}
        done = c.post("/services/book/", form)
        assert done.status_code == 302 and done["Location"] == "/services/booked/"
        assert c.post("/services/book/", form).status_code == 302  # a double click books once
        assert Booking.objects.count() == 1
        code = Booking.objects.get().code
        assert code in c.get("/services/booked/").content.decode()
        for phone in ("13800000001",):
            c.post("/services/book/", {**form, "phone": phone, "idempotency_key": phone})
        full = c.post("/services/book/", {**form, "phone": "13800000002", "idempotency_key": "x"},
                      HTTP_ACCEPT_LANGUAGE="en")
    assert full.status_code == 409 and "fully booked" in full.content.decode()
    assert Booking.objects.count() == 2


def test_manage_with_a_wrong_code_says_so_and_the_right_one_cancels(svc):
    c = Client()
    with clock.frozen(at(f"{MONDAY} 08:00")):
        b = actions.book(actor=actions_public(), point_id=svc.notary.pk, matter_id=svc.authorisation.pk,
                         start=at(f"{MONDAY} 10:00"), name="王五", phone="13812345678")
        wrong = c.post("/services/manage/", {"code": "AAAAAAAA", "phone": "13812345678"}, HTTP_ACCEPT_LANGUAGE="en")
        assert wrong.status_code == 404 and "no booking with this code" in wrong.content.decode()
        assert c.post("/services/manage/", {"code": b.code, "phone": "13812345678"}).status_code == 302
        moved = c.post("/services/booking/", {"do": "move", "date": MONDAY, "start": "2026-12-07T11:00:00+08:00"})
        assert moved.status_code == 302
        assert c.post("/services/booking/", {"do": "cancel"}).status_code == 302
    b.refresh_from_db()
    assert b.status == "cancelled" and b.start == at(f"{MONDAY} 11:00")


def actions_public():
    from jiesu.services.views_public import public

    return public()


def test_the_windows_day_list_checks_in_and_records_outcomes(city, svc, django_assert_max_num_queries):
    with clock.frozen(at(f"{MONDAY} 08:00")):
        codes = [actions.book(actor=actions_public(), point_id=svc.notary.pk, matter_id=svc.authorisation.pk,
                              start=at(f"{MONDAY} {h}:00"), name="王五", phone="13812345678").code
                 for h in ("09", "10", "11", "13", "14")]
    c = login("notary_staff")
    with clock.frozen(at(f"{MONDAY} 08:55")):
        with django_assert_max_num_queries(12):
            page = c.get("/desk/services/today/")
        assert all(code in page.content.decode() for code in codes)
        assert c.post(f"/desk/services/bookings/{codes[0]}/", {"do": "check_in"}).status_code == 302
        c.post("/desk/services/bookings/typed/", {"do": "check_in", "code": codes[1].lower()})
        c.post(f"/desk/services/bookings/{codes[0]}/", {"outcome": "served"})
        # a mistyped code at the window: about the code only (no phone is asked there)
        wrong = c.post("/desk/services/bookings/typed/", {"do": "check_in", "code": "zzzzzzzz"}, follow=True,
                       HTTP_ACCEPT_LANGUAGE="en")
        assert "No booking has the code ZZZZZZZZ. Please check it." in wrong.content.decode()
        assert "phone" not in wrong.content.decode().split("No booking has the code")[1][:80]
    assert dict(Booking.objects.values_list("code", "status"))[codes[0]] == "served"
    assert dict(Booking.objects.values_list("code", "status"))[codes[1]] == "checked_in"
    assert login("handler").get("/desk/services/today/").status_code == 403


def test_a_call_taker_books_from_the_desk(city, svc):
    c = login("calltaker")
    with clock.frozen(at(f"{MONDAY} 08:00")):
        r = c.post("/desk/services/book/", {"matter": svc.authorisation.pk, "point": svc.notary.pk, "date": MONDAY,
                                           "name": "来电人", "phone": "13812345678",
                                           "start": "2026-12-07T10:00:00+08:00", "idempotency_key": "k"})
    assert r.status_code == 302
    b = Booking.objects.get()
    assert b.channel == "desk" and b.created_by == city.users["calltaker"]
    assert login("nobody").get("/desk/services/book/").status_code == 403


def test_circuit_filing_batch_receipts_correction_and_decision(city, svc, django_assert_max_num_queries):
    c = login("court_clerk")
    with clock.frozen(at("2026-09-29 10:00")):  # a Tuesday before the National Day holiday
        r = c.post("/desk/services/filing/", {"court": "COURT-CY", "case_kind": "civil", "cause": "劳务合同纠纷",
                                              "respondent": "某建筑公司", "place": "某村村委会",
                                              "facts": "74名村民为同一工地务工，工程完工后工资未结清。", "event": ""})
        assert r.status_code == 302
        batch_url = r["Location"]
        parties = "\n".join(f"村民{i}，1381234{i:04d}，某村{i}号，工资{i}000元" for i in range(1, 41))
        bad = c.post(batch_url, {"parties": parties + "\n坏行，123"}, HTTP_ACCEPT_LANGUAGE="en")
        assert bad.status_code == 422 and "Line 41" in bad.content.decode()
        assert not Filing.objects.exists()
        missing = c.post(batch_url, {"parties": "李四，，某村1号"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "Line 1: Please fill in the phone number." in missing and "“”" not in missing
        assert c.post(batch_url, {"parties": parties}).status_code == 302
    filings = list(Filing.objects.order_by("id"))
    assert len(filings) == 40 and filings[0].receipt.endswith("-001")
    # 7 working days after 29 Sep, the holiday (1–8 Oct) and make-up days (9/27 is before) counted
    assert filings[0].decision_due.astimezone(SHANGHAI).date() == dt.date(2026, 10, 14)
    with django_assert_max_num_queries(12):
        page = c.get(batch_url)
    assert page.status_code == 200
    with django_assert_max_num_queries(12):
        receipts = c.get(batch_url + "receipts/")
    html = receipts.content.decode()
    assert html.count("data-receipt=") == 40 and "2026-09-29 10:00" in html and "2026-10-14" in html
    first = filings[0]
    with clock.frozen(at("2026-09-30 09:00")):
        c.post(f"/desk/services/filings/{first.pk}/", {"do": "correct", "items": "身份证复印件\n欠条原件\n\n"})
        notice = c.get(batch_url + f"receipts/?f={first.pk}&notice=1").content.decode()
        assert "身份证复印件" in notice and "欠条原件" in notice
        assert c.post(f"/desk/services/filings/{first.pk}/", {"do": "register"}).status_code == 302
    first.refresh_from_db()
    assert first.status == "needs_correction"  # refused move: nothing changed
    with clock.frozen(at("2026-10-09 09:00")):  # a make-up working day (Friday)
        c.post(f"/desk/services/filings/{first.pk}/", {"do": "resubmit"})
        c.post(f"/desk/services/filings/{first.pk}/", {"do": "register"})
        c.post(f"/desk/services/filings/{filings[1].pk}/", {"do": "refuse", "note": "不属于本院管辖"})
    first.refresh_from_db()
    # the deadline starts again: 10/10 is a make-up Saturday, so 7 working days end on Monday 10/19
    assert first.status == "registered" and first.decision_due.astimezone(SHANGHAI).date() == dt.date(2026, 10, 19)
    assert list(FilingEvent.objects.filter(filing=first).values_list("code", flat=True)) == [
        "received", "correction_requested", "resubmitted", "decided"]
    assert Filing.objects.get(pk=filings[1].pk).status == "refused"
    assert login("handler").get(batch_url).status_code == 403


def test_the_12309_queue_dispatches_to_its_units_prints_a_slip_and_the_reply_comes_back(city, svc):
    c = login("dispatcher")
    r = c.post("/desk/services/hotline/12309/", {"do": "record", "name": "匿名", "phone": "13812345678",
                                                  "request_type": "report", "content": "反映某派出所民警执法不规范。"})
    assert r.status_code == 302
    order = WorkOrder.objects.get()
    assert order.channel == "special_hotline" and order.hotline_link.hotline == svc.hotline
    wrong = c.post("/desk/services/hotline/12309/", {"do": "dispatch", "number": order.number, "unit": "WATER"},
                   HTTP_ACCEPT_LANGUAGE="en")
    assert wrong.status_code == 422 and "does not dispatch" in wrong.content.decode()
    c.post("/desk/services/hotline/12309/", {"do": "dispatch", "number": order.number, "unit": "PSB-SLT"})
    order.refresh_from_db()
    assert order.state == "dispatched" and order.events.get(code="dispatched").data["hotline"] == "12309"
    slip = c.get(f"/desk/services/hotline/12309/slip/{order.number}/").content.decode()
    assert "12309-" + order.number in slip and "三里屯派出所" in slip and "13812345678" in slip
    # the unit answers through the one lifecycle; the queue shows it
    order_actions.accept_assignment(actor=city.actor("police_handler"), number=order.number)
    order_actions.reply_to_order(actor=city.actor("police_handler"), number=order.number, body="已核查并整改。",
                                 outcome="solved")
    queue = c.get("/desk/services/hotline/12309/").content.decode()
    assert re.search(rf'data-order="{order.number}".*?data-state="replied"', queue, re.S)
    assert login("handler").get("/desk/services/hotline/12309/").status_code == 403


def test_statistics_and_excel(city, svc, django_assert_max_num_queries):
    with clock.frozen(at("2026-12-01 08:00")):
        for day in ("2026-12-08", "2026-12-09"):  # the normal week before the will week
            actions.book(actor=actions_public(), point_id=svc.notary.pk, matter_id=svc.will.pk,
                         start=at(f"{day} 09:00"), name="甲", phone="13800000001")
        for i, day in enumerate(("2026-12-14", "2026-12-15", "2026-12-16", "2026-12-19", "2026-12-20", "2026-12-20")):
            actions.book(actor=actions_public(), point_id=svc.notary.pk, matter_id=svc.will.pk,
                         start=at(f"{day} 10:00"), name="乙", phone=f"1390000000{i}")
    OutreachEvent.objects.create(title="村口服务台", kind="task_force", place="某村", date=dt.date(2026, 12, 5),
                                 unit=city.sanlitun_office, created_at=clock.now())
    c = login("analyst")
    with clock.frozen(at("2026-12-01 08:00")):
        with django_assert_max_num_queries(12):
            page = c.get("/desk/services/stats/", {"from": "2026-12-01", "to": "2026-12-31"},
                         HTTP_ACCEPT_LANGUAGE="en")
        html = page.content.decode()
        assert re.search(r"遗嘱公证周.*?>6<.*?>0<.*?>2<.*?>0<.*?\+200 %", html, re.S), html
        xlsx = c.get("/desk/services/stats.xlsx", {"from": "2026-12-01", "to": "2026-12-31"})
    wb = load_workbook(io.BytesIO(xlsx.content))
    special = list(wb.worksheets[2].iter_rows(min_row=2, values_only=True))
    assert special[0][4] == 6 and special[0][6] == 2 and special[0][8] == 2.0
    weekend = list(wb.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert weekend[0][1:] == (1, 0, 2, 0)
    assert list(wb.worksheets[3].iter_rows(min_row=2, values_only=True))[0][1] == "村口服务台"
    assert login("handler").get("/desk/services/stats/").status_code == 403


def test_desk_home_and_outreach_pages_render(city, svc):
    c = login("outreach")
    assert c.get("/desk/services/").status_code == 200
    r = c.post("/desk/services/outreach/", {"title": "痛点攻坚小分队", "kind": "task_force", "place": "三里屯菜市场",
                                            "date": "2026-12-12", "team": "街道、派出所、司法所", "unit": "SLT"})
    assert r.status_code == 302
    event = OutreachEvent.objects.get()
    page = c.get(f"/desk/services/outreach/{event.pk}/").content.decode()
    assert f"/api/v1/outreach-events/{event.pk}/entries" in page and "services/outreach.js" in page
    assert "<script>" not in page  # no inline script: the page works under a strict CSP
    assert c.post("/desk/services/outreach/", {"title": "", "kind": "task_force", "place": "x", "date": "2026-12-12",
                                               "unit": "SLT"}).status_code == 422


@pytest.mark.parametrize("name", ["calltaker", "dispatcher", "supervisor", "analyst", "lead", "outreach", "service",
                                  "notary_staff", "court_clerk", "admin"])
def test_every_link_the_services_screens_show_opens(city, svc, name):
    """A tile or an event the user may not open is not shown as a link: a click that ends in
    "forbidden" costs a desk worker time (found by a crawl of the demo as each role)."""
    event = actions.plan_event(actor=city.actor("outreach"), title="集市活动", kind="task_force", place="三里屯菜市场",
                               date=dt.date(2026, 12, 5), unit_code="SLT")
    c = login(name)
    home = c.get("/desk/services/")
    if home.status_code == 403:
        return  # the whole screen is not theirs, and the desk's menu does not offer it
    links = set(re.findall(r'href="(/desk/services/[^"]*)"', home.content.decode()))
    if "/desk/services/outreach/" in links:
        links |= set(re.findall(r'href="(/desk/services/outreach/\d+/)"', c.get("/desk/services/outreach/").content.decode()))
    assert links, "the home page offers something"
    for url in sorted(links):
        assert c.get(url).status_code == 200, url
    shown = {re.sub(r"\d+/$", "N/", u) for u in links}
    expected = {
        "calltaker": {"/desk/services/outreach/", "/desk/services/hotline/N/", "/desk/services/book/"},
        "court_clerk": {"/desk/services/filing/", "/desk/services/today/"},
        "outreach": {"/desk/services/outreach/", "/desk/services/outreach/N/"},
    }
    if name in expected:
        assert expected[name] <= shown, shown
    if name in ("calltaker", "analyst"):
        assert f"/desk/services/outreach/{event.pk}/" not in links  # figures for the centre, no entry page
        assert "/desk/services/filing/" not in links
    if name in ("analyst", "lead", "outreach", "service"):
        assert not any("/hotline/" in u for u in links)


def test_outreach_list_and_hotline_queue_cost_a_fixed_number_of_queries(city, svc, django_assert_max_num_queries):
    import uuid

    for i in range(4):
        event = actions.plan_event(actor=city.actor("outreach"), title=f"集市活动{i}", kind="task_force",
                                   place="三里屯菜市场", date=dt.date(2026, 12, 5 + i), unit_code="SLT")
        actions.sync_entries(actor=city.actor("outreach"), event_id=event.pk, entries=[
            actions.EntryInput(client_id=str(uuid.uuid4()), phone="13811112222", content="路灯不亮。")])
    for i in range(4):
        order = actions.record_hotline_order(
            actor=city.actor("calltaker"), hotline_code="12309", request_type="report", content=f"线索{i}",
            requesters=[order_actions.RequesterInput(phone="13812345678")])
        if i % 2:
            actions.dispatch_hotline_order(actor=city.actor("dispatcher"), hotline_code="12309",
                                           number=order.number, unit_code="PROC-CY")
    c = login("outreach")
    with django_assert_max_num_queries(12):
        page = c.get("/desk/services/outreach/")
    assert page.content.decode().count("集市活动") == 4
    d = login("dispatcher")
    with django_assert_max_num_queries(12):
        queue = d.get("/desk/services/hotline/12309/")
    assert queue.content.decode().count("data-slip") == 2


def test_the_outreach_service_worker_is_served_with_a_scope_covering_the_entry_pages(city):
    r = Client().get("/desk/services/outreach/sw.js")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/javascript")
    assert r["Service-Worker-Allowed"] == "/desk/services/outreach/" and r["Cache-Control"] == "no-cache"
    assert b'addEventListener("fetch"' in r.content
    assert "worker-src 'self'" in r["Content-Security-Policy"]
