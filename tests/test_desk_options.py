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
