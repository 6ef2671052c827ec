"""派单员: the dispatcher's queue (received and returned orders, returns first), one order at a
time in the pane: area, category, lead and co-units, dispatch; refer or decline with an Art. 11
outcome; merge; send a return back to triage; rule on extension requests."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from jiesu.accounts.policy import Action
from jiesu.desk.forms import (
    DeclineForm,
    DispatchForm,
    ExtensionDecisionForm,
    MergeForm,
    ReasonForm,
    ReferForm,
)
from jiesu.desk.selectors import (
    Suggestion,
    area_choices,
    category_choices,
    requester_rows,
    returned_assignment,
    routing_suggestion,
    time_left,
    unit_choices,
)
from jiesu.desk.views.actionkit import (
    ACTIONS,
    ActionSpec,
    Ctx,
    Failed,
    forms_for,
    register,
    screen,
    selected,
    selected_or_head,
)
from jiesu.desk.views.common import actor_of, page, staff_required
from jiesu.dispatch.services import dispatch_and_learn
from jiesu.orders import actions, selectors
from jiesu.orders.models import Extension, WorkOrder
from jiesu.orders.states import State

QUEUE_LIMIT = 100
QUEUE_FIELDS = ("number", "state", "urgency", "request_type", "channel", "content", "received_at", "triage_due_at",
                "area__name", "category__name", "category__name_en")
PANE_ACTIONS = ("dispatch", "refer", "decline", "merge", "requeue", "answer", "decide_extension")


def suggestion(ctx: Ctx) -> Suggestion:
    if "suggestion" not in ctx.cache:
        ctx.cache["suggestion"] = routing_suggestion(ctx.order)
    return ctx.cache["suggestion"]


def stored_triage(ctx: Ctx) -> dict[str, Any] | None:
    """The order's triage suggestion as stored after intake (smart dispatch), if any."""
    if "triage" not in ctx.cache:
        from jiesu.dispatch.models import TriageSuggestion

        found = TriageSuggestion.objects.filter(order_id=ctx.order.pk).values_list("result", flat=True).first()
        ctx.cache["triage"] = found or None
    return ctx.cache["triage"]


def _dispatch_initial(ctx: Ctx) -> dict[str, Any]:
    """Pre-filled from the order, the routing catalogue, and else the stored triage suggestion."""
    from jiesu.dispatch.present import panel

    order, hint = ctx.order, suggestion(ctx)
    lead = order.lead_assignment
    triaged = panel(stored_triage(ctx)) if order.state == State.RECEIVED else None
    routing = (triaged.routing if triaged else None) or {}
    initial = {
        "area": order.area.code if order.area else (triaged.fill_area if triaged else ""),
        "category": order.category.code if order.category else (triaged.fill_category if triaged else ""),
        "lead_unit": hint.lead or (lead.unit.code if lead and order.state != State.RETURNED else ""),
        "co_units": list(hint.co),
    }
    # The suggestion knows more than the order's own fields when it filled in a missing one.
    if routing and (not initial["lead_unit"] or order.area is None or order.category is None):
        initial["lead_unit"] = routing["lead"]["code"]
        initial["co_units"] = [u["code"] for u in routing.get("co", [])]
    return initial


def _dispatched(number: str, order: WorkOrder) -> str:
    lead = order.lead_assignment
    return _("Order %(number)s dispatched to %(unit)s.") % {"number": number, "unit": lead.unit.name if lead else "—"}


