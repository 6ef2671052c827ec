"""A third-party Open311 client from PyPI, ``georeport`` (Python wrapper for the GeoReport v2
API; it reads services, definitions and requests, in XML through xmltodict or in JSON),
exercises /open311/v2/ over real HTTP (live_server)."""

from __future__ import annotations

import pytest
from georeport import GeoReport

from jiesu.orders.models import WorkOrder
from tests.conftest import build_city
from tests.open311_helpers import build, good_form, js, post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def served(live_server, client):
    o = build(build_city())
    numbers = [js(post(client, "requests.json", good_form(o.key, description=f"第{i}盏路灯不亮。")))[0][
        "service_request_id"] for i in range(2)]
    return f"{live_server.url}/open311/v2", numbers


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client_reads_everything(served, fmt):
    url, numbers = served
    geo = GeoReport(url, output_format=fmt)
    services = geo.get_service_list()
    assert {s["service_code"] for s in services} == {"LAMP01", "0201"}
    definition = geo.get_service_definition("LAMP01")
    attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    assert [a["code"] for a in attributes] == ["POLE", "KIND", "TIMES", "COUNT", "SINCE", "SAFETY"]
    requests = geo.get_service_requests()
    assert {r["service_request_id"] for r in requests} == set(numbers)
    assert {r["status"] for r in requests} == {"open"}
    one = geo.get_service_request(numbers[0])
    assert one["service_request_id"] == numbers[0] and one["description"] == "第0盏路灯不亮。"
    assert one["service_code"] == "LAMP01"
    only = geo.get_service_requests(service_request_id=numbers[1], status="open")
    # xmltodict gives a single child as a dict, JSON an array of one.
    only = only if isinstance(only, list) else [only]
    assert [r["service_request_id"] for r in only] == [numbers[1]]
    assert WorkOrder.objects.count() == 2


def test_georeport_client_sees_errors_as_http_errors(served):
    import requests

    url, _numbers = served
    with pytest.raises(requests.HTTPError) as caught:
        GeoReport(url).get_service_definition("NOPE")
    assert caught.value.response.status_code == 404
    assert caught.value.response.json()[0]["code"] == 404
