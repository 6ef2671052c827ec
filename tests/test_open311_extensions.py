"""The opt-in extensions of GET requests (docs/open311.md): v2.1 changesets
(``updated_after`` / ``updated_before`` on the order's last update) and ``bbox``."""

from __future__ import annotations

import datetime as dt

import pytest

from jiesu import clock
from jiesu.orders.models import WorkOrder
from tests.conftest import at
from tests.open311_helpers import BASE, build, js, json_errors, xml_errors

NOW = at("2026-11-20 10:00")


@pytest.fixture
def o311(city):
    return build(city)


def _ids(response) -> list[str]:
    return [r["service_request_id"] for r in js(response)]


def _touched(order, when: dt.datetime) -> None:
    # updated_at is auto_now: set it as if the last change had happened then.
    WorkOrder.objects.filter(pk=order.pk).update(updated_at=when)


def test_changesets_filter_on_the_last_update_oldest_first(client, o311, new_order):
    with clock.frozen(NOW - dt.timedelta(days=200)):
        old_but_changed = new_order()  # received long ago, outside the 90-day window
    with clock.frozen(NOW - dt.timedelta(days=1)):
        recent, untouched = new_order(), new_order()
    _touched(old_but_changed, NOW - dt.timedelta(hours=2))
    _touched(recent, NOW - dt.timedelta(hours=5))
    _touched(untouched, NOW - dt.timedelta(days=1))
    with clock.frozen(NOW):
        after = _ids(client.get(f"{BASE}/requests.json", {"updated_after": "2026-11-20T00:00:00+08:00"}))
        # The request-date window does not hide a changed old order; the oldest change comes first.
        assert after == [recent.number, old_but_changed.number]
        before = _ids(client.get(f"{BASE}/requests.json", {"updated_before": "2026-11-20T06:00:00+08:00"}))
        assert set(before) == {recent.number, untouched.number}
        both = _ids(client.get(f"{BASE}/requests.json", {"updated_after": "2026-11-20T06:00:00+08:00",
                                                          "updated_before": "2026-11-20T09:00:00+08:00"}))
        assert both == [old_but_changed.number]
        # With a start_date as well, both windows apply.
        dated = _ids(client.get(f"{BASE}/requests.json", {"updated_after": "2026-11-20T00:00:00+08:00",
                                                           "start_date": "2026-11-01T00:00:00+08:00"}))
        assert dated == [recent.number]
        # Without the extension: the 90 days of request dates, newest first, as before.
        assert _ids(client.get(f"{BASE}/requests.json")) == [untouched.number, recent.number]


def test_bbox_keeps_the_requests_inside_the_box(client, o311, new_order):
    with clock.frozen(NOW - dt.timedelta(days=1)):
        inside = new_order(latitude="39.936", longitude="116.455")
        outside = new_order(latitude="31.230", longitude="121.473")
        new_order()  # no coordinates: never inside a box
        on_edge = new_order(latitude="39.9", longitude="116.3")
    with clock.frozen(NOW):
        got = _ids(client.get(f"{BASE}/requests.json", {"bbox": "116.3,39.9,116.5,40.0"}))
        assert set(got) == {inside.number, on_edge.number}
        assert _ids(client.get(f"{BASE}/requests.json", {"bbox": "121,31,122,32"})) == [outside.number]
        assert len(_ids(client.get(f"{BASE}/requests.json"))) == 4


BAD = [
    ({"updated_after": "yesterday"}, "updated_after"),
    ({"updated_before": "2026-11-20T00:00:00"}, "updated_before"),
    ({"updated_after": "2026-11-20T00:00:00Z", "updated_before": "2026-11-19T00:00:00Z"}, "updated_before"),
    ({"bbox": "116.3,39.9,116.5"}, "bbox"),
    ({"bbox": "a,b,c,d"}, "bbox"),
    ({"bbox": "116.5,39.9,116.3,40.0"}, "bbox"),  # min above max
    ({"bbox": "116.3,39.9,116.5,91"}, "bbox"),
    ({"bbox": "NaN,39.9,116.5,40"}, "bbox"),
]


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(("query", "mentions"), BAD)
def test_bad_extension_values_are_400_with_a_clear_message(client, o311, fmt, query, mentions):
    response = client.get(f"{BASE}/requests.{fmt}", query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    errors = xml_errors(response) if fmt == "xml" else [(e["code"], e["description"]) for e in json_errors(response)]
    assert any(mentions in text for _, text in errors), errors


def test_bbox_error_speaks_chinese_by_default(client, o311):
    response = client.get(f"{BASE}/requests.json", {"bbox": "x"})
    assert response.status_code == 400 and "bbox" in json_errors(response)[0]["description"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in json_errors(response)[0]["description"])
