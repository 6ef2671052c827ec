"""A small client for the REST API tests: one bearer token per demo user, JSON in and out."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django.test.client import ClientHandler

from jiesu.accounts.models import ApiToken
from jiesu.api.handler import ApiCallMiddleware
from jiesu.orders.models import Event, Requester, WorkOrder
from tests.conftest import City

BASE = "/api/v1"

GOOD_ORDER: dict[str, Any] = {
    "request_type": "complaint",
    "channel": "hotline",
    "urgency": "normal",
    "title": "路灯不亮",
    "content": "三里屯路口的路灯坏了一个星期，晚上很黑，请尽快修理。",
    "address": "朝阳区三里屯路19号",
    "latitude": 39.9334,
    "longitude": 116.4551,
    "category": "010101",
    "area": "110105001",
    "confidential": False,
    "requesters": [{"name": "张三", "phone": "13812345678", "confidential": False}],
    "draft": False,
}


class ApiCallClientHandler(ApiCallMiddleware, ClientHandler):
    pass


class ApiCallClient(Client):
    """The test client of a call with an Authorization header: its middleware is the chain
    ``jiesu.wsgi`` gives such a call in production (jiesu.api.handler)."""

    def __init__(self, **defaults: Any) -> None:
        super().__init__(**defaults)
        self.handler = ApiCallClientHandler(enforce_csrf_checks=False)


class Api:
    def __init__(self, city: City) -> None:
        self.city = city
        self.client = Client()
        self.token_client = ApiCallClient()
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            _token, raw = ApiToken.issue(user=self.city.users[username], name="test")
            self._tokens[username] = raw
        return self._tokens[username]

    def call(
        self,
        method: str,
        path: str,
        data: Any = None,
        *,
        as_: str | None = "calltaker",
        raw: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        lang: str | None = None,
        query: dict[str, Any] | None = None,
    ):
        all_headers = dict(headers or {})
        if as_ is not None:
            all_headers["Authorization"] = f"Bearer {self.token(as_)}"
        if lang:
            all_headers["Accept-Language"] = lang
        url = path if path.startswith("/") else f"{BASE}/{path}"
        # As jiesu.wsgi routes it: a call with credentials skips the browser-session middleware.
        client = self.token_client if "Authorization" in all_headers and url.startswith("/api/") else self.client
        if method == "GET":
            return client.get(url, query or {}, headers=all_headers)
        body = raw if raw is not None else ("" if data is None else json.dumps(data))
        return getattr(client, method.lower())(url, body, content_type="application/json", headers=all_headers)

    def get(self, path: str, **kw: Any):
        return self.call("GET", path, **kw)

    def post(self, path: str, data: Any = None, **kw: Any):
        return self.call("POST", path, data, **kw)

    def create(self, overrides: dict[str, Any] | None = None, **kw: Any):
        return self.post("orders", {**GOOD_ORDER, **(overrides or {})}, **kw)


def counts() -> tuple[int, int, int]:
    return WorkOrder.objects.count(), Requester.objects.count(), Event.objects.count()
