"""Shared set-up of the Open311 tests: services with a full service definition, a key, and
helpers that speak the wire formats (XML parsed with a real parser)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from jiesu.accounts.policy import Actor
from jiesu.open311.models import Attribute, AttributeValue, Service
from jiesu.open311.services import issue_key

BASE = "/open311/v2"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def build(city) -> SimpleNamespace:
    svc = Service.objects.create(category=city.lamp, code="LAMP01", description="路灯不亮、闪烁", keywords="路灯,照明",
                                 notice="24小时内派员查看")
    Attribute.objects.create(service=svc, code="POLE", datatype="string", required=True, order=1,
                             description="灯杆编号", datatype_description="灯杆上的白色编号")
    kind = Attribute.objects.create(service=svc, code="KIND", datatype="singlevaluelist", order=2, description="故障")
    AttributeValue.objects.create(attribute=kind, key="dark", name="不亮", order=1)
    AttributeValue.objects.create(attribute=kind, key="blink", name="闪烁", order=2)
    times = Attribute.objects.create(service=svc, code="TIMES", datatype="multivaluelist", order=3, description="时段")
    AttributeValue.objects.create(attribute=times, key="night", name="夜间", order=1)
    AttributeValue.objects.create(attribute=times, key="day", name="白天", order=2)
    Attribute.objects.create(service=svc, code="COUNT", datatype="number", order=4, description="几盏灯")
    Attribute.objects.create(service=svc, code="SINCE", datatype="datetime", order=5, description="从何时起")
    Attribute.objects.create(service=svc, code="SAFETY", datatype="text", variable=False, order=6,
                             description="如有电线外露，请远离并拨打110。")
    _key, raw = issue_key(actor=Actor.system(), name="test-app")
    _unit_key, unit_raw = issue_key(actor=Actor.system(), name="slt-system", username="handler")
    return SimpleNamespace(city=city, service=svc, key=raw, unit_key=unit_raw)


def good_form(key: str, **extra) -> dict:
    form = {"api_key": key, "service_code": "LAMP01", "lat": "39.936", "long": "116.455",
            "address_string": "朝阳区三里屯路19号", "description": "路灯坏了一个星期。", "phone": "13812345678",
            "first_name": "三", "last_name": "张", "attribute[POLE]": "SLT-0042"}
    form.update(extra)
    return {k: v for k, v in form.items() if v is not None}


def post(client, path: str, form: dict | list, **headers):
    return client.post(f"{BASE}/{path}", data=urlencode(form, doseq=True), content_type=FORM, **headers)


def xml(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def js(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def xml_errors(response) -> list[tuple[str, str]]:
    root = xml(response)
    assert root.tag == "errors"
    errors = [(e.findtext("code"), e.findtext("description")) for e in root.findall("error")]
    assert errors and all(set(c.tag for c in e) == {"code", "description"} for e in root.findall("error"))
    return errors


def json_errors(response) -> list[dict]:
    body = js(response)
    assert isinstance(body, list) and body
    assert all(set(e) == {"code", "description"} and isinstance(e["code"], int) for e in body)
    return body
