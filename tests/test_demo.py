"""The demo city: the gazetteer, the organisation, the people and orders that went through the
real service functions, and that one seed and anchor always give the same city."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from importlib import resources

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from jiesu.accounts.models import Membership, Role
from jiesu.catalogue.models import RoutingRule
from jiesu.deadlines.models import DeadlineLimit
from jiesu.deadlines.services import seed_calendar_from_library
from jiesu.demo import people
from jiesu.demo.build import DemoError, demo_accounts, format_accounts, load_demo
from jiesu.orders.models import Event, OrderState, WorkOrder
from jiesu.org.models import Area, Unit, UnitKind

ANCHOR = dt.date(2026, 3, 2)
FULL = ("东城区", "西城区", "朝阳区", "海淀区")


def gazetteer() -> list[dict[str, str]]:
    text = resources.files("jiesu.demo").joinpath("data/beijing_areas.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


# -- the gazetteer file (no database) -----------------------------------------------------------


def test_gazetteer_has_every_district_and_township():
    rows = gazetteer()
    by_level = Counter(r["level"] for r in rows)
    assert by_level["1"] == 1 and by_level["2"] == 16
    assert by_level["3"] >= 300  # jionlp lists 339 township-level units for Beijing
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes))
    known = set()
    for r in rows:  # parents come first, so the file loads in one pass
        assert not r["parent_code"] or r["parent_code"] in known, r
        known.add(r["code"])
    districts = {r["name"] for r in rows if r["level"] == "2"}
    assert {
        "东城区",
        "西城区",
        "朝阳区",
        "海淀区",
        "丰台区",
        "石景山区",
        "门头沟区",
        "房山区",
        "通州区",
        "顺义区",
        "昌平区",
        "大兴区",
        "怀柔区",
        "平谷区",
        "密云区",
        "延庆区",
    } == districts
    assert {r["code"] for r in rows if r["level"] == "2"} >= {"110101", "110102", "110105", "110108"}


def test_gazetteer_lists_communities_of_four_districts_completely():
    rows = gazetteer()
    name = {r["code"]: r["name"] for r in rows}
    towns = defaultdict(list)
    for r in rows:
        if r["level"] == "4":
            towns[r["parent_code"]].append(r["name"])
    per_district = Counter(name[r["parent_code"]] for r in rows if r["level"] == "3")
    for r in rows:
        if r["level"] == "3" and name[r["parent_code"]] in FULL:
            assert towns[r["code"]], f"{r['name']} has no communities"
    district_of = {r["code"]: name[r["parent_code"]] for r in rows if r["level"] == "3"}
    communities = Counter(district_of[town] for town, names in towns.items() for _ in names)
    assert per_district["朝阳区"] == 43 and per_district["海淀区"] == 29
    # jionlp's counts, less the few names it lists twice under one township.
    assert [communities[d] for d in FULL] == [177, 259, 621, 661], communities
    wangjing = next(r for r in rows if r["name"] == "望京街道")
    assert "望京西园三区社区" in towns[wangjing["code"]]


def test_gazetteer_keeps_both_names_of_area_offices():
    rows = {(r["name"], r["alias"]) for r in gazetteer() if r["level"] == "3"}
    assert ("旧宫地区", "旧宫镇") in rows
    assert ("东坝地区", "东坝乡") in rows
    assert ("常营地区", "常营回族乡") in rows
    aliased = [r for r in gazetteer() if r["alias"]]
    assert len(aliased) >= 50 and all(r["name"].endswith("地区") for r in aliased)


# -- the loaded city ----------------------------------------------------------------------------


def fingerprint() -> list[tuple]:
    """Everything a person would see of the orders, without database ids."""
    users = dict(people.User.objects.values_list("id", "username"))
    events = defaultdict(list)
    for e in Event.objects.order_by("at", "id").values_list(
        "order__number", "code", "at", "actor_id", "from_state", "to_state", "reason"
    ):
        events[e[0]].append((e[1], e[2].isoformat(), users.get(e[3]), *e[4:]))
    return [
        (
            o.number,
            o.state,
            o.request_type,
            o.channel,
            o.urgency,
            o.title,
            o.content,
            o.address,
            o.area.code if o.area else None,
            o.category.code if o.category else None,
            o.received_at.isoformat(),
            o.due_at.isoformat() if o.due_at else None,
            tuple(sorted(o.requesters.values_list("phone", "name"))),
            tuple(events[o.number]),
        )
        for o in WorkOrder.objects.order_by("number").select_related("area", "category")
    ]


@pytest.mark.django_db
def test_demo_loads_a_city_with_every_role_and_state():
    summary = load_demo(orders=60, seed=7, anchor=ANCHOR)
    assert summary.orders == WorkOrder.objects.count() == 60
    assert summary.anchor.isoformat() == "2026-03-02T00:00:00+08:00"

    # Geography and organisation.
    assert Area.objects.filter(level=2).count() == 16 and Area.objects.filter(level=3).count() >= 300
    assert Area.objects.get(name="旧宫地区").alias == "旧宫镇"
    assert Area.objects.get(name="望京街道").path == "110000/110105/110105030"
    kinds = set(Unit.objects.values_list("kind", flat=True))
    assert kinds == set(UnitKind.values)
    assert Unit.objects.filter(kind=UnitKind.STREET_OFFICE).count() == Area.objects.filter(level=3).count()
    assert Unit.objects.get(code="PR110105").phone == "12309"
    assert Unit.objects.filter(kind=UnitKind.NOTARY_OFFICE, name="北京市方圆公证处").exists()

    # Routing: a street-level category goes to the street office of the street.
    street = Area.objects.get(code="110105030")
    rule = RoutingRule.objects.get(category__code="0102", area=street)
    assert rule.lead_unit.code == "SO110105030"
    assert RoutingRule.objects.get(category__code="0301", area=None).lead_unit.code == "UT-WATER"
    assert 100 < RoutingRule.objects.count() < 5000

    # Deadlines (DESIGN §4).
    limits = {
        (d.request_type, d.urgency, d.category.code if d.category else ""): (d.amount, d.unit)
        for d in DeadlineLimit.objects.select_related("category")
    }
    assert limits[("", "emergency", "")] == (2, "hours")
    assert limits[("", "", "03")] == (24, "hours")
    assert limits[("", "", "")] == (7, "working_days")
    assert (15, "working_days") in limits.values()

    # People: every role has a user, and the accounts table logs in.
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    rows = demo_accounts()
    assert 18 <= len(rows) <= 25
    assert authenticate(username="admin", password="admin").is_superuser
    assert authenticate(username="handler1", password="handler1-demo") is not None
    table = format_accounts(rows)
    assert "calltaker1-demo" in table and "望京街道办事处" in table

    # Orders: every state but draft is well represented; histories end where the orders are.
    states = Counter(WorkOrder.objects.values_list("state", flat=True))
    assert set(states) == set(OrderState.values), states
    for order in WorkOrder.objects.exclude(state="draft").prefetch_related("events"):
        moves = [e for e in order.events.all() if e.to_state]
        assert moves and moves[-1].to_state == order.state, order.number
        assert order.events.first().code == "created"
        assert all(e.at < summary.anchor for e in order.events.all())
        assert order.received_at >= summary.anchor - dt.timedelta(days=61)
    merged = WorkOrder.objects.filter(state="merged").first()
    assert merged.merged_into.requesters.count() >= 2
    codes = set(Event.objects.values_list("code", flat=True))
    assert codes >= {"created", "dispatched", "accepted", "returned", "replied", "callback_opened", "callback",
                     "answered", "referred", "declined", "merged", "absorbed", "closed"}, codes
    assert set(WorkOrder.objects.values_list("channel", flat=True)) >= {"hotline", "web", "app"}

    # The public measures: a progress note names the milestone its percentage has reached (the
    # list showed "完成进度50%：全部完成").
    from jiesu.insight.models import MeasureUpdate

    notes = list(MeasureUpdate.objects.values_list("percent", "evidence"))
    assert notes and any("完成一半" in e for _p, e in notes)
    assert all(p == 100 for p, e in notes if "全部完成" in e), [n for n in notes if "全部完成" in n[1]]


@pytest.mark.django_db(transaction=True)  # flush truncates: PostgreSQL refuses inside a transaction
def test_same_seed_and_anchor_give_the_same_city():
    seed_calendar_from_library()
    load_demo(orders=60, seed=99, anchor=ANCHOR)
    first = fingerprint()
    assert len(first) == 60
    call_command("flush", interactive=False, verbosity=0)
    seed_calendar_from_library()  # flush also empties the holiday table that migrations seed
    load_demo(orders=60, seed=99, anchor=ANCHOR)
    assert fingerprint() == first
    call_command("flush", interactive=False, verbosity=0)
    seed_calendar_from_library()
    load_demo(orders=60, seed=100, anchor=ANCHOR)
    assert fingerprint() != first


@pytest.mark.django_db
def test_demo_refuses_a_database_that_is_not_empty(capsys):
    call_command("demo", "--orders", "20", "--seed", "3", "--anchor", "2026-03-02")
    out = capsys.readouterr().out
    assert "20 orders" in out and "admin" in out and "dispatcher1-demo" in out
    with pytest.raises(CommandError, match="empty database"):
        call_command("demo", "--orders", "20")
    with pytest.raises(DemoError):
        load_demo(orders=5)
    with pytest.raises(CommandError, match="--anchor"):
        call_command("demo", "--anchor", "yesterday")


@pytest.mark.django_db
def test_deadline_memo_is_opt_in_and_follows_edits(city):
    """The demo reads the limit table once per run (``deadlines.cached``); after any edit,
    inside that block or outside it, every read sees the table as it is."""
    from jiesu.deadlines import services as deadlines

    def terms():
        return deadlines.terms_for(request_type="complaint", urgency="normal", category=city.lamp)

    assert terms().handling.amount == 7  # nothing configured: the built-in default
    with deadlines.cached():
        assert terms().handling.amount == 7
        DeadlineLimit.objects.create(category=city.road, amount=3, unit="working_days")
        assert terms().handling.amount == 3  # the save cleared the memo
        assert deadlines.load_calendar() is deadlines.load_calendar()
    # Outside the block the per-process memo follows the configuration stamp
    # (tests/test_deadline_cache.py): an edit is seen at once.
    limit = DeadlineLimit.objects.get(category=city.road)
    limit.amount = 5
    limit.save()
    assert terms().handling.amount == 5


@pytest.mark.parametrize("text,code", [
    ("花家地西里小区停水两天了，没有通知", "030101"),  # not 小区停车: 小区 alone says nothing of parking
    ("小区停电了，冰箱里的东西都坏了", "030201"),
    ("小区停车难，车位太少", "020104"),
    ("小区门口路灯不亮", "010101"),
    ("送一面锦旗，他们帮我们解决了楼道灯的问题", "160202"),  # praise; not 电动车充电: 楼道 alone says nothing of it
    ("楼道里飞线充电，电动车停在楼道", "100202"),
])
def test_the_demo_catalogues_keywords_name_the_category_a_call_taker_would(text, code):
    """The cold-start suggestion (no model yet) comes from these keywords alone: a word every
    residential complaint contains must not be one of them."""
    from jiesu.triage.rules import KeywordCategoryClassifier

    data = resources.files("jiesu.demo").joinpath("data/categories.csv").read_text(encoding="utf-8")
    rows = [r for r in csv.DictReader(line for line in data.splitlines() if not line.startswith("#"))]
    leaves = [(r["code"], r["name"], r["keywords"]) for r in rows if r["keywords"]]
    assert KeywordCategoryClassifier(leaves).predict(text).label == code

