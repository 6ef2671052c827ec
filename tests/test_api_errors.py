"""REST API: bad input of every kind gets a clear JSON error in the user's language and writes
nothing; hostile strings are stored as text and come back as inert JSON data; authentication;
the OpenAPI document and local docs; and a property test that no text ever yields a 500."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiesu.accounts.models import ApiToken
from jiesu.accounts.token_memory import TOKENS
from jiesu.orders.models import WorkOrder
from tests.api_helpers import GOOD_ORDER, Api, counts

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"
SQL = "'; DROP TABLE orders_workorder; --"


@pytest.fixture
def api(city) -> Api:
    return Api(city)


def refused(r, status: int, code: str, field: str | None = None) -> dict:
    assert r.status_code == status, r.content.decode()
    assert r["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["code"] == code and isinstance(body["message"], str) and body["message"]
    if field is not None:
        assert body.get("field") == field, body
    return body


# ---------------------------------------------------------------- bad input to POST /orders


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"content": ""}, "content"),
        ({"content": "   \n\t "}, "content"),
        ({"content": "长" * 20_000}, "content"),
        ({"title": "x" * 121}, "title"),
        ({"address": "x" * 256}, "address"),
        ({"requesters": [{"phone": "12345abc"}]}, "phone"),
        ({"requesters": [{"phone": "1381234567"}]}, "phone"),
        ({"requesters": [{"phone": ""}]}, "phone"),
        ({"requesters": [{"phone": "13812345678", "name": "名" * 65}]}, "name"),
        ({"requesters": []}, "phone"),
        ({"category": "999999"}, "category"),
        ({"area": "999999"}, "area"),
        ({"request_type": "tantrum"}, "request_type"),
        ({"channel": "pigeon"}, "channel"),
        ({"urgency": "whenever"}, "urgency"),
        ({"latitude": 95.0}, "latitude"),
        ({"latitude": 39.9, "longitude": None}, "latitude"),
        ({"longitude": 1e308 * 10}, "longitude"),  # json encodes it as Infinity
    ],
)
def test_domain_rules_refuse_with_the_field(api, overrides, field):
    before = counts()
    body = refused(api.create(overrides, lang="en"), 422, "invalid", field)
    assert "Traceback" not in body["message"]
    assert counts() == before


def test_messages_follow_accept_language(api):
    en = api.create({"content": ""}, lang="en")
    assert en["Content-Language"] == "en"
    assert en.json()["message"] == "Please fill in the content."
    zh = api.create({"content": ""})
    assert zh["Content-Language"] == "zh-hans"
    zh_en = api.create({"content": ""}, lang="zh-CN,zh;q=0.9,en;q=0.8")
    assert zh_en["Content-Language"] == "zh-hans"
    assert zh.json()["message"] == zh_en.json()["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"content": 5}, "content"),
        ({"content": None}, "content"),
        ({"content": ["a"]}, "content"),
        ({"requesters": "13812345678"}, "requesters"),
        ({"requesters": [{"phone": 13812345678}]}, "requesters.0.phone"),
        ({"requesters": [{"name": "张三"}]}, "requesters.0.phone"),
        ({"latitude": "north"}, "latitude"),
        ({"confidential": "maybe"}, "confidential"),
        ({"draft": {"yes": True}}, "draft"),
        ({"category": 101}, "category"),
        ({"surprise": 1}, "surprise"),
        ({"content": "a\x00b"}, "content"),
        ({"title": "\ud800"}, "title"),
    ],
)
def test_wrong_types_are_422_with_details(api, overrides, field):
    before = counts()
    body = refused(api.create(overrides, lang="en"), 422, "invalid", field)
    assert body["errors"] and all(set(e) == {"field", "type", "msg"} for e in body["errors"])
    assert counts() == before


def test_missing_fields(api):
    before = counts()
    body = refused(api.post("orders", {"content": "路灯坏了"}), 422, "invalid")
    assert {e["field"] for e in body["errors"]} == {"request_type", "requesters"}
    assert counts() == before


@pytest.mark.parametrize(
    "raw",
    ["{bad", '{"content": "unterminated', "", "null", "[1, 2]", '"just a string"', "42",
     b"\xff\xfe\x00garbage", "content=hello&phone=1"],
)
def test_malformed_bodies(api, raw):
    before = counts()
    r = api.post("orders", raw=raw, lang="en")
    assert r.status_code in (400, 422), r.content
    body = r.json()
    if r.status_code == 400:
        assert body == {"code": "malformed_json", "message": "The request body is not valid JSON."}
    else:
        assert body["code"] == "invalid"
    assert counts() == before


def test_truly_malformed_json_is_400(api):
    for raw in ("{bad", '{"a": 1,}', b"\xff\xfe"):
        refused(api.post("orders", raw=raw), 400, "malformed_json")


def test_an_oversized_body_is_refused(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = counts()
    refused(api.create({"content": "长" * 20_000}), 413, "too_large")
    assert counts() == before


# ---------------------------------------------------------------- hostile strings

STRING_FIELDS = ["request_type", "channel", "urgency", "title", "content", "address", "category", "area",
                 "requesters.0.name", "requesters.0.phone"]


def _with(field: str, value: str) -> dict:
    data = json.loads(json.dumps(GOOD_ORDER))
    if field.startswith("requesters."):
        data["requesters"][0][field.rsplit(".", 1)[1]] = value
    else:
        data[field] = value
    return data


def _stored(order: WorkOrder, field: str) -> str:
    if field.startswith("requesters."):
        return getattr(order.requesters.get(), field.rsplit(".", 1)[1])
    return getattr(order, field)


@pytest.mark.parametrize("evil", [XSS, SQL], ids=["xss", "sql"])
@pytest.mark.parametrize("field", STRING_FIELDS)
def test_hostile_strings_are_stored_as_text_or_refused(api, field, evil):
    before = counts()
    r = api.post("orders", _with(field, evil))
    assert r.status_code in (201, 422), r.content
    if r.status_code == 422:
        assert r.json()["code"] == "invalid" and r.json()["field"]
        assert counts() == before
    else:
        order = WorkOrder.objects.get(number=r.json()["number"])
        assert _stored(order, field) == evil
        detail = api.get(f"orders/{order.number}")
        for response in (r, detail):
            raw = response.content.decode()
            assert "<script>" not in raw and "</script>" not in raw  # escaped as \u003c…
            assert response["Content-Type"].startswith("application/json")
            assert response["X-Content-Type-Options"] == "nosniff"
        body = detail.json()
        value = body["requesters"][0][field.rsplit(".", 1)[1]] if field.startswith("requesters.") else body[field]
        assert value == evil
        assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
    # The tables are all still there.
    tables = set(connection.introspection.table_names())
    assert {"orders_workorder", "orders_requester", "orders_event"} <= tables
    assert WorkOrder.objects.count() == before[0] + (r.status_code == 201)


def test_hostile_strings_in_every_text_field_at_once(api):
    evil = XSS + SQL
    data = {**GOOD_ORDER, "title": evil, "content": evil, "address": evil,
            "requesters": [{"name": evil[:64], "phone": "13812345678"}]}
    r = api.post("orders", data)
    assert r.status_code == 201
    body = api.get(f"orders/{r.json()['number']}").json()
    assert body["title"] == body["content"] == body["address"] == evil
    assert body["requesters"][0]["name"] == evil[:64]
    listed = api.get("orders").json()["results"][0]
    assert listed["title"] == evil


def test_hostile_strings_in_list_filters_and_paths(api, new_order):
    new_order()
    for evil in (XSS, SQL):
        for key in ("state", "unit", "area", "type", "channel", "phone"):
            r = api.get("orders", query={key: evil})
            assert r.status_code in (200, 422), (key, r.content)
            if r.status_code == 200:
                assert r.json()["count"] == 0
        assert api.get(f"orders/{evil}").status_code == 404
    assert WorkOrder.objects.count() == 1


# ---------------------------------------------------------------- property


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=6000))
def test_any_content_is_stored_or_refused_never_a_500(api, text):
    before = counts()
    r = api.create({"content": text})
    assert r.status_code in (201, 422), r.content[:300]
    if r.status_code == 201:
        assert WorkOrder.objects.get(number=r.json()["number"]).content == text.strip()
    else:
        assert r.json()["field"] == "content"
        assert counts() == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_any_body_gets_a_json_error_never_a_500(api, raw):
    r = api.post("orders", raw=raw)
    assert r.status_code in (201, 400, 422), r.content[:300]
    assert r["Content-Type"].startswith("application/json")


# ---------------------------------------------------------------- authentication


def test_no_or_bad_credentials_are_401(api, city):
    client = Client()
    for headers in ({}, {"Authorization": "Bearer js_not-a-token"}, {"Authorization": "Basic dXNlcjpwdw=="},
                    {"Authorization": "Bearer"}, {"Authorization": "Bearer " + "x" * 5000}):
        for method, path in (("get", "/api/v1/orders"), ("post", "/api/v1/orders"),
                             ("get", "/api/v1/orders/20260101000001"),
                             ("post", "/api/v1/orders/20260101000001/accept")):
            r = getattr(client, method)(path, headers=headers)
            body = refused(r, 401, "unauthenticated")
            assert r["WWW-Authenticate"].startswith("Bearer"), body


def test_a_revoked_token_or_an_inactive_user_is_401(api, city):
    token = api.token("calltaker")
    assert api.get("orders").status_code == 200
    # Revoked through the model (the admin's form): this process forgets it at once.
    row = ApiToken.objects.get()
    row.revoked_at = timezone.now()
    row.save()
    refused(api.get("orders"), 401, "unauthenticated")
    ApiToken.objects.update(revoked_at=None)
    TOKENS.forget_all()
    assert api.get("orders").status_code == 200
    city.users["calltaker"].is_active = False
    city.users["calltaker"].save()
    refused(Client().get("/api/v1/orders", headers={"Authorization": f"Bearer {token}"}), 401, "unauthenticated")


def test_a_token_revoked_by_another_process_is_refused_within_the_cache_seconds(api, settings, monkeypatch):
    """No signal reaches this process when another one revokes a token (here: an UPDATE, which
    sends none): the token's rows are remembered for TOKEN_CACHE_SECONDS, then read again."""
    settings.JIESU = {**settings.JIESU, "TOKEN_CACHE_SECONDS": 5}
    now = [1000.0]
    monkeypatch.setattr(TOKENS, "clock", lambda: now[0])
    assert api.get("orders").status_code == 200
    ApiToken.objects.update(revoked_at=timezone.now())
    now[0] += 4.9
    assert api.get("orders").status_code == 200
    now[0] += 0.2
    refused(api.get("orders"), 401, "unauthenticated")
    ApiToken.objects.update(revoked_at=None)
    assert api.get("orders").status_code == 200  # a refused token was never remembered


