"""话务员: the call-taker's desk. One form, keyboard first; the caller's history as they type."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiesu.accounts.policy import Action, Actor, can
from jiesu.desk.forms import AnswerForm, IntakeForm, NoteForm, new_key
from jiesu.desk.selectors import area_choices, category_choices
from jiesu.desk.views.actionkit import ActionSpec, Ctx, register
from jiesu.desk.views.common import actor_of, may_use, page, staff_required
from jiesu.orders import actions, selectors
from jiesu.orders.actions.intake import normalise_phone
from jiesu.orders.errors import DomainError, InvalidInput
from jiesu.orders.models import WorkOrder
from jiesu.orders.states import State


def _record(actor: Actor, data: dict[str, Any]) -> WorkOrder:
    """Create the order; for "answer on the spot" also answer and close it, all or nothing."""
    with transaction.atomic():
        order = actions.create_order(
            actor=actor,
            request_type=data["request_type"],
            channel=data["channel"],
            urgency=data["urgency"],
            content=data["content"],
            requesters=[actions.RequesterInput(phone=data["phone"], name=data["name"],
                                               wants_confidential=data["confidential"])],
            address=data["address"],
            area_code=data["area"] or None,
            category_code=data["category"] or None,
            confidential=data["confidential"],
            idempotency_key=data["idempotency_key"] or None,
        )
        # A retried submission returns the first order as it is now: do not answer it twice.
        if data["do"] == "answer" and order.state == State.RECEIVED:
            actions.answer_order(actor=actor, number=order.number, answer=data["answer"])
            order = actions.close_order(actor=actor, number=order.number)
    return order


@require_http_methods(["GET", "POST"])
@staff_required("intake")
def intake(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    status = 200
    if request.method == "POST":
        form = IntakeForm(request.POST)
        if form.is_valid():
            try:
                order = _record(actor, form.cleaned_data)
            except DomainError as err:
                form.add_domain_error(err)
            else:
                if order.state == State.CLOSED:
                    messages.success(request, _("Order %(number)s answered on the spot and closed.")
                                     % {"number": order.number})
                else:
                    messages.success(request, _("Order %(number)s recorded and sent for dispatch.")
                                     % {"number": order.number})
                return redirect(f"{reverse('desk:intake')}?last={order.number}")
        status = 422
    else:
        form = IntakeForm(initial={"idempotency_key": new_key()})
    last = None
    if number := request.GET.get("last", "")[:20]:
        last = selectors.visible(actor).filter(number=number).first()
    side: dict[str, Any] = {"suggestion": None, "dups": None, "history": None, "phone": ""}
    if request.method == "POST":
        # The form comes back with what was typed: so do the panels beside it, as they were
        # before the click (not their placeholders, which lost the "use the suggestion" button).
        side["suggestion"], side["dups"] = _suggestion(
            actor, request.POST.get("content", ""), request.POST.get("address", ""),
            category=request.POST.get("category", ""), area=request.POST.get("area", ""))
        side["history"], side["phone"] = _history(actor, request.POST.get("phone", ""))
    return page(request, "desk/intake.html", {
        "form": form,
        "areas": area_choices(),
        "categories": category_choices(),
        "can_answer": can(actor, Action.ANSWER),
        "last": last,
        **side,
    }, screen="intake", status=status)


def _history(actor: Actor, raw: str) -> tuple[list[WorkOrder], str]:
    """The caller's earlier orders once the typed number has 7 digits, and the number as read."""
    raw = raw[:40]
    if sum(ch.isdigit() for ch in raw) < 7:
        return [], ""
    try:
        phone = normalise_phone(raw)
    except InvalidInput:
        return [], ""
    return (selectors.caller_history(actor, phone) if phone else []), phone


def _suggestion(actor: Actor, content: str, address: str, *, category: str = "", area: str = "",
                number: str = "") -> tuple[Any, Any]:
    """The triage panel (jiesu.dispatch.present) and the possible duplicates for a typed text."""
    from jiesu.dispatch import services
    from jiesu.dispatch.present import panel

    content, address = content[:5000], address[:255]
    if not (content.strip() or address.strip()):
        return None, None
    result = services.suggest(content, address, category_code=category[:32] or None, area_code=area[:32] or None)
    dups = None
    if result.ok:
        dups = services.duplicate_candidates(actor, content, area_code=result.location.code, exclude=number or None)
    return panel(result.to_dict()), dups


@require_GET
@staff_required("intake")
def caller_history(request: HttpRequest) -> HttpResponse:
    """htmx: the caller's earlier orders while the call-taker types the number."""
    raw = request.GET.get("phone", "")[:40]
    orders, phone = _history(actor_of(request), raw)
    return render(request, "desk/_history.html", {"orders": orders, "phone": phone, "raw": raw})


@require_POST
@staff_required()
def triage_panel(request: HttpRequest) -> HttpResponse:
    """htmx: the triage suggestion and the possible duplicates while the text is typed (intake),
    or for the order in the dispatcher's pane (``number``: left out of the duplicates)."""
    if not (may_use(request, "intake") or may_use(request, "dispatch")):
        raise PermissionDenied
    actor = actor_of(request)
    number = request.POST.get("number", "")[:20]
    p, dups = _suggestion(actor, request.POST.get("content", ""), request.POST.get("address", ""),
                          category=request.POST.get("category", ""), area=request.POST.get("area", ""), number=number)
    return render(request, "desk/_suggestion.html", {
        "p": p, "dups": dups, "fill": not number,
        "merge_from": number if number and can(actor, Action.MERGE) else "",
    })


# --- order actions the call-taker also takes (order page) ------------------------------------

register(ActionSpec(
    name="answer",
    form=AnswerForm,
    run=lambda actor, number, d: actions.answer_order(actor=actor, number=number, answer=d["answer"]),
    done=lambda number, _r: _("Order %(number)s answered.") % {"number": number},
    available=lambda c: c.order.state == State.RECEIVED and c.can(Action.ANSWER),
))
register(ActionSpec(
    name="close",
    form=NoteForm,
    run=lambda actor, number, d: actions.close_order(actor=actor, number=number, reason=d["note"]),
    done=lambda number, _r: _("Order %(number)s closed.") % {"number": number},
    available=lambda c: c.order.state in (State.ANSWERED, State.REFERRED, State.DECLINED)
    and c.can(Action.CLOSE),
    stay=True,
))


def _can_note(c: Ctx) -> bool:
    return c.order.state not in (State.MERGED,) and (
        c.can(Action.NOTE) or c.can(Action.NOTE, unit=True)
    )


register(ActionSpec(
    name="note",
    form=NoteForm,
    run=lambda actor, number, d: actions.add_note(actor=actor, number=number, text=d["note"]),
    done=lambda number, _r: _("Note added to order %(number)s.") % {"number": number},
    available=_can_note,
    stay=True,
))
