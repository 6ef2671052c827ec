"""Desk screens of the legal services (/desk/services/): the day's bookings at the window with
check-in and outcome, booking for a caller, and the statistics with their Excel export. The
outreach, circuit-filing and hotline screens are in ``views_field``."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiesu.deadlines.calendar import SHANGHAI
from jiesu.desk.views.common import actor_of, page, staff_required
from jiesu.services import actions, exports, selectors, stats
from jiesu.services.errors import DomainError
from jiesu.services.models import OUTCOMES, BookingStatus, Hotline, Window
from jiesu.services.policy import may_book_for_others, may_see_stats, may_take_hotline_calls, may_use_desk
from jiesu.services.views_public import _date, attempt_booking

SCREEN = "services"


def _gate(request: HttpRequest) -> None:
    if not may_use_desk(actor_of(request)):
        raise PermissionDenied


@require_GET
@staff_required()
def home(request: HttpRequest) -> HttpResponse:
    _gate(request)
    actor = actor_of(request)
    return page(request, "services/desk_home.html", {
        "points": selectors.my_points(actor), "book": may_book_for_others(actor), "stats": may_see_stats(actor),
        # Only the screens this actor may open: a tile that leads to "forbidden" wastes a click.
        "filing": bool(selectors.courts_for(actor)),
        "hotlines": list(Hotline.objects.all()) if may_take_hotline_calls(actor) else [],
    }, screen=SCREEN)


@require_GET
@staff_required()
def today(request: HttpRequest) -> HttpResponse:
    _gate(request)
    actor = actor_of(request)
    points = selectors.my_points(actor)
    if not points:
        raise PermissionDenied
    day = _date(request.GET.get("date")) or selectors.today()
    bookings = list(selectors.day_list([p.pk for p in points], day))
    windows: dict[int, list] = {p.pk: [] for p in points}
    for w in Window.objects.filter(point_id__in=windows, is_active=True):
        windows[w.point_id].append(w)
    for b in bookings:
        b.window_choices = windows[b.point_id]  # type: ignore[attr-defined]
    return page(request, "services/desk_today.html", {
        "day": day, "bookings": bookings, "points": points,
        "outcomes": [(s, BookingStatus(s).label) for s in OUTCOMES],
        "prev": day - dt.timedelta(days=1), "next": day + dt.timedelta(days=1),
    }, screen=SCREEN)


@require_POST
@staff_required()
def act(request: HttpRequest, code: str) -> HttpResponse:
    """Check in, or record the outcome, of the booking ``code`` (also: check in by a typed code)."""
    _gate(request)
    actor = actor_of(request)
    code = (request.POST.get("code") or code).strip().upper()
    try:
        if request.POST.get("do") == "check_in":
            window = request.POST.get("window")
            actions.check_in(actor=actor, code=code, window_id=int(window) if window and window.isdigit() else None)
            messages.success(request, _("%(code)s checked in.") % {"code": code})
        else:
            booking = actions.record_outcome(actor=actor, code=code, outcome=request.POST.get("outcome", ""),
                                             note=request.POST.get("note", ""))
            messages.success(request, _("%(code)s: %(outcome)s.") % {"code": code,
                                                                    "outcome": booking.get_status_display()})
    except DomainError as err:
        messages.error(request, str(err))
    return redirect(reverse("services:today") + (f"?date={request.POST['date']}" if request.POST.get("date") else ""))


@require_http_methods(["GET", "POST"])
@staff_required()
def book(request: HttpRequest) -> HttpResponse:
    """A call-taker books on a caller's behalf: the public steps, on the desk."""
    actor = actor_of(request)
    if not may_book_for_others(actor):
        raise PermissionDenied
    attempt = attempt_booking(request, actor=actor, channel="desk", error_status=422)
    if (booking := attempt.booking) is not None:
        messages.success(request, _("Booked for the caller: code %(code)s, %(when)s. Read the code out to them.")
                         % {"code": booking.code, "when": booking.start.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")})
        return redirect("services:book")
    return page(request, "services/desk_book.html", attempt.context, screen=SCREEN, status=attempt.status)


def _period(request: HttpRequest) -> tuple[dt.date, dt.date]:
    last = _date(request.GET.get("to")) or selectors.today() + dt.timedelta(days=30)
    first = _date(request.GET.get("from")) or last - dt.timedelta(days=90)
    if first > last:
        first, last = last, first
    return first, min(last, first + dt.timedelta(days=400))


def _report(request: HttpRequest) -> stats.Report:
    actor = actor_of(request)
    if not may_see_stats(actor):
        raise PermissionDenied
    first, last = _period(request)
    # Window staff see their own points; the centre's analysts and supervisors all of them.
    mine = None if actor.is_admin or actor.has_role("analyst", "supervisor") else [
        p.pk for p in selectors.my_points(actor)]
    return stats.report(first=first, last=last, point_ids=mine)


@require_GET
@staff_required()
def stats_page(request: HttpRequest) -> HttpResponse:
    report = _report(request)
    return page(request, "services/desk_stats.html", {"report": report, "query": request.GET.urlencode()},
                screen=SCREEN)


@require_GET
@staff_required()
def stats_xlsx(request: HttpRequest) -> HttpResponse:
    report = _report(request)
    response = HttpResponse(exports.xlsx(report), content_type=exports.XLSX)
    response["Content-Disposition"] = f'attachment; filename="legal-services-{report.first}-{report.last}.xlsx"'
    return response