register(ActionSpec(
    name="dispatch",
    form=DispatchForm,
    run=lambda actor, number, d: dispatch_and_learn(
        actor=actor, number=number, lead_unit=d["lead_unit"], co_units=d["co_units"],
        category_code=d["category"] or None, area_code=d["area"] or None, note=d["note"]),
    done=_dispatched,
    available=lambda c: c.order.state in (State.RECEIVED, State.RETURNED) and c.can(Action.DISPATCH),
    initial=_dispatch_initial,
))
register(ActionSpec(
    name="refer",
    form=ReferForm,
    run=lambda actor, number, d: actions.refer_order(
        actor=actor, number=number, outcome=d["outcome"], referred_to=d["referred_to"], reason=d["reason"]),
    done=lambda number, _r: _("Order %(number)s referred.") % {"number": number},
    available=lambda c: c.order.state == State.RECEIVED and c.can(Action.REFER),
))
register(ActionSpec(
    name="decline",
    form=DeclineForm,
    run=lambda actor, number, d: actions.decline_order(
        actor=actor, number=number, outcome=d["outcome"], reason=d["reason"]),
    done=lambda number, _r: _("Order %(number)s declined.") % {"number": number},
    available=lambda c: c.order.state == State.RECEIVED and c.can(Action.DECLINE),
))
register(ActionSpec(
    name="merge",
    form=MergeForm,
    run=lambda actor, number, d: actions.merge_orders(
        actor=actor, number=number, into=d["into"].strip(), reason=d["reason"]),
    done=lambda number, r: _("Order %(number)s merged into %(into)s.") % {"number": number, "into": r.number},
    available=lambda c: c.order.state in (State.RECEIVED, State.DISPATCHED) and c.can(Action.MERGE),
))
register(ActionSpec(
    name="requeue",
    form=ReasonForm,
    run=lambda actor, number, d: actions.requeue_order(actor=actor, number=number, reason=d["reason"]),
    done=lambda number, _r: _("Order %(number)s is back in triage.") % {"number": number},
    available=lambda c: c.order.state == State.RETURNED and c.can(Action.REQUEUE),
))


def _decided(number: str, ext: Extension) -> str:
    if ext.new_due_at:
        return _("Extension for order %(number)s approved.") % {"number": number}
    return _("Extension for order %(number)s rejected.") % {"number": number}


register(ActionSpec(
    name="decide_extension",
    form=ExtensionDecisionForm,
    run=lambda actor, number, d: actions.decide_extension(
        actor=actor, number=number, approve=d["decision"] == "approve", note=d["note"],
        extension_id=d["extension"]),
    done=_decided,
    # Shown per pending request (see extension_rows), not as one form.
    available=lambda c: False,
))


def extension_rows(extensions: list[Extension], failed: Failed | None) -> list[tuple[Extension, Any]]:
    """Each pending extension request with its decision form (the refused one as posted)."""
    if failed is None or failed.action != "decide_extension" or failed.extension is None:
        return [(ext, ExtensionDecisionForm(initial={"extension": ext.pk})) for ext in extensions]
    rows: list[tuple[Extension, Any]] = [
        (ext, failed.form if ext.pk == failed.extension else ExtensionDecisionForm(initial={"extension": ext.pk}))
        for ext in extensions
    ]
    if not any(ext.pk == failed.extension for ext in extensions):
        # Decided meanwhile (or never pending): show it with the refusal, so the message is seen.
        refused = Extension.objects.filter(pk=failed.extension, assignment__order__number=failed.number).select_related(
            "assignment__unit", "assignment__order", "requested_by").first()
        if refused is not None:
            rows.insert(0, (refused, failed.form))
    return rows


