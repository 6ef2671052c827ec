"""Desk screens away from the window: outreach events (plan, the offline entry page, results),
circuit filing (batch, parties, correction notices, decisions, printable receipts), and the
specialised hotlines (their queue, dispatch to their units, the printable assignment slip)."""

from __future__ import annotations

import re
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiesu import clock
from jiesu.accounts.policy import can_see
from jiesu.catalogue.models import RequestType
from jiesu.desk.selectors import requester_rows
from jiesu.desk.views.common import actor_of, page, staff_required
from jiesu.orders import actions as order_actions
from jiesu.org.models import Unit, UnitKind
from jiesu.services import actions, selectors
from jiesu.services.errors import DomainError, InvalidInput
from jiesu.services.models import (
    CaseKind,
    Filing,
    FilingBatch,
    FilingStatus,
    Hotline,
    OutreachEvent,
    OutreachKind,
)
from jiesu.services.policy import may_file, may_run_outreach, may_take_hotline_calls
from jiesu.services.views_desk import SCREEN, _gate
from jiesu.services.views_public import _date, _int

# ---------------------------------------------------------------- outreach


@require_http_methods(["GET", "POST"])
@staff_required()
def outreach(request: HttpRequest) -> HttpResponse:
    _gate(request)
    actor = actor_of(request)
    units = [u for u in Unit.objects.filter(is_active=True).exclude(kind__in=[UnitKind.HOTLINE_CENTRE])
             if may_run_outreach(actor, u)][:200]
    error, status, form = "", 200, {}
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip() for k in ("title", "kind", "place", "date", "team", "unit")}
        try:
            day = _date(form["date"])
            if day is None:
                raise InvalidInput(_("Please give the date."), field="date")
            event = actions.plan_event(actor=actor, title=form["title"], kind=form["kind"], place=form["place"],
                                       date=day, team=form["team"], unit_code=form["unit"])
        except DomainError as err:
            error, status = str(err), 422  # the desk's htmx swaps 422 in
        else:
            messages.success(request, _("Outreach event planned."))
            return redirect("services:outreach_event", event_id=event.pk)
    events = list(selectors.events_for(actor)[:100])
    figures = selectors.outreach_stats([e.pk for e in events])
    return page(request, "services/desk_outreach.html", {
        # The centre sees every event's figures; only those who run an event open its entry page.
        "rows": [(e, figures[e.pk], may_run_outreach(actor, e.unit)) for e in events], "units": units, "kinds": OutreachKind.choices,
        "form": form, "error": error,
    }, screen=SCREEN, status=status)


@require_GET
@staff_required()
def outreach_event(request: HttpRequest, event_id: int) -> HttpResponse:
    """The entry page for the desk on site: it keeps working offline (services/outreach.js)."""
    event = get_object_or_404(OutreachEvent.objects.select_related("unit", "area"), pk=event_id)
    actor = actor_of(request)
    if not may_run_outreach(actor, event.unit):
        raise PermissionDenied
    entries = list(event.entries.select_related("order", "booking").order_by("-id")[:50])
    return page(request, "services/desk_outreach_event.html", {
        "event": event, "figures": selectors.outreach_stats([event.pk])[event.pk], "entries": entries,
        "request_types": RequestType.choices, "slots": selectors.offline_slots(event.date),
    }, screen=SCREEN)


# The service worker lives next to the entry pages so that its scope, /desk/services/outreach/,
# covers them: a page reloaded without a network then comes from its cache (a static URL
# would limit the scope to /static/services/).
SERVICE_WORKER = Path(__file__).resolve().parent / "static" / "services" / "outreach-sw.js"


@require_GET
def outreach_worker(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"  # the browser checks for a new worker on each visit
    response["Service-Worker-Allowed"] = "/desk/services/outreach/"
    return response


# ---------------------------------------------------------------- circuit filing


def _courts(request: HttpRequest) -> list[Unit]:
    return selectors.courts_for(actor_of(request))


@require_http_methods(["GET", "POST"])
@staff_required()
def filing(request: HttpRequest) -> HttpResponse:
    courts = _courts(request)
    if not courts:
        raise PermissionDenied
    error, status, form = "", 200, {}
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip() for k in ("court", "case_kind", "cause", "respondent", "facts",
                                                            "place", "event")}
        try:
            batch = actions.open_batch(actor=actor_of(request), court_code=form["court"], case_kind=form["case_kind"],
                                       cause=form["cause"], respondent=form["respondent"], facts=form["facts"],
                                       place=form["place"], event_id=_int(form["event"]))
        except DomainError as err:
            error, status = str(err), 422  # the desk's htmx swaps 422 in
        else:
            return redirect("services:batch", batch_id=batch.pk)
    batches = FilingBatch.objects.filter(court__in=courts).select_related("court")[:100]
    events = OutreachEvent.objects.filter(kind=OutreachKind.CIRCUIT_FILING).order_by("-date")[:50]
    return page(request, "services/desk_filing.html", {
        "courts": courts, "batches": batches, "kinds": CaseKind.choices, "events": events, "form": form,
        "error": error,
    }, screen=SCREEN, status=status)


SPLIT = re.compile(r"\s*[,，\t]\s*")


