"""/api/v1/proactive-items: 未诉先办 work items through the API, with the services' policy."""

from __future__ import annotations

import pytest

from jiesu.accounts.models import Membership, Role
from jiesu.orders import actions
from jiesu.orders.models import WorkOrder
from tests.api_helpers import Api, counts

pytestmark = pytest.mark.django_db

ITEM = {"title": "井盖缺失", "content": "巡查发现三里屯路口井盖缺失，需尽快补装。", "request_type": "other",
        "area": "110105001", "category": "010101", "address": "朝阳区三里屯路口"}


@pytest.fixture
def api(city) -> Api:
    return Api(city)


def test_an_analyst_opens_an_item_that_waits_for_dispatch(api, city):
    r = api.post("proactive-items", ITEM, as_="analyst", headers={"Idempotency-Key": "patrol-1"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["channel"] == "proactive" and body["state"] == "received" and body["requesters"] == []
    assert body["events"][0]["code"] == "created"
    order = WorkOrder.objects.get(number=body["number"])
    assert order.created_by == city.users["analyst"] and order.area.code == "110105001"
    # A retry with the same key answers the same item.
    again = api.post("proactive-items", ITEM, as_="analyst", headers={"Idempotency-Key": "patrol-1"})
    assert again.status_code == 200 and again.json()["number"] == body["number"]
    assert WorkOrder.objects.count() == 1
    # It is dispatched like any other order, through the order's own endpoint.
    d = api.post(f"orders/{body['number']}/dispatch", {"lead_unit": "SLT"}, as_="dispatcher")
    assert d.status_code == 200 and d.json()["state"] == "dispatched"


@pytest.mark.parametrize("who", ["calltaker", "dispatcher", "handler", "nobody"])
def test_other_roles_may_not_open_items(api, who):
    before = counts()
    r = api.post("proactive-items", ITEM, as_=who)
    assert r.status_code == 403 and r.json()["code"]
    assert counts() == before


def test_a_district_supervisor_opens_items_in_the_district_only(api, city):
    Membership.objects.create(user=city.users["cy_dispatcher"], unit=city.chaoyang_centre, role=Role.SUPERVISOR)
    assert api.post("proactive-items", {**ITEM, "area": "110108001"}, as_="cy_dispatcher").status_code == 403
    assert api.post("proactive-items", ITEM, as_="cy_dispatcher").status_code == 201


@pytest.mark.parametrize("bad, field", [
    ({"content": ""}, "content"),
    ({"area": "999999"}, "area"),
    ({"request_type": "shouting"}, "request_type"),
])
def test_bad_input_is_refused_in_the_users_language_and_changes_nothing(api, bad, field):
    before = counts()
    r = api.post("proactive-items", {**ITEM, **bad}, as_="analyst", lang="en")
    assert r.status_code in (400, 422), r.content
    assert r.json()["code"] and r.json()["message"]
    assert counts() == before
    extra = api.post("proactive-items", {**ITEM, "requesters": [{"phone": "13812345678"}]}, as_="analyst")
    assert extra.status_code in (400, 422) and counts() == before


def test_the_list_shows_only_proactive_items_the_caller_may_see(api, city, new_order):
    new_order()  # an ordinary order: not listed
    mine = actions.create_order(actor=city.actor("analyst"), proactive=True, requesters=[], channel="proactive",
                                request_type="other", content="巡查发现路灯不亮。", area_code="110105001")
    haidian = actions.create_order(actor=city.actor("analyst"), proactive=True, requesters=[], channel="proactive",
                                   request_type="other", content="巡查发现垃圾堆放。", area_code="110108001")
    r = api.get("proactive-items", as_="analyst")
    assert r.status_code == 200
    assert {o["number"] for o in r.json()["results"]} == {mine.number, haidian.number} and r.json()["count"] == 2
    district = api.get("proactive-items", as_="cy_dispatcher").json()
    assert [o["number"] for o in district["results"]] == [mine.number]
    assert api.get("proactive-items", as_="analyst", query={"state": "nonsense"}).status_code in (400, 422)
    assert api.get("proactive-items", as_=None).status_code == 401
