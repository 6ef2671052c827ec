"""Every Open311 list is a fixed number of queries, however many rows it returns."""

from __future__ import annotations

import pytest

from jiesu import clock
from jiesu.orders.states import State
from tests.conftest import at
from tests.lifecycle import bring_to
from tests.open311_helpers import BASE, build, js

NOW = at("2026-11-20 10:00")


@pytest.fixture
def o311(city):
    return build(city)


def _orders(city, new_order, n: int) -> None:
    with clock.frozen(NOW):
        for i in range(n):
            bring_to(city, new_order, State.REPLIED if i % 2 else State.DISPATCHED)


@pytest.mark.parametrize("n", [2, 12])
def test_requests_list_queries(client, o311, city, new_order, django_assert_max_num_queries, n):
    _orders(city, new_order, n)
    with clock.frozen(NOW), django_assert_max_num_queries(3):
        body = js(client.get(f"{BASE}/requests.json"))
    assert len(body) == n and all(r["agency_responsible"] for r in body)
    with clock.frozen(NOW), django_assert_max_num_queries(4):
        assert len(js(client.get(f"{BASE}/requests.json?extensions=true"))) == n


@pytest.mark.parametrize("n", [2, 12])
def test_updates_list_queries(client, o311, city, new_order, django_assert_max_num_queries, n):
    _orders(city, new_order, n)
    with clock.frozen(NOW), django_assert_max_num_queries(2):
        body = js(client.get(f"{BASE}/servicerequestupdates.json"))
    assert len(body) >= 2 * n


def test_services_and_definition_queries(client, o311, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert len(js(client.get(f"{BASE}/services.json"))) == 2
    with django_assert_max_num_queries(5):
        assert len(js(client.get(f"{BASE}/services/LAMP01.json"))["attributes"]) == 6
