"""Desk pages: the Excel/CSV export of every list, the import page with its per-row report,
and the import templates. Views only parse, call and render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiesu.desk.views.common import actor_of, may_use, page, staff_required
from jiesu.integrations import selectors, webhooks
from jiesu.integrations.conf import knob
from jiesu.integrations.exchange import exporting, importing
from jiesu.integrations.exchange.kinds import KINDS
from jiesu.integrations.forms import ImportForm
from jiesu.orders.errors import DomainError

FORMATS = ("xlsx", "csv")


def _download(data: bytes, filename: str, fmt: str) -> HttpResponse:
    response = HttpResponse(data, content_type=exporting.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@staff_required()
def export_list(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    """The list the user is looking at, with the same filters (the page's query string) and
    the same permissions (the list's own selector over ``policy.visible_orders``)."""
    spec = exporting.LISTS.get(name)
    if spec is None or fmt not in FORMATS:
        raise Http404
    if not may_use(request, spec.screen):
        raise PermissionDenied
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _download(exporting.desk_list(name, request, fmt), f"jiesu-{name}-{stamp}.{fmt}", fmt)


@require_GET
@staff_required("import")
def import_template(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if kind not in KINDS or fmt not in FORMATS:
        raise Http404
    return _download(importing.template(kind, fmt), f"jiesu-{kind}-template.{fmt}", fmt)


@require_http_methods(["GET", "POST"])
@staff_required("import")
def import_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    kinds = [k for k in KINDS.values() if k.may_import(actor)]
    form = ImportForm(request.POST or None, request.FILES or None)
    form.fields["kind"].choices = [(k.name, k.label) for k in kinds]  # type: ignore[attr-defined]
    report = error = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            limit = int(knob("IMPORT_MAX_BYTES", 10 * 1024 * 1024))
            if upload.size > limit:
                error = _("The file is too big (%(size)s MB); at most %(max)s MB.") % {
                    "size": round(upload.size / 1048576, 1), "max": round(limit / 1048576, 1)}
            else:
                try:
                    report = importing.run(kind=form.cleaned_data["kind"], data=upload.read(), filename=upload.name,
                                           actor=actor)
                except DomainError as err:
                    error = str(err)
        if error or not form.is_valid():
            status = 422
    return page(request, "integrations/import.html", {"form": form, "kinds": kinds, "report": report,
                                                      "error": error}, screen="import", status=status)


@require_GET
@staff_required("webhooks")
def webhooks_page(request: HttpRequest) -> HttpResponse:
    """The webhook subscriptions the user may see and their newest deliveries with every
    attempt's answer; a failed one can be replayed from here (``?failed=1``: only those)."""
    actor = actor_of(request)
    subscriptions = list(selectors.visible_subscriptions(actor).order_by("name", "id"))
    failed_only = request.GET.get("failed") == "1"
    chosen = request.GET.get("subscription", "")
    subscription_id = int(chosen) if chosen.isdigit() and any(s.pk == int(chosen) for s in subscriptions) else None
    log = selectors.delivery_log(actor, failed_only=failed_only, subscription_id=subscription_id)
    return page(request, "integrations/webhooks.html", {
        "subscriptions": subscriptions, "deliveries": log, "failed_only": failed_only,
        "subscription_id": subscription_id, "limit": selectors.LOG_ROWS}, screen="webhooks")


@require_POST
@staff_required("webhooks")
def replay_delivery(request: HttpRequest, delivery_id: str) -> HttpResponse:
    try:
        row = webhooks.replay(actor=actor_of(request), delivery_id=delivery_id[:40])
    except DomainError as err:
        messages.error(request, str(err))
    else:
        if row.status == "sent":
            messages.success(request, _("Delivery %(id)s replayed: the receiver accepted it.") % {"id": row.delivery_id})
        else:
            messages.error(request, _("Delivery %(id)s replayed, but the receiver did not accept it: %(error)s")
                           % {"id": row.delivery_id, "error": (row.last_error or str(row.response_status))[:200]})
    return redirect(reverse("integrations:webhooks") + ("?failed=1" if request.POST.get("failed") == "1" else ""))
