"""Hotspots (/desk/insight/hotspots/): clusters of similar requests and the week's spikes; a
hotspot's page lists its orders with a timeline (and a map only where orders have coordinates)."""

from __future__ import annotations

from collections import Counter

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from jiesu.deadlines.calendar import SHANGHAI
from jiesu.desk.views.common import actor_of, staff_required
from jiesu.insight import hotspot_data
from jiesu.insight.views.common import insight_page, int_param
from jiesu.insight.views.dashboard import echarts_url

DAYS = (7, 14, 30, 60)


def _params(request: HttpRequest) -> tuple[int, int]:
    days = int_param(request, "days", hotspot_data.DEFAULT_DAYS, DAYS)
    size = int_param(request, "min", 3, low=2, high=20)
    return days, size


@require_GET
@staff_required("insight")
def hotspot_list(request: HttpRequest) -> HttpResponse:
    days, size = _params(request)
    actor = actor_of(request)
    rows = hotspot_data.find(actor, days=days, min_size=size)
    week, spikes = hotspot_data.spikes(actor)
    return insight_page(request, "insight/hotspots.html", {
        "rows": rows, "days": days, "size": size, "choices": DAYS, "week": week, "spikes": spikes,
        "query": urlencode({"days": days, "min": size}),
    }, tab="hotspots")


@require_GET
@staff_required("insight")
def hotspot_detail(request: HttpRequest, key: str) -> HttpResponse:
    days, size = _params(request)
    rows = hotspot_data.find(actor_of(request), days=days, min_size=size)
    row = next((r for r in rows if key in r.orders), None)
    if row is None:
        raise Http404
    members = [row.orders[d.key] for d in row.cluster.members]
    per_day = Counter(o.received_at.astimezone(SHANGHAI).date() for o in members)
    days_sorted = sorted(per_day)
    charts: dict = {"timeline": {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 40, "right": 16, "top": 16, "bottom": 32},
        "xAxis": {"type": "category", "data": [f"{d:%m-%d}" for d in days_sorted]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"type": "bar", "name": _("Orders received"), "data": [per_day[d] for d in days_sorted]}],
    }}
    located = [o for o in members if o.latitude is not None and o.longitude is not None]
    if located:
        charts["map"] = {
            "tooltip": {"trigger": "item"},
            "grid": {"left": 60, "right": 16, "top": 16, "bottom": 40},
            "xAxis": {"type": "value", "name": _("longitude"), "scale": True},
            "yAxis": {"type": "value", "name": _("latitude"), "scale": True},
            "series": [{"type": "scatter", "symbolSize": 12,
                        "data": [{"name": o.number, "value": [float(o.longitude or 0), float(o.latitude or 0)]} for o in located]}],
        }
    first = members[0]
    proactive = reverse("insight:proactive_new") + "?" + urlencode({
        "title": _("Hotspot: %(terms)s") % {"terms": " ".join(row.cluster.terms[:3]) or row.area_name},
        "area": first.area.code if first.area else "",
        "category": first.category.code if first.category else "",
        "content": _("%(n)s similar requests in %(area)s from %(start)s to %(end)s (e.g. %(numbers)s).") % {
            "n": row.cluster.size, "area": row.area_name, "start": f"{row.cluster.start.astimezone(SHANGHAI):%Y-%m-%d}",
            "end": f"{row.cluster.end.astimezone(SHANGHAI):%Y-%m-%d}", "numbers": "、".join(o.number for o in members[:3])},
    })
    return insight_page(request, "insight/hotspot.html", {
        "row": row, "members": members, "charts": charts, "echarts": echarts_url(), "located": located,
        "days": days, "size": size, "proactive_url": proactive, "query": urlencode({"days": days, "min": size}),
    }, tab="hotspots")
