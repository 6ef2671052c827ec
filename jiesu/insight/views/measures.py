"""办实事清单: the staff screens (list, add, edit, progress updates, milestones) and the public
page at /measures/."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiesu.desk.views.common import actor_of, staff_required
from jiesu.insight import measures as svc
from jiesu.insight.forms import MeasureForm, MilestoneForm, UpdateForm
from jiesu.insight.models import Measure, Milestone
from jiesu.insight.topics import may_manage
from jiesu.insight.views.common import insight_page
from jiesu.orders.errors import DomainError


@require_GET
@staff_required()
def measure_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    items = list(svc.staff_measures(actor))
    if not items and not may_manage(actor):
        raise PermissionDenied
    return insight_page(request, "insight/measures.html", {
        "measures": items, "summary": svc.summary(items), "manage": may_manage(actor),
    }, tab="measures", show_tabs=may_manage(actor))


@require_http_methods(["GET", "POST"])
@staff_required("insight")
def measure_edit(request: HttpRequest, measure_id: int | None = None) -> HttpResponse:
    measure = get_object_or_404(Measure, pk=measure_id) if measure_id else None
    form = MeasureForm(request.POST or None, instance=measure)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("Measure “%(title)s” saved.") % {"title": saved.title})
        return redirect("insight:measure", measure_id=saved.pk)
    return insight_page(request, "insight/measure_form.html", {"form": form, "measure": measure}, tab="measures",
                        status=422 if form.is_bound else 200)


def _measure_for(request: HttpRequest, measure_id: int) -> Measure:
    measure = get_object_or_404(Measure.objects.select_related("owner_unit"), pk=measure_id)
    if not svc.may_update(actor_of(request), measure):
        raise PermissionDenied
    return measure


def _detail(request: HttpRequest, measure: Measure, *, update_form=None, milestone_form=None, status=200):
    actor = actor_of(request)
    return insight_page(request, "insight/measure.html", {
        "measure": measure, "milestones": list(measure.milestones.all()),
        "updates": list(measure.updates.select_related("author").order_by("-at", "-id")),
        "update_form": update_form or UpdateForm(initial={"percent": measure.percent}),
        "milestone_form": milestone_form or MilestoneForm(), "manage": may_manage(actor),
    }, tab="measures", status=status, show_tabs=may_manage(actor))


@require_GET
@staff_required()
def measure_detail(request: HttpRequest, measure_id: int) -> HttpResponse:
    return _detail(request, _measure_for(request, measure_id))


@require_POST
@staff_required()
def measure_update(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure = _measure_for(request, measure_id)
    form = UpdateForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            svc.add_update(actor_of(request), measure, percent=d["percent"], evidence=d["evidence"], links=d["links"])
        except DomainError as err:
            form.add_error(getattr(err, "field", None) if getattr(err, "field", "") in form.fields else None, str(err))
        else:
            messages.success(request, _("Progress recorded."))
            return redirect("insight:measure", measure_id=measure.pk)
    return _detail(request, measure, update_form=form, status=422)


@require_POST
@staff_required()
def milestone_add(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure = _measure_for(request, measure_id)
    if not may_manage(actor_of(request)):
        raise PermissionDenied
    form = MilestoneForm(request.POST)
    if form.is_valid():
        milestone = form.save(commit=False)
        milestone.measure = measure
        milestone.save()
        messages.success(request, _("Milestone added."))
        return redirect("insight:measure", measure_id=measure.pk)
    return _detail(request, measure, milestone_form=form, status=422)


@require_POST
@staff_required()
def milestone_done(request: HttpRequest, milestone_id: int) -> HttpResponse:
    milestone = get_object_or_404(Milestone.objects.select_related("measure"), pk=milestone_id)
    try:
        svc.set_milestone_done(actor_of(request), milestone, request.POST.get("done") == "1")
    except DomainError:
        raise PermissionDenied from None
    return redirect("insight:measure", measure_id=milestone.measure_id)


# --- public ----------------------------------------------------------------------------------


@require_GET
def public_measures(request: HttpRequest) -> HttpResponse:
    """The public list (no login): public measures only, with progress and milestones."""
    category = request.GET.get("category", "")[:64]
    all_public = list(Measure.objects.filter(public=True).values_list("category", flat=True).distinct()
                      .order_by("category"))
    items = list(svc.public_measures(category if category in all_public else ""))
    return render(request, "insight/public_measures.html", {
        "measures": items, "summary": svc.summary(items), "categories": [c for c in all_public if c],
        "category": category if category in all_public else "",
    })
