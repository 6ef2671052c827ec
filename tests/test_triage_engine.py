"""The triage engine end to end, without a database: rules, category, place, routing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from jiesu.triage.engine import (
    CategoryInfo,
    Route,
    Routes,
    Triage,
    TriageInput,
    UnitRef,
    clean,
)
from jiesu.triage.gazetteer import Gazetteer


@dataclass(frozen=True)
class Pred:
    label: str
    confidence: float
    alternatives: list = field(default_factory=list)
    words: list = field(default_factory=list)


class FakeModel:
    """Predicts by a substring table; records what it saw."""

    def __init__(self, table: dict[str, tuple[str, float]], default: tuple[str, float] | None = None):
        self.table, self.default, self.seen = table, default, []

    def predict(self, text):
        self.seen.append(text)
        for word, (label, conf) in self.table.items():
            if word in text:
                return Pred(label, conf, [(label, conf), ("0301", 0.05)], [word])
        return Pred(*self.default) if self.default else None


@dataclass
class Referral:
    outcome: str
    referred_to: str
    words: list


class FakeRules:
    def classify_type(self, text):
        return ("complaint", 0.8) if "投诉" in text else ("help", 0.6)

    def classify_urgency(self, text):
        if "燃气" in text and "泄漏" in text:
            return ("emergency", 0.95, "2h")
        return ("normal", 0.7, "7d")

    def referral(self, text):
        if "燃气" in text and "泄漏" in text:
            return Referral("emergency", "119", ["燃气", "泄漏"])
        return None


CATS = {
    "01": CategoryInfo("01", "城乡建设", ("01",), ("城乡建设",)),
    "0101": CategoryInfo("0101", "市政设施", ("01", "0101"), ("城乡建设", "市政设施")),
    "010101": CategoryInfo("010101", "路灯照明", ("01", "0101", "010101"), ("城乡建设", "市政设施", "路灯照明")),
    "0102": CategoryInfo("0102", "市容环境", ("01", "0102"), ("城乡建设", "市容环境")),
    "010201": CategoryInfo("010201", "环境卫生", ("01", "0102", "010201"), ("城乡建设", "市容环境", "环境卫生")),
    "03": CategoryInfo("03", "水电气热", ("03",), ("水电气热",)),
    "0301": CategoryInfo("0301", "供水", ("03", "0301"), ("水电气热", "供水")),
}
AREAS = [
    {"code": "110000", "name": "北京市", "level": 1, "parent_code": ""},
    {"code": "110105", "name": "朝阳区", "level": 2, "parent_code": "110000"},
    {"code": "110108", "name": "海淀区", "level": 2, "parent_code": "110000"},
    {"code": "110105001", "name": "望京街道", "level": 3, "parent_code": "110105"},
    {"code": "110105002", "name": "三里屯街道", "level": 3, "parent_code": "110105"},
    {"code": "110108001", "name": "中关村街道", "level": 3, "parent_code": "110108"},
    {"code": "110105001001", "name": "花家地西里社区", "level": 4, "parent_code": "110105001"},
]
U = UnitRef
ROUTES = [
    Route(1, "0101", None, U("CB-CGW", "城管委")),
    Route(2, "010101", None, U("CB-LIGHT", "路灯中心"), (U("CB-CGW", "城管委"),)),
    # street-level: the street office
    Route(3, "0102", None, U("DC", "区热线分中心")),
    Route(4, "0102", "110105001", U("SO-WJ", "望京街道办事处")),
    Route(5, "0102", "110105002", U("SO-SLT", "三里屯街道办事处")),
    Route(6, "0102", "110105", U("DC-CY", "朝阳区城管")),
    Route(7, "03", None, U("UT-WATER", "自来水集团")),
]


def make(model=None, keywords=None, **kw) -> Triage:
    gaz = Gazetteer.from_areas(AREAS)
    paths = {a["code"]: gaz.areas[a["code"]].path for a in AREAS}
    routes = Routes(ROUTES, CATS, paths, {a["code"]: a["name"] for a in AREAS})
    keywords = keywords if keywords is not None else FakeModel(
        {"路灯": ("010101", 0.7), "垃圾": ("010201", 0.75), "停水": ("0301", 0.8)})
    return Triage(FakeRules(), model, keywords, gaz, routes, **kw)


@pytest.fixture
def engine():
    return make()


def test_a_full_result(engine):
    r = engine.triage(TriageInput(text="投诉：小区门口路灯坏了一周", address="朝阳区望京街道花家地西里3号楼"))
    assert r.ok and r.errors == []
    assert (r.type.code, r.urgency.code, r.urgency.limit_hint) == ("complaint", "normal", "7d")
    assert r.referral is None
    assert r.category.code == "010101" and r.category.source == "keywords"
    assert r.category.names == ("城乡建设", "市政设施", "路灯照明") and r.category.words == ["路灯"]
    assert r.location.community.name == "花家地西里社区"
    assert r.lead_unit == "CB-LIGHT" and r.co_units == ["CB-CGW"]
    assert r.routing["rule"]["id"] == 2 and r.routing["area_sensitive"] is False
    # a city-wide rule: the place does not matter, the category's confidence is the answer
    assert r.confidence == pytest.approx(0.7)
    data = r.to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["routing"]["rule"]["label"] == "城乡建设 / 市政设施 / 路灯照明 @ * → 路灯中心"


def test_most_specific_rule_deepest_category_then_deepest_area(engine):
    r = engine.triage(TriageInput(text="楼下垃圾堆了好多天", address="朝阳区望京街道"))
    assert r.lead_unit == "SO-WJ" and r.routing["rule"]["id"] == 4
    assert r.confidence == pytest.approx(0.75 * r.location.confidence)
    r = engine.triage(TriageInput(text="楼下垃圾堆了好多天", address="朝阳区"))
    assert r.lead_unit == "DC-CY"  # the district rule beats the city-wide one
    assert r.routing["area_sensitive"] is True  # a street would change it
    r = engine.triage(TriageInput(text="楼下垃圾堆了好多天", address="海淀区中关村街道"))
    assert r.lead_unit == "DC"  # no rule for that place: the rule without area
    assert r.routing["area_sensitive"] is False


def test_unknown_place_lowers_confidence_where_the_place_matters(engine):
    r = engine.triage(TriageInput(text="楼下垃圾堆了好多天"))
    assert r.lead_unit == "DC" and r.routing["area_sensitive"] is True
    assert r.location.status == "unknown" and r.confidence == 0.0


def test_given_category_and_area_are_used_but_the_confidence_is_the_systems(engine):
    r = engine.triage(TriageInput(text="有点事情", category_code="0102", area_code="110105002"))
    assert r.category.source == "given" and r.category.code == "0102"
    assert r.location.street.name == "三里屯街道" and r.location.source == "given"
    assert r.lead_unit == "SO-SLT"
    # Nothing in the text or address supports the choice: no confidence of the system's own.
    assert r.category.confidence == 0.0 and r.location.confidence == 0.0 and r.confidence == 0.0


def test_given_choice_that_the_system_shares_keeps_the_systems_confidence(engine):
    own = engine.triage(TriageInput(text="路灯坏了", address="朝阳区三里屯街道"))
    given = engine.triage(TriageInput(text="路灯坏了", address="朝阳区三里屯街道", category_code=own.category.code,
                                      area_code=own.location.code))
    assert given.category.source == "given" and given.location.source == "given"
    assert 0 < given.confidence == own.confidence < 1.0


def test_model_first_keywords_when_the_model_is_unsure():
    sure = FakeModel({"路灯": ("0301", 0.9)})
    r = make(model=sure, model_version="v3").triage(TriageInput(text="路灯坏了"))
    assert r.category.code == "0301" and r.category.source == "model" and r.model_version == "v3"
    unsure = FakeModel({"路灯": ("0301", 0.3)})
    r = make(model=unsure).triage(TriageInput(text="路灯坏了"))
    assert r.category.code == "010101" and r.category.source == "keywords"


def test_model_labels_may_be_category_names_and_unknown_labels_are_ignored():
    by_name = FakeModel({"水": ("供水", 0.95)})
    assert make(model=by_name).triage(TriageInput(text="停水了")).category.code == "0301"
    foreign = FakeModel({"水": ("劳动和社会保障", 0.99)})
    r = make(model=foreign).triage(TriageInput(text="停水了"))
    assert r.category.code == "0301" and r.category.source == "keywords"


def test_referral_is_reported(engine):
    r = engine.triage(TriageInput(text="楼道里燃气泄漏了，味道很大", address="朝阳区望京街道"))
    assert r.referral == {"outcome": "emergency", "referred_to": "119", "words": ["燃气", "泄漏"]}
    assert r.urgency.code == "emergency"


def test_no_category_no_routing(engine):
    r = engine.triage(TriageInput(text="你好请问一下", address="朝阳区"))
    assert r.ok and r.category.code is None and r.routing is None and r.confidence == 0.0
    assert r.location.district.name == "朝阳区"


@pytest.mark.parametrize("text,code", [
    ("", "empty"), ("   \n\t ", "empty"), (None, "empty"), ("hello world 123", "no_chinese"),
    ("路灯" * 50_000, "too_long"), ("。，！？", "no_chinese"),
])
def test_bad_text_is_an_explicit_error(engine, text, code):
    r = engine.triage(TriageInput(text=text, address="朝阳区望京街道"))
    assert not r.ok and [e["code"] for e in r.errors] == [code]
    assert r.type.code is None and r.category.code is None and r.routing is None and r.confidence == 0
    json.dumps(r.to_dict())
    if code != "too_long":
        assert r.location.street.name == "望京街道"  # the address still says where


def test_control_characters_are_removed_with_a_warning(engine):
    r = engine.triage(TriageInput(text="路灯\x00坏了\x07\u200b，\r\n晚上很黑", address="朝阳区\x1b望京街道"))
    assert r.ok and r.category.code == "010101"
    assert [w["code"] for w in r.warnings] == ["control_characters"]
    assert r.location.street.name == "望京街道"
    assert clean("a\x00b\nc") == ("ab c", True)


def test_outside_the_city_is_an_error_and_routes_nowhere(engine):
    r = engine.triage(TriageInput(text="路灯坏了", address="上海市浦东新区世纪大道1号"))
    assert r.ok and r.category.code == "010101"
    assert r.location.status == "outside" and [e["code"] for e in r.errors] == ["outside_city"]
    assert r.routing is None and r.confidence == 0.0


@pytest.mark.parametrize("lat,lng", [("abc", None), (float("nan"), 116.4), (999, 999), (None, None)])
def test_bad_coordinates_never_raise(engine, lat, lng):
    r = engine.triage(TriageInput(text="路灯坏了", latitude=lat, longitude=lng))
    assert r.ok


def test_a_broken_model_is_an_error_not_an_exception():
    class Broken:
        def predict(self, text):
            raise RuntimeError("corrupt weights")

    r = make(model=Broken()).triage(TriageInput(text="路灯坏了"))
    assert not r.ok and r.errors[0]["code"] == "internal"


def test_summary_for_jsonl(engine):
    s = engine.triage(TriageInput(text="楼下垃圾堆了好多天", address="朝阳区望京街道")).summary()
    assert (s["type"], s["category"], s["district"], s["street"], s["unit"]) == (
        "help", "010201", "朝阳区", "望京街道", "SO-WJ")
    assert set(s["confidence"]) == {"type", "urgency", "category", "area", "unit"}


def test_with_the_real_rules_and_keyword_classifier():
    from jiesu.triage.rules import KeywordCategoryClassifier, RuleSet

    keywords = KeywordCategoryClassifier([
        {"code": "010101", "name": "路灯照明", "keywords": "路灯 不亮 灯杆", "leaf": True},
        {"code": "010201", "name": "环境卫生", "keywords": "垃圾 脏乱", "leaf": True},
        {"code": "0301", "name": "供水", "keywords": "停水 水压", "leaf": True},
    ])
    gaz = Gazetteer.from_areas(AREAS)
    routes = Routes(ROUTES, CATS, {a["code"]: gaz.areas[a["code"]].path for a in AREAS})
    engine = Triage(RuleSet(), None, keywords, gaz, routes)
    r = engine.triage(TriageInput(text="我要投诉，小区门口的路灯不亮一个星期了", address="朝阳区望京街道"))
    assert r.ok and r.type.code == "complaint"
    assert r.category.code == "010101" and r.category.source == "keywords" and "路灯" in r.category.words
    assert r.lead_unit == "CB-LIGHT"
    assert 0 < r.confidence <= 0.8  # keywords propose; they are capped below the auto-dispatch default
    r = engine.triage(TriageInput(text="楼道里燃气泄漏了，味道很大，有人晕倒了", address="朝阳区望京街道"))
    assert r.referral is not None and r.referral["outcome"] == "emergency"
    assert r.urgency.code == "emergency" and r.urgency.limit_hint == "2h"
    r = engine.triage(TriageInput(text="\x00\x01", address=""))
    assert not r.ok and r.errors[0]["code"] == "empty"
