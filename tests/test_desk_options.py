"""The grouped <option> lists of the desk's selects: the Python tag renders exactly what the
template loop it replaced rendered (escaping, selection, the blank choice)."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from jiesu.desk.selectors import Group

OLD = Template(
    '{% if blank %}<option value="">{{ blank }}</option>{% endif %}{% for g in groups %}<optgroup label="{{ g.label }}">'
    '{% for code, label in g.options %}<option value="{{ code }}"{% if code == cur or code in curs %} selected'
    '{% endif %}>{{ label }}</option>{% endfor %}</optgroup>{% endfor %}')
NEW = Template('{% include "desk/_options.html" %}')
GROUPS = [Group("朝阳区 <东>", [("110105", "朝阳区（全区）"), ("110105001", '三里屯 "街道" & 社区')]),
          Group("海淀区", [("110108001", "中关村街道")])]


@pytest.mark.parametrize("cur,curs,blank", [
    ("", "", ""), ("110105001", "", "— 不知道 —"), ("", ["110105", "110108001"], ""), ("nothing", [], "<b>x</b>"),
])
def test_options_render_as_the_template_loop_did(cur, curs, blank):
    ctx = {"groups": GROUPS, "cur": cur, "curs": curs, "blank": blank}
    new = NEW.render(Context(ctx)).rstrip("\n")
    assert new == OLD.render(Context(ctx))
    assert "&lt;东&gt;" in new and "&quot;街道&quot; &amp;" in new
    assert new.count(" selected") == (1 if cur == "110105001" else len(curs) if isinstance(curs, list) else 0)


def _picklist():
    from jiesu.desk.selectors import PickList

    return PickList([Group(g.label, list(g.options)) for g in GROUPS])


def test_a_kept_pick_list_renders_once_and_marks_each_uses_choice():
    kept = _picklist()
    for cur, curs, blank in [("", "", ""), ("110105001", "", "— 不知道 —"), ("", ["110105", "110108001"], ""),
                             ("nothing", [], "<b>x</b>"), ("", "", "")]:
        ctx = {"groups": GROUPS, "cur": cur, "curs": curs, "blank": blank}
        assert NEW.render(Context({**ctx, "groups": kept})) == NEW.render(Context(ctx))
    assert kept.html is not None and " selected" not in kept.html  # the kept text has no choice in it


@pytest.mark.django_db
def test_pick_lists_follow_the_catalogue_and_the_language(city):
    from django.utils import translation

    from jiesu.desk.selectors import category_choices, unit_choices
    from jiesu.org.models import Unit, UnitKind

    def labels(groups):
        return [label for g in groups for _code, label in g.options]

    assert unit_choices() is unit_choices()  # kept
    assert "新的街道办事处" not in labels(unit_choices())
    office = Unit.objects.create(code="NEW", name="新的街道办事处", kind=UnitKind.STREET_OFFICE, area=city.sanlitun)
    assert "新的街道办事处" in labels(unit_choices())
    office.is_active = False
    office.save()
    assert "新的街道办事处" not in labels(unit_choices())
    with translation.override("en"):
        assert "City management" in [g.label for g in category_choices()]
    with translation.override("zh-hans"):
        assert "城市管理" in [g.label for g in category_choices()]


@pytest.mark.django_db
def test_pick_lists_see_another_processs_change(city, settings):
    """Another process's save moves the catalogue's generation (jiesu.dispatch.signals); this
    process sees it at its next check, as its triage engine does."""
    from django.db.models import F

    from jiesu.desk.selectors import unit_choices
    from jiesu.dispatch.models import DispatchSettings
    from jiesu.org.models import Unit

    settings.JIESU = {**settings.JIESU, "TRIAGE_REFRESH_SECONDS": 0}
    assert "三里屯街道办事处" in [label for g in unit_choices() for _c, label in g.options]
    # As another process would: the row, then the generation (no signal reaches this process).
    Unit.objects.filter(code="SLT").update(name="三里屯街道办事处（新）")
    DispatchSettings.objects.filter(pk=1).update(generation=F("generation") + 1)
    assert "三里屯街道办事处（新）" in [label for g in unit_choices() for _c, label in g.options]
