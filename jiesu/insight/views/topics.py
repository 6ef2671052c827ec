"""每月一题 screens: list, create, edit, detail with the three lists, progress, linked orders
and the volume before and after the topic's month."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiesu.desk.views.common import actor_of, staff_required
from jiesu.insight import topics as svc
from jiesu.insight.forms import LinkForm, TopicForm, TopicItemForm
from jiesu.insight.models import Topic, TopicItem, TopicItemKind, TopicLink
from jiesu.insight.views.common import insight_page
from jiesu.insight.views.dashboard import echarts_url
from jiesu.orders.errors import DomainError, NotFound

LINKED_SHOWN = 50


@require_GET
@staff_required("insight")
def topic_list(request: HttpRequest) -> HttpResponse:
    return insight_page(request, "insight/topics.html", {"topics": list(svc.topic_list())}, tab="topics")


@require_http_methods(["GET", "POST"])
@staff_required("insight")
def topic_edit(request: HttpRequest, topic_id: int | None = None) -> HttpResponse:
    topic = get_object_or_404(Topic, pk=topic_id) if topic_id else None
    form = TopicForm(request.POST or None, instance=topic)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        if topic is None:
            saved.created_by = request.user
        saved.save()
        messages.success(request, _("Topic “%(title)s” saved.") % {"title": saved.title})
        return redirect("insight:topic", topic_id=saved.pk)
    return insight_page(request, "insight/topic_form.html", {"form": form, "topic": topic}, tab="topics",
                        status=422 if form.is_bound else 200)


def _detail_context(request: HttpRequest, topic: Topic, item_form=None, link_form=None) -> dict:
    actor = actor_of(request)
    items = list(topic.items.all())
    orders = list(svc.topic_orders(actor, topic).select_related("area", "category").order_by("-received_at")[
        : LINKED_SHOWN + 1])
    manual = set(TopicLink.objects.filter(topic=topic).values_list("order__number", flat=True))
    ba = svc.before_after(actor, topic)
    charts = {"before_after": {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 40, "right": 16, "top": 16, "bottom": 32},
        "xAxis": {"type": "category", "data": [f"{m.month:%Y-%m}" for m in ba.months]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"type": "bar", "name": _("Orders received"), "data": [
            {"value": m.n, "itemStyle": {"color": "#2e9b51" if m.after else "#9aa5b1"}} for m in ba.months]}],
    }}
    return {
        "topic": topic, "items": items, "kinds": TopicItemKind.choices, "progress": svc.progress(items),
        "orders": orders[:LINKED_SHOWN], "more": len(orders) > LINKED_SHOWN, "manual": manual,
        "ba": ba, "charts": charts, "echarts": echarts_url(), "has_rule": svc.rule_filter(topic) is not None,
        "item_form": item_form or TopicItemForm(), "link_form": link_form or LinkForm(),
    }


@require_GET
@staff_required("insight")
def topic_detail(request: HttpRequest, topic_id: int) -> HttpResponse:
    try:
        topic = svc.topic_detail(topic_id)
    except NotFound:
        raise Http404 from None
    return insight_page(request, "insight/topic.html", _detail_context(request, topic), tab="topics")


@require_POST
@staff_required("insight")
def topic_item_add(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = get_object_or_404(Topic, pk=topic_id)
    form = TopicItemForm(request.POST)
    if form.is_valid():
        item = form.save(commit=False)
        item.topic = topic
        item.save()
        messages.success(request, _("Added to the list."))
        return redirect("insight:topic", topic_id=topic.pk)
    topic = svc.topic_detail(topic_id)
    return insight_page(request, "insight/topic.html", _detail_context(request, topic, item_form=form),
                        tab="topics", status=422)


@require_POST
@staff_required("insight")
def topic_item_done(request: HttpRequest, topic_id: int, item_id: int) -> HttpResponse:
    item = get_object_or_404(TopicItem, pk=item_id, topic_id=topic_id)
    svc.set_item_done(actor_of(request), item, request.POST.get("done") == "1")
    return redirect("insight:topic", topic_id=topic_id)


@require_POST
@staff_required("insight")
def topic_link(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = get_object_or_404(Topic, pk=topic_id)
    actor = actor_of(request)
    form = LinkForm(request.POST)
    if request.POST.get("remove"):
        svc.unlink_order(actor, topic, request.POST["remove"][:20])
        messages.success(request, _("Link removed."))
        return redirect("insight:topic", topic_id=topic.pk)
    if form.is_valid():
        try:
            order = svc.link_order(actor, topic, form.cleaned_data["number"])
        except DomainError as err:
            form.add_error("number", str(err))
        else:
            messages.success(request, _("Order %(number)s linked.") % {"number": order.number})
            return redirect("insight:topic", topic_id=topic.pk)
    topic = svc.topic_detail(topic_id)
    return insight_page(request, "insight/topic.html", _detail_context(request, topic, link_form=form),
                        tab="topics", status=422)
