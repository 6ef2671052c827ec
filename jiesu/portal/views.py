"""The public portal (no login): submit a request, track it by number and phone, rate the reply.

The portal acts as the system actor; what a requester may see is decided by
``order_for_requester`` (the number and a phone on the order, or nothing).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiesu.accounts.policy import Actor
from jiesu.catalogue.models import Channel
from jiesu.desk.selectors import area_choices
from jiesu.orders import actions
from jiesu.orders.errors import DomainError, NotFound
from jiesu.orders.models import Event, OrderState, WorkOrder
from jiesu.orders.selectors import order_for_requester
from jiesu.orders.states import State
from jiesu.portal.forms import RateForm, SubmitForm, TrackForm
from jiesu.security.ratelimit import rate_limit

SUBMITTED = "portal_submitted"
TRACKED = "portal_tracked"


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@require_http_methods(["GET", "POST"])
@rate_limit("portal_submit")
def submit(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = SubmitForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                order = actions.create_order(
                    actor=Actor.system(), request_type=d["request_type"], channel=Channel.WEB,
                    content=d["content"], address=d["address"], area_code=d["area"] or None,
                    requesters=[actions.RequesterInput(phone=d["phone"], name=d["name"],
                                                       wants_confidential=d["confidential"])],
                    confidential=d["confidential"], idempotency_key=d["idempotency_key"] or None,
                    idempotency_owner="portal",
                )
            except DomainError as err:
                form.add_domain_error(err)
            else:
                request.session[SUBMITTED] = order.number
                return redirect("portal:submitted")
        status = 422
    else:
        form = SubmitForm(initial={"idempotency_key": uuid.uuid4().hex})
    return render(request, "portal/submit.html", {"form": form, "areas": area_choices()}, status=status)


@require_GET
def submitted(request: HttpRequest) -> HttpResponse:
    number = request.session.get(SUBMITTED)
    if not number:
        return redirect("portal:submit")
    return render(request, "portal/submitted.html", {"number": number})


@require_http_methods(["GET", "POST"])
@rate_limit("portal_track")
def track(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = TrackForm(request.POST)
        if form.is_valid():
            number, phone = form.cleaned_data["number"].strip(), form.cleaned_data["phone"].strip()
            try:
                order = order_for_requester(number=number, phone=phone)
            except NotFound:
                # One answer for a wrong number and a wrong phone: numbers cannot be probed.
                form.add_error(None, _("We found no request with this number and phone. Please check both."))
            else:
                request.session[TRACKED] = {"number": order.number, "phone": phone}
                return redirect("portal:track_detail", number=order.number)
        status = 422
    else:
        form = TrackForm()
    return render(request, "portal/track.html", {"form": form}, status=status)


def _tracked(request: HttpRequest, number: str) -> tuple[WorkOrder | None, str]:
    grant = request.session.get(TRACKED) or {}
    if grant.get("number") != number:
        return None, ""
    try:
        return order_for_requester(number=number, phone=grant.get("phone", "")), grant["phone"]
    except NotFound:
        return None, ""


def _plain_state(order: WorkOrder) -> tuple[str, bool]:
    """The order's state in plain words for the requester, and whether it is finished."""
    s = order.state
    if s in (State.DRAFT, State.RECEIVED):
        return _("We have received your request and are passing it to the unit responsible."), False
    if s == State.RETURNED:
        return _("We are finding the right unit for your request."), False
    if s in (State.DISPATCHED, State.ACCEPTED, State.REOPENED):
        return _("The responsible unit is working on your request."), False
    if s == State.REPLIED:
        return _("The unit has replied. We will ask you whether the problem is solved."), False
    if s == State.CALLBACK_DUE:
        return _("The unit has replied. Please tell us below whether the problem is solved."), False
    if s == State.ANSWERED:
        return _("Your question has been answered."), True
    if s == State.REFERRED:
        return _("Your request has been passed on to: %(to)s.") % {"to": order.referred_to}, True
    if s == State.DECLINED:
        return _("Your request could not be accepted: %(why)s.") % {"why": order.get_outcome_display()}, True
    if s == State.MERGED:
        return _("Your request was joined with order %(number)s about the same problem; track that number "
                 "with your phone.") % {"number": order.merged_into.number if order.merged_into else "—"}, True
    return _("Your request is closed. Thank you."), True


def _track_page(request: HttpRequest, order: WorkOrder, form: RateForm | None, status: int = 200) -> HttpResponse:
    text, done = _plain_state(order)
    replies = list(order.replies.select_related("assignment__unit").order_by("created_at", "id"))
    declined = None
    if order.state == State.DECLINED:
        declined = Event.objects.filter(order=order, code="declined").order_by("-at").first()
    context: dict[str, Any] = {
        "order": order, "state_text": text, "done": done, "replies": replies,
        "state_label": OrderState(order.state).label, "declined": declined,
        "rate_form": form if form is not None else (RateForm() if order.state == State.CALLBACK_DUE else None),
    }
    return render(request, "portal/track_detail.html", context, status=status)


@require_GET
def track_detail(request: HttpRequest, number: str) -> HttpResponse:
    order, _phone = _tracked(request, number)
    if order is None:
        return redirect("portal:track")
    return _track_page(request, order, None)


@require_POST
@rate_limit("portal_track")
def rate(request: HttpRequest, number: str) -> HttpResponse:
    order, phone = _tracked(request, number)
    if order is None:
        return redirect("portal:track")
    form = RateForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        if order.state != State.CALLBACK_DUE:
            messages.info(request, _("This request is not waiting for a rating (it may have been rated already)."))
            return redirect("portal:track_detail", number=number)
        try:
            actions.rate_order(number=number, phone=phone, contacted=d["contacted"] == "yes",
                               resolution=d["resolution"], satisfaction=d["satisfaction"], comment=d["comment"])
        except DomainError as err:
            form.add_domain_error(err)
        else:
            messages.success(request, _("Thank you. Your rating has been recorded."))
            return redirect("portal:track_detail", number=number)
    return _track_page(request, order, form, status=422)


@require_POST
def large_text(request: HttpRequest) -> HttpResponse:
    """Large-text mode without JavaScript: flip the cookie and go back."""
    on = request.COOKIES.get("jiesu_large") != "1"
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("portal:home")
    response = HttpResponseRedirect(target)
    response.set_cookie("jiesu_large", "1" if on else "0", max_age=365 * 24 * 3600, samesite="Lax")
    return response