@screen("dispatch")
def render_dispatch(
    request: HttpRequest, *, number: str | None = None, failed: Failed | None = None, tab: str = "",
    status: int = 200, inline_dups: bool = False,
) -> HttpResponse:
    actor = actor_of(request)
    refused_ruling = failed is not None and failed.action == "decide_extension"
    tab = "extensions" if tab == "extensions" or refused_ruling else "queue"
    # Only the columns a row shows (desk_tags.queue_items): 101 orders with every column were
    # a thousand datetimes and the category's parent to decode on every page.
    queue = selectors.triage_queue_head(actor, limit=QUEUE_LIMIT + 1, shape=lambda qs: qs.select_related(
        None).select_related("area", "category").only(*QUEUE_FIELDS))
    more = len(queue) > QUEUE_LIMIT
    queue = queue[:QUEUE_LIMIT]
    rows = [
        {"order": o, "returned": returned_assignment(o),
         "left": time_left(o.triage_due_at, soon_hours=1) if o.state == State.RECEIVED else None}
        for o in queue
    ]
    pending = list(selectors.pending_extensions(actor)[:QUEUE_LIMIT])
    context: dict[str, Any] = {
        "rows": rows, "more": more, "limit": QUEUE_LIMIT, "tab": tab, "ext_rows": extension_rows(pending, failed),
        "ext_count": len(pending), "selected": None, "next": "dispatch",
    }
    if tab == "queue":
        number = number or (queue[0].number if queue else None)
    ctx = None
    if number and tab == "queue":
        head = queue[0].number if queue else None
        ctx = (selected(actor, number, load=selectors.pane_order) if failed is not None
               else selected_or_head(request, actor, number, head, load=selectors.pane_order))
    if ctx is not None:
        order = ctx.order
        forms = forms_for(ctx, failed, names=PANE_ACTIONS)
        context.update({
            "selected": order,
            "forms": forms,
            "returned": returned_assignment(order),
            "requesters": requester_rows(actor, order, where="dispatch", reveal=False),
            "suggestion": suggestion(ctx) if "dispatch" in forms else None,
            **_triage_context(actor, ctx, forms, inline_dups=inline_dups),
            "areas": area_choices() if forms else [],
            "categories": category_choices() if forms else [],
            "units": unit_choices() if forms else [],
        })
    return page(request, "desk/dispatch.html", context, screen="dispatch", status=status)


def _triage_context(actor, ctx: Ctx, forms: dict[str, Any], *, inline_dups: bool) -> dict[str, Any]:
    """The stored suggestion with its reasons, and the slot of the possible duplicates: scored
    here only when asked (``inline_dups``, the link for browsers without JavaScript), else
    left to ``dispatch_duplicates`` after the page has loaded."""
    from jiesu.dispatch.present import panel

    order = ctx.order
    if order.state not in (State.RECEIVED, State.RETURNED):
        return {"triage": None, "dups": None, "dups_number": "", "merge_from": ""}
    stored = stored_triage(ctx)
    has_text = bool(order.content and order.content.strip())
    return {
        "triage": panel(stored),
        "dups": _duplicates(actor, order, stored) if inline_dups and has_text else None,
        "dups_number": order.number if has_text else "",
        "merge_from": order.number if "merge" in forms else "",
    }


def _duplicates(actor, order: WorkOrder, stored: dict[str, Any] | None) -> list[Any]:
    """Open or recent orders that say much the same, in the order's district (or, without an
    area, in the place its stored triage suggestion found)."""
    from jiesu.dispatch.services import duplicate_candidates

    place: dict[str, Any] = (
        {"area_path": order.area.path} if order.area
        else {"area_code": ((stored or {}).get("location") or {}).get("code")}
    )
    return duplicate_candidates(actor, order.content, exclude=order.number, **place)


@require_GET
@staff_required("dispatch")
def dispatch_duplicates(request: HttpRequest, number: str) -> HttpResponse:
    """htmx: the possible duplicates of the order in the dispatcher's pane, with "merge into"
    where the dispatcher may merge it. An order the user cannot see is a 404, as on the page."""

    actor = actor_of(request)
    order = selectors.visible(actor).select_related("area").filter(number=number[:20]).first()
    if order is None:
        raise Http404
    # The merge rule and the stored suggestion need no unit assignment (context_for reads it).
    ctx = Ctx(actor=actor, order=order, assignment=None)
    dups: list[Any] = []
    if order.state in (State.RECEIVED, State.RETURNED):
        # Only without an area does the stored suggestion say where to look.
        dups = _duplicates(actor, order, None if order.area else stored_triage(ctx))
    may_merge = ACTIONS["merge"].available(ctx)  # the pane's own rule for its merge form
    return render(request, "desk/_dispatch_dups.html", {
        "dups": dups, "number": order.number, "merge_from": order.number if may_merge else "",
    })


@require_GET
@staff_required("dispatch")
def dispatch_queue(request: HttpRequest) -> HttpResponse:
    return render_dispatch(request, number=request.GET.get("n", "")[:20] or None, tab=request.GET.get("tab", ""),
                           inline_dups=request.GET.get("dups") == "1")
