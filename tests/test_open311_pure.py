"""The Django-free rules of the Open311 app: W3C datetimes, the two wire formats, attribute
checks and the status mapping (no database)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest

from jiesu.open311 import attributes, formats, statuses, w3c
from jiesu.open311.attributes import AttributeRule

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(("text", "expected"), [
    ("2010-01-01T00:00:00Z", dt.datetime(2010, 1, 1, tzinfo=dt.UTC)),
    ("2010-01-01T08:00:00+08:00", dt.datetime(2010, 1, 1, tzinfo=dt.UTC)),
    ("2010-01-01T08:00:00 08:00", dt.datetime(2010, 1, 1, tzinfo=dt.UTC)),  # an unescaped "+"
    ("2010-01-01T00:00:00-0800", dt.datetime(2010, 1, 1, 8, tzinfo=dt.UTC)),
    ("2010-01-01T00:00Z", dt.datetime(2010, 1, 1, tzinfo=dt.UTC)),
    ("2010-01-01T00:00:00.250Z", dt.datetime(2010, 1, 1, 0, 0, 0, 250000, tzinfo=dt.UTC)),
])
def test_w3c_parse(text, expected):
    assert w3c.parse(text) == expected


@pytest.mark.parametrize("text", ["", "2010-01-01", "2010-01-01T00:00:00", "2010-13-01T00:00:00Z",
                                  "2010-02-30T00:00:00Z", "yesterday", "2010-01-01T25:00:00Z", "2010-01-01 00:00:00Z"])
def test_w3c_refuses_what_has_no_zone_or_is_not_a_date(text):
    with pytest.raises(w3c.BadDatetime):
        w3c.parse(text)


def test_w3c_render_keeps_the_offset_and_drops_microseconds():
    value = dt.datetime(2026, 1, 1, 0, 0, 0, 123, tzinfo=dt.UTC)
    assert w3c.render(value, SHANGHAI) == "2026-01-01T08:00:00+08:00"
    assert w3c.render(None, SHANGHAI) is None


def test_xml_list_with_declaration_repeated_children_and_booleans():
    body = [{"service_code": "001", "metadata": True, "attributes": [{"code": "A", "values": [{"key": 1}]}],
             "empty": None}]
    content = formats.to_xml("services", body)
    assert content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<services>')
    root = ET.fromstring(content)
    service = root.find("service")
    assert service.findtext("service_code") == "001" and service.findtext("metadata") == "true"
    assert service.find("attributes/attribute/values/value/key").text == "1"
    assert service.find("empty").text is None
    assert "xmlns" not in content.decode()


def test_xml_escapes_text():
    root = ET.fromstring(formats.to_xml("errors", [{"code": 400, "description": "a < b & <c>"}]))
    assert root.findtext("error/description") == "a < b & <c>"


def test_json_drops_the_root_keeps_strings_and_arrays_of_one():
    body = [{"service_code": "001", "lat": Decimal("39.900000"), "values": [{"key": "k"}]}]
    parsed = json.loads(formats.to_json(body))
    assert parsed == [{"service_code": "001", "lat": 39.9, "values": [{"key": "k"}]}]
    assert json.loads(formats.to_json({"a": "中文"})) == {"a": "中文"}
    assert "中文".encode() in formats.to_json({"a": "中文"})


def test_error_body():
    assert formats.error_body([(403, "bad key")]) == [{"code": 403, "description": "bad key"}]
    content, content_type = formats.render("json", "errors", formats.error_body([(404, "x"), (404, "y")]))
    assert content_type == "application/json; charset=utf-8" and len(json.loads(content)) == 2
    assert formats.render("xml", "errors", [])[1] == "text/xml; charset=utf-8"


def test_attributes_from_form():
    items = [("attribute[A]", ["1"]), ("attribute[B][]", ["x", "y"]), ("attribute[C]", [" "]), ("api_key", ["k"]),
             ("attribute[]", ["z"]), ("attribute[D", ["w"])]
    assert attributes.from_form(items) == {"A": ["1"], "B": ["x", "y"]}


RULES = [
    AttributeRule("S", "string", required=True),
    AttributeRule("N", "number"),
    AttributeRule("D", "datetime"),
    AttributeRule("T", "text"),
    AttributeRule("ONE", "singlevaluelist", keys=("a", "b")),
    AttributeRule("MANY", "multivaluelist", keys=("a", "b")),
    AttributeRule("INFO", "text", variable=False),
]


def test_attribute_check_accepts_good_values():
    clean, problems = attributes.check(RULES, {"S": ["x"], "N": ["-1.5"], "D": ["2026-01-01T00:00:00Z"], "T": ["t" * 4000],
                                               "ONE": ["a"], "MANY": ["b", "a", "b"]})
    assert problems == []
    assert clean == {"S": "x", "N": "-1.5", "D": "2026-01-01T00:00:00Z", "T": "t" * 4000, "ONE": "a",
                     "MANY": ["b", "a"]}


@pytest.mark.parametrize(("given", "problem"), [
    ({}, ("required", "S", "")),
    ({"S": ["x"], "N": ["NaN"]}, ("not_a_number", "N", "NaN")),
    ({"S": ["x"], "N": ["1e"]}, ("not_a_number", "N", "1e")),
    ({"S": ["x"], "D": ["2026-01-01"]}, ("not_a_datetime", "D", "2026-01-01")),
    ({"S": ["x"], "ONE": ["c"]}, ("not_in_list", "ONE", "c")),
    ({"S": ["x"], "MANY": ["a", "c"]}, ("not_in_list", "MANY", "c")),
    ({"S": ["x" * 256]}, ("too_long", "S", "x" * 40)),
    ({"S": ["x"], "T": ["t" * 4001]}, ("too_long", "T", "t" * 40)),
    ({"S": ["x", "y"]}, ("one_value", "S", "")),
    ({"S": ["x"], "INFO": ["no input here"]}, ("unknown", "INFO", "")),
    ({"S": ["x"], "NEW": ["?"]}, ("unknown", "NEW", "")),
])
def test_attribute_problems(given, problem):
    _clean, problems = attributes.check(RULES, given)
    assert problems == [problem]


def test_status_mapping():
    assert statuses.open_closed("received") == "open" and statuses.open_closed("callback_due") == "open"
    assert {statuses.open_closed(s) for s in ("closed", "merged", "answered", "referred", "declined")} == {"closed"}
    assert statuses.detailed("accepted") == "IN_PROGRESS" and statuses.detailed("merged") == "DUPLICATE"
    assert set(statuses.DETAILED.values()) <= statuses.EXTENDED_STATUSES
    assert statuses.remote_action("closed") == "reply" and statuses.remote_action("fixed") == "reply"
    assert statuses.remote_action("IN_PROGRESS") == "accept" and statuses.remote_action("open") == "note"
    assert statuses.remote_action("NOT_COUNCILS_RESPONSIBILITY") == "return"
