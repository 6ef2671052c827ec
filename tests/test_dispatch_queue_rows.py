"""The dispatcher's queue rows, rendered by a Python tag (``desk_tags.queue_items``): the same
HTML, up to whitespace between tags, as the template loop it replaced, in both languages and
for every kind of row (returned with a reason, urgent, proactive, no area or category, long
text, markup in the text)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template import Context, Template
from django.utils import translation

from jiesu.catalogue.models import Category
from jiesu.desk.selectors import time_left
from jiesu.orders.models import Assignment, WorkOrder
from jiesu.org.models import Area, Unit

OLD = Template("""{% load i18n desk_tags %}{% for r in rows %}{% with o=r.order %}
      <li><a class="item{% if o.state == 'returned' %} is-returned{% endif %}" href="?n={{ o.number }}"{% if selected and selected.number == o.number %} aria-current="true"{% endif %}>
        <span class="line1"><span class="mono">{{ o.number }}</span>
          {% if o.state == "returned" %}<span class="{{ o.state|state_css }}">{{ o.get_state_display }}</span>{% endif %}
          {% if o.urgency != "normal" %}<span class="chip urg-{{ o.urgency }}">{{ o.get_urgency_display }}</span>{% endif %}
          <span class="muted">{{ o.get_request_type_display }}</span>{% if o.channel == "proactive" %}{% include "desk/_proactive.html" %}{% endif %}
          {% if r.left %}<span class="chip {{ r.left.css }}">{{ r.left.text }}</span>{% endif %}</span>
        <span class="line2">{{ o.content|truncatechars:70 }}</span>
        <span class="line3 muted small">{{ o.received_at|date:"m-d H:i" }} · {{ o.area.name|default:_("area unknown") }}{% if o.category %} · {{ o.category|cat_name }}{% endif %}</span>
        {% if r.returned %}<span class="line3 small returned-line">{% blocktranslate trimmed with unit=r.returned.unit.name %}Returned by {{ unit }}:{% endblocktranslate %} {{ r.returned.return_reason|truncatechars:80 }}</span>{% endif %}
      </a></li>
    {% endwith %}{% endfor %}""")
NEW = Template("{% load desk_tags %}{% queue_items rows selected %}")
NOW = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC)


def _squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


def _rows() -> list[dict]:
    area = Area(code="110105001", name="三里屯街道")
    category = Category(code="010101", name="路灯", name_en="Street lights")
    unit = Unit(code="SLT", name="三里屯<街道>办事处")
    orders = [
        WorkOrder(number="20261128000001", state="received", urgency="normal", request_type="complaint",
                  channel="hotline", content="路灯坏了", received_at=NOW, area=area, category=category),
        WorkOrder(number="20261128000002", state="returned", urgency="emergency", request_type="help",
                  channel="proactive", content="长" * 90, received_at=NOW - dt.timedelta(days=3)),
        WorkOrder(number="20261128000003", state="received", urgency="urgent", request_type="consult",
                  channel="web", content='<script>alert("x")</script> & 路灯', received_at=NOW, area=area),
    ]
    back = Assignment(unit=unit, return_reason="不属于本单位职责范围，" * 12)
    return [
        {"order": orders[0], "returned": None, "left": time_left(NOW + dt.timedelta(minutes=30), NOW, soon_hours=1)},
        {"order": orders[1], "returned": back, "left": None},
        {"order": orders[2], "returned": None, "left": time_left(NOW - dt.timedelta(hours=5), NOW, soon_hours=1)},
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("selected", [None, "20261128000002"])
def test_queue_rows_render_as_the_template_loop_did(language, selected):
    rows = _rows()
    chosen = next((r["order"] for r in rows if r["order"].number == selected), None)
    with translation.override(language):
        old, new = (t.render(Context({"rows": rows, "selected": chosen})) for t in (OLD, NEW))
    assert _squeeze(new) == _squeeze(old)
    assert "&lt;script&gt;" in new and "<script>" not in new
    assert new.count('aria-current="true"') == (1 if selected else 0)
    assert new.count("<li>") == 3