def test_with_no_cache_seconds_every_call_reads_the_token(api, settings):
    settings.JIESU = {**settings.JIESU, "TOKEN_CACHE_SECONDS": 0}
    assert api.get("orders").status_code == 200
    ApiToken.objects.update(revoked_at=timezone.now())
    refused(api.get("orders"), 401, "unauthenticated")
    assert len(TOKENS) == 0


def test_the_401_message_is_translated(api):
    r = Client().get("/api/v1/orders", headers={"Accept-Language": "en"})
    assert r.json()["message"] == "Sign in, or send an API token as “Authorization: Bearer <token>”."


def test_a_desk_session_works_with_its_csrf_token(api, city):
    client = Client(enforce_csrf_checks=True)
    client.force_login(city.users["calltaker"])
    assert client.get("/api/v1/orders").status_code == 200
    payload = json.dumps(GOOD_ORDER)
    before = counts()
    r = client.post("/api/v1/orders", payload, content_type="application/json")
    refused(r, 403, "csrf_failed")
    assert counts() == before
    secret = "a" * 32
    client.cookies["csrftoken"] = secret
    r = client.post("/api/v1/orders", payload, content_type="application/json", headers={"X-CSRFToken": secret})
    assert r.status_code == 201, r.content
    # A bearer token needs no CSRF token.
    r = Client(enforce_csrf_checks=True).post("/api/v1/orders", payload, content_type="application/json",
                                              headers={"Authorization": f"Bearer {api.token('calltaker')}"})
    assert r.status_code == 201


