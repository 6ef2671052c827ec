"""Legal services in a real headless Chromium: booking on the web in Chinese and in English,
check-in at the window, an outreach entry typed with the network switched off and synced when
it comes back, and a circuit-filing batch with its printable receipts. Screenshots go to
/tmp/jiesu-shots/services-*.png."""

from __future__ import annotations

import datetime as dt

import pytest

from jiesu import clock
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.orders.models import WorkOrder
from jiesu.services.errors import SlotFull
from jiesu.services.models import Booking, Filing, OutreachEntry, OutreachEvent
from tests.browser_kit import SHOTS, log_in, require_chromium
from tests.conftest import build_city
from tests.services_kit import build_services

playwright_api = require_chromium()
expect = playwright_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(live_server):
    city = build_city()
    return city, build_services(city)


def _context(browser, lang: str, **kw):
    context = browser.new_context(locale="en-US" if lang == "en" else "zh-CN", **kw)
    context.set_default_timeout(15_000)
    return context


def _page(context, base: str, lang: str):
    context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def _choose_a_day_with_a_free_slot(page) -> None:
    """The first listed day with a slot still free. Today's slots run out as the day goes on (and on a
    Saturday afternoon today has none), so the first day listed depends on when the test runs."""
    for day in page.locator("[data-day]").evaluate_all("els => els.map(e => e.dataset.day)"):
        page.locator(f"[data-day='{day}']").click()
        expect(page.locator(f"[data-day='{day}'][aria-current=true]")).to_have_count(1)
        if page.locator(".slot:not(.full) input").count():
            return
    raise AssertionError("no listed day has a free slot")


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"services-{name}.png"), full_page=True)


@pytest.mark.parametrize(("lang", "matter", "texts"), [
    ("zh-hans", "will", {"in_person": "必须本人到场", "booked": "预约成功", "full": "已约满"}),
    ("en", "authorisation", {"in_person": None, "booked": "Your appointment is booked", "full": "fully booked"}),
])
def test_booking_on_the_web(browser, live_server, world, lang, matter, texts):
    _city, svc = world
    base = live_server.url
    context = _context(browser, lang, viewport={"width": 390, "height": 844}, is_mobile=True)
    page, errors = _page(context, base, lang)
    page.goto(f"{base}/services/")
    page.locator("a[href='/services/book/']").first.click()
    page.locator(f"[data-matter={matter}]").click()
    if texts["in_person"]:
        expect(page.locator("[data-in-person]").first).to_contain_text(texts["in_person"])
    else:
        expect(page.locator("[data-in-person]")).to_have_count(0)
    page.locator("[data-point=NP-CY]").click()  # the only notary point is chosen already; the link stays
    _choose_a_day_with_a_free_slot(page)
    page.locator(".slot:not(.full) input").first.check()
    chosen = page.locator(".slot input:checked").get_attribute("value")
    page.fill("#b-name", "王五")
    page.fill("#b-phone", "bad phone")
    page.locator("[data-book]").click()
    expect(page.locator("[data-error]")).to_be_visible()  # a clear message, nothing booked
    assert not Booking.objects.exists()
    page.locator(f".slot input[value='{chosen}']").check()
    page.fill("#b-phone", "138 1234 5678")
    _shot(page, f"book-{lang}")
    page.locator("[data-book]").click()
    expect(page.locator("h1")).to_contain_text(texts["booked"])
    code = page.locator("[data-code]").inner_text().strip()
    booking = Booking.objects.get()
    assert booking.code == code and booking.phone == "13812345678" and booking.matter.code == matter
    assert booking.start == dt.datetime.fromisoformat(chosen)
    _shot(page, f"booked-{lang}")
    # the manage page: a wrong code is refused in the user's language, the right one cancels
    page.goto(f"{base}/services/manage/")
    page.fill("#m-code", "AAAAAAAA")
    page.fill("#m-phone", "13812345678")
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("[data-error]")).to_be_visible()
    page.fill("#m-code", code.lower())
    page.locator("form.card button[type=submit]").click()
    # cancelling asks first; "Cancel" in the dialog keeps the appointment
    page.once("dialog", lambda d: d.dismiss())
    page.locator("[data-cancel]").click()
    page.wait_for_timeout(300)
    assert Booking.objects.get().status != "cancelled"
    page.once("dialog", lambda d: d.accept())
    page.locator("[data-cancel]").click()
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "cancelled")
    assert Booking.objects.get().status == "cancelled"
    assert errors == []
    context.close()


