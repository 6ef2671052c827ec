"""Conformance of /open311/v2/ with GeoReport v2 (../shared/docs/open311.md): every endpoint,
both formats, every error case. XML is read with a real parser (ElementTree)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from jiesu import clock
from jiesu.catalogue.models import Channel
from jiesu.open311.models import ApiKey, Service, ServiceType, Submission
from jiesu.open311.selectors import authenticate
from jiesu.orders import actions
from jiesu.orders.models import Event, WorkOrder
from tests.conftest import at
from tests.open311_helpers import BASE, build, good_form, js, json_errors, post, xml, xml_errors

NOW = at("2026-11-20 10:00")


@pytest.fixture
def o311(city):
    return build(city)


# ------------------------------------------------------------------------------ discovery


def test_discovery_in_both_formats(client, o311):
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert {c.tag for c in root} == {"changeset", "contact", "key_service", "endpoints"}
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://testserver/open311/v2"
    assert endpoint.findtext("type") == "production"
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    body = js(client.get(f"{BASE}/discovery.json"))
    assert isinstance(body, dict) and body["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}


# ------------------------------------------------------------------------------ services


def test_service_list_xml(client, o311):
    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    services = {s.findtext("service_code"): s for s in root.findall("service")}
    # Every active leaf category is a service: the lamp one renamed LAMP01, noise by its code.
    assert set(services) == {"LAMP01", "0201"}
    lamp = services["LAMP01"]
    assert [c.tag for c in lamp] == ["service_code", "service_name", "description", "metadata", "type", "keywords",
                                    "group"]
    assert lamp.findtext("service_name") == "路灯"
    assert lamp.findtext("metadata") == "true"
    assert lamp.findtext("type") == "realtime"
    assert lamp.findtext("group") == "城市管理"
    assert services["0201"].findtext("metadata") == "false"


def test_service_list_json_is_an_array_with_string_codes(client, o311):
    body = js(client.get(f"{BASE}/services.json"))
    assert isinstance(body, list)
    lamp = next(s for s in body if s["service_code"] == "LAMP01")
    assert lamp["metadata"] is True and lamp["keywords"] == "路灯,照明"
    assert all(isinstance(s["service_code"], str) for s in body)


def test_hidden_service_and_inactive_category_are_not_offered(client, o311, city):
    Service.objects.create(category=city.noise, is_active=False)
    codes = [s["service_code"] for s in js(client.get(f"{BASE}/services.json"))]
    assert codes == ["LAMP01"]
    assert client.get(f"{BASE}/services/0201.json").status_code == 404


def test_service_definition_xml(client, o311):
    root = xml(client.get(f"{BASE}/services/LAMP01.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "LAMP01"
    attrs = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attrs] == ["POLE", "KIND", "TIMES", "COUNT", "SINCE", "SAFETY"]
    pole = attrs[0]
    assert [c.tag for c in pole] == ["variable", "code", "datatype", "required", "datatype_description", "order",
                                    "description"]
    assert pole.findtext("required") == "true" and pole.findtext("order") == "1"
    assert [(v.findtext("key"), v.findtext("name")) for v in attrs[1].findall("values/value")] == [
        ("dark", "不亮"), ("blink", "闪烁")]
    assert attrs[5].findtext("variable") == "false"
    assert attrs[1].find("datatype_description").text is None  # empty element, not "None"


def test_service_definition_json_is_an_object(client, o311):
    body = js(client.get(f"{BASE}/services/LAMP01.json"))
    assert body["service_code"] == "LAMP01"
    kind = body["attributes"][1]
    assert kind == {"variable": True, "code": "KIND", "datatype": "singlevaluelist", "required": False,
                    "datatype_description": None, "order": 2, "description": "故障",
                    "values": [{"key": "dark", "name": "不亮"}, {"key": "blink", "name": "闪烁"}]}
    assert "values" not in body["attributes"][0]
    # A service without attributes has an empty definition, by its category code.
    assert js(client.get(f"{BASE}/services/0201.json")) == {"service_code": "0201", "attributes": []}


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_unknown_service_definition_is_404(client, o311, fmt):
    response = client.get(f"{BASE}/services/NOPE.{fmt}")
    assert response.status_code == 404
    errors = xml_errors(response) if fmt == "xml" else [(str(e["code"]), e["description"]) for e in
                                                         json_errors(response)]
    assert errors[0][0] == "404" and "NOPE" in errors[0][1]


def test_category_code_of_a_renamed_service_is_not_a_service(client, o311):
    assert client.get(f"{BASE}/services/010101.json").status_code == 404


# ------------------------------------------------------------------------------ POST requests


def test_post_creates_an_order_through_intake(client, o311, django_capture_on_commit_callbacks):
    from jiesu.dispatch.models import TriageSuggestion

    form = good_form(o311.key, **{"attribute[KIND]": "dark", "attribute[TIMES][]": ["night", "day"],
                                  "attribute[COUNT]": "2", "attribute[SINCE]": "2026-11-01T20:00:00+08:00",
                                  "email": "zhang@example.com", "media_url": "https://example.com/p.jpg"})
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "requests.xml", form)
    assert response.status_code == 200
    root = xml(response)
    assert root.tag == "service_requests"
    request = root.find("request")
    number = request.findtext("service_request_id")
    assert request.find("token") is None  # never both
    assert request.findtext("service_notice") == "24小时内派员查看"
    order = WorkOrder.objects.get(number=number)
    assert order.channel == Channel.OPEN311 == "open311"
    assert order.category == o311.city.lamp and order.address == "朝阳区三里屯路19号"
    assert str(order.latitude) == "39.936000" and order.triage_due_at is not None
    assert order.requesters.get().phone == "13812345678" and order.requesters.get().name == "张三"
    created = Event.objects.get(order=order, code="created")
    assert created.data["channel"] == "open311"
    submission = Submission.objects.get(order=order)
    assert submission.attributes == {"POLE": "SLT-0042", "KIND": "dark", "TIMES": ["night", "day"], "COUNT": "2",
                                     "SINCE": "2026-11-01T20:00:00+08:00"}
    assert submission.email == "zhang@example.com" and submission.service_code == "LAMP01"
    # Triage ran after the commit, as for every other channel.
    assert TriageSuggestion.objects.filter(order=order).exists()


def test_post_json_answer_and_address_alone(client, o311):
    response = post(client, "requests.json", good_form(o311.key, lat=None, long=None))
    body = js(response)
    assert response.status_code == 200 and isinstance(body, list) and len(body) == 1
    assert set(body[0]) == {"service_request_id", "service_notice", "account_id"}
    assert isinstance(body[0]["service_request_id"], str)
    assert WorkOrder.objects.get(number=body[0]["service_request_id"]).latitude is None


def test_post_description_of_exactly_4000_characters_is_accepted(client, o311):
    response = post(client, "requests.json", good_form(o311.key, description="灯" * 4000))
    assert response.status_code == 200
    assert len(WorkOrder.objects.get().content) == 4000


def _errors(response, fmt):
    if fmt == "xml":
        return [(int(c), d) for c, d in xml_errors(response)]
    return [(e["code"], e["description"]) for e in json_errors(response)]


BAD_POSTS = [
    ("no api_key", {"api_key": None}, 403, "api_key"),
    ("wrong api_key", {"api_key": "o311_not-a-key"}, 403, "api_key"),
    ("no service_code", {"service_code": None}, 400, "service_code"),
    ("empty service_code", {"service_code": ""}, 400, "service_code"),
    ("unknown service_code", {"service_code": "NOPE"}, 404, "NOPE"),
    ("no location", {"lat": None, "long": None, "address_string": None}, 400, "address_string"),
    ("lat without long", {"long": None}, 400, "lat"),
    ("lat out of range", {"lat": "91", "address_string": None}, 400, "lat"),
    ("lat not a number", {"lat": "north"}, 400, "lat"),
    ("description too long", {"description": "灯" * 4001}, 400, "4001"),
    ("HTML description", {"description": "灯坏了<script>alert(1)</script>"}, 400, "HTML"),
    ("required attribute missing", {"attribute[POLE]": None}, 400, "POLE"),
    ("value not in list", {"attribute[KIND]": "broken"}, 400, "broken"),
    ("multivalue not in list", {"attribute[TIMES][]": ["night", "noon"]}, 400, "noon"),
    ("not a number", {"attribute[COUNT]": "two"}, 400, "COUNT"),
    ("datetime without zone", {"attribute[SINCE]": "2026-11-01T20:00:00"}, 400, "SINCE"),
    ("unknown attribute", {"attribute[COLOUR]": "red"}, 400, "COLOUR"),
    ("two values for one", {"attribute[POLE]": ["A", "B"]}, 400, "POLE"),
    ("bad phone", {"phone": "12"}, 400, "12"),
    ("bad media_url", {"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ("bad email", {"email": "not-mail"}, 400, "email"),
    ("wrong jurisdiction", {"jurisdiction_id": "sfgov.org"}, 404, "sfgov.org"),
]


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(("case", "change", "status", "mentions"), BAD_POSTS, ids=[b[0] for b in BAD_POSTS])
def test_bad_posts_change_nothing(client, o311, fmt, case, change, status, mentions):
    events = Event.objects.count()
    response = post(client, f"requests.{fmt}", good_form(o311.key, **change), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == status, response.content
    errors = _errors(response, fmt)
    assert all(code == status for code, _ in errors)
    assert any(mentions in text for _, text in errors), errors
    assert WorkOrder.objects.count() == 0 and Event.objects.count() == events and Submission.objects.count() == 0


def test_every_problem_is_reported_at_once(client, o311):
    form = good_form(o311.key, **{"attribute[POLE]": None, "attribute[COUNT]": "x", "description": "a" * 4001})
    errors = json_errors(post(client, "requests.json", form))
    assert len(errors) == 3


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_malformed_form_data(client, o311, fmt):
    as_json = client.post(f"{BASE}/requests.{fmt}", data={"api_key": o311.key}, content_type="application/json",
                          HTTP_ACCEPT_LANGUAGE="en")
    assert as_json.status_code == 400
    assert "form data" in _errors(as_json, fmt)[0][1]
    broken = client.post(f"{BASE}/requests.{fmt}", data=b"api_key=" + o311.key.encode() + b"&description=\xff\xfe",
                         content_type="application/x-www-form-urlencoded")
    assert broken.status_code == 400
    assert "UTF-8" in _errors(broken, fmt)[0][1]
    assert WorkOrder.objects.count() == 0


def test_empty_optional_parameters_count_as_absent(client, o311):
    form = good_form(o311.key, email="", media_url="", device_id="", jurisdiction_id="", **{"attribute[KIND]": ""})
    assert post(client, "requests.json", form).status_code == 200


def test_errors_speak_the_callers_language(client, o311):
    zh = json_errors(post(client, "requests.json", good_form("bad")))
    en = json_errors(post(client, "requests.json", good_form("bad"), HTTP_ACCEPT_LANGUAGE="en"))
    assert "api_key" in zh[0]["description"] and "缺少" in zh[0]["description"]
    assert en[0]["description"].startswith("Missing or invalid api_key")


def test_revoked_key_is_refused(client, o311):
    ApiKey.objects.filter(name="test-app").update(revoked_at=clock.now())
    assert post(client, "requests.xml", good_form(o311.key)).status_code == 403


# ------------------------------------------------------------------------------ tokens (batch services)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_batch_service_answers_a_token_that_resolves(client, o311, fmt):
    Service.objects.filter(code="LAMP01").update(type=ServiceType.BATCH)
    response = post(client, f"requests.{fmt}", good_form(o311.key))
    if fmt == "xml":
        request = xml(response).find("request")
        token, number = request.findtext("token"), request.findtext("service_request_id")
    else:
        body = js(response)[0]
        token, number = body.get("token"), body.get("service_request_id")
    assert token and number is None
    resolved = client.get(f"{BASE}/tokens/{token}.{fmt}")
    if fmt == "xml":
        request = xml(resolved).find("request")
        pair = (request.findtext("service_request_id"), request.findtext("token"))
    else:
        body = js(resolved)
        pair = (body[0]["service_request_id"], body[0]["token"])
    assert pair == (WorkOrder.objects.get().number, token)
    missing = client.get(f"{BASE}/tokens/0000.{fmt}")
    assert missing.status_code == 404 and _errors(missing, fmt)[0][0] == 404


# ------------------------------------------------------------------------------ GET requests


def _make(new_order, when, **kw):
    with clock.frozen(when):
        return new_order(**kw)


def test_get_requests_fields_and_default_window(client, o311, new_order):
    old = _make(new_order, NOW - dt.timedelta(days=100))
    recent = _make(new_order, NOW - dt.timedelta(days=3))
    with clock.frozen(NOW):
        actions.dispatch_order(actor=o311.city.actor("dispatcher"), number=recent.number, lead_unit="SLT")
        root = xml(client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests"
    requests = root.findall("request")
    assert [r.findtext("service_request_id") for r in requests] == [recent.number]
    r = requests[0]
    assert [c.tag for c in r] == ["service_request_id", "status", "status_notes", "service_name", "service_code",
                                 "description", "agency_responsible", "service_notice", "requested_datetime",
                                 "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
                                 "lat", "long", "media_url"]
    assert r.findtext("status") == "open" and r.findtext("service_code") == "LAMP01"
    assert r.findtext("agency_responsible") == "三里屯街道办事处"
    assert r.findtext("requested_datetime") == "2026-11-17T10:00:00+08:00"
    assert r.findtext("expected_datetime").endswith("+08:00")
    assert old.number not in client.get(f"{BASE}/requests.json").content.decode()


def test_get_requests_json_and_status_filter(client, o311, new_order):
    with clock.frozen(NOW):
        from jiesu.orders.states import State
        from tests.lifecycle import bring_to

        closed = bring_to(o311.city, new_order, State.CLOSED)
        open_ = new_order()
        everything = js(client.get(f"{BASE}/requests.json"))
        assert {r["service_request_id"]: r["status"] for r in everything} == {closed.number: "closed",
                                                                               open_.number: "open"}
        assert [r["service_request_id"] for r in js(client.get(f"{BASE}/requests.json?status=closed"))] == [
            closed.number]
        assert [r["service_request_id"] for r in js(client.get(f"{BASE}/requests.json?status=open"))] == [
            open_.number]
        assert len(js(client.get(f"{BASE}/requests.json?status=open,closed"))) == 2
        by_closed = next(r for r in everything if r["status"] == "closed")
        assert by_closed["status_notes"] == "已处理。"  # the unit's reply
        assert isinstance(by_closed["lat"], (type(None), float))
        bad = client.get(f"{BASE}/requests.json?status=pending")
        assert bad.status_code == 400


def test_get_requests_dates(client, o311, new_order):
    a = _make(new_order, at("2026-06-01 09:00"))
    b = _make(new_order, at("2026-07-15 09:00"))
    with clock.frozen(NOW):
        got = js(client.get(f"{BASE}/requests.json", {"start_date": "2026-05-30T00:00:00Z",
                                                       "end_date": "2026-06-30T00:00:00+08:00"}))
        assert [r["service_request_id"] for r in got] == [a.number]
        # Only a start: the 90 days from it. A "+" sent unescaped arrives as a space.
        got = js(client.get(f"{BASE}/requests.json?start_date=2026-06-01T00:00:00+08:00"))
        assert {r["service_request_id"] for r in got} == {a.number, b.number}
        got = js(client.get(f"{BASE}/requests.json", {"end_date": "2026-06-02T00:00:00Z"}))
        assert [r["service_request_id"] for r in got] == [a.number]


BAD_QUERIES = [
    ({"start_date": "2026-06-01"}, "start_date"),
    ({"start_date": "2026-06-01T00:00:00"}, "start_date"),
    ({"end_date": "yesterday"}, "end_date"),
    ({"start_date": "2026-02-30T00:00:00Z"}, "start_date"),
    ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90"),
    ({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"}, "end_date"),
    ({"page": "0"}, "page"),
    ({"page_size": "1001"}, "page_size"),
    ({"page_size": "ten"}, "page_size"),
]


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(("query", "mentions"), BAD_QUERIES)
def test_bad_queries_are_400(client, o311, fmt, query, mentions):
    response = client.get(f"{BASE}/requests.{fmt}", query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert any(mentions in text for _, text in _errors(response, fmt))


def test_service_request_id_list_overrides_everything(client, o311, new_order):
    old = _make(new_order, NOW - dt.timedelta(days=200))
    new = _make(new_order, NOW - dt.timedelta(days=1))
    with clock.frozen(NOW):
        got = js(client.get(f"{BASE}/requests.json", {"service_request_id": f"{old.number},{new.number},nope",
                                                       "status": "closed", "start_date": "bad"}))
    assert {r["service_request_id"] for r in got} == {old.number, new.number}


def test_service_code_filter(client, o311, new_order, city):
    lamp = _make(new_order, NOW - dt.timedelta(days=1))
    noise = _make(new_order, NOW - dt.timedelta(days=1), category_code="0201")
    with clock.frozen(NOW):
        assert [r["service_request_id"] for r in js(client.get(f"{BASE}/requests.json?service_code=LAMP01"))] == [
            lamp.number]
        assert [r["service_request_id"] for r in js(client.get(f"{BASE}/requests.json?service_code=0201"))] == [
            noise.number]
        assert len(js(client.get(f"{BASE}/requests.json?service_code=0201,LAMP01"))) == 2
        assert js(client.get(f"{BASE}/requests.json?service_code=NOPE")) == []


def test_confidential_and_draft_orders_are_not_published(client, o311, new_order):
    from jiesu.catalogue.models import RequestType

    with clock.frozen(NOW):
        new_order(request_type=RequestType.REPORT)  # 举报: confidential by law
        new_order(draft=True)
        new_order(requesters=[actions.RequesterInput(phone="13800000000", wants_confidential=True)])
        public = new_order()
        assert [r["service_request_id"] for r in js(client.get(f"{BASE}/requests.json"))] == [public.number]


def test_default_limit_is_1000_and_pages(client, o311, new_order):
    first = _make(new_order, NOW - dt.timedelta(days=1))
    rows = [WorkOrder(number=f"2026111{i:07d}", state="received", request_type="complaint", channel="hotline",
                      content="x", received_at=NOW - dt.timedelta(minutes=i + 1)) for i in range(1000)]
    WorkOrder.objects.bulk_create(rows)
    with clock.frozen(NOW):
        got = js(client.get(f"{BASE}/requests.json"))
        assert len(got) == 1000 and first.number not in {r["service_request_id"] for r in got}
        page = js(client.get(f"{BASE}/requests.json?page_size=400&page=3"))
        assert len(page) == 201 and page[-1]["service_request_id"] == first.number
        assert len(js(client.get(f"{BASE}/requests.json?page_size=10"))) == 10


def test_extensions_add_detailed_status_channel_and_notes(client, o311):
    number = js(post(client, "requests.json", good_form(o311.key, **{"attribute[KIND]": "dark"})))[0][
        "service_request_id"]
    actions.dispatch_order(actor=o311.city.actor("dispatcher"), number=number, lead_unit="SLT")
    plain = js(client.get(f"{BASE}/requests/{number}.json"))[0]
    assert "detailed_status" not in plain and "extended_attributes" not in plain
    assert plain["media_url"] is None and plain["service_code"] == "LAMP01"
    extended = js(client.get(f"{BASE}/requests/{number}.json?extensions=true"))[0]
    assert extended["detailed_status"] == "INVESTIGATING"
    assert extended["extended_attributes"]["channel"] == "open311"
    assert [n["type"] for n in extended["notes"]] == ["created", "dispatched"]
    assert {"code": "KIND", "name": "KIND", "label": "KIND", "value": "dark"} in extended["attributes"]
    root = xml(client.get(f"{BASE}/requests/{number}.xml?extensions=true"))
    assert root.find("request/extended_attributes/channel").text == "open311"
    assert [n.findtext("type") for n in root.findall("request/notes/note")] == ["created", "dispatched"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_get_one_request(client, o311, fmt, new_order):
    order = new_order()
    response = client.get(f"{BASE}/requests/{order.number}.{fmt}")
    assert response.status_code == 200
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "service_requests" and len(root.findall("request")) == 1
        assert root.findtext("request/service_request_id") == order.number
    else:
        body = js(response)
        assert isinstance(body, list) and body[0]["service_request_id"] == order.number
    missing = client.get(f"{BASE}/requests/20991231000001.{fmt}")
    assert missing.status_code == 404 and _errors(missing, fmt)[0][0] == 404


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_wrong_jurisdiction_is_404_on_every_get(client, o311, fmt, settings):
    settings.JIESU = {**settings.JIESU, "OPEN311": {**settings.JIESU["OPEN311"], "JURISDICTION_ID": "beijing.gov.cn"}}
    for path in ("services", "requests", "servicerequestupdates"):
        assert client.get(f"{BASE}/{path}.{fmt}?jurisdiction_id=sfgov.org").status_code == 404
        assert client.get(f"{BASE}/{path}.{fmt}?jurisdiction_id=beijing.gov.cn").status_code == 200
        assert client.get(f"{BASE}/{path}.{fmt}").status_code == 200


def test_unknown_resource_and_wrong_method(client, o311):
    assert xml_errors(client.get(f"{BASE}/nothing.xml"))[0][0] == "404"
    assert client.get(f"{BASE}/nothing.json").status_code == 404
    assert json_errors(client.get(f"{BASE}/nothing.json"))[0]["code"] == 404
    assert client.get(f"{BASE}/services.html").status_code == 404
    put = client.put(f"{BASE}/services.json")
    assert put.status_code == 400 and json_errors(put)[0]["code"] == 400
    assert client.post(f"{BASE}/services.xml").status_code == 400


# ------------------------------------------------------------------------------ servicerequestupdates


def test_updates_list_state_changes_with_public_texts(client, o311, new_order):
    with clock.frozen(NOW):
        from jiesu.orders.states import State
        from tests.lifecycle import bring_to

        order = bring_to(o311.city, new_order, State.REPLIED)
        root = xml(client.get(f"{BASE}/servicerequestupdates.xml"))
        assert root.tag == "service_request_updates"
        updates = root.findall("request_update")
        assert [c.tag for c in updates[0]] == ["update_id", "service_request_id", "status", "updated_datetime",
                                              "description", "media_url"]
        assert {u.findtext("service_request_id") for u in updates} == {order.number}
        assert [u.findtext("status") for u in updates] == ["open", "open", "open", "open"]
        assert updates[-1].findtext("description") == "已处理。"
        detailed = js(client.get(f"{BASE}/servicerequestupdates.json?extensions=true"))
        assert [u["status"] for u in detailed] == ["OPEN", "INVESTIGATING", "IN_PROGRESS", "FIXED"]
        assert js(client.get(f"{BASE}/servicerequestupdates.json?start_date=2026-11-21T00:00:00Z")) == []
        assert client.get(f"{BASE}/servicerequestupdates.json?end_date=bad").status_code == 400


def test_unit_system_posts_its_progress(client, o311, new_order):
    order = new_order()
    actions.dispatch_order(actor=o311.city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    accepted = post(client, "servicerequestupdates.xml", {"api_key": o311.unit_key, "service_request_id": order.number,
                                                          "status": "IN_PROGRESS", "update_id": "u1"})
    assert accepted.status_code == 200
    assert xml(accepted).find("request_update/update_id").text
    order.refresh_from_db()
    assert order.state == "accepted"
    fixed = post(client, "servicerequestupdates.json", {"api_key": o311.unit_key, "service_request_id": order.number,
                                                        "status": "FIXED", "description": "已更换灯泡。"})
    assert fixed.status_code == 200
    order.refresh_from_db()
    assert order.state == "replied" and order.replies.get().body == "已更换灯泡。"
    # Posting the same again changes nothing.
    again = post(client, "servicerequestupdates.json", {"api_key": o311.unit_key, "service_request_id": order.number,
                                                        "status": "FIXED", "description": "已更换灯泡。"})
    assert again.status_code == 200 and order.replies.count() == 1


def test_update_errors(client, o311, new_order):
    order = new_order()
    base = {"api_key": o311.unit_key, "service_request_id": order.number, "status": "FIXED"}
    assert post(client, "servicerequestupdates.json", {**base, "api_key": o311.key}).status_code == 403
    assert post(client, "servicerequestupdates.json", {**base, "api_key": ""}).status_code == 403
    assert post(client, "servicerequestupdates.json", {**base, "service_request_id": "1"}).status_code == 404
    assert post(client, "servicerequestupdates.json", {**base}).status_code == 404  # not assigned to the unit
    assert post(client, "servicerequestupdates.json", {**base, "status": "DONE"}).status_code == 400
    assert post(client, "servicerequestupdates.json", {**base, "status": ""}).status_code == 400
    order.refresh_from_db()
    assert order.state == "received"


# ------------------------------------------------------------------------------ keys


def test_apikey_command_prints_a_key_stored_hashed(city, capsys):
    call_command("apikey", "create", "Beijing 311 app")
    raw = capsys.readouterr().out.strip()
    key = ApiKey.objects.get(name="Beijing 311 app")
    assert raw.startswith("o311_") and raw not in (key.key_hash, key.prefix) and len(key.key_hash) == 64
    assert authenticate(raw) == key and authenticate(raw + "x") is None
    call_command("apikey", "create", "slt", "--user", "handler")
    assert ApiKey.objects.get(name="slt").user.username == "handler"
    call_command("apikey", "revoke", key.prefix)
    assert authenticate(raw) is None
