"""未诉先办: the list of proactive work items and the form that opens one (no requester);
dispatchers then find it in their queue like any other order."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jiesu.catalogue.models import Channel
from jiesu.desk.selectors import time_left
from jiesu.desk.views.common import actor_of, staff_required
from jiesu.insight.forms import ProactiveForm
from jiesu.insight.views.common import insight_page
from jiesu.orders import actions, selectors
from jiesu.orders.errors import DomainError
from jiesu.orders.states import IN_HANDLING

SHOWN = 100


@require_http_methods(["GET"])
@staff_required("insight")
def proactive_list(request: HttpRequest) -> HttpResponse:
    orders = list(selectors.order_list(actor_of(request), selectors.OrderFilter(channel=Channel.PROACTIVE))[:SHOWN])
    rows = [{"order": o, "lead": o.lead_assignment, "left": time_left(o.due_at) if o.state in IN_HANDLING else None}
            for o in orders]
    return insight_page(request, "insight/proactive.html", {"rows": rows}, tab="proactive")


@require_http_methods(["GET", "POST"])
@staff_required("insight")
def proactive_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ProactiveForm(request.POST)
    else:  # a hotspot's page pre-fills the form through the query string
        initial = {k: request.GET[k][:2000] for k in ("title", "content", "area", "category") if request.GET.get(k)}
        form = ProactiveForm(initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            order = actions.create_order(
                actor=actor_of(request), proactive=True, requesters=[], channel=Channel.PROACTIVE,
                request_type=d["request_type"], urgency=d["urgency"], title=d["title"], content=d["content"],
                address=d["address"], area_code=d["area"].code if d["area"] else None,
                category_code=d["category"].code if d["category"] else None,
            )
        except DomainError as err:
            form.add_error(None, str(err))
        else:
            messages.success(request, _("Proactive work item %(number)s opened; it waits for dispatch.")
                             % {"number": order.number})
            return redirect("desk:order", number=order.number)
    return insight_page(request, "insight/proactive_form.html", {"form": form}, tab="proactive",
                        status=422 if form.is_bound else 200)
