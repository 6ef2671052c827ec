"""The scorecard screens: who sees which rows, and a fixed number of queries whatever the
number of orders."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from jiesu import clock
from jiesu.accounts.models import Membership, Role
from jiesu.orders import actions
from jiesu.orders.models import Satisfaction, WorkOrder
from tests.conftest import at

pytestmark = pytest.mark.django_db

MONTH = "2026-11"


def _orders(city, new_order, n: int, *, start: int = 0) -> None:
    """n orders in November: dispatched to the street office or the water company, most replied
    and called back, some reopened."""
    a = city.actor
    for i in range(start, start + n):
        with clock.frozen(at(f"2026-11-{2 + i % 20:02d} 09:{i % 60:02d}")):
            unit, handler = ("SLT", "handler") if i % 3 else ("WATER", "water_handler")
            area = "110105001" if i % 2 else "110108001"
            order = new_order(area_code=area, content=f"工单 {i}")
            actions.dispatch_order(actor=a("dispatcher"), number=order.number, lead_unit=unit)
            if i % 5 == 4:
                continue
            actions.accept_assignment(actor=a(handler), number=order.number)
            if i % 4 == 0:
                actions.record_contact(actor=a(handler), number=order.number)
            actions.reply_to_order(actor=a(handler), number=order.number, body="已处理。", outcome="solved")
            if WorkOrder.objects.get(pk=order.pk).state == "replied":  # else the task did it
                actions.open_callback(actor=a("supervisor"), number=order.number)
            ok = i % 7 != 0
            actions.record_callback(actor=a("supervisor"), number=order.number, reached=True, contacted=True,
                                    resolution="solved" if ok else "unsolved",
                                    satisfaction=Satisfaction.SATISFIED if ok else Satisfaction.UNSATISFIED)


def _get(client, city, user, **query):
    client.force_login(city.users[user])
    client.cookies["django_language"] = "en"
    with clock.frozen(at("2026-12-05 10:00")):
        return client.get(reverse("followup:scorecards"), query)


def test_roles_that_see_the_scorecards(client, city, new_order):
    _orders(city, new_order, 6)
    for user in ("analyst", "supervisor", "admin", "lead"):
        assert _get(client, city, user, period=MONTH).status_code == 200, user
    for user in ("handler", "calltaker", "dispatcher", "nobody"):
        assert _get(client, city, user, period=MONTH).status_code == 403, user
    client.logout()
    assert client.get(reverse("followup:scorecards")).status_code == 302
    page = _get(client, city, "analyst", period=MONTH).content.decode()
    assert 'href="/desk/scorecards/"' in page  # in the desk's navigation


def test_a_unit_lead_sees_only_the_own_units_card(client, city, new_order):
    _orders(city, new_order, 9)
    page = _get(client, city, "lead", level="unit", period=MONTH).content.decode()
    assert 'data-key="SLT"' in page and 'data-key="WATER"' not in page
    # Other levels are not offered: the unit table comes back instead.
    page = _get(client, city, "lead", level="street", period=MONTH).content.decode()
    assert 'data-key="SLT"' in page and 'data-key="110105001"' not in page
    with clock.frozen(at("2026-12-05 10:00")):
        workbook = client.get(reverse("followup:export", args=["xlsx"]), {"level": "unit", "period": MONTH})
        assert client.get(reverse("followup:report", args=[MONTH])).status_code == 403
    rows = list(load_workbook(io.BytesIO(workbook.content)).worksheets[0].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in rows] == ["SLT"]
    # The analyst sees every unit.
    page = _get(client, city, "analyst", level="unit", period=MONTH).content.decode()
    assert 'data-key="SLT"' in page and 'data-key="WATER"' in page


def test_a_district_supervisor_sees_the_districts_rows(client, city, new_order):
    _orders(city, new_order, 6)
    Membership.objects.create(user=city.users["cy_dispatcher"], unit=city.chaoyang_centre, role=Role.SUPERVISOR)
    page = _get(client, city, "cy_dispatcher", level="street", period=MONTH).content.decode()
    assert 'data-key="110105001"' in page and 'data-key="110108001"' not in page


def test_drill_down_links_open_the_order_list(client, city, new_order):
    _orders(city, new_order, 8)
    page = _get(client, city, "analyst", level="street", period=MONTH).content.decode()
    link = page.split('data-key="110105001"', 1)[1].split('href="', 2)[1].split('"')[0].replace("&amp;", "&")
    assert link.startswith("/desk/orders/?") and "metric=orders" in link and "area=110105001" in link
    with clock.frozen(at("2026-12-05 10:00")):
        listed = client.get(link).content.decode()
    assert "data-drill-total>4 orders<" in listed


@pytest.mark.parametrize("level", ["unit", "district", "street"])
def test_ranking_page_costs_the_same_queries_for_10_and_50_orders(client, city, new_order, level):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    done = 0
    for n in (10, 50):
        _orders(city, new_order, n - done, start=done)
        done = n
        _get(client, city, "analyst", level=level, period=MONTH)  # warm the session
        with CaptureQueriesContext(connection) as ctx:
            response = _get(client, city, "analyst", level=level, period=MONTH)
        assert response.status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 12, counts


@pytest.mark.django_db(transaction=True)
def test_a_big_period_counted_in_parallel_slices_gives_the_same_numbers(settings):
    from jiesu.followup import daily, periods, selectors
    from tests.conftest import build_city

    city = build_city()

    def new_order(**kw):
        from jiesu.catalogue.models import Channel, RequestType
        from jiesu.orders.actions import RequesterInput, create_order

        return create_order(actor=city.actor("calltaker"), request_type=RequestType.COMPLAINT,
                            channel=Channel.HOTLINE, requesters=[RequesterInput(phone="13812345678")],
                            category_code="010101", **kw)

    _orders(city, new_order, 12)
    month = periods.parse(MONTH)
    results = {}
    for threshold in (10**9, 0):
        settings.JIESU = {**settings.JIESU, "SCORECARD": {**settings.JIESU["SCORECARD"],
                                                          "parallel_min_orders": threshold}}
        from django.db import connection

        assert (daily._slices(12) > 1) == (threshold == 0 and connection.vendor == "sqlite")
        with clock.frozen(at("2026-12-05 10:00")):
            results[threshold] = {level: [(c.key, c.counts, c.rank) for c in selectors.scorecard(level, month).cards]
                                  for level in ("unit", "district", "street")}
    assert results[0] == results[10**9]
    assert any(counts.reached for _k, counts, _r in results[0]["street"])