def parse_parties(text: str) -> list[actions.PartyInput]:
    """One party a line: name, phone[, address[, own claim]] (commas, Chinese commas or tabs,
    so that a column pasted from a spreadsheet works)."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [*SPLIT.split(line.strip(), maxsplit=3), "", "", ""]
        out.append(actions.PartyInput(party=parts[0], phone=parts[1], address=parts[2], claim=parts[3]))
    return out


def _batch(request: HttpRequest, batch_id: int) -> FilingBatch:
    batch = get_object_or_404(FilingBatch.objects.select_related("court", "event"), pk=batch_id)
    if not may_file(actor_of(request), batch.court):
        raise PermissionDenied
    return batch


@require_http_methods(["GET", "POST"])
@staff_required()
def batch_page(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    error, status, parties = "", 200, ""
    if request.method == "POST":
        parties = request.POST.get("parties", "")
        try:
            made = actions.add_parties(actor=actor_of(request), batch_id=batch.pk, parties=parse_parties(parties))
        except DomainError as err:
            error, status = str(err), 422  # the desk's htmx swaps 422 in
        else:
            messages.success(request, _("%(n)s filings received.") % {"n": len(made)})
            return redirect("services:batch", batch_id=batch.pk)
    filings = list(batch.filings.all())
    counts = {s: sum(f.status == s for f in filings) for s in FilingStatus.values}
    return page(request, "services/desk_batch.html", {
        "batch": batch, "filings": filings, "error": error, "parties": parties, "counts": counts,
        "statuses": FilingStatus.choices,
    }, screen=SCREEN, status=status)


@require_POST
@staff_required()
def filing_act(request: HttpRequest, filing_id: int) -> HttpResponse:
    found = get_object_or_404(Filing, pk=filing_id)
    actor = actor_of(request)
    do = request.POST.get("do", "")
    try:
        if do == "correct":
            items = request.POST.get("items", "").splitlines()
            actions.request_correction(actor=actor, filing_id=found.pk, items=items)
        elif do == "resubmit":
            actions.resubmit_filing(actor=actor, filing_id=found.pk)
        elif do in ("register", "refuse"):
            actions.decide_filing(actor=actor, filing_id=found.pk, register=do == "register",
                                  note=request.POST.get("note", ""))
        else:
            raise Http404
    except DomainError as err:
        messages.error(request, f"{found.receipt}: {err}")
    else:
        messages.success(request, _("Filing %(receipt)s updated.") % {"receipt": found.receipt})
    return redirect("services:batch", batch_id=found.batch_id)


@require_GET
@staff_required()
def receipts(request: HttpRequest, batch_id: int) -> HttpResponse:
    """收件凭证, one page each, for printing (all of the batch, or ``?f=<id>`` for one)."""
    batch = _batch(request, batch_id)
    filings = batch.filings.all()
    if one := _int(request.GET.get("f")):
        filings = filings.filter(pk=one)
    return page(request, "services/receipts.html", {"batch": batch, "filings": filings,
                                                    "notice": request.GET.get("notice") == "1"}, screen=SCREEN)


# ---------------------------------------------------------------- specialised hotlines


def _hotline(request: HttpRequest, code: str) -> Hotline:
    hotline = get_object_or_404(Hotline.objects.select_related("owner"), code=code)
    if not may_take_hotline_calls(actor_of(request)):
        raise PermissionDenied
    return hotline


@require_http_methods(["GET", "POST"])
@staff_required()
def hotline(request: HttpRequest, code: str) -> HttpResponse:
    """The hotline's own intake queue: record a call, dispatch to one of its units."""
    hl = _hotline(request, code)
    actor = actor_of(request)
    error, status, form = "", 200, {}
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip() for k in ("do", "number", "unit", "name", "phone", "content",
                                                            "request_type", "address")}
        try:
            if form["do"] == "dispatch":
                actions.dispatch_hotline_order(actor=actor, hotline_code=hl.code, number=form["number"],
                                               unit_code=form["unit"])
                messages.success(request, _("Order %(number)s dispatched; print its assignment slip.")
                                 % {"number": form["number"]})
            else:
                order = actions.record_hotline_order(
                    actor=actor, hotline_code=hl.code, request_type=form["request_type"] or "report",
                    content=form["content"], address=form["address"],
                    requesters=[order_actions.RequesterInput(phone=form["phone"], name=form["name"])])
                messages.success(request, _("Order %(number)s recorded.") % {"number": order.number})
        except DomainError as err:
            error, status = str(err), 422  # the desk's htmx swaps 422 in
        else:
            return redirect("services:hotline", code=hl.code)
    queue = list(selectors.hotline_queue(hl)[:200])
    return page(request, "services/desk_hotline.html", {
        "hotline": hl, "queue": queue, "units": list(hl.units.filter(is_active=True)),
        "request_types": RequestType.choices, "form": form, "error": error,
    }, screen=SCREEN, status=status)


@require_GET
@staff_required()
def slip(request: HttpRequest, code: str, number: str) -> HttpResponse:
    """线索交办单: the printable assignment slip of a dispatched hotline order."""
    hl = _hotline(request, code)
    order = get_object_or_404(selectors.hotline_queue(hl).prefetch_related("requesters", "events"), number=number)
    actor = actor_of(request)
    if not can_see(actor, order):
        raise PermissionDenied
    lead = order.lead_assignment
    if lead is None:
        raise Http404
    dispatched = next((e for e in order.events.all() if e.code == "dispatched"), None)
    return page(request, "services/slip.html", {
        "hotline": hl, "order": order, "lead": lead, "dispatched": dispatched,
        # the slip goes to the unit: unmasked only where the policy allows, and the view is logged
        "requesters": requester_rows(actor, order, where="hotline_slip"),
        "slip_number": f"{hl.code}-{order.number}", "printed": clock.now(),
    }, screen=SCREEN)
