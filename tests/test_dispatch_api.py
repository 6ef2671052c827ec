"""POST /api/v1/triage and ``jiesu triage --jsonl``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from jiesu.triage.gazetteer import gcj02_to_bd09, wgs84_to_gcj02
from tests.api_helpers import Api
from tests.dispatch_helpers import triage_world  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("triage_world")]

LAMP = "小区门口的路灯坏了一个星期，晚上很黑，请尽快修理。"


@pytest.fixture
def api(city) -> Api:
    return Api(city)


def test_triage_answers_the_whole_suggestion(api):
    r = api.post("triage", {"text": LAMP, "address": "朝阳区三里屯街道工体北路8号"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["ok"] is True and body["errors"] == []
    assert body["type"]["code"] == "help" and body["urgency"]["code"] == "normal"
    assert body["category"]["code"] == "010101" and body["category"]["words"] == ["路灯"]
    assert body["location"]["district"]["name"] == "朝阳区" and body["location"]["street"]["name"] == "三里屯街道"
    assert body["routing"]["lead"] == {"code": "SLT", "name": "三里屯街道办事处"}
    assert body["routing"]["rule"]["category"] == "010101"
    assert body["confidence"] == pytest.approx(0.95)
    assert body["referral"] is None


def test_referral_in_the_answer(api):
    body = api.post("triage", {"text": "楼道里燃气泄漏了", "address": "朝阳区"}).json()
    assert body["referral"]["outcome"] == "emergency" and body["referral"]["referred_to"] == "119"


def test_coordinates_in_gcj02_and_bd09_are_converted(api, city):
    city.sanlitun.boundary = {"type": "Polygon", "coordinates": [[[116.44, 39.92], [116.46, 39.92], [116.46, 39.94],
                                                                 [116.44, 39.94], [116.44, 39.92]]]}
    city.sanlitun.save()
    wgs = (39.9301, 116.4501)
    gcj = wgs84_to_gcj02(*wgs)
    for system, (lat, lng) in (("wgs84", wgs), ("gcj02", gcj), ("bd09", gcj02_to_bd09(*gcj))):
        body = api.post("triage", {"text": LAMP, "latitude": lat, "longitude": lng,
                                   "coordinate_system": system}).json()
        assert body["location"]["source"] == "coordinates", system
        assert body["location"]["street"]["name"] == "三里屯街道", system
    # the raw GCJ-02 point read as WGS-84 is ~600 m off: outside the square
    body = api.post("triage", {"text": LAMP, "latitude": gcj[0], "longitude": gcj[1] + 0.01}).json()
    assert body["location"]["source"] != "coordinates"


def test_duplicates_on_request(api, city, new_order):
    first = new_order(content="三里屯路口的路灯坏了一个星期，晚上很黑，请尽快修理。")
    body = api.post("triage", {"text": "三里屯路口路灯坏了好几天了，晚上很黑", "address": "朝阳区三里屯街道",
                               "with_duplicates": True}).json()
    assert [d["number"] for d in body["duplicates"]] == [first.number]
    assert body["duplicates"][0]["score"] > 0.3


@pytest.mark.parametrize("payload,code", [
    ({"text": ""}, "empty"),
    ({"text": "   "}, "empty"),
    ({"text": "hello, my street light is broken"}, "no_chinese"),
    ({"text": "路灯坏了" * 25_000}, "too_long"),
    ({"text": "路灯坏了", "address": "上海市浦东新区世纪大道1号"}, "outside_city"),
])
def test_bad_text_is_an_explicit_unknown(api, payload, code):
    r = api.post("triage", payload)
    assert r.status_code == 200
    body = r.json()
    assert code in [e["code"] for e in body["errors"]]
    assert body["routing"] is None and body["confidence"] == 0


@pytest.mark.parametrize("payload,zh,en", [
    ({"text": ""}, "内容为空。", "The text is empty."),
    ({"text": "路灯坏了" * 25_000}, "内容超过 5000 个字。", "The text is longer than 5000 characters."),
    ({"text": "路灯坏了", "address": "上海市浦东新区世纪大道1号"}, "地址不在本市范围内（上海）。",
     "The address is outside the city (上海)."),
])
def test_problems_are_said_in_the_callers_language(api, payload, zh, en):
    assert api.post("triage", payload, lang="zh-hans").json()["errors"][0]["message"] == zh
    assert api.post("triage", payload, lang="en").json()["errors"][0]["message"] == en


def test_the_referral_reason_is_said_in_the_callers_language(api):
    text = {"text": "楼道里燃气泄漏了", "address": "朝阳区"}
    assert api.post("triage", text, lang="zh-hans").json()["referral"]["reason"] == "属于 119 紧急事项，应立即转接来电人（第十一条）。"
    assert api.post("triage", text, lang="en").json()["referral"]["reason"] == (
        "An emergency for 119: refer the caller at once (Art. 11).")
    warning = api.post("triage", {"text": "路灯\u0007坏了"}, lang="zh-hans").json()["warnings"][0]
    assert warning == {"code": "control_characters", "message": "已去除内容中的控制字符。"}


def test_lat_and_long_as_open311_spells_them(api, city):
    city.sanlitun.boundary = {"type": "Polygon", "coordinates": [[[116.44, 39.92], [116.46, 39.92], [116.46, 39.94],
                                                                 [116.44, 39.94], [116.44, 39.92]]]}
    city.sanlitun.save()
    short = api.post("triage", {"text": LAMP, "lat": 39.9301, "long": 116.4501}).json()
    full = api.post("triage", {"text": LAMP, "latitude": 39.9301, "longitude": 116.4501}).json()
    assert short["location"]["source"] == full["location"]["source"] == "coordinates"
    assert short["location"]["street"]["name"] == "三里屯街道"
    assert api.post("triage", {"text": LAMP, "lat": 39.93}).status_code == 422  # both or neither
    assert api.post("triage", {"text": LAMP, "lat": 91, "long": 116.45}).status_code == 422


def test_control_characters_are_a_warning(api):
    body = api.post("triage", {"text": "路灯\u0007坏了\u200b\u202e", "address": "朝阳区\u0001三里屯"}).json()
    assert body["ok"] and [w["code"] for w in body["warnings"]] == ["control_characters"]


@pytest.mark.parametrize("payload,status,code", [
    ({"text": "a\u0000b"}, 422, "invalid"),
    ({}, 422, "invalid"),
    ({"text": 5}, 422, "invalid"),
    ({"text": "路灯", "latitude": 39.9}, 422, "invalid"),
    ({"text": "路灯", "latitude": 399, "longitude": 116}, 422, "invalid"),
    ({"text": "路灯", "latitude": "north", "longitude": 116}, 422, "invalid"),
    ({"text": "路灯", "coordinate_system": "mars"}, 422, "invalid"),
    ({"text": "路灯", "unknown_field": 1}, 422, "invalid"),
])
def test_wrong_shapes_are_422_never_500(api, payload, status, code):
    r = api.post("triage", payload)
    assert r.status_code == status, r.content
    assert r.json()["code"] == code


def test_not_json_and_not_an_object(api):
    assert api.post("triage", raw="{not json").status_code == 400
    assert api.post("triage", raw="[1, 2]").status_code in (400, 422)
    assert api.post("triage", raw='"text"').status_code in (400, 422)


def test_auth_and_roles(api):
    assert api.post("triage", {"text": LAMP}, as_=None).status_code == 401
    assert api.post("triage", {"text": LAMP}, as_="handler").status_code == 403
    assert api.post("triage", {"text": LAMP}, as_="dispatcher").status_code == 200
    assert api.get("triage").status_code == 405


def test_in_the_openapi_document(api):
    doc = api.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/triage" in doc["paths"]


def test_the_api_dispatch_records_corrections(api, city, new_order, django_capture_on_commit_callbacks):
    from jiesu.dispatch.models import DispatchSettings, TriageCorrection

    DispatchSettings.objects.filter(pk=1).update(auto_dispatch=False)
    with django_capture_on_commit_callbacks(execute=True):
        order = new_order(content=LAMP, category_code=None, area_code=None, request_type="help")
    r = api.post(f"orders/{order.number}/dispatch", {"lead_unit": "ZGC"}, as_="dispatcher")
    assert r.status_code == 200, r.content
    assert list(TriageCorrection.objects.values_list("field", "suggested", "chosen")) == [("unit", "SLT", "ZGC")]


# --------------------------------------------------------------------------- jiesu triage --jsonl


def run_jsonl(lines: list[str]) -> list[dict]:
    out = io.StringIO()
    call_command("triage", jsonl=True, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_jsonl_with_bad_lines_in_the_middle():
    rows = run_jsonl([
        json.dumps({"id": 1, "text": LAMP, "address": "朝阳区三里屯街道"}, ensure_ascii=False),
        "{this is not json",
        json.dumps({"id": 3, "address": "朝阳区"}, ensure_ascii=False),
        json.dumps([1, 2, 3]),
        "",
        json.dumps({"id": "x5", "text": "hello"}),
        json.dumps({"id": 6, "text": "楼下饭馆每天夜里噪音很大", "address": "朝阳区三里屯街道"}, ensure_ascii=False),
        json.dumps({"id": 7, "text": "路灯坏了", "address": "上海市浦东新区"}, ensure_ascii=False),
        json.dumps({"id": 8, "text": "路灯坏了", "latitude": "north", "address": 12}, ensure_ascii=False),
    ])
    assert [r["id"] for r in rows] == [1, None, 3, None, "x5", 6, 7, 8]
    first = rows[0]
    assert first["error"] is None
    assert (first["type"], first["urgency"], first["category"], first["district"], first["street"], first["unit"]) \
        == ("help", "normal", "010101", "朝阳区", "三里屯街道", "SLT")
    assert first["community"] is None and first["referral"] is None
    assert set(first["confidence"]) >= {"type", "urgency", "category", "area", "unit"}
    assert "invalid JSON" in rows[1]["error"] and rows[1]["line"] == 2
    assert rows[2]["error"] == "missing text"
    assert rows[3]["error"] == "not a JSON object"
    assert rows[4]["error"] and rows[4]["category"] is None
    assert rows[5]["unit"] == "SLT" and rows[5]["co_units"] == ["PSB-SLT"]
    assert rows[6]["error"] and rows[6]["location_status"] == "outside" and rows[6]["unit"] is None
    assert rows[7]["error"] is None and rows[7]["category"] == "010101"


def test_jsonl_requires_a_mode():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("triage", stdout=io.StringIO())


def test_triage_one_order_again(city, new_order):
    order = new_order(content=LAMP, category_code=None, area_code=None)
    out = io.StringIO()
    call_command("triage", order=order.number, stdout=out)
    assert json.loads(out.getvalue())["auto_dispatched"] is True


def test_triage_pending_orders(city, new_order):
    from jiesu.dispatch.models import DispatchSettings, TriageSuggestion

    DispatchSettings.objects.filter(pk=1).update(auto_dispatch=False)
    waiting = [new_order(content=LAMP, category_code=None, area_code=None) for _ in range(3)]
    out = io.StringIO()
    call_command("triage", pending=True, stdout=out)
    assert json.loads(out.getvalue()) == {"orders": 3, "suggested": 3}
    assert TriageSuggestion.objects.filter(order__in=waiting).count() == 3
    out = io.StringIO()
    call_command("triage", pending=True, stdout=out)
    assert json.loads(out.getvalue()) == {"orders": 0}