def test_check_in_at_the_window(browser, live_server, world):
    city, svc = world
    base = live_server.url
    now = clock.now().astimezone(SHANGHAI)
    start = max(now - dt.timedelta(minutes=10), now.replace(hour=0, minute=0, second=0, microsecond=0))
    # Set up a booking for today directly: the booking flow itself is tested above.
    booking = Booking.objects.create(code="CHECKIN2", point=svc.notary, matter=svc.authorisation,
                                     rule=svc.weekdays, window=svc.notary.windows.get(name="1号窗口"), start=start,
                                     end=start + dt.timedelta(minutes=30), name="王五", phone="13812345678",
                                     created_at=start - dt.timedelta(days=1))
    context = _context(browser, "en", viewport={"width": 1366, "height": 900})
    page, errors = _page(context, base, "en")
    log_in(page, base, "notary_staff")
    page.goto(f"{base}/desk/services/today/")
    row = page.locator("tr[data-booking=CHECKIN2]")
    row.locator("select[name=window]").select_option(label="2号窗口")
    row.locator("button[value=check_in]").click()
    expect(page.locator(".messages .msg-success")).to_contain_text("CHECKIN2 checked in")
    row = page.locator("tr[data-booking=CHECKIN2]")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "checked_in")
    row.locator("input[name=note]").fill("缺少房产证原件")
    row.locator("button[value=needs_documents]").click()
    expect(page.locator("tr[data-booking=CHECKIN2] [data-status]")).to_have_attribute("data-status",
                                                                                    "needs_documents")
    _shot(page, "check-in")
    booking.refresh_from_db()
    assert booking.status == "needs_documents" and booking.window.name == "2号窗口"
    assert list(booking.events.values_list("code", flat=True)) == ["checked_in", "outcome"]
    assert errors == []
    context.close()


def test_an_outreach_entry_made_offline_is_synced_later(browser, live_server, world):
    city, _svc = world
    base = live_server.url
    event = OutreachEvent.objects.create(title="痛点攻坚小分队", kind="task_force", place="三里屯菜市场",
                                         area=city.sanlitun, date=clock.now().date(), unit=city.sanlitun_office,
                                         created_at=clock.now())
    context = _context(browser, "zh-hans", viewport={"width": 390, "height": 844}, is_mobile=True)
    page, errors = _page(context, base, "zh-hans")
    log_in(page, base, "outreach")
    page.goto(f"{base}/desk/services/outreach/{event.pk}/")
    expect(page.locator("[data-online-state]")).to_have_attribute("data-online", "true")
    context.set_offline(True)
    expect(page.locator("[data-online-state]")).to_have_attribute("data-online", "false")
    for name, text, solved in (("李大爷", "村口路灯坏了，晚上看不见路。", False), ("张阿姨", "低保怎么申请？", True)):
        page.fill("#e-name", name)
        page.fill("#e-phone", "13811112222")
        page.fill("#e-content", text)
        if solved:
            page.check("#e-solved")
            page.fill("#e-answer", "已现场讲解申请流程。")
        page.locator("[data-save]").click()
    expect(page.locator("[data-pending]")).to_have_text("2")
    _shot(page, "outreach-offline")
    assert not OutreachEntry.objects.exists()  # nothing reached the server
    stored = page.evaluate(f"JSON.parse(localStorage.getItem('jiesu-outreach-{event.pk}'))")
    assert len(stored) == 2 and len({e["client_id"] for e in stored}) == 2
    context.set_offline(False)  # the browser fires "online": the page sends what it kept
    expect(page.locator("[data-pending]")).to_have_text("0")
    _shot(page, "outreach-synced")
    assert OutreachEntry.objects.count() == 2
    assert sorted(OutreachEntry.objects.values_list("outcome", flat=True)) == ["dispatched", "solved_on_spot"]
    assert set(str(e["client_id"]) for e in stored) == {str(c) for c in
                                                        OutreachEntry.objects.values_list("client_id", flat=True)}
    assert WorkOrder.objects.filter(channel="outreach").count() == 2
    # sending the same entries again (a lost answer) adds nothing
    page.evaluate(f"localStorage.setItem('jiesu-outreach-{event.pk}', JSON.stringify({stored!r}))".replace(
        "True", "true").replace("False", "false").replace("None", "null"))
    page.locator("[data-sync]").click()
    expect(page.locator("[data-pending]")).to_have_text("0")
    assert OutreachEntry.objects.count() == 2 and WorkOrder.objects.count() == 2
    assert errors == []
    context.close()


