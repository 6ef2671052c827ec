"""The order page (fields, requesters, assignments, replies, callbacks, timeline and the actions
this user may take here) and the order search."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from jiesu.accounts.models import Role
from jiesu.accounts.policy import IDENTITY_ROLES, Action, can
from jiesu.desk.forms import SearchForm
from jiesu.desk.selectors import (
    area_choices,
    category_choices,
    requester_rows,
    returned_assignment,
    time_left,
    unit_choices,
)
from jiesu.desk.timeline import timeline
from jiesu.desk.views.actionkit import Failed, forms_for, screen, selected
from jiesu.desk.views.common import actor_of, page, staff_required
from jiesu.desk.views.dispatch import extension_rows, suggestion
from jiesu.desk.views.inbox import reply_context
from jiesu.followup.drill import drill_from
from jiesu.orders import selectors
from jiesu.orders.models import AssignmentState, ExtensionState, OrderState
from jiesu.orders.states import IN_HANDLING

SEARCH_LIMIT = 100


@screen("order")
def render_order(
    request: HttpRequest, *, number: str, failed: Failed | None = None, tab: str = "", status: int = 200
) -> HttpResponse:
    actor = actor_of(request)
    ctx = selected(actor, number)
    order = ctx.order
    forms = forms_for(ctx, failed)
    assignments = []
    pending = []
    for a in order.assignments.all():
        live = a.state in (AssignmentState.DISPATCHED, AssignmentState.ACCEPTED)
        assignments.append({"a": a, "left": time_left(a.due_at) if live else None,
                            "extensions": list(a.extensions.all())})
        pending += [e for e in a.extensions.all() if e.state == ExtensionState.PENDING]
    context: dict[str, Any] = {
        "order": order,
        "next": "order",
        "forms": forms,
        "requesters": requester_rows(actor, order, where="order_page"),
        "assignments": assignments,
        "left": time_left(order.due_at) if order.state in IN_HANDLING else None,
        "returned": returned_assignment(order),
        "timeline": timeline(list(order.events.all())),
        "ext_rows": extension_rows(pending, failed) if can(actor, Action.DECIDE_EXTENSION, order) else [],
        "my_assignment": ctx.assignment,
        **reply_context(ctx),
    }
    if "dispatch" in forms:
        context.update({"suggestion": suggestion(ctx), "areas": area_choices(),
                        "categories": category_choices(), "units": unit_choices()})
    return page(request, "desk/order.html", context, screen="orders", status=status)


@require_GET
@staff_required()
def order_page(request: HttpRequest, number: str) -> HttpResponse:
    return render_order(request, number=number[:20])


def search(request: HttpRequest) -> tuple[SearchForm, Any, Any, bool]:
    """The search form's filters as a queryset (the page and its Excel/CSV export share it).
    A form that does not validate finds nothing (``refusals``), never every order."""
    form, filters, drill, phone_allowed = _filters(request)
    found = selectors.order_list(actor_of(request), filters)
    if drill is not None:
        found = drill.narrow(found)
    if refusals(form):
        found = found.none()
    return form, found, drill, phone_allowed


# The search box's fields as the page labels them (msgids of the template).
FIELD_LABELS = {"q": "Number or words", "state": "State", "phone": "Requester's phone"}


def refusals(form: SearchForm) -> list[str]:
    """Why the search was not run, one line per field that does not validate; empty when it
    validates or nothing was asked. A field past its length (a whole complaint pasted into the
    box: over 100 characters) used to drop every filter silently, and the page listed all
    orders as if they matched. Nothing is searched instead, and the page says which field is
    too long and its limit: a call-taker sees at once that the search did not run and shortens
    it, where the first 100 characters (up to 8 words, all required) would quietly find some
    other set of orders."""
    if not form.is_bound or form.is_valid():
        return []
    out = []
    for name in form.errors:
        field = form.fields.get(name)
        limit = getattr(field, "max_length", None)
        label = _(FIELD_LABELS.get(name, name))
        value = form.data.get(name) or ""
        if limit is not None and len(value) > limit:
            out.append(_("%(column)s is too long: at most %(max)s characters.") % {"column": label, "max": limit})
        else:
            out.extend(f"{label}: {e}" for e in form.errors[name])
    return out


def _filters(request: HttpRequest) -> tuple[SearchForm, selectors.OrderFilter, Any, bool]:
    actor = actor_of(request)
    form = SearchForm(request.GET or None)
    # A phone filter would let a unit probe who filed a confidential report: identity roles only.
    phone_allowed = actor.is_admin or actor.has_role(*IDENTITY_ROLES)
    filters = selectors.OrderFilter()
    if form.is_valid():
        d = form.cleaned_data
        filters = selectors.OrderFilter(
            q=d["q"].strip() or None,
            state=d["state"] if d["state"] in OrderState.values else None,
            phone=(d["phone"].strip() or None) if phone_allowed else None,
        )
    # Drill-down from a scorecard number (jiesu.followup.drill): unit/area, dates, metric.
    drill = drill_from(request.GET)
    if drill is not None:
        filters = replace(filters, area=drill.area or None, unit=(drill.unit or None) if not drill.metric else None,
                          received_from=drill.start, received_to=drill.end)
    return form, filters, drill, phone_allowed


def _drill_total(request: HttpRequest, filters: selectors.OrderFilter, drill: Any) -> int | None:
    return None if drill is None else drill.narrow(selectors.order_list(actor_of(request), filters)).count()


@require_GET
@staff_required("orders")
def order_search(request: HttpRequest) -> HttpResponse:
    form, filters, drill, phone_allowed = _filters(request)
    refused = refusals(form)
    orders = [] if refused else selectors.order_page(
        actor_of(request), filters, start=0, stop=SEARCH_LIMIT + 1,
        then=drill.narrow if drill is not None else None, narrowed=drill is not None)
    rows = [{"order": o, "lead": o.lead_assignment,
             "left": time_left(o.due_at) if o.state in IN_HANDLING else None} for o in orders[:SEARCH_LIMIT]]
    return page(request, "desk/orders.html", {
        "form": form, "rows": rows, "more": len(orders) > SEARCH_LIMIT, "states": OrderState.choices,
        "refused": refused,
        "phone_allowed": phone_allowed, "roles": Role,
        "drill": drill, "drill_total": None if refused else _drill_total(request, filters, drill),
        "drill_name": drill.group_name() if drill is not None else "",
    }, screen="orders")
