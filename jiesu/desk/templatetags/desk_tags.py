"""Small template helpers for hand-rendered forms and labels."""

from __future__ import annotations

import unicodedata
from typing import Any

from django import template
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from jiesu.desk.selectors import PickList

register = template.Library()


@register.simple_tag
def ferr(form: Any, name: str, prefix: str) -> SafeString:
    """The errors of one field, with the id that ``faria`` points to."""
    errors = form.errors.get(name) if form is not None and form.is_bound else None
    if not errors:
        return mark_safe("")  # noqa: S308
    return format_html(
        '<p class="field-error" id="{}-{}-err">{}</p>', prefix, name,
        format_html_join(" ", "{}", ((e,) for e in errors)),
    )


@register.simple_tag
def faria(form: Any, name: str, prefix: str) -> SafeString:
    """aria-invalid and aria-describedby for a field with errors."""
    if form is not None and form.is_bound and form.errors.get(name):
        return format_html(' aria-invalid="true" aria-describedby="{}-{}-err"', prefix, name)
    return mark_safe("")  # noqa: S308


@register.simple_tag
def options(groups: Any, cur: Any = "", curs: Any = "", blank: Any = "") -> SafeString:
    """The <option>s of a select, grouped (``desk/_options.html``). Written in Python because the
    area, category and unit lists run to 1,600 options on the dispatcher's page: as a template
    loop they were a third of the page's time (docs/benchmarks.md). A kept ``PickList`` is
    rendered once; each use only marks its chosen options."""
    esc = conditional_escape
    head = f'<option value="">{esc(blank)}</option>' if blank else ""
    if not isinstance(groups, PickList):
        return mark_safe(head + _render(groups, cur, curs))  # noqa: S308  escaped in _render
    if groups.html is None:
        groups.codes = [code for g in groups for code, _label in g.options]
        groups.html = _render(groups, None, ())
    html = groups.html
    for code in dict.fromkeys(c for c in groups.codes or () if c == cur or c in curs):
        plain = f'<option value="{esc(code)}">'
        html = html.replace(plain, plain[:-1] + " selected>")
    return mark_safe(head + html)  # noqa: S308  every value is escaped in _render


def _render(groups: Any, cur: Any, curs: Any) -> str:
    esc = conditional_escape
    out = []
    for g in groups:
        out.append(f'<optgroup label="{esc(g.label)}">')
        for code, label in g.options:
            chosen = " selected" if code == cur or code in curs else ""
            out.append(f'<option value="{esc(code)}"{chosen}>{esc(label)}</option>')
        out.append("</optgroup>")
    return "".join(out)


@register.simple_tag
def queue_items(rows: list[dict[str, Any]], selected: Any = None) -> SafeString:
    """The dispatcher's queue: one <li> per row (``order``, ``returned``, ``left``), as the
    template loop it replaced rendered them. Written in Python because 100 rows of about twenty
    variables and filters each were half of the page's time (docs/benchmarks.md)."""
    from jiesu.orders.models import WorkOrder

    esc = conditional_escape
    labels = {name: {k: str(v) for k, v in WorkOrder._meta.get_field(name).flatchoices}  # type: ignore[union-attr]
              for name in ("state", "urgency", "request_type")}
    unknown_area = esc(_("area unknown"))
    proactive = format_html('<span class="chip proactive" title="{}">{}</span>',
                            _("Opened by the centre without a requester"), _("Proactive (未诉先办)"))
    chosen = getattr(selected, "number", None) if selected else None
    current = ' aria-current="true"'
    out = []
    for r in rows:
        o, left, returned = r["order"], r.get("left"), r.get("returned")
        line1 = [f'<span class="mono">{esc(o.number)}</span>']
        if o.state == "returned":
            line1.append(f'<span class="{esc(state_css(o.state))}">{esc(labels["state"].get(o.state, o.state))}</span>')
        if o.urgency != "normal":
            line1.append(f'<span class="chip urg-{esc(o.urgency)}">'
                         f'{esc(labels["urgency"].get(o.urgency, o.urgency))}</span>')
        kind = f'<span class="muted">{esc(labels["request_type"].get(o.request_type, o.request_type))}</span>'
        line1.append(kind + (proactive if o.channel == "proactive" else ""))
        if left:
            line1.append(f'<span class="chip {esc(left.css)}">{esc(left.text)}</span>')
        line3 = f"{esc(_date(o.received_at))} · {esc(o.area.name) if o.area and o.area.name else unknown_area}"
        if o.category:
            line3 += f" · {esc(cat_name(o.category))}"
        back = ""
        if returned:
            back = (f'<span class="line3 small returned-line">'
                    f'{esc(_("Returned by %(unit)s:") % {"unit": returned.unit.name})} '
                    f'{esc(_truncate(returned.return_reason, 80))}</span>')
        out.append(
            f'<li><a class="item{" is-returned" if o.state == "returned" else ""}" href="?n={esc(o.number)}"'
            f"{current if chosen == o.number else ''}>"
            f'<span class="line1">{" ".join(line1)}</span> '
            f'<span class="line2">{esc(_truncate(o.content, 70))}</span> '
            f'<span class="line3 muted small">{line3}</span> {back}</a></li>'
        )
    return mark_safe("".join(out))  # noqa: S308  every value above is escaped


