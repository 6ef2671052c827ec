"""The demo's public legal services (issue 5), after the seed: notary offices open on Saturdays
and on chosen Sundays with a will-notarisation week (57 booked, 31 done, +200 % on the normal
week before it), a liaison room in an industrial park one afternoon a week, a court filing
window, a procuratorate reception, a legal-aid station and a community police post; the 12309
hotline with its queue; a task-force outreach desk; a circuit-filing batch of one village.

Everything goes through the service functions, with the clock set back to when it happened;
dates are counted from the anchor, so the demo looks the same whatever day it is loaded.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

from jiesu import clock
from jiesu.accounts.policy import Actor
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.orders import actions as order_actions
from jiesu.org.models import Area, Unit
from jiesu.services import actions
from jiesu.services.errors import DomainError
from jiesu.services.models import Hotline, Matter, OpeningRule, ServicePoint, Window

PUBLIC = Actor(user_id=None, is_admin=False, username="anonymous")
WANGJING = "110105030"
PANGGEZHUANG = "110115011"
YIZHUANG = "110115"  # 大兴区 (北京经济技术开发区 lies within it)

MATTERS = [
    # kind, code, name, English, minutes, in person, legal reason (zh, en)
    ("notary", "will", "遗嘱公证", "Will", 60, True,
     "《中华人民共和国公证法》第二十六条：遗嘱等应当由本人办理公证，不得委托他人代理。",
     "Notary Law of the PRC, Art. 26: a will must be notarised by the testator in person, never by an agent."),
    ("notary", "authorisation", "委托公证", "Authorisation", 30, False, "", ""),
    ("notary", "declaration", "声明公证", "Declaration", 30, False, "", ""),
    ("notary", "gift", "赠与公证", "Gift", 45, False, "", ""),
    ("notary", "inheritance", "继承公证", "Inheritance", 60, False, "", ""),
    ("court_filing", "civil_filing", "民事立案", "Civil case filing", 30, False, "", ""),
    ("court_filing", "enforcement_filing", "执行立案", "Enforcement filing", 30, False, "", ""),
    ("procuratorate", "complaint_reception", "控告申诉接待", "Complaints and appeals", 30, False, "", ""),
    ("liaison_room", "legal_advice", "法律咨询（法官、检察官、律师）", "Legal advice (judge, procurator, lawyer)", 30,
     False, "", ""),
    ("legal_aid", "legal_aid_application", "法律援助申请", "Legal-aid application", 30, False, "", ""),
    ("police_post", "residence", "户籍业务", "Household registration", 20, False, "", ""),
]


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _point(code, name, name_en, kind, unit, area, address, windows, staffed_by="") -> tuple[ServicePoint, list[Window]]:
    point = ServicePoint.objects.create(code=code, name=name, name_en=name_en, kind=kind,
                                        unit=Unit.objects.get(code=unit), area=Area.objects.get(code=area),
                                        address=address, staffed_by=staffed_by)
    return point, [Window.objects.create(point=point, name=w) for w in windows]


def _rule(point, windows, *, label, weekdays=(), dates=(), start=None, end=None, opens=9, closes=17,
          matters=(), special=False) -> OpeningRule:
    rule = OpeningRule.objects.create(point=point, label=label, weekdays=list(weekdays),
                                      dates=[d.isoformat() for d in dates], start=start, end=end,
                                      opens=dt.time(opens), closes=dt.time(closes), special=special)
    rule.windows.set(windows)
    if matters:
        rule.matters.set(matters)
    return rule


def _phones(prefix: str) -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield f"{prefix}{n:08d}"


def _book_in(point, matter, days: list[dt.date], count: int, phones: Iterator[str], *, first: int = 9,
             last: int = 17) -> list[str]:
    """Book ``count`` places on the given days, slot after slot, each as booked three days before."""
    codes: list[str] = []
    step = dt.timedelta(minutes=matter.slot_minutes)
    for day in days:
        start = dt.datetime.combine(day, dt.time(first), tzinfo=SHANGHAI)
        while start < dt.datetime.combine(day, dt.time(last), tzinfo=SHANGHAI):
            while len(codes) < count:
                with clock.frozen(start - dt.timedelta(days=3)):
                    try:
                        codes.append(actions.book(actor=PUBLIC, point_id=point.pk, matter_id=matter.pk, start=start,
                                                  name="预约人", phone=next(phones)).code)
                    except DomainError:
                        break  # full, closed or a holiday: the next slot
            start += step
    return codes


def _serve(codes: list[str], staff: Actor, served: int) -> None:
    """The first ``served`` came and were served; the others are left for the no-show sweep."""
    from jiesu.services.models import Booking

    for code in codes[:served]:
        booking = Booking.objects.get(code=code)
        with clock.frozen(booking.start + dt.timedelta(minutes=5)):
            actions.check_in(actor=staff, code=code)
        with clock.frozen(booking.start + dt.timedelta(minutes=40)):
            actions.record_outcome(actor=staff, code=code, outcome="served")


def services_share(orders: int) -> int:
    """Orders of the demo's ``--orders`` that come from the outreach desk and the 12309 hotline
    (none in a small demo, whose orders must cover every state)."""
    return 60 if orders >= 500 else 0


def load(*, anchor: dt.datetime, actors: dict[str, Actor], orders: int) -> None:
    today = anchor.astimezone(SHANGHAI).date()
    matters = {}
    for kind, code, name, name_en, minutes, in_person, reason, reason_en in MATTERS:
        matters[code] = Matter.objects.create(kind=kind, code=code, name=name, name_en=name_en, slot_minutes=minutes,
                                              in_person_required=in_person, in_person_reason=reason,
                                              in_person_reason_en=reason_en)
    will_week = _monday(today) - dt.timedelta(days=21)
    normal_week = will_week - dt.timedelta(days=7)
    sundays = [_monday(today) + dt.timedelta(days=6 + 7 * i) for i in (-1, 1, 3)]

    fangyuan, fw = _point("NP-FANGYUAN", "北京市方圆公证处服务大厅", "Fangyuan Notary Office", "notary",
                          "NO-FANGYUAN", "110101", "东城区东四十条甲22号", ["1号窗口", "2号窗口", "3号窗口",
                                                                        "4号窗口", "遗嘱专窗1", "遗嘱专窗2", "遗嘱专窗3"])
    _rule(fangyuan, fw[:4], label="工作日", weekdays=range(5))
    _rule(fangyuan, fw[:2], label="周六照常办公", weekdays=[5], closes=12)
    _rule(fangyuan, fw[:1], label="部分周日办公", dates=sundays, closes=12)
    _rule(fangyuan, fw[4:], label="遗嘱公证服务周", weekdays=range(7), start=will_week,
          end=will_week + dt.timedelta(days=6), matters=[matters["will"]], special=True)
    changan, cw = _point("NP-CHANGAN", "北京市长安公证处", "Chang'an Notary Office", "notary", "NO-CHANGAN",
                         "110102", "西城区复兴门内大街", ["1号窗口", "2号窗口"])
    _rule(changan, cw, label="工作日", weekdays=range(5))
    _rule(changan, cw[:1], label="周六照常办公", weekdays=[5], closes=12)
    liaison, lw = _point("LR-YIZHUANG", "亦庄工业园区“两室一站”", "Yizhuang industrial park liaison room",
                         "liaison_room", "CT110115", YIZHUANG, "经济技术开发区科创街党群服务中心",
                         ["法官工作室", "检察官工作室", "律师公证工作站"], staffed_by="法官、检察官、律师及公证员")
    _rule(liaison, lw, label="每周三下午", weekdays=[2], opens=14, closes=17)
    filing, flw = _point("CF-CHAOYANG", "朝阳区人民法院诉讼服务中心立案窗口", "Chaoyang Court filing window",
                         "court_filing", "CT110105", "110105", "朝阳区朝阳公园南路1号", ["立案1号窗口", "立案2号窗口"])
    _rule(filing, flw, label="工作日", weekdays=range(5))
    reception, rw = _point("PRR-CHAOYANG", "朝阳区人民检察院检察服务中心", "Chaoyang Procuratorate reception",
                           "procuratorate", "PR110105", "110105", "朝阳区朝阳门外大街", ["接待窗口"])
    _rule(reception, rw, label="工作日", weekdays=range(5))
    aid, aw = _point("LA-CHAOYANG", "朝阳区法律援助工作站", "Chaoyang legal-aid station", "legal_aid", "JB110105",
                     "110105", "朝阳区东三环中路", ["援助窗口"])
    _rule(aid, aw, label="工作日", weekdays=range(5))
    post, pw = _point("PP-WANGJING", "望京社区警务站", "Wangjing community police post", "police_post",
                      f"PS{WANGJING}", WANGJING, "朝阳区望京街道阜通东大街", ["户籍窗口"])
    _rule(post, pw, label="工作日", weekdays=range(5))
    _rule(post, pw, label="周六上午", weekdays=[5], closes=12)

    hotline = Hotline.objects.create(code="12309", name="12309检察服务热线", name_en="12309 procuratorate hotline",
                                     owner=Unit.objects.get(code="PR-CITY"))
    hotline.units.set(Unit.objects.filter(kind="procuratorate"))

    # The will week: 57 booked, 31 done — three times the 19 of the normal week before.
    staff = actors["service1"]
    phones = _phones("135")
    normal = _book_in(fangyuan, matters["will"], [normal_week + dt.timedelta(days=i) for i in range(5)], 19, phones)
    _serve(normal, staff, 15)
    week = _book_in(fangyuan, matters["will"], [will_week + dt.timedelta(days=i) for i in range(7)], 57, phones)
    _serve(week, staff, 31)
    # Weekends: a Saturday's 11 and a Sunday's 3.
    saturday = _monday(today) - dt.timedelta(days=2)
    sat = _book_in(fangyuan, matters["authorisation"], [saturday], 11, phones, last=12)
    _serve(sat, staff, 11)
    sun = _book_in(fangyuan, matters["declaration"], [sundays[0]], 3, phones)
    _serve(sun, staff, 3)
    # Coming up: bookings in the next days at the window, for the check-in screen.
    _book_in(fangyuan, matters["authorisation"], [today, today + dt.timedelta(days=1)], 6, phones)
    _book_in(liaison, matters["legal_advice"], [d for d in (today + dt.timedelta(days=i) for i in range(7))
                                               if d.weekday() == 2], 3, phones, first=14)
    with clock.frozen(anchor - dt.timedelta(minutes=1)):
        actions.mark_no_shows()

    # Circuit filing: one village's wage-arrears enforcement cases, received in one morning.
    clerk = actors["service2"]
    filing_day = dt.datetime.combine(_monday(today) - dt.timedelta(days=4), dt.time(9, 30), tzinfo=SHANGHAI)
    with clock.frozen(filing_day):
        event = actions.plan_event(actor=Actor.system(), title="巡回立案进村", kind="circuit_filing",
                                   place="庞各庄镇某村村委会", date=filing_day.date(), unit_code="CT110105",
                                   team="朝阳区法院立案庭法官、书记员")
        batch = actions.open_batch(actor=clerk, court_code="CT110105", case_kind="enforcement", cause="追索劳动报酬",
                                   respondent="某建筑劳务公司", place="庞各庄镇某村村委会", event_id=event.pk,
                                   facts="申请执行人均为本村村民，在同一工地务工，生效判决确认的工资至今未付。")
        parties = [actions.PartyInput(party=f"村民{i:02d}", phone=f"1391100{i:04d}", claim=f"工资{8 + i % 5}千元")
                   for i in range(1, 43)]
        filings = actions.add_parties(actor=clerk, batch_id=batch.pk, parties=parties)
    with clock.frozen(filing_day + dt.timedelta(days=1)):
        actions.request_correction(actor=clerk, filing_id=filings[0].pk, items=["身份证复印件", "生效判决书原件"])
        for f in filings[1:40]:
            actions.decide_filing(actor=clerk, filing_id=f.pk, register=True)

    share = services_share(orders)
    if not share:
        return
    # The task force's desk at a market: requests solved on the spot or sent for dispatch.
    desk_day = dt.datetime.combine(_monday(today) - dt.timedelta(days=9), dt.time(10), tzinfo=SHANGHAI)
    outreach = actors["outreach1"]
    with clock.frozen(desk_day):
        market = actions.plan_event(actor=outreach, title="“痛点攻坚”小分队集市服务台", kind="task_force",
                                    place="庞各庄镇大集", date=desk_day.date(), unit_code=f"SO{PANGGEZHUANG}",
                                    area_code=PANGGEZHUANG,
                                    team="镇政府、派出所、司法所、法庭")
        texts = ["村里路灯坏了好几盏，晚上出行不便。", "宅基地纠纷想咨询怎么处理。", "集市周边占道经营，交通拥堵。",
                 "老人养老金发放有疑问。", "邻居装修噪音大。", "想了解法律援助的申请条件。"]
        entries = [actions.EntryInput(client_id=str(uuid.UUID(int=desk_day.toordinal() * 1000 + i)), name=f"群众{i}",
                                      phone=f"1360000{i:04d}", content=texts[i % len(texts)],
                                      request_type="consult" if i % 3 else "help", solved_on_spot=i % 10 != 0,
                                      answer="已现场解答并告知办理途径。")
                   for i in range(share - 6)]
        result = actions.sync_entries(actor=outreach, event_id=market.pk, entries=entries)
    with clock.frozen(desk_day + dt.timedelta(hours=3)):
        for entry in result.created:
            if entry.outcome == "dispatched" and entry.order is not None:
                order_actions.dispatch_order(actor=actors["dispatcher1"], number=entry.order.number,
                                             lead_unit=f"SO{PANGGEZHUANG}")
    # 12309: calls recorded in the hotline's queue; one dispatched to a district procuratorate.
    with clock.frozen(anchor - dt.timedelta(hours=20)):
        numbers = [actions.record_hotline_order(
            actor=actors["calltaker1"], hotline_code="12309", request_type="report",
            content=f"反映某单位案件办理久拖不决（第{i}件）。", address="朝阳区",
            requesters=[order_actions.RequesterInput(phone=f"1370000{i:04d}", name="来电人")]).number
            for i in range(1, 7)]
        actions.dispatch_hotline_order(actor=actors["dispatcher1"], hotline_code="12309", number=numbers[0],
                                       unit_code="PR110105", note="请依法核查并答复。")
