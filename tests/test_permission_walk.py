"""Object-level permission on every route: walk EVERY URL pattern and EVERY API operation with
every role of the test city (and without a login) and check each answer against the policy of
DESIGN §1 and §9:

- a unit sees only its own assignments (another unit's order is 404, exactly like a number
  that does not exist);
- a confidential report hides the requester (name and phone) from the handling unit;
- a requester's full phone reaches only the roles that need it (identity roles of the centre
  covering the order, and the handling unit of a non-confidential order); everyone else sees
  it masked, on every page and in every API answer;
- the public sees an order only with its number and a phone on it, and never internal notes;
- no route answers 5xx to anyone;
- every public route that accepts a POST is rate-limited.

Every route must be declared in ROUTES (URL name → kind) and every API operation in
API_OPERATIONS: a new route fails ``test_every_route_and_operation_is_declared`` until its
author says who may use it. Every request runs in a transaction that is rolled back, so the
walk's order does not matter and nothing it posts stays.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.admin.sites import site as admin_site
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from jiesu.accounts.models import ApiToken
from jiesu.api.routes import api
from jiesu.desk.selectors import SCREEN_ROLES
from jiesu.orders import actions
from jiesu.orders.actions import RequesterInput
from jiesu.orders.models import WorkOrder
from tests.conftest import City, build_city

# ---------------------------------------------------------------- the declarations

PUBLIC = "public"  # anyone, read-only (GET) or harmless
PUBLIC_WRITE = "public_write"  # anyone may POST: must be rate-limited
LOGIN = "login"  # any signed-in staff user; anonymous → the login page
ORDER = "order"  # an order by number: only those who may see it
ADMIN = "admin"


def screen(name: str) -> str:
    assert name in SCREEN_ROLES, name
    return f"screen:{name}"


def roles(*names: str) -> str:
    """Narrower than a screen: only these roles (and the administrator)."""
    return "roles:" + ",".join(names)


def scoped(name: str) -> str:
    """A screen whose answer also depends on the caller's own unit (a service point's window, a
    court's filings): roles outside the screen are refused; roles of it may still be refused (403
    or 404) when their unit has nothing there."""
    assert name in SCREEN_ROLES, name
    return f"scoped:{name}"


def allowed_roles(kind: str) -> frozenset[str]:
    if kind.startswith(("screen:", "scoped:")):
        return SCREEN_ROLES[kind.split(":", 1)[1]]
        return SCREEN_ROLES[kind.removeprefix("screen:")]
    return frozenset(kind.removeprefix("roles:").split(","))


def _may(world: World, role: str, kind: str) -> bool:
    return role == "admin" or bool({m.role for m in world.city.users[role].memberships.all()} & allowed_roles(kind))


ROUTES: dict[str, str] = {
    "healthz": PUBLIC,
    "favicon": PUBLIC,
    "set_language": PUBLIC,  # sets a language cookie; no data, nothing to limit
    "portal:home": PUBLIC,
    "portal:submit": PUBLIC_WRITE,
    "portal:submitted": PUBLIC,
    "portal:track": PUBLIC_WRITE,
    "portal:track_detail": PUBLIC,  # only with the session grant from track (number + phone)
    "portal:rate": PUBLIC_WRITE,
    "portal:large_text": PUBLIC,  # flips a display cookie
    "callback_link": PUBLIC_WRITE,  # a signed link; answers the callback
    "measures_public": PUBLIC,
    "desk:login": PUBLIC,  # throttled and locked out by django-axes instead
    "desk:logout": PUBLIC,
    "desk:home": LOGIN,
    "desk:intake": screen("intake"),
    "desk:caller_history": screen("intake"),
    "desk:triage_panel": LOGIN,
    "desk:dispatch": screen("dispatch"),
    "desk:dispatch_duplicates": screen("dispatch"),  # htmx: the pane's possible duplicates (404 if not visible)
    "desk:inbox": screen("inbox"),
    "desk:supervise": screen("supervise"),
    "desk:orders": screen("orders"),
    "desk:order": ORDER,
    "desk:action": ORDER,
    "followup:scorecards": screen("scorecards"),
    "followup:export": screen("scorecards"),
    # The monthly report covers every unit: the centre's analysts and supervisors only.
    "followup:report": roles("analyst", "supervisor"),
    "followup:report_xlsx": roles("analyst", "supervisor"),
    "followup:send_link": ORDER,
    "insight:dashboard": screen("insight"),
    "insight:hotspots": screen("insight"),
    "insight:hotspot": screen("insight"),
    "insight:topics": screen("insight"),
    "insight:topic_new": screen("insight"),
    "insight:topic": screen("insight"),
    "insight:topic_edit": screen("insight"),
    "insight:topic_item_add": screen("insight"),
    "insight:topic_item_done": screen("insight"),
    "insight:topic_link": screen("insight"),
    "insight:proactive": screen("insight"),
    "insight:proactive_new": screen("insight"),
    "insight:measures": LOGIN,  # staff: a unit's own measures, or all for managers
    "insight:measure_new": screen("insight"),
    "insight:measure": LOGIN,
    "insight:measure_edit": screen("insight"),
    "insight:measure_update": LOGIN,
    "insight:milestone_add": LOGIN,
    "insight:milestone_done": LOGIN,
    # The API's own routes (its operations are declared below, one by one).
    "api:openapi-json": PUBLIC,
    "api:openapi-view": PUBLIC,
    "api:api-root": PUBLIC,
    "api:index": PUBLIC,
    "api:unknown_endpoint": PUBLIC,  # JSON 404
    "api:unknown_action": LOGIN,  # JSON 404 for a signed-in caller, 401 without
    # Open311 GeoReport v2: public reads; POSTs need an api_key and are rate-limited per address.
    "open311:discovery": PUBLIC,
    "open311:services": PUBLIC,
    "open311:service": PUBLIC,
    "open311:requests": PUBLIC_WRITE,
    "open311:request": PUBLIC,  # confidential orders and requester identities are never published
    "open311:token": PUBLIC,
    "open311:updates": PUBLIC_WRITE,
    "open311:unknown_json": PUBLIC,  # the spec's 404 in JSON
    "open311:unknown": PUBLIC,
    # Excel/CSV exchange (jiesu.integrations): each export runs its list's own selector and screen.
    "integrations:export": LOGIN,
    "integrations:import": screen("import"),
    "integrations:import_template": screen("import"),
    # A unit's webhook log and replay: unit leads (their unit's subscriptions only) and admins.
    "integrations:webhooks": screen("webhooks"),
    "integrations:webhook_replay": screen("webhooks"),
    # Public legal services: booking for oneself; cancel or move with code + phone.
    "legal:home": PUBLIC,
    "legal:book": PUBLIC_WRITE,
    "legal:booked": PUBLIC,  # only the booking this session made
    "legal:manage": PUBLIC_WRITE,
    "legal:booking": PUBLIC,
    # Staff side of the legal services.
    "services:home": screen("services"),
    "services:today": scoped("services"),
    "services:act": scoped("services"),
    "services:book": roles("call_taker", "dispatcher", "supervisor", "outreach", "service_staff"),
    "services:stats": roles("analyst", "supervisor", "service_staff", "outreach", "unit_lead"),
    "services:stats_xlsx": roles("analyst", "supervisor", "service_staff", "outreach", "unit_lead"),
    "services:outreach": screen("services"),
    "services:outreach_event": scoped("services"),
    "services:outreach_worker": PUBLIC,  # the offline page's service worker: static code, no data
    "services:filing": scoped("services"),
    "services:batch": scoped("services"),
    "services:receipts": scoped("services"),
    "services:filing_act": scoped("services"),
    "services:hotline": scoped("services"),
    "services:slip": scoped("services"),
}
API_PREFIX = "api:"

# API operations (method, path in the OpenAPI document) → kind. API_ORDER: an order by number.
API_LIST, API_CREATE, API_ORDER, API_TOOL = "list", "create", "order", "tool"
API_PUBLIC = "public"  # open to callers without a token (the public books for itself)
API_OPERATIONS: dict[tuple[str, str], str] = {
    ("post", "/api/v1/orders"): API_CREATE,
    ("get", "/api/v1/orders"): API_LIST,
    ("get", "/api/v1/orders/{number}"): API_ORDER,
    ("post", "/api/v1/triage"): API_TOOL,
    # An intake receipt: its sender's and administrators' only (404 for anyone else: tests/test_intake_receipts.py).
    ("get", "/api/v1/receipts/{receipt_id}"): API_TOOL,
    **{("post", f"/api/v1/orders/{{number}}/{a}"): API_ORDER for a in (
        "submit", "answer", "dispatch", "requeue", "refer", "decline", "merge", "close", "decide_extension",
        "callback", "reopen", "urge", "note", "accept", "return", "extend", "contact", "reply")},
    ("get", "/api/v1/proactive-items"): API_TOOL,
    ("post", "/api/v1/proactive-items"): API_TOOL,
    ("get", "/api/v1/service-points"): API_PUBLIC,
    ("get", "/api/v1/service-points/{point_id}/slots"): API_PUBLIC,
    ("post", "/api/v1/bookings"): API_PUBLIC,
    ("post", "/api/v1/bookings/{code}/cancel"): API_PUBLIC,  # needs the booking's phone
    ("post", "/api/v1/bookings/{code}/reschedule"): API_PUBLIC,
    ("post", "/api/v1/bookings/{code}/check-in"): API_TOOL,
    ("post", "/api/v1/bookings/{code}/outcome"): API_TOOL,
    ("post", "/api/v1/outreach-events/{event_id}/entries"): API_TOOL,
}

ROLES = ["admin", "calltaker", "dispatcher", "cy_dispatcher", "supervisor", "analyst", "handler", "lead",
         "zgc_handler", "water_handler", "police_handler", "outreach", "service", "nobody"]
ANONYMOUS = "anonymous"

# ---------------------------------------------------------------- the oracle (DESIGN §1, §9)

# Three orders: A, an ordinary complaint in 三里屯 (Chaoyang) with the 三里屯 street office; B, a
# confidential report (举报) there, with the same office; C, a complaint in 中关村 (Haidian) with the
# 中关村 office. Each has its own requester, so that a leak says whose.
PHONES = {"A": "13811110001", "B": "13811110002", "C": "13811110003"}
NAMES = {"A": "甲申酉", "B": "乙丙丁", "C": "丙戌亥"}
NOTE = "内部备注-仅工作人员可见"
CITY_CENTRE = {"admin", "calltaker", "dispatcher", "supervisor", "analyst"}
SEES = {
    "A": CITY_CENTRE | {"cy_dispatcher", "handler", "lead"},
    "B": CITY_CENTRE | {"cy_dispatcher", "handler", "lead"},
    "C": CITY_CENTRE | {"zgc_handler"},
}
IDENTITY = {"admin", "calltaker", "dispatcher", "supervisor"}
SEES_REQUESTER = {
    "A": IDENTITY | {"cy_dispatcher", "handler", "lead"},
    "B": IDENTITY | {"cy_dispatcher"},  # confidential: never the unit
    "C": IDENTITY | {"zgc_handler"},
}


@dataclass
class World:
    city: City
    numbers: dict[str, str]
    clients: dict[str, Client]
    tokens: dict[str, str]


def _build() -> World:
    city = build_city()
    calltaker, dispatcher = city.actor("calltaker"), city.actor("dispatcher")
    numbers = {}
    for key, (rtype, area, unit) in {"A": ("complaint", "110105001", "SLT"), "B": ("report", "110105001", "SLT"),
                                     "C": ("complaint", "110108001", "ZGC")}.items():
        order = actions.create_order(
            actor=calltaker, request_type=rtype, channel="hotline", area_code=area, category_code="010101",
            content=f"测试诉求{key}：路灯不亮。", requesters=[RequesterInput(phone=PHONES[key], name=NAMES[key])])
        actions.dispatch_order(actor=dispatcher, number=order.number, lead_unit=unit)
        actions.add_note(actor=dispatcher, number=order.number, text=NOTE)
        numbers[key] = order.number
    assert WorkOrder.objects.get(number=numbers["B"]).is_confidential
    clients = {ANONYMOUS: Client()}
    tokens = {}
    for role in ROLES:
        client = Client()
        client.force_login(city.users[role])
        clients[role] = client
        tokens[role] = ApiToken.issue(user=city.users[role], name="walk")[1]
    return World(city, numbers, clients, tokens)


@pytest.fixture
def world(db) -> World:
    return _build()


# ---------------------------------------------------------------- enumeration


def url_patterns(patterns=None, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, URLPattern]]:
    """(route, namespaced name, pattern) of every URL pattern, admin's included."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}:{p.namespace}".strip(":") if p.namespace else namespace
            yield from url_patterns(p.url_patterns, prefix + str(p.pattern), ns)
        else:
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            yield prefix + str(p.pattern), name, p


