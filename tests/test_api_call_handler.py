"""Calls to the API with a token skip the browser-session middleware (jiesu.api.handler,
jiesu.wsgi) and answer exactly as through the full chain; everything else takes the full chain.
Each call here goes through the WSGI application that gunicorn serves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, RequestFactory

from jiesu import wsgi
from jiesu.accounts.models import ApiToken, Membership, Role
from jiesu.accounts.token_memory import TOKENS
from jiesu.api.handler import ApiCallHandler, is_api_call
from jiesu.orders.models import WorkOrder
from tests.api_helpers import GOOD_ORDER

pytestmark = pytest.mark.django_db


def call(app: Any, method: str, path: str, body: dict | None = None, *, headers: dict[str, str] | None = None,
         cookie: str = "") -> tuple[int, dict[str, str], bytes]:
    request = RequestFactory().generic(method, path, json.dumps(body) if body is not None else "",
                                       content_type="application/json", headers=headers or {})
    environ = dict(request.environ)
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer["status"], answer["headers"] = int(status.split()[0]), dict(response_headers)

    # As Django's test client does: the test's transaction must outlive the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = app(environ, start_response)
        content = b"".join(response)
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], content


def token(city, username: str = "calltaker") -> str:
    return ApiToken.issue(user=city.users[username])[1]


def test_the_api_chain_is_the_full_chain_less_the_named_middleware():
    full, api = settings.MIDDLEWARE, settings.API_CALL_MIDDLEWARE
    assert set(settings.API_CALL_SKIPS_MIDDLEWARE) <= set(full)  # each skip names a real middleware
    assert api == [m for m in full if m not in settings.API_CALL_SKIPS_MIDDLEWARE]
    for kept in ("django.middleware.security.SecurityMiddleware", "django.middleware.locale.LocaleMiddleware",
                 "jiesu.security.middleware.SecurityHeadersMiddleware"):
        assert kept in api
    assert settings.MIDDLEWARE is full  # building the handler put the full list back
    ApiCallHandler()
    assert full == settings.MIDDLEWARE


def test_what_counts_as_an_api_call():
    assert is_api_call({"PATH_INFO": "/api/v1/orders", "HTTP_AUTHORIZATION": "Bearer js_x"})
    assert is_api_call({"PATH_INFO": "/api/v1/orders", "HTTP_AUTHORIZATION": "Basic dTpw"})  # the API says 401
    assert not is_api_call({"PATH_INFO": "/api/v1/orders"})  # the desk's htmx, with its session
    assert not is_api_call({"PATH_INFO": "/api/v1/orders", "HTTP_AUTHORIZATION": ""})
    assert not is_api_call({"PATH_INFO": "/desk/", "HTTP_AUTHORIZATION": "Bearer js_x"})
    assert not is_api_call({"HTTP_AUTHORIZATION": "Bearer js_x"})


def test_an_order_made_through_either_chain_gets_the_same_answer_headers(city):
    auth = {"Authorization": f"Bearer {token(city)}", "Accept-Language": "en"}
    status, lean, body = call(wsgi.application, "POST", "/api/v1/orders", GOOD_ORDER, headers=auth)
    assert status == 201, body
    number = json.loads(body)["number"]
    assert WorkOrder.objects.filter(number=number).exists()
    status, full, _body = call(wsgi.pages, "POST", "/api/v1/orders", GOOD_ORDER, headers=auth)
    assert status == 201
    assert lean.pop("Content-Length") and full.pop("Content-Length")
    # The answer does not vary with cookies when the token decides (and it is never cached:
    # Cache-Control below); every other header, the security ones first, is the same.
    assert lean.pop("Vary") == "Accept-Language" and full.pop("Vary") == "Accept-Language, Cookie"
    assert lean == full
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
                   "Permissions-Policy", "Cache-Control", "Content-Language"):
        assert header in lean, header


def test_bad_input_and_bad_tokens_are_refused_in_the_caller_s_language(city):
    auth = {"Authorization": f"Bearer {token(city)}", "Accept-Language": "en"}
    before = WorkOrder.objects.count()
    status, headers, body = call(wsgi.application, "POST", "/api/v1/orders", {**GOOD_ORDER, "content": ""},
                                 headers=auth)
    assert status == 422 and headers["Content-Language"] == "en"
    assert json.loads(body)["code"] == "invalid"
    for bad in ("Bearer js_unknown", "Basic dTpw", "Bearer"):
        status, headers, body = call(wsgi.application, "GET", "/api/v1/orders",
                                     headers={"Authorization": bad, "Accept-Language": "zh-hans"})
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer"), body
        assert json.loads(body)["code"] == "unauthenticated" and headers["Content-Language"] == "zh-hans"
    assert WorkOrder.objects.count() == before


def test_a_desk_session_takes_the_full_chain_and_needs_its_csrf_token(city):
    browser = Client()
    browser.force_login(city.users["calltaker"])
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    status, _headers, body = call(wsgi.application, "GET", "/api/v1/orders", cookie=cookie)
    assert status == 200, body
    before = WorkOrder.objects.count()
    status, _headers, body = call(wsgi.application, "POST", "/api/v1/orders", GOOD_ORDER, cookie=cookie)
    assert status == 403 and json.loads(body)["code"] == "csrf_failed"
    # A session cookie beside a bad token does not rescue the call: the token decides.
    status, _headers, _body = call(wsgi.application, "GET", "/api/v1/orders", cookie=cookie,
                                   headers={"Authorization": "Bearer js_unknown"})
    assert status == 401
    assert WorkOrder.objects.count() == before


def test_a_page_with_an_authorization_header_is_still_a_page(city):
    status, headers, _body = call(wsgi.application, "GET", "/desk/", headers={"Authorization": f"Bearer {token(city)}"})
    assert status == 302 and "login" in headers["Location"]  # no session: the sign-in page


def test_changing_a_membership_makes_this_process_read_every_token_again(city):
    raw = token(city, "handler")
    assert call(wsgi.application, "GET", "/api/v1/orders", headers={"Authorization": f"Bearer {raw}"})[0] == 200
    assert len(TOKENS) == 1
    Membership.objects.create(user=city.users["handler"], unit=city.water, role=Role.HANDLER)
    assert len(TOKENS) == 0
    assert call(wsgi.application, "GET", "/api/v1/orders", headers={"Authorization": f"Bearer {raw}"})[0] == 200
    assert len(TOKENS) == 1
    Membership.objects.filter(user=city.users["handler"], unit=city.water).delete()
    assert len(TOKENS) == 0