# ---------------------------------------------------------------- the rest of the surface


def test_unknown_endpoints_and_methods_answer_json(api):
    refused(api.get("/api/v1/nothing/here"), 404, "not_found")
    refused(api.get("/api/v1/nothing/here", as_=None), 404, "not_found")
    r = api.call("DELETE", "orders")
    refused(r, 405, "method_not_allowed")
    assert "GET" in r["Allow"] and "POST" in r["Allow"]
    assert api.get("/api/v1/", as_=None).json()["openapi"] == "/api/v1/openapi.json"


def test_openapi_document(api):
    r = api.get("/api/v1/openapi.json", as_=None)
    assert r.status_code == 200
    doc = r.json()
    assert doc["info"]["title"] == "Jiesu API"
    assert {"/api/v1/orders", "/api/v1/orders/{number}"} <= set(doc["paths"])
    assert set(doc["paths"]["/api/v1/orders"]) == {"get", "post"}
    assert set(doc["components"]["securitySchemes"]) == {"BearerToken", "DeskSession"}
    assert "/api/v1/orders/{number}/{action}" not in doc["paths"]
    create = doc["paths"]["/api/v1/orders"]["post"]
    assert {"201", "200", "422"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])


def test_docs_load_nothing_from_the_internet(api):
    r = api.get("/api/v1/docs", as_=None)
    assert r.status_code == 200
    html = r.content.decode()
    urls = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
    assert urls and all(u.startswith("/static/") for u in urls), urls
    assert "cdn" not in html.lower()
    assert '"validatorUrl": null' in html
    for url in urls:
        assert Client().get(url).status_code == 200, url


def test_a_bug_is_a_json_500_without_details(api, new_order, monkeypatch):
    from jiesu.orders import selectors

    number = new_order().number

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "order_detail", broken)
    r = api.get(f"orders/{number}", lang="en")
    body = refused(r, 500, "server_error")
    assert "secret internals" not in r.content.decode() and "Traceback" not in r.content.decode()
    assert body["message"] == "Something went wrong on our side; the error has been logged."