def api_operations() -> set[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return {(method, path) for path, ops in schema["paths"].items() for method in ops}


def api_operation_names() -> set[str]:
    """URL names of the API's documented operations (walked one by one by the API test; the
    undocumented API routes are declared in ROUTES)."""
    return {name for route, name, _p in url_patterns() if route.startswith("api/v1/") and name not in ROUTES}


OPERATION_NAMES = api_operation_names()

PARAMS = {"topic_id": "999999", "measure_id": "999999", "item_id": "999999", "milestone_id": "999999",
          "key": "nowhere", "month": "2026-03", "fmt": "csv", "token": "not-a-valid-token", "rest": "nothing",
          "action": "note", "object_id": "1", "app_label": "orders", "content_type_id": "1", "id": "1"}


REGEX_PARAMS = {"fmt": "json", "code": "010101", "token": "not-a-token", "rest": "nothing"}


def fill(route: str, number: str) -> str:
    def one(match: re.Match) -> str:
        name = match[2]
        return number if name == "number" else PARAMS.get(name, "1")

    def group(match: re.Match) -> str:  # a re_path group: (?P<name>…)
        return number if match[1] == "number" else REGEX_PARAMS.get(match[1], "1")

    if "^" in route:  # a regular-expression route (Open311): a concrete path that it matches
        prefix, _, rx = route.partition("^")
        rx = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", group, rx)
        return "/" + prefix + rx.rstrip("$").replace("\\", "")
    path = "/" + re.sub(r"<(?:(\w+):)?(\w+)>", one, route)
    return path


# ---------------------------------------------------------------- checks


def request(client: Client, method: str, path: str, **kw):
    """One request whose writes are rolled back (the walk must not change the world it checks)."""
    with transaction.atomic():
        response = getattr(client, method)(path, **kw)
        transaction.set_rollback(True)
    return response


def leaks(role: str, body: str) -> list[str]:
    found = []
    for key, phone in PHONES.items():
        if role not in SEES_REQUESTER[key] and phone in body:
            found.append(f"phone of {key}")
        if role not in SEES_REQUESTER[key] and NAMES[key] in body:
            found.append(f"name of {key}")
    if role == ANONYMOUS and NOTE in body:
        found.append("internal note")
    return found


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return ""
    return response.content.decode("utf-8", "replace")


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/login/" in response["Location"]


def test_every_route_and_operation_is_declared():
    names = {name for route, name, _p in url_patterns() if not route.startswith("admin/")} - OPERATION_NAMES
    unnamed = [route for route, name, _p in url_patterns() if not name and not route.startswith("admin/")]
    assert unnamed == [], "name every URL pattern so that the policy can declare it"
    assert sorted(names - set(ROUTES)) == [], "declare these routes in ROUTES (who may use them?)"
    assert sorted(set(ROUTES) - names) == [], "these declared routes no longer exist"
    operations = api_operations()
    assert sorted(operations - set(API_OPERATIONS)) == [], "declare these API operations in API_OPERATIONS"
    assert sorted(set(API_OPERATIONS) - operations) == []


def test_every_public_write_is_rate_limited():
    for _route, name, pattern in url_patterns():
        if ROUTES.get(name) == PUBLIC_WRITE:
            assert getattr(pattern.callback, "rate_limit_scope", None), f"{name} must use @rate_limit"


def test_walk_every_route_with_every_role(world):
    problems: list[str] = []
    for route, name, _pattern in url_patterns():
        if route.startswith("admin/") or name in OPERATION_NAMES:
            continue  # the admin and the API's operations have tests of their own below
        kind = ROUTES[name]
        targets = world.numbers.items() if ("<str:number>" in route or "(?P<number>" in route) else [("-", "20990101000001")]
        for key, number in targets:
            path = fill(route, number)
            for role, signed_in in world.clients.items():
                for method in ("get", "post"):
                    client = signed_in
                    if name == "desk:logout":  # would sign the walk's own client out
                        client = Client()
                        if role != ANONYMOUS:
                            client.force_login(world.city.users[role])
                    response = request(client, method, path, HTTP_ACCEPT_LANGUAGE="zh-hans")
                    status, where = response.status_code, f"{method.upper()} {path} as {role} ({name})"
                    if status >= 500:
                        problems.append(f"{where}: {status}")
                    for leak in leaks(role, _body(response)):
                        problems.append(f"{where}: leaks the {leak}")
                    if kind in (PUBLIC, PUBLIC_WRITE) or status == 405:
                        continue
                    if role == ANONYMOUS:
                        if not (is_login_redirect(response) or (name.startswith("api:") and status == 401)):
                            problems.append(f"{where}: anonymous got {status}, not the login page")
                        continue
                    if kind.startswith("scoped:") and not _may(world, role, kind) and status not in (403, 404):
                        problems.append(f"{where}: {status} for a role without the screen (want 403/404)")
                    if kind.startswith(("screen:", "roles:")):
                        allowed = _may(world, role, kind)
                        if not allowed and status != 403:
                            problems.append(f"{where}: {status} for a role without the screen (want 403)")
                        if allowed and status == 403:
                            problems.append(f"{where}: 403 for a role of the screen")
                    if kind == ORDER and key in SEES and role not in SEES[key] and status not in (403, 404):
                        problems.append(f"{where}: {status} on an order the role may not see (want 404)")
    assert problems == [], "\n".join(problems[:60])


def test_who_sees_an_order_page(world):
    for key, number in world.numbers.items():
        for role in ROLES:
            status = request(world.clients[role], "get", f"/desk/orders/{number}/").status_code
            assert (status == 200) == (role in SEES[key]), (key, role, status)


def _api(world: World, role: str, method: str, path: str, body: dict | None = None, **headers):
    client = world.clients[ANONYMOUS]
    extra = {"HTTP_AUTHORIZATION": f"Bearer {world.tokens[role]}"} if role != ANONYMOUS else {}
    kw = {"content_type": "application/json", "data": json.dumps(body or {})} if method == "post" else {}
    return request(client, method, path, HTTP_ACCEPT_LANGUAGE="zh-hans", **extra, **kw)


def test_walk_every_api_operation_with_every_role(world):
    problems: list[str] = []
    for (method, path), kind in API_OPERATIONS.items():
        targets = world.numbers.items() if "{number}" in path else [("-", "")]
        for key, number in targets:
            url = re.sub(r"\{(\w+)\}", lambda m, n=number: n if m[1] == "number" else PARAMS.get(m[1], "1"),
                         path)
            for role in [ANONYMOUS, *ROLES]:
                response = _api(world, role, method, url)
                status, where = response.status_code, f"{method.upper()} {url} as {role}"
                if status >= 500:
                    problems.append(f"{where}: {status}")
                for leak in leaks(role, _body(response)):
                    problems.append(f"{where}: leaks the {leak}")
                if role == ANONYMOUS:
                    if kind != API_PUBLIC and status != 401:
                        problems.append(f"{where}: anonymous got {status} (want 401)")
                    continue
                if kind == API_ORDER and role not in SEES[key] and status not in (404, 422):
                    # 422: the body was refused before anyone looked the order up (it names no order).
                    problems.append(f"{where}: {status} on an order the role may not see")
                if kind == API_ORDER and method == "get" and (status == 200) != (role in SEES[key]):
                    problems.append(f"{where}: {status}; sees={role in SEES[key]}")
                if kind == API_LIST and status == 200:
                    seen = {r["number"] for r in response.json()["results"]}
                    want = {n for k, n in world.numbers.items() if role in SEES[k]}
                    if seen != want:
                        problems.append(f"{where}: lists {sorted(seen)}, want {sorted(want)}")
    assert problems == [], "\n".join(problems[:60])


def test_the_public_sees_an_order_only_with_its_number_and_a_phone_on_it(world):
    number = world.numbers["A"]
    client = Client()
    assert client.get(f"/track/{number}/").status_code == 302  # no grant: back to the form
    refused = client.post("/track/", {"number": number, "phone": PHONES["B"]})
    assert refused.status_code == 422 and NAMES["A"] not in _body(refused)
    assert client.post("/track/", {"number": number, "phone": PHONES["A"]}).status_code == 302
    page = _body(client.get(f"/track/{number}/"))
    assert number in page and NOTE not in page
    # The grant is for that one number: another order stays closed to this session.
    assert client.get(f"/track/{world.numbers['C']}/").status_code == 302


def test_admin_is_for_administrators_only(world):
    admin_paths = ["/admin/"] + [f"/admin/{m._meta.app_label}/{m._meta.model_name}/" for m in admin_site._registry]
    for path in admin_paths:
        for role, client in world.clients.items():
            response = request(client, "get", path)
            assert response.status_code < 500, (path, role)
            if role == "admin":
                assert response.status_code == 200, path
                for leak in leaks("admin", _body(response)):
                    raise AssertionError(f"{path}: {leak}")
            else:
                assert response.status_code == 302 and "/admin/login/" in response["Location"], (path, role)