def _booking_event(city, svc) -> OutreachEvent:
    """An event on the notary's next open day (not today: its slots may have passed already)."""
    from jiesu.services import selectors

    day = next(d for d in selectors.open_days(svc.notary, svc.authorisation) if d > selectors.today())
    return OutreachEvent.objects.create(title="普法宣传进社区", kind="lecture", place="三里屯社区广场",
                                        area=city.sanlitun, date=day, unit=city.sanlitun_office,
                                        created_at=clock.now())


def _queue_booking(page, offer: str, slot: str, name: str, phone: str) -> None:
    page.select_option("#b-offer", label=offer)
    page.select_option("#b-slot", value=slot)
    page.fill("#b-name", name)
    page.fill("#b-phone", phone)
    page.locator("[data-save-booking]").click()


def test_a_booking_made_offline_is_booked_once_and_a_full_slot_is_reported(browser, live_server, world):
    from jiesu.accounts.policy import Actor
    from jiesu.services import actions

    city, svc = world
    base = live_server.url
    event = _booking_event(city, svc)
    context = _context(browser, "en", viewport={"width": 390, "height": 844}, is_mobile=True)
    page, errors = _page(context, base, "en")
    log_in(page, base, "outreach")
    page.goto(f"{base}/desk/services/outreach/{event.pk}/")
    offer = "Chaoyang Notary Office · Authorisation"
    page.select_option("#b-offer", label=offer)
    first, second = page.locator("#b-slot option").evaluate_all("os => os.slice(0, 2).map(o => o.value)")
    context.set_offline(True)
    expect(page.locator("[data-online-state]")).to_have_attribute("data-online", "false")
    _queue_booking(page, offer, first, "王五", "13800000001")
    _queue_booking(page, offer, second, "赵六", "13800000002")
    expect(page.locator("[data-pending]")).to_have_text("2")
    assert not Booking.objects.exists()
    stored = page.evaluate(f"JSON.parse(localStorage.getItem('jiesu-outreach-{event.pk}'))")
    # meanwhile the second slot is taken at the window: the offline booking must not squeeze in
    taken = dt.datetime.fromisoformat(second)
    held = 0
    with pytest.raises(SlotFull):
        for held in range(1, 20):
            actions.book(actor=Actor(user_id=None, is_admin=False, username="anonymous"), point_id=svc.notary.pk,
                         matter_id=svc.authorisation.pk, start=taken, name="窗口", phone=f"139000000{held:02d}")
    context.set_offline(False)
    expect(page.locator("[data-pending-list] .field-error")).to_contain_text("fully booked")
    expect(page.locator("[data-pending]")).to_have_text("1")  # the refused one stays, with its reason
    _shot(page, "outreach-booking-synced")
    mine = Booking.objects.filter(channel="outreach")
    assert mine.count() == 1 and mine.get().phone == "13800000001"
    assert mine.get().start == dt.datetime.fromisoformat(first)
    assert OutreachEntry.objects.get(event=event).booking == mine.get()
    # the same entries sent again (a lost answer): still one booking, the full slot still refused
    page.evaluate(f"localStorage.setItem('jiesu-outreach-{event.pk}', JSON.stringify({stored!r}))".replace(
        "True", "true").replace("False", "false").replace("None", "null"))
    # the page already shows the refusal from the first sync, so wait for this sync's own answer: a
    # request still running on the server when the test ends would deadlock with the flush after it
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/entries")):
        page.locator("[data-sync]").click()
    expect(page.locator("[data-pending-list] .field-error")).to_contain_text("fully booked")
    expect(page.locator("[data-pending]")).to_have_text("1")
    assert Booking.objects.filter(channel="outreach").count() == 1 and OutreachEntry.objects.count() == 1
    assert Booking.objects.filter(start=taken).count() == held - 1
    assert errors == []
    context.close()


