"""The unit inbox's rows and the order search's table rows, rendered by Python tags
(``desk_tags.inbox_items``, ``desk_tags.order_rows``): the same HTML, up to whitespace between
tags, as the template loops they replaced, in both languages and for every kind of row (new with
its accept form, accepted, extension asked, urgent, proactive, no area, category or lead, long
text, markup in the text); and the inbox's rows read with only the columns they show."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import translation

from jiesu.catalogue.models import Category, Urgency
from jiesu.desk.selectors import time_left
from jiesu.orders import actions, selectors
from jiesu.orders.models import Assignment, WorkOrder
from jiesu.org.models import Area, Unit
from tests.test_dispatch_queue_rows import NOW, _squeeze

INBOX_OLD = Template("""{% load i18n desk_tags %}{% for r in rows %}{% with a=r.a o=r.order %}
      <li class="with-action"><a class="item {{ r.left.css }}" href="?n={{ o.number }}"{% if selected and selected.number == o.number %} aria-current="true"{% endif %}>
        <span class="line1"><span class="mono">{{ o.number }}</span>
          <span class="chip {{ r.left.css }}">{{ r.left.text }}</span>
          <span class="chip role-{{ a.role }}">{{ a.get_role_display }}</span>{% if o.channel == "proactive" %}{% include "desk/_proactive.html" %}{% endif %}
          {% if a.state == "dispatched" %}<span class="chip new">{% translate "new" %}</span>{% endif %}
          {% if a.extension_pending %}<span class="chip">{% translate "extension asked" %}</span>{% endif %}
          {% if o.urgency != "normal" %}<span class="chip urg-{{ o.urgency }}">{{ o.get_urgency_display }}</span>{% endif %}</span>
        <span class="line2">{{ o.content|truncatechars:70 }}</span>
        <span class="line3 muted small">{% translate "due" %} {{ a.due_at|date:"m-d H:i" }} · {{ a.unit.name }}{% if o.category %} · {{ o.category|cat_name }}{% endif %}</span>
      </a>
      {% if a.state == "dispatched" %}
      <form novalidate method="post" action="{% url 'desk:action' o.number 'accept' %}" class="row-action">{% csrf_token %}<input type="hidden" name="next" value="inbox"><button type="submit" class="btn small primary" aria-label="{% blocktranslate trimmed with number=o.number %}Accept {{ number }}{% endblocktranslate %}">{% translate "Accept" %}</button></form>
      {% endif %}</li>
    {% endwith %}{% endfor %}""")
INBOX_NEW = Template("{% load desk_tags %}{% inbox_items rows selected %}")
ORDERS_OLD = Template("""{% load i18n desk_tags %}{% for r in rows %}{% with o=r.order %}<tr>
      <td><a class="mono" href="{% url 'desk:order' o.number %}">{{ o.number }}</a></td>
      <td><span class="{{ o.state|state_css }}">{{ o.get_state_display }}</span></td>
      <td>{{ o.received_at|date:"m-d H:i" }}</td><td>{{ o.get_request_type_display }}{% if o.channel == "proactive" %}{% include "desk/_proactive.html" %}{% endif %}</td>
      <td>{{ o.content|truncatechars:60 }}</td><td>{{ o.area.name|default:"—" }}</td>
      <td>{% if r.lead %}{{ r.lead.unit.name }}{% else %}—{% endif %}</td>
      <td>{% if r.left %}<span class="chip {{ r.left.css }}">{{ r.left.text }}</span>{% endif %}</td>
    </tr>{% endwith %}{% endfor %}""")
ORDERS_NEW = Template("{% load desk_tags %}{% order_rows rows %}")


def _orders() -> list[WorkOrder]:
    area = Area(code="110105001", name="三里屯街道")
    category = Category(code="010101", name="路灯", name_en="Street lights")
    return [
        WorkOrder(number="20261128000001", state="dispatched", urgency="normal", request_type="complaint",
                  channel="hotline", content="路灯坏了", received_at=NOW, area=area, category=category),
        WorkOrder(number="20261128000002", state="accepted", urgency="emergency", request_type="help",
                  channel="proactive", content="长" * 90, received_at=NOW - dt.timedelta(days=3)),
        WorkOrder(number="20261128000003", state="closed", urgency="urgent", request_type="consult",
                  channel="web", content='<script>alert("x")</script> & 路灯', received_at=NOW, area=Area(name="")),
    ]


def _inbox_rows() -> list[dict]:
    unit = Unit(code="SLT", name="三里屯<街道>办事处")
    orders = _orders()
    kinds = [("lead", "dispatched", False, 30), ("co", "accepted", True, -300), ("lead", "accepted", False, 3000)]
    rows = []
    for o, (role, state, asked, minutes) in zip(orders, kinds, strict=True):
        a = Assignment(unit=unit, order=o, role=role, state=state, due_at=NOW + dt.timedelta(minutes=minutes))
        a.extension_pending = asked
        rows.append({"a": a, "order": o, "left": time_left(a.due_at, NOW)})
    return rows


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("selected", [None, "20261128000002"])
@pytest.mark.parametrize("token", ["tok<en>", None])
def test_inbox_rows_render_as_the_template_loop_did(language, selected, token):
    rows = _inbox_rows()
    chosen = next((r["order"] for r in rows if r["order"].number == selected), None)
    context = {"rows": rows, "selected": chosen, **({"csrf_token": token} if token else {})}
    with translation.override(language):
        old, new = (t.render(Context(context)) for t in (INBOX_OLD, INBOX_NEW))
    assert _squeeze(new) == _squeeze(old)
    assert "&lt;script&gt;" in new and "<script>" not in new and "&lt;街道&gt;" in new
    assert new.count('aria-current="true"') == (1 if selected else 0)
    assert new.count("<li ") == 3 and new.count("<form ") == 1
    assert ("csrfmiddlewaretoken" in new) == bool(token)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_order_rows_render_as_the_template_loop_did(language):
    unit = Unit(code="SLT", name="三里屯<街道>办事处")
    orders = _orders()
    rows = [{"order": orders[0], "lead": Assignment(unit=unit), "left": time_left(NOW + dt.timedelta(hours=2), NOW)},
            {"order": orders[1], "lead": None, "left": time_left(NOW - dt.timedelta(hours=5), NOW)},
            {"order": orders[2], "lead": None, "left": None}]
    with translation.override(language):
        old, new = (t.render(Context({"rows": rows})) for t in (ORDERS_OLD, ORDERS_NEW))
    assert _squeeze(new) == _squeeze(old)
    assert "&lt;script&gt;" in new and "<script>" not in new and "&lt;街道&gt;" in new
    assert new.count("<tr>") == 3


def test_inbox_rows_are_the_inbox_with_only_the_row_columns(city, new_order, django_assert_num_queries):
    """The inbox page reads ``unit_inbox_rows``: the assignments of ``unit_inbox`` in its order,
    and everything a row shows without another query."""
    for i in range(4):
        order = new_order(urgency=Urgency.URGENT if i == 1 else Urgency.NORMAL)
        actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    first = Assignment.objects.filter(unit__code="SLT").order_by("id").first()
    Assignment.objects.filter(pk=first.pk).update(state="accepted")
    actions.request_extension(actor=city.actor("handler"), number=first.order.number, working_days=2, reason="等配件")
    actor = city.actor("handler")
    full = list(selectors.unit_inbox(actor))
    with django_assert_num_queries(1):
        rows = list(selectors.unit_inbox_rows(actor))
        shown = [(a.pk, a.role, a.state, a.due_at, a.extension_pending, a.unit.name, a.order.number, a.order.channel,
                  a.order.urgency, a.order.content, a.order.category and a.order.category.name) for a in rows]
    assert shown == [(a.pk, a.role, a.state, a.due_at, a.extension_pending, a.unit.name, a.order.number,
                      a.order.channel, a.order.urgency, a.order.content, a.order.category and a.order.category.name)
                     for a in full]
    assert len(rows) == 4 and any(a.extension_pending for a in rows)


def test_the_inbox_query_carries_its_units_as_constants(city, new_order):
    """The units are written into the statement, so that PostgreSQL plans it for them (a
    generic plan of a prepared statement cannot know how busy a unit is); the inbox holds the
    actor's units' assignments only, and an actor of no unit has an empty one."""
    from jiesu.accounts.policy import Actor

    for lead in ("SLT", "SLT"):
        order = new_order()
        actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit=lead)
    other = new_order()
    actions.dispatch_order(actor=city.actor("dispatcher"), number=other.number, lead_unit="ZGC")
    actor = city.actor("handler")
    unit_ids = sorted(actor.unit_ids())
    sql, _params = selectors.unit_inbox(actor).query.sql_with_params()
    assert " OR ".join(f'"orders_assignment"."unit_id" = {pk}' for pk in unit_ids) in sql
    inbox = list(selectors.unit_inbox(actor))
    assert len(inbox) == 2 and {a.unit_id for a in inbox} == set(unit_ids)
    nobody = Actor(user_id=None, is_admin=False, username="nobody")
    assert list(selectors.unit_inbox(nobody)) == [] and list(selectors.unit_inbox_rows(nobody)) == []
