"""Insight screens: who may open them, what they show, and that they cost a fixed number of
queries; proactive work items through dispatch; topics and measures; the public measures page."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jiesu.catalogue.models import Channel, RequestType
from jiesu.insight import hotspot_data, measures, topics
from jiesu.insight.dashboard import Period, chart_options, dashboard
from jiesu.insight.models import Measure, MeasureUpdate, Milestone, Topic, TopicItem, TopicItemKind
from jiesu.orders import actions
from jiesu.orders.errors import InvalidInput, NotAllowed
from jiesu.orders.models import Event, WorkOrder
from jiesu.orders.states import State

pytestmark = pytest.mark.django_db

SCREENS = ["insight:dashboard", "insight:hotspots", "insight:topics", "insight:topic_new", "insight:proactive",
           "insight:proactive_new", "insight:measures", "insight:measure_new"]


def login(client, city, name):
    client.force_login(city.users[name])
    return client


def handled(city, new_order, **kw):
    """An order dispatched to the street office, accepted, contacted and replied to."""
    order = new_order(**kw)
    a = city.actor
    actions.dispatch_order(actor=a("dispatcher"), number=order.number, lead_unit="SLT")
    actions.accept_assignment(actor=a("handler"), number=order.number)
    actions.record_contact(actor=a("handler"), number=order.number)
    actions.reply_to_order(actor=a("handler"), number=order.number, outcome="solved",
                           body="经现场核实，路灯线路老化，已更换，现已恢复照明。联系电话：010-84561234。")
    return order


@pytest.mark.parametrize("name, status", [
    ("analyst", 200), ("supervisor", 200), ("admin", 200),
    ("calltaker", 403), ("dispatcher", 403), ("handler", 403), ("nobody", 403),
])
def test_screens_by_role(client, city, name, status):
    login(client, city, name)
    for screen in SCREENS:
        response = client.get(reverse(screen))
        expected = status
        if screen == "insight:measures" and name == "handler":
            expected = 403  # no measures of the handler's unit yet
        assert response.status_code == expected, (screen, name)


def test_anonymous_goes_to_login(client, city):
    response = client.get(reverse("insight:dashboard"))
    assert response.status_code == 302 and "/desk/login/" in response["Location"]


def test_nav_shows_insight_to_analysts_only(client, city):
    assert 'href="/desk/insight/"' in login(client, city, "analyst").get("/desk/orders/").content.decode()
    assert 'href="/desk/insight/"' not in login(client, city, "calltaker").get("/desk/orders/").content.decode()


def _count(client, url):
    cache.clear()  # the cost of computing the page, not of a cached hotspot list
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/desk/insight/", "/desk/insight/hotspots/", "/desk/insight/proactive/",
                                 "/desk/insight/measures/", "/measures/"])
def test_pages_cost_a_fixed_number_of_queries(client, city, new_order, url):
    login(client, city, "analyst")
    handled(city, new_order)
    new_order()
    owner = city.sanlitun_office
    Measure.objects.create(title="甲", owner_unit=owner, target="t", public=True)
    # One of everything first (prefetches of empty lists cost nothing), then more of everything.
    proactive = actions.create_order(actor=city.actor("analyst"), proactive=True, requesters=[], content="巡查。",
                                     channel=Channel.PROACTIVE, request_type=RequestType.OTHER)
    actions.dispatch_order(actor=city.actor("dispatcher"), number=proactive.number, lead_unit="SLT")
    client.get(url)  # warm caches (content types, sessions)
    few = _count(client, url)
    for i in range(4):
        handled(city, new_order, content=f"三里屯路口的路灯坏了，第{i}次反映，晚上很黑。")
        new_order(area_code="110108001", category_code="0201")
    actions.create_order(actor=city.actor("analyst"), proactive=True, requesters=[], channel=Channel.PROACTIVE,
                         request_type=RequestType.OTHER, content="巡查发现井盖缺失。", area_code="110105001")
    for i in range(3):
        m = Measure.objects.create(title=f"乙{i}", owner_unit=owner, target="t", public=True, category=f"c{i}")
        Milestone.objects.create(measure=m, title="m", due=dt.date(2026, 1, 1))
        measures.add_update(city.actor("analyst"), m, percent=50, evidence="进展")
    assert _count(client, url) == few


def test_topic_page_costs_a_fixed_number_of_queries(client, city, new_order):
    login(client, city, "analyst")
    topic = Topic.objects.create(title="路灯", month=dt.date.today().replace(day=1), lead_unit=city.sanlitun_office,
                                 category=city.lamp, keywords="路灯 照明")
    url = reverse("insight:topic", args=[topic.pk])
    TopicItem.objects.create(topic=topic, kind=TopicItemKind.POLICY, text="政策", owner_unit=city.water)
    topics.link_order(city.actor("analyst"), topic, handled(city, new_order).number)
    client.get(url)
    few = _count(client, url)
    for i in range(3):
        handled(city, new_order)
        TopicItem.objects.create(topic=topic, kind=TopicItemKind.TASK, text=f"任务{i}", owner_unit=city.water)
        topics.link_order(city.actor("analyst"), topic, new_order(category_code="0201").number)
    assert _count(client, url) == few


def test_dashboard_numbers_equal_a_recount(city, new_order):
    orders = [handled(city, new_order) for _ in range(3)]
    new_order(channel=Channel.WEB, request_type=RequestType.HELP, area_code="110108001", category_code="0201")
    new_order(draft=True)  # drafts are not counted
    d = dashboard(city.actor("analyst"), Period.last_days(7))
    assert d.total == 4 == sum(c.n for c in d.by_channel) == sum(d.per_day)
    assert {c.code: c.n for c in d.by_channel} == {"hotline": 3, "web": 1}
    assert {c.code: c.n for c in d.by_type} == {"complaint": 3, "help": 1}
    assert {c.code: c.n for c in d.by_category} == {"01": 3, "02": 1}
    assert {c.label: c.n for c in d.by_district} == {"朝阳区": 3, "海淀区": 1}
    assert {t.name: t.value for t in d.tiles} == {"朝阳区": 3, "海淀区": 1}
    timing = {t.key: t for t in d.timings}
    leads = [o.assignments.get() for o in orders]
    replies = sorted((a.replied_at - a.dispatched_at).total_seconds() / 3600 for a in leads)
    assert timing["reply"].n == 3 and timing["reply"].median_hours == round(replies[1], 1)
    assert timing["dispatch"].n == 3 and timing["contact"].n == 3
    # A district analyst sees only the district's orders.
    assert dashboard(city.actor("cy_dispatcher"), Period.last_days(7)).total == 3
    assert statistics.mean(d.moving_average) > 0


def test_dashboard_charts_name_every_district_and_keep_the_unit_inside(city, new_order):
    new_order()
    charts = chart_options(dashboard(city.actor("analyst"), Period.last_days(7)))
    # ECharts skips crowded category labels unless told not to (every other of 16 districts).
    assert charts["district"]["yAxis"]["axisLabel"]["interval"] == 0
    # The unit under the axis, not past its end where the card cut it off.
    assert charts["timing"]["xAxis"]["nameLocation"] == "middle"


def test_hotspot_list_and_page(client, city, new_order):
    for i in range(3):
        new_order(content=f"三里屯路19号路口的路灯坏了一个星期，晚上很黑，第{i + 1}次反映。",
                  requesters=[actions.RequesterInput(phone=f"1381234567{i}")])
    new_order(content="中关村的公交车末班车太早。", area_code="110108001")
    rows = hotspot_data.find(city.actor("analyst"))
    assert len(rows) == 1 and rows[0].cluster.size == 3 and rows[0].cluster.people == 3
    assert rows[0].area_name == "三里屯街道"
    login(client, city, "analyst")
    page = client.get("/desk/insight/hotspots/").content.decode()
    assert "三里屯街道" in page
    detail = client.get(reverse("insight:hotspot", args=[rows[0].key])).content.decode()
    for number in rows[0].orders:
        assert number in detail
    assert "hotspot-members" in detail and 'data-chart="timeline"' in detail
    assert 'data-chart="map"' not in detail  # no coordinates, no map
    assert client.get(reverse("insight:hotspot", args=["nope"])).status_code == 404


def test_cached_hotspots_show_the_area_in_the_language_of_each_page(client, city, new_order):
    """The clusters are cached for every language: the unknown area is translated per page."""
    for i in range(3):
        new_order(content=f"三里屯路19号路口的路灯坏了一个星期，晚上很黑，第{i + 1}次反映。", area_code=None,
                  requesters=[actions.RequesterInput(phone=f"1381234567{i}")])
    login(client, city, "analyst")
    cache.clear()
    client.cookies["django_language"] = "en"
    english = client.get("/desk/insight/hotspots/").content.decode()
    assert "Area unknown" in english and "辖区不明" not in english
    client.cookies["django_language"] = "zh-hans"  # the same window, now from the cache
    chinese = client.get("/desk/insight/hotspots/").content.decode()
    assert "辖区不明" in chinese and "Area unknown" not in chinese
    client.cookies["django_language"] = "en"
    assert "Area unknown" in client.get("/desk/insight/hotspots/").content.decode()


def test_hotspot_page_draws_a_map_only_with_coordinates(client, city, new_order):
    for i in range(3):
        new_order(content="三里屯路19号路口的路灯坏了一个星期，晚上很黑。", latitude="39.93", longitude=f"116.45{i}",
                  requesters=[actions.RequesterInput(phone=f"1381234567{i}")])
    key = hotspot_data.find(city.actor("analyst"))[0].key
    assert 'data-chart="map"' in login(client, city, "analyst").get(f"/desk/insight/hotspots/{key}/").content.decode()


# --- 未诉先办 ----------------------------------------------------------------------------------


def test_proactive_item_goes_through_dispatch_like_any_other(client, city):
    login(client, city, "analyst")
    response = client.post(reverse("insight:proactive_new"), {
        "request_type": "other", "urgency": "normal", "title": "井盖缺失", "content": "巡查发现三里屯路口井盖缺失。",
        "area": "110105001", "category": "010101",
    })
    order = WorkOrder.objects.get(channel=Channel.PROACTIVE)
    assert response.status_code == 302 and response["Location"] == reverse("desk:order", args=[order.number])
    assert order.state == State.RECEIVED and not order.requesters.exists()
    created = Event.objects.get(order=order, code="created")
    assert created.data == {"channel": "proactive", "request_type": "other", "requesters": 0, "proactive": True}
    assert created.actor == city.users["analyst"]
    # It waits in the dispatcher's queue, marked as proactive.
    queue = login(client, city, "dispatcher").get("/desk/dispatch/").content.decode()
    assert order.number in queue and "chip proactive" in queue
    a = city.actor
    actions.dispatch_order(actor=a("dispatcher"), number=order.number, lead_unit="SLT")
    actions.accept_assignment(actor=a("handler"), number=order.number)
    actions.reply_to_order(actor=a("handler"), number=order.number, body="已补装井盖。", outcome="solved")
    assert WorkOrder.objects.get(pk=order.pk).state in (State.REPLIED, State.CALLBACK_DUE)
    page = login(client, city, "handler").get(reverse("desk:order", args=[order.number])).content.decode()
    assert "chip proactive" in page
    listing = login(client, city, "analyst").get(reverse("insight:proactive")).content.decode()
    assert order.number in listing


def test_proactive_rules(city):
    kw = dict(request_type=RequestType.OTHER, channel=Channel.PROACTIVE, content="巡查发现问题。")
    with pytest.raises(NotAllowed):
        actions.create_order(actor=city.actor("calltaker"), proactive=True, requesters=[], **kw)
    with pytest.raises(InvalidInput):
        actions.create_order(actor=city.actor("analyst"), proactive=True,
                             requesters=[actions.RequesterInput(phone="13812345678")], **kw)
    with pytest.raises(InvalidInput):  # the channel is only for proactive items
        actions.create_order(actor=city.actor("calltaker"), requesters=[actions.RequesterInput(phone="13812345678")],
                             **kw)
    with pytest.raises(InvalidInput):  # and an ordinary order still needs a requester
        actions.create_order(actor=city.actor("calltaker"), requesters=[], request_type="other", channel="hotline",
                             content="x")
    # A district centre's supervisor opens items in the district only; nothing is left behind.
    from jiesu.accounts.models import Membership, Role
    Membership.objects.create(user=city.users["cy_dispatcher"], unit=city.chaoyang_centre, role=Role.SUPERVISOR)
    cy = city.actor("cy_dispatcher")
    with pytest.raises(NotAllowed):
        actions.create_order(actor=cy, proactive=True, requesters=[], area_code="110108001", **kw)
    assert not WorkOrder.objects.exists()
    order = actions.create_order(actor=cy, proactive=True, requesters=[], area_code="110105001", **kw)
    assert order.channel == Channel.PROACTIVE
    # The supervisor role may, the admin may; the flag forces the channel.
    other = actions.create_order(actor=city.actor("admin"), proactive=True, requesters=[],
                                 **{**kw, "channel": Channel.HOTLINE})
    assert other.channel == Channel.PROACTIVE


# --- 每月一题 ----------------------------------------------------------------------------------


def test_topic_screens(client, city, new_order):
    login(client, city, "analyst")
    month = dt.date.today().replace(day=1)
    response = client.post(reverse("insight:topic_new"), {
        "title": "路灯照明专项", "month": f"{month:%Y-%m}", "lead_unit": "SLT", "status": "active",
        "description": "", "category": "010101", "area": "110105", "keywords": "路灯",
    })
    topic = Topic.objects.get()
    assert response.status_code == 302 and topic.month == month and topic.category == city.lamp
    assert topic.created_by == city.users["analyst"]
    bad = client.post(reverse("insight:topic_new"), {"title": "", "month": "2026-13", "lead_unit": "NOPE"})
    assert bad.status_code == 422 and Topic.objects.count() == 1
    matched = new_order()  # a street-light order in Chaoyang: matches
    other = new_order(category_code="0201", content="楼上噪音扰民。")  # does not match
    client.post(reverse("insight:topic_item_add", args=[topic.pk]),
                {"kind": "task", "text": "排查全区路灯", "owner_unit": "SLT", "due": ""})
    item = TopicItem.objects.get()
    client.post(reverse("insight:topic_item_done", args=[topic.pk, item.pk]), {"done": "1"})
    item.refresh_from_db()
    assert item.done and item.done_at
    client.post(reverse("insight:topic_link", args=[topic.pk]), {"number": other.number})
    assert client.post(reverse("insight:topic_link", args=[topic.pk]), {"number": "x"}).status_code == 422
    page = client.get(reverse("insight:topic", args=[topic.pk])).content.decode()
    assert matched.number in page and other.number in page and "排查全区路灯" in page
    assert "1 of 1 items done" in page or "1 / 1" in page or "100%" in page
    ba = topics.before_after(city.actor("analyst"), topic)
    assert ba.months[-1].after and ba.months[-1].n == 2 and ba.after_mean > 0
    client.post(reverse("insight:topic_link", args=[topic.pk]), {"remove": other.number})
    assert other.number not in client.get(reverse("insight:topic", args=[topic.pk])).content.decode()
    assert client.post(reverse("insight:topic_edit", args=[topic.pk]), {
        "title": "路灯照明专项（扩大）", "month": f"{month:%Y-%m}", "lead_unit": "SLT", "status": "done",
        "keywords": ""}).status_code == 302
    assert Topic.objects.get().status == "done"


def test_topic_without_rules_matches_nothing_by_itself(city, new_order):
    new_order()
    topic = Topic.objects.create(title="t", month=dt.date(2026, 1, 1), lead_unit=city.water)
    assert topics.rule_filter(topic) is None
    assert not topics.topic_orders(city.actor("analyst"), topic).exists()


# --- 办实事清单 --------------------------------------------------------------------------------


def test_measures_staff_screens_and_append_only_updates(client, city):
    login(client, city, "analyst")
    response = client.post(reverse("insight:measure_new"), {
        "title": "周末公证", "owner_unit": "SLT", "category": "公共法律服务", "target": "每周六开放", "public": "on"})
    measure = Measure.objects.get()
    assert response.status_code == 302 and measure.public
    client.post(reverse("insight:milestone_add", args=[measure.pk]), {"title": "公布名单", "due": "2026-12-01"})
    client.post(reverse("insight:measure_update", args=[measure.pk]),
                {"percent": "40", "evidence": "已开放5家。", "links": "https://example.org/a"})
    bad = client.post(reverse("insight:measure_update", args=[measure.pk]), {"percent": "140", "evidence": "x"})
    assert bad.status_code == 422
    assert client.post(reverse("insight:measure_update", args=[measure.pk]),
                       {"percent": "50", "links": "javascript:alert(1)"}).status_code == 422
    measure.refresh_from_db()
    assert measure.percent == 40 and MeasureUpdate.objects.count() == 1
    update = MeasureUpdate.objects.get()
    with pytest.raises(ValueError):
        update.save()
    with pytest.raises(ValueError):
        update.delete()
    # The owner unit's staff may record progress and tick milestones, but not edit the measure.
    login(client, city, "handler")
    assert client.post(reverse("insight:measure_update", args=[measure.pk]),
                       {"percent": "60", "evidence": "又开放2家。"}).status_code == 302
    milestone = Milestone.objects.get()
    client.post(reverse("insight:milestone_done", args=[milestone.pk]), {"done": "1"})
    milestone.refresh_from_db()
    assert milestone.done_at is not None
    assert client.get(reverse("insight:measure_edit", args=[measure.pk])).status_code == 403
    assert client.get(reverse("insight:measures")).status_code == 200
    # Another unit's staff may not.
    login(client, city, "zgc_handler")
    assert client.get(reverse("insight:measure", args=[measure.pk])).status_code == 403
    assert client.post(reverse("insight:measure_update", args=[measure.pk]),
                       {"percent": "99", "evidence": "x"}).status_code == 403
    assert Measure.objects.get().percent == 60


def test_public_page_shows_only_public_measures(client, city):
    shown = Measure.objects.create(title="公开的措施", owner_unit=city.water, target="目标甲", category="便民服务",
                                   public=True)
    Measure.objects.create(title="内部的措施", owner_unit=city.water, target="目标乙", public=False)
    Milestone.objects.create(measure=shown, title="第一步", due=dt.date(2026, 12, 1))
    measures.add_update(city.actor("admin"), shown, percent=30, evidence="已完成第一批。")
    response = client.get("/measures/")  # no login
    page = response.content.decode()
    assert response.status_code == 200
    assert "公开的措施" in page and "第一步" in page and "已完成第一批" in page and 'aria-valuenow="30"' in page
    assert "内部的措施" not in page and "目标乙" not in page
    assert "内部的措施" not in client.get("/measures/?category=便民服务").content.decode()
    client.cookies["jiesu_large"] = "1"
    assert 'class="large-text"' in client.get("/measures/").content.decode()


# --- reply quality on the order page -----------------------------------------------------------


def test_reply_quality_badges_on_the_order_page(client, city, new_order):
    order = handled(city, new_order)
    page = login(client, city, "supervisor").get(reverse("desk:order", args=[order.number])).content.decode()
    assert 'data-reply-quality="80"' in page
    assert 'data-criterion="action"' in page and "rq-yes" in page and "rq-no" in page


def test_hotspot_clusters_are_cached_until_an_order_changes(city, new_order, django_assert_num_queries):
    for i in range(3):
        new_order(content=f"三里屯路19号路口的路灯坏了一个星期，晚上很黑，第{i + 1}次反映。",
                  requesters=[actions.RequesterInput(phone=f"1381234567{i}")])
    analyst = city.actor("analyst")
    first = hotspot_data.find(analyst)
    assert len(first) == 1 and first[0].cluster.size == 3
    with django_assert_num_queries(1):  # only the window's fingerprint
        assert [r.cluster.size for r in hotspot_data.find(analyst)] == [3]
    new_order(content="三里屯路19号路口的路灯坏了一个星期，晚上很黑，第4次反映。",
              requesters=[actions.RequesterInput(phone="13812345679")])
    again = hotspot_data.find(analyst)
    assert len(again) == 1 and again[0].cluster.size == 4  # the new order invalidated the cache
