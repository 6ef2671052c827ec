"""Cold-start keyword rules in a table that administrators edit: seeded with the shipped
defaults, validated by the pure rule parser, and picked up by the running engine without a
restart (in this process at once, in the others through the engine's generation)."""

from __future__ import annotations

import pytest

from jiesu.dispatch import runtime, services
from jiesu.dispatch.models import DispatchSettings, KeywordRule, RuleTarget
from jiesu.triage.rules import load_default_rules

pytestmark = pytest.mark.django_db

PRAISE = "感谢社区的王师傅，帮我们修好了楼道的灯"


@pytest.fixture(autouse=True)
def fresh_engine(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    runtime.reset()
    yield
    runtime.reset()


def test_the_table_starts_with_the_shipped_defaults(city):
    assert KeywordRule.objects.count() == len(load_default_rules())
    assert runtime.rule_set().rules == load_default_rules()


def test_an_admins_new_rule_is_used_without_a_restart(city, client):
    before = services.suggest("楼下的共享单车乱停乱放一大片", "")
    assert before.type.code != "suggest"
    client.force_login(city.users["admin"])
    response = client.post("/admin/dispatch/keywordrule/add/", {
        "target": "type", "label": "suggest", "keywords": "乱停乱放", "weight": "5", "is_active": "on", "note": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    after = services.suggest("楼下的共享单车乱停乱放一大片", "")
    assert after.type.code == "suggest"


def test_another_process_sees_the_edit_through_the_generation(city):
    runtime.engine()
    generation = DispatchSettings.load().generation
    KeywordRule.objects.create(target=RuleTarget.URGENCY, label="emergency", keywords="电梯里有人出不来", weight=5)
    assert DispatchSettings.load().generation > generation
    runtime._state["dirty"] = False  # as another process: only the generation tells it
    runtime._state["checked"] = 0.0  # and its refresh interval has passed
    assert services.suggest("电梯里有人出不来，已经半小时了", "").urgency.code == "emergency"


def test_switching_off_a_default_rule_takes_effect(city):
    assert services.suggest(PRAISE, "").type.code == "praise"
    for rule in KeywordRule.objects.filter(target=RuleTarget.TYPE, label="praise"):
        rule.is_active = False
        rule.save()
    assert services.suggest(PRAISE, "").type.code != "praise"


def test_category_rules_add_keywords_to_the_cold_start_classifier(city):
    text = "小区东门的灯杆歪了快倒了"
    KeywordRule.objects.create(target=RuleTarget.CATEGORY, label="0201", keywords="灯杆歪了", weight=1)
    result = services.suggest(text, "")
    assert result.category.code == "0201" and result.category.source == "keywords"


@pytest.mark.parametrize("fields, error_field", [
    ({"target": "type", "label": "angry", "keywords": "气死了", "weight": "1"}, "__all__"),
    ({"target": "urgency", "label": "emergency", "keywords": " ", "weight": "1"}, "keywords"),
    ({"target": "category", "label": "9999", "keywords": "灯", "weight": "1"}, "label"),
    ({"target": "hedge", "label": "before", "keywords": "隐患", "weight": "0"}, "weight"),
])
def test_the_admin_refuses_rules_that_do_not_parse(city, client, fields, error_field):
    client.force_login(city.users["admin"])
    count = KeywordRule.objects.count()
    response = client.post("/admin/dispatch/keywordrule/add/", {**fields, "is_active": "on", "note": ""})
    assert response.status_code == 200
    assert error_field in response.context["adminform"].form.errors
    assert KeywordRule.objects.count() == count


def test_a_malformed_row_written_around_the_admin_is_left_out(city):
    bad = KeywordRule.objects.create(target=RuleTarget.TYPE, label="praise", keywords="谢谢你们", weight=1)
    KeywordRule.objects.filter(pk=bad.pk).update(label="not-a-type")
    runtime.invalidate()
    result = services.suggest(PRAISE, "")
    assert result.ok and result.type.code == "praise"