@register.simple_tag(takes_context=True)
def inbox_items(context: Any, rows: list[dict[str, Any]], selected: Any = None) -> SafeString:
    """The unit inbox: one <li> per row (``a``, ``order``, ``left``) with its accept button, as
    the template loop it replaced rendered them. Written in Python for the same reason as
    ``queue_items``: 100 rows of a dozen variables, filters and a form each were most of the
    page's time at city scale (docs/benchmarks.md)."""
    from django.urls import reverse

    from jiesu.orders.models import Assignment, WorkOrder

    esc = conditional_escape
    roles = {k: esc(str(v)) for k, v in Assignment._meta.get_field("role").flatchoices}  # type: ignore[union-attr]
    urgencies = {k: esc(str(v)) for k, v in WorkOrder._meta.get_field("urgency").flatchoices}  # type: ignore[union-attr]
    proactive = format_html('<span class="chip proactive" title="{}">{}</span>',
                            _("Opened by the centre without a requester"), _("Proactive (未诉先办)"))
    new, asked, due, accept = (esc(_("new")), esc(_("extension asked")), esc(_("due")), esc(_("Accept")))
    # {% csrf_token %}: the request's one masked token, or nothing when there is none.
    token = context.get("csrf_token")
    csrf = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token) \
        if token and token != "NOTPROVIDED" else ""  # noqa: S105  Django's "no token" marker
    chosen = getattr(selected, "number", None) if selected else None
    current = ' aria-current="true"'
    out = []
    for r in rows:
        a, o, left = r["a"], r["order"], r["left"]
        number = esc(o.number)
        line1 = [f'<span class="mono">{number}</span>',
                 f'<span class="chip {esc(left.css)}">{esc(left.text)}</span>',
                 f'<span class="chip role-{esc(a.role)}">{roles.get(a.role, esc(a.role))}</span>'
                 + (proactive if o.channel == "proactive" else "")]
        if a.state == "dispatched":
            line1.append(f'<span class="chip new">{new}</span>')
        if a.extension_pending:
            line1.append(f'<span class="chip">{asked}</span>')
        if o.urgency != "normal":
            line1.append(f'<span class="chip urg-{esc(o.urgency)}">{urgencies.get(o.urgency, esc(o.urgency))}</span>')
        line3 = f"{due} {esc(_date(a.due_at))} · {esc(a.unit.name)}"
        if o.category:
            line3 += f" · {esc(cat_name(o.category))}"
        form = ""
        if a.state == "dispatched":
            label = esc(_("Accept %(number)s") % {"number": o.number})
            form = (f'<form novalidate method="post" action="{esc(reverse("desk:action", args=[o.number, "accept"]))}"'
                    f' class="row-action">{csrf}<input type="hidden" name="next" value="inbox">'
                    f'<button type="submit" class="btn small primary" aria-label="{label}">{accept}</button></form>')
        out.append(
            f'<li class="with-action"><a class="item {esc(left.css)}" href="?n={number}"'
            f"{current if chosen == o.number else ''}>"
            f'<span class="line1">{" ".join(line1)}</span> '
            f'<span class="line2">{esc(_truncate(o.content, 70))}</span> '
            f'<span class="line3 muted small">{line3}</span></a> {form}</li>'
        )
    return mark_safe("".join(out))  # noqa: S308  every value above is escaped


@register.simple_tag
def order_rows(rows: list[dict[str, Any]]) -> SafeString:
    """The order search's table body: one <tr> per row (``order``, ``lead``, ``left``), as the
    template loop it replaced rendered them (Python for the reason of ``queue_items``)."""
    from django.urls import reverse

    from jiesu.orders.models import WorkOrder

    esc = conditional_escape
    labels = {name: {k: esc(str(v)) for k, v in WorkOrder._meta.get_field(name).flatchoices}  # type: ignore[union-attr]
              for name in ("state", "request_type")}
    proactive = format_html('<span class="chip proactive" title="{}">{}</span>',
                            _("Opened by the centre without a requester"), _("Proactive (未诉先办)"))
    out = []
    for r in rows:
        o, lead, left = r["order"], r.get("lead"), r.get("left")
        number = esc(o.number)
        kind = labels["request_type"].get(o.request_type, esc(o.request_type))
        area = o.area.name if o.area and o.area.name else "—"
        chip = f'<span class="chip {esc(left.css)}">{esc(left.text)}</span>' if left else ""
        out.append(
            f'<tr><td><a class="mono" href="{esc(reverse("desk:order", args=[o.number]))}">{number}</a></td>'
            f'<td><span class="{esc(state_css(o.state))}">{labels["state"].get(o.state, esc(o.state))}</span></td>'
            f"<td>{esc(_date(o.received_at))}</td><td>{kind}{proactive if o.channel == 'proactive' else ''}</td>"
            f"<td>{esc(_truncate(o.content, 60))}</td><td>{esc(area)}</td>"
            f"<td>{esc(lead.unit.name) if lead else '—'}</td><td>{chip}</td></tr>"
        )
    return mark_safe("".join(out))  # noqa: S308  every value above is escaped


def _truncate(text: Any, length: int) -> str:
    """The ``truncatechars`` filter, without its work for the text that already fits."""
    text = str(text or "")
    if len(text) <= length and unicodedata.is_normalized("NFC", text):
        return text
    return Truncator(text).chars(length)


def _date(value: Any) -> str:
    """The ``date:"m-d H:i"`` filter: in the current time zone."""
    return template_localtime(value).strftime("%m-%d %H:%M") if value else ""


@register.filter
def fval(form: Any, name: str) -> Any:
    """A field's value as posted, else its initial value; '' for none."""
    if form is None or name not in form.fields:
        return ""
    value = form[name].value()
    return "" if value is None else value


@register.filter
def fvals(form: Any, name: str) -> list[str]:
    """A multi-valued field's values as a list of strings."""
    value = fval(form, name)
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value or []]


@register.filter
def cat_name(category: Any) -> str:
    """A category's name in the user's language (the catalogue has English names)."""
    if category is None:
        return ""
    if getattr(category, "name_en", "") and (get_language() or "").startswith("en"):
        return category.name_en
    return category.name


@register.filter
def state_css(state: str) -> str:
    return f"st st-{state}"
