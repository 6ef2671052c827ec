"""The per-process engine with the real rules, keyword classifier and model store."""

from __future__ import annotations

import pytest

from jiesu.dispatch import runtime, services
from jiesu.triage.classifier import TextClassifier
from jiesu.triage.store import ModelStore

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_engine(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    runtime.reset()
    yield
    runtime.reset()


def test_cold_start_uses_the_category_keywords(city):
    result = services.suggest("三里屯路口的路灯坏了，晚上很黑", "朝阳区三里屯街道")
    assert result.ok and result.model_version is None
    assert result.category.code == "010101" and result.category.source == "keywords"
    assert result.location.street.name == "三里屯街道"
    assert result.type.code in ("complaint", "help", "other")


def test_a_new_model_is_picked_up_without_a_restart(city, settings):
    before = runtime.engine()
    assert before.model is None
    texts = ["路灯坏了不亮", "路灯晚上不亮很黑", "灯杆歪了路灯不亮", "楼下噪音扰民", "夜里施工噪音很大", "噪音吵得睡不着"] * 3
    labels = ["010101"] * 3 + ["0201"] * 3
    model = TextClassifier().fit(texts, labels * 3)
    version = ModelStore(settings.DATA_DIR).save("category", model)
    runtime._state["checked"] = 0.0  # as if the refresh interval had passed
    after = runtime.engine()
    assert after.model_version == version and after.model is not None
    result = services.suggest("晚上噪音太大了", "")
    assert result.model_version == version
    assert result.category.code == "0201"


def test_a_broken_model_file_leaves_keywords_in_charge(city, settings):
    base = settings.DATA_DIR / "models" / "category"
    (base / "v1").mkdir(parents=True)
    (base / "v1" / "model.joblib").write_bytes(b"not a model")
    (base / "CURRENT").write_text("v1\n")
    result = services.suggest("路灯坏了", "")
    assert result.ok and result.model_version is None and result.category.source == "keywords"