def test_the_entry_page_reloads_offline_from_its_service_worker(browser, live_server, world):
    city, svc = world
    base = live_server.url
    event = _booking_event(city, svc)
    context = _context(browser, "zh-hans")
    page, errors = _page(context, base, "zh-hans")
    log_in(page, base, "outreach")
    url = f"{base}/desk/services/outreach/{event.pk}/"
    page.goto(url)
    # the worker has taken the page over and says it has kept it with its assets
    expect(page.locator("[data-outreach]")).to_have_attribute("data-sw", "ready")
    context.set_offline(True)
    page.reload()
    expect(page.locator("[data-entry-form]")).to_be_visible()
    expect(page.locator("#b-slot option").first).to_be_attached()  # the slots came with the page
    expect(page.locator("[data-online-state]")).to_have_attribute("data-online", "false")
    page.fill("#e-phone", "13811112222")
    page.fill("#e-content", "离线重新载入后仍可登记。")
    page.locator("[data-save]").click()
    expect(page.locator("[data-pending]")).to_have_text("1")
    context.set_offline(False)
    expect(page.locator("[data-pending]")).to_have_text("0")
    assert OutreachEntry.objects.filter(event=event).count() == 1
    assert errors == []
    context.close()


def test_batch_circuit_filing_with_receipts(browser, live_server, world):
    base = live_server.url
    context = _context(browser, "zh-hans", viewport={"width": 1366, "height": 900})
    page, errors = _page(context, base, "zh-hans")
    log_in(page, base, "court_clerk")
    page.goto(f"{base}/desk/services/filing/")
    page.select_option("#f-kind", "enforcement")
    page.fill("#f-cause", "追索劳动报酬")
    page.fill("#f-respondent", "某建筑劳务公司")
    page.fill("#f-place", "某村村委会")
    page.fill("#f-facts", "申请执行人均为本村村民，在同一工地务工，生效判决确认的工资至今未付。")
    page.locator("#new-batch button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("XF")
    lines = "\n".join(f"村民{i}\t1381234{i:04d}\t某村{i}号\t工资{i}千元" for i in range(1, 9))
    page.fill("#f-parties", lines)
    page.locator("#add-parties button[type=submit]").click()
    expect(page.locator("#filings tbody tr")).to_have_count(8)
    expect(page.locator("[data-count=submitted]")).to_have_text("8")
    first = page.locator("#filings tbody tr").first
    first.locator("textarea[name=items]").fill("身份证复印件\n生效判决书原件")
    first.locator("button[value=correct]").click()
    expect(page.locator("[data-count=needs_correction]")).to_have_text("1")
    page.locator("#filings tbody tr").nth(1).locator("button[value=register]").click()
    expect(page.locator("[data-count=registered]")).to_have_text("1")
    _shot(page, "filing-batch")
    page.locator("#print-all").click()
    receipts = page.locator("[data-receipt]")
    expect(receipts).to_have_count(8)
    today = clock.now().astimezone(SHANGHAI).date().isoformat()
    expect(receipts.first.locator("[data-received]")).to_contain_text(today)
    expect(receipts.first).to_contain_text("收件凭证")
    _shot(page, "filing-receipts")
    assert Filing.objects.count() == 8 and Filing.objects.filter(status="registered").count() == 1
    assert errors == []
    context.close()
