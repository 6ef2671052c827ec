"""Duplicate candidates (jiesu.dispatch.services): the split into index-friendly queries finds
exactly the orders the old single ``OR`` query found, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db.models import Q

from jiesu import clock
from jiesu.accounts.policy import visible_orders
from jiesu.dispatch import services
from jiesu.orders.models import WorkOrder

NOW = dt.datetime(2026, 10, 20, 9, 0, tzinfo=dt.UTC)


def old_candidates(actor, area_path: str, exclude: str | None = None) -> list[str]:
    """The query as it was before the split: one OR, the district by area path."""
    recent = Q(state__in=services.OPEN_STATES, received_at__gte=NOW - dt.timedelta(days=services.OPEN_DAYS)) | Q(
        closed_at__gte=NOW - dt.timedelta(days=services.CLOSED_DAYS))
    qs = visible_orders(actor, WorkOrder.objects.filter(recent))
    district = "/".join(area_path.split("/")[:2]) if area_path.count("/") >= 1 else ""
    if district:
        qs = qs.filter(Q(area__path=district) | Q(area__path__startswith=district + "/") | Q(area__isnull=True))
    if exclude:
        qs = qs.exclude(number=exclude)
    return list(qs.order_by("-received_at").values_list("number", flat=True)[:services.MAX_CANDIDATES])


@pytest.fixture
def mix(city, new_order):
    """Orders in every combination that matters: open or closed or merged, received recently or
    long ago, closed recently or long ago, in Chaoyang (the district or its street), in Haidian,
    or with no area."""
    areas = [city.sanlitun, city.chaoyang, city.zhongguancun, None]
    states = [("received", None), ("accepted", None), ("closed", 3), ("closed", 20), ("merged", 5),
              ("reopened", 30)]
    ages = [1, 40, 70]
    made = []
    for i, (area, (state, closed_days), age) in enumerate(itertools.product(areas, states, ages)):
        o = new_order(content=f"第{i}号：三里屯路口的路灯坏了，晚上很黑。")
        WorkOrder.objects.filter(pk=o.pk).update(
            area=area, state=state, received_at=NOW - dt.timedelta(days=age, minutes=i),
            closed_at=None if closed_days is None else NOW - dt.timedelta(days=closed_days, minutes=i))
        made.append(o)
    return made


@pytest.mark.parametrize("who", ["dispatcher", "cy_dispatcher", "admin"])
@pytest.mark.parametrize("path", ["110000/110105/110105001", "110000/110108", ""])
def test_same_orders_as_the_single_or_query(city, mix, who, path):
    actor = city.actor(who)
    with clock.frozen(NOW):
        new = [r.number for r in services._recent_candidates(actor, path, now=NOW, exclude=mix[0].number)]
    old = old_candidates(actor, path, exclude=mix[0].number)
    assert new == old
    assert len(new) < len(mix)
    if who == "cy_dispatcher" and "110108" in path:
        assert new == []  # Chaoyang's dispatcher sees nothing in Haidian (nor orders with no area)
    else:
        assert len(new) > 5


def test_past_the_cap_the_newest_of_each_half_are_kept(city, mix, monkeypatch):
    monkeypatch.setattr(services, "MAX_CANDIDATES", 4)
    rows = services._recent_candidates(city.actor("dispatcher"), "110000/110105", now=NOW, exclude=None)
    assert len(rows) == 4
    assert [r.received_at for r in rows] == sorted((r.received_at for r in rows), reverse=True)
    # The newest open order of the district is among them.
    newest_open = old_candidates(city.actor("dispatcher"), "110000/110105")[0]
    assert rows[0].number == newest_open


def test_three_queries_whatever_the_number_of_orders(city, mix, django_assert_num_queries):
    actor = city.actor("dispatcher")
    actor.unit_ids()  # the actor's grants, read once per request
    with clock.frozen(NOW), django_assert_num_queries(3):
        rows = services.duplicate_candidates(actor, "三里屯路口的路灯坏了",
                                             area_path="110000/110105/110105001")
    assert rows
    assert {r.state for r in rows} <= set(services.OPEN_STATES) | {"closed", "merged"}
