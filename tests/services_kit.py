"""A small set of legal-service points on top of the fixture city (tests only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jiesu.accounts.models import Membership, Role, User
from jiesu.org.models import Unit, UnitKind
from jiesu.services.models import Hotline, Matter, OpeningRule, ServicePoint, Window


@dataclass
class Services:
    notary_unit: Unit
    court: Unit
    procuratorate: Unit
    notary: ServicePoint
    liaison: ServicePoint
    will: Matter
    authorisation: Matter
    weekdays: OpeningRule
    will_week: OpeningRule
    hotline: Hotline


def build_services(city, *, will_week: tuple[dt.date, dt.date] = (dt.date(2026, 12, 14), dt.date(2026, 12, 20))
                   ) -> Services:
    notary_unit = Unit.objects.create(code="NOTARY-CY", name="朝阳公证处", kind=UnitKind.NOTARY_OFFICE,
                                      area=city.chaoyang)
    court = Unit.objects.create(code="COURT-CY", name="朝阳区人民法院", kind=UnitKind.COURT, area=city.chaoyang)
    proc = Unit.objects.create(code="PROC-CY", name="朝阳区人民检察院", kind=UnitKind.PROCURATORATE,
                               area=city.chaoyang)
    users = city.users
    for name, unit, role in (("notary_staff", notary_unit, Role.SERVICE_STAFF),
                             ("court_clerk", court, Role.SERVICE_STAFF)):
        u = User.objects.create_user(username=name, password="pw-" + name, display_name=name)
        Membership.objects.create(user=u, unit=unit, role=role)
        users[name] = u
    notary = ServicePoint.objects.create(code="NP-CY", name="朝阳公证处服务大厅", name_en="Chaoyang Notary Office",
                                         kind="notary", unit=notary_unit, area=city.chaoyang,
                                         address="朝阳区工体北路1号")
    w1 = Window.objects.create(point=notary, name="1号窗口")
    w2 = Window.objects.create(point=notary, name="2号窗口")
    will_windows = [Window.objects.create(point=notary, name=f"遗嘱专窗{i}") for i in (1, 2, 3)]
    will = Matter.objects.create(kind="notary", code="will", name="遗嘱公证", name_en="Will", slot_minutes=60,
                                 in_person_required=True,
                                 in_person_reason="《公证法》第二十六条：遗嘱公证应当由本人亲自办理。",
                                 in_person_reason_en="Notary Law Art. 26: a will must be notarised in person.")
    auth = Matter.objects.create(kind="notary", code="authorisation", name="委托公证", name_en="Authorisation",
                                 slot_minutes=30)
    weekdays = OpeningRule.objects.create(point=notary, label="工作日", weekdays=[0, 1, 2, 3, 4],
                                          opens=dt.time(9), closes=dt.time(17))
    weekdays.windows.set([w1, w2])
    saturday = OpeningRule.objects.create(point=notary, label="周六", weekdays=[5], opens=dt.time(9),
                                          closes=dt.time(12))
    saturday.windows.set([w1])
    week = OpeningRule.objects.create(point=notary, label="遗嘱公证周", weekdays=list(range(7)), start=will_week[0],
                                      end=will_week[1], opens=dt.time(9), closes=dt.time(17), special=True)
    week.windows.set(will_windows)
    week.matters.set([will])
    liaison = ServicePoint.objects.create(code="LR-SLT", name="三里屯法官工作室", kind="liaison_room",
                                          unit=court, area=city.sanlitun, staffed_by="法官、检察官、律师")
    lw = Window.objects.create(point=liaison, name="接待室")
    Matter.objects.create(kind="liaison_room", code="legal_advice", name="法律咨询", name_en="Legal advice",
                          slot_minutes=30)
    wed = OpeningRule.objects.create(point=liaison, label="每周三下午", weekdays=[2], opens=dt.time(14),
                                     closes=dt.time(17))
    wed.windows.set([lw])
    hotline = Hotline.objects.create(code="12309", name="12309检察服务热线", name_en="12309 procuratorate hotline",
                                     owner=proc)
    hotline.units.set([proc, city.police])
    return Services(notary_unit, court, proc, notary, liaison, will, auth, weekdays, week, hotline)
