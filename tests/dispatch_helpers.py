"""Shared by the smart-dispatch tests: routing rules on the test city, deterministic rules and
keyword classifier (so that confidences are known), a fake model in the store."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from jiesu.catalogue.models import RoutingRule
from jiesu.dispatch import runtime
from jiesu.dispatch.models import DispatchSettings


@dataclass(frozen=True)
class Pred:
    label: str
    confidence: float
    alternatives: list = field(default_factory=list)
    words: list = field(default_factory=list)


@dataclass
class Referral:
    outcome: str
    referred_to: str
    words: list


class Rules:
    def classify_type(self, text):
        return ("complaint", 0.8) if "投诉" in text else ("help", 0.6)

    def classify_urgency(self, text):
        return ("emergency", 0.95, "2h") if "燃气" in text else ("normal", 0.7, "7d")

    def referral(self, text):
        return Referral("emergency", "119", ["燃气", "泄漏"]) if "燃气泄漏" in text else None


class Keywords:
    """路灯 → 010101 (0.95, confident), 噪音 → 0201 (0.6, unsure)."""

    TABLE = {"路灯": ("010101", 0.95), "噪音": ("0201", 0.6), "燃气": ("010101", 0.99)}

    def __init__(self, categories=None):
        self.categories = categories

    def predict(self, text):
        for word, (label, conf) in self.TABLE.items():
            if word in text:
                return Pred(label, conf, [(label, conf)], [word])
        return None


class Model:
    def __init__(self, table):
        self.table = table

    def predict(self, text):
        for word, (label, conf) in self.table.items():
            if word in text:
                return Pred(label, conf, [(label, conf)], [word, "模型"])
        return Pred("0201", 0.2)


@pytest.fixture
def triage_world(city, monkeypatch):
    """The test city with routing rules, deterministic rules/keywords and no model."""
    runtime.reset()
    monkeypatch.setattr(runtime, "rule_set", lambda: Rules())
    monkeypatch.setattr(runtime, "keyword_classifier", lambda rows: Keywords(rows))
    monkeypatch.setattr(runtime, "latest_model", lambda: (None, None))
    city.lamp.keywords = "路灯 不亮"
    city.lamp.save()
    RoutingRule.objects.create(category=city.lamp, area=None, lead_unit=city.sanlitun_office)
    rule = RoutingRule.objects.create(category=city.noise, area=city.sanlitun, lead_unit=city.sanlitun_office)
    rule.co_units.add(city.police)
    DispatchSettings.objects.update_or_create(pk=1, defaults={"auto_dispatch": True, "threshold": 0.9})
    yield city
    runtime.reset()


def settings_(threshold: float = 0.9, auto: bool = True) -> None:
    DispatchSettings.objects.update_or_create(pk=1, defaults={"auto_dispatch": auto, "threshold": threshold})
