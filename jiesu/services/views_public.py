"""The public booking pages (no login, portal style, for phones and large text): choose a matter,
a point and a free slot, give a name and phone, get a confirmation code; cancel or move it with
the code and the phone. The call-taker's desk uses the same steps (``views_desk.book``)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from jiesu.accounts.policy import Actor
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.security.ratelimit import rate_limit
from jiesu.services import actions, opening, selectors
from jiesu.services.errors import DomainError, InvalidInput
from jiesu.services.models import Booking, BookingStatus, Matter, PointKind, ServicePoint

BOOKED = "legal_booked"
MANAGED = "legal_managed"
DAYS_SHOWN = 21


def public() -> Actor:
    return Actor(user_id=None, is_admin=False, username="anonymous")


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _start(raw: str | None) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None
    return value.replace(tzinfo=SHANGHAI) if value is not None and value.tzinfo is None else value


@dataclass
class Steps:
    """Where the requester is in choose matter → point → day → slot, and the choices of each."""

    kinds: list[tuple[str, Any, list[Matter]]] = field(default_factory=list)
    matter: Matter | None = None
    points: list[ServicePoint] = field(default_factory=list)
    point: ServicePoint | None = None
    days: list[dt.date] = field(default_factory=list)
    day: dt.date | None = None
    slots: list[opening.Slot] = field(default_factory=list)

    def as_context(self) -> dict[str, Any]:
        return {"steps": self}


def steps(request: HttpRequest, data: Any | None = None) -> Steps:
    data = data if data is not None else request.GET
    s = Steps()
    all_matters = list(selectors.matters())
    labels = dict(PointKind.choices)
    s.kinds = [(kind, labels[kind], [m for m in all_matters if m.kind == kind])
               for kind in PointKind.values if any(m.kind == kind for m in all_matters)]
    s.matter = next((m for m in all_matters if m.pk == _int(data.get("matter"))), None)
    if s.matter is None:
        return s
    s.points = list(selectors.points(matter=s.matter))
    s.point = next((p for p in s.points if p.pk == _int(data.get("point"))), None)
    if s.point is None and len(s.points) == 1:
        s.point = s.points[0]
    if s.point is None:
        return s
    s.days = selectors.open_days(s.point, s.matter)[:DAYS_SHOWN]
    s.day = _date(data.get("date"))
    if s.day is not None:
        s.slots = [slot for slot in selectors.free_slots(s.point, s.matter, s.day)]
    return s


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "services/public_home.html", steps(request).as_context())


@dataclass
class Attempt:
    """One pass of the booking form: the booking made, or the page to show again."""

    booking: Booking | None
    context: dict[str, Any]
    status: int = 200


def attempt_booking(request: HttpRequest, *, actor: Actor, channel: str, error_status: int | None = None) -> Attempt:
    """The booking form of the public page and of the desk (one handling, two actors): on GET the
    steps; on POST a booking, or the form again with the error and the slots as they are now.
    ``error_status`` replaces the error's own status (the desk's htmx swaps a 422 in, not a 409)."""
    status, error, field_name = 200, "", ""
    form: dict[str, str] = {"idempotency_key": uuid.uuid4().hex}
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip() for k in ("name", "phone", "start", "idempotency_key")}
        s = steps(request, request.POST)
        try:
            booking = _book_from(request.POST, s, actor, channel=channel)
        except DomainError as err:
            status, error = error_status or err.status, str(err)
            field_name = err.field if isinstance(err, InvalidInput) else ""
            s = steps(request, request.POST)  # the slots again, as they are now
        else:
            return Attempt(booking, {})
    else:
        s = steps(request)
    return Attempt(None, {**s.as_context(), "form": form, "error": error, "field": field_name}, status)


@require_http_methods(["GET", "POST"])
@rate_limit("public_booking")
def book(request: HttpRequest) -> HttpResponse:
    attempt = attempt_booking(request, actor=public(), channel="web")
    if attempt.booking is not None:
        request.session[BOOKED] = attempt.booking.code
        return redirect("legal:booked")
    return render(request, "services/public_book.html", attempt.context, status=attempt.status)


def _book_from(data: Any, s: Steps, actor: Actor, *, channel: str) -> Booking:
    if s.matter is None or s.point is None:
        raise InvalidInput(_("Please choose a matter and a service point."), field="matter")
    start = _start(data.get("start"))
    if start is None:
        raise InvalidInput(_("Please choose a time."), field="start")
    return actions.book(actor=actor, point_id=s.point.pk, matter_id=s.matter.pk, start=start,
                        name=data.get("name", ""), phone=data.get("phone", ""), channel=channel,
                        idempotency_key=data.get("idempotency_key") or None)


@require_GET
def booked(request: HttpRequest) -> HttpResponse:
    code = request.session.get(BOOKED)
    booking = Booking.objects.select_related("point", "matter", "window").filter(code=code).first() if code else None
    if booking is None:
        return redirect("legal:book")
    return render(request, "services/public_booked.html", {"booking": booking})


@require_http_methods(["GET", "POST"])
@rate_limit("public_booking")
def manage(request: HttpRequest) -> HttpResponse:
    error, status = "", 200
    code = phone = ""
    if request.method == "POST":
        code, phone = request.POST.get("code", "").strip(), request.POST.get("phone", "").strip()
        booking = selectors.booking_for(code=code, phone=phone)
        if booking is None:
            # One answer for a wrong code and a wrong phone: codes cannot be probed.
            error, status = _("We found no booking with this code and phone number. Please check both."), 404
        else:
            request.session[MANAGED] = {"code": booking.code, "phone": phone}
            return redirect("legal:booking")
    return render(request, "services/public_manage.html", {"error": error, "code": code, "phone": phone},
                  status=status)


@require_http_methods(["GET", "POST"])
def booking_page(request: HttpRequest) -> HttpResponse:
    grant = request.session.get(MANAGED) or {}
    booking = selectors.booking_for(code=grant.get("code", ""), phone=grant.get("phone", ""))
    if booking is None:
        return redirect("legal:manage")
    error, status = "", 200
    if request.method == "POST":
        try:
            if request.POST.get("do") == "cancel":
                actions.cancel_booking(actor=public(), code=booking.code, phone=grant["phone"])
                messages.success(request, _("Your booking %(code)s is cancelled.") % {"code": booking.code})
            else:
                start = _start(request.POST.get("start"))
                if start is None:
                    raise InvalidInput(_("Please choose a time."), field="start")
                actions.reschedule_booking(actor=public(), code=booking.code, phone=grant["phone"], start=start)
                messages.success(request, _("Your booking %(code)s is moved.") % {"code": booking.code})
        except DomainError as err:
            error, status = str(err), err.status
        else:
            return redirect("legal:booking")
    day = _date(request.GET.get("date") or request.POST.get("date"))
    s = Steps(matter=booking.matter, point=booking.point, day=day)
    point = selectors.points().filter(pk=booking.point_id).first()  # None once the point is closed down
    if booking.status == BookingStatus.BOOKED and point is not None:
        s.days = selectors.open_days(point, booking.matter)[:DAYS_SHOWN]
        if day is not None:
            s.slots = selectors.free_slots(point, booking.matter, day)
    return render(request, "services/public_booking.html",
                  {"booking": booking, "steps": s, "error": error, "movable": booking.status == BookingStatus.BOOKED},
                  status=status)
