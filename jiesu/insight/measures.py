"""办实事清单: who may change a measure, progress updates (append-only) and milestones, and
the reads for the staff list and the public page (a fixed number of queries each)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiesu.accounts.policy import Actor
from jiesu.insight.models import Measure, MeasureUpdate, Milestone
from jiesu.insight.topics import may_manage
from jiesu.orders.actions.base import clean_text
from jiesu.orders.errors import InvalidInput, NotAllowed

MAX_LINKS = 10


def may_update(actor: Actor, measure: Measure) -> bool:
    """Analysts, supervisors and admins; and the staff of the measure's owner unit."""
    return may_manage(actor) or measure.owner_unit_id in actor.unit_ids()


def staff_measures(actor: Actor) -> QuerySet:
    qs = Measure.objects.select_related("owner_unit").annotate(
        n_milestones=Count("milestones", distinct=True),
        n_done=Count("milestones", filter=Q(milestones__done_at__isnull=False), distinct=True),
    ).order_by("category", "id")
    if may_manage(actor):
        return qs
    return qs.filter(owner_unit_id__in=actor.unit_ids())


def public_measures(category: str = "") -> QuerySet:
    """Public measures with their milestones and their latest update first: three queries."""
    qs = Measure.objects.filter(public=True)
    if category:
        qs = qs.filter(category=category)
    return qs.select_related("owner_unit").prefetch_related(
        Prefetch("milestones", queryset=Milestone.objects.order_by("due", "id")),
        Prefetch("updates", queryset=MeasureUpdate.objects.order_by("-at", "-id")),
    ).order_by("category", "id")


@dataclass(frozen=True)
class Summary:
    total: int
    done: int
    mean_percent: int


def summary(measures: list[Measure]) -> Summary:
    n = len(measures)
    return Summary(n, sum(m.percent >= 100 for m in measures),
                   round(sum(m.percent for m in measures) / n) if n else 0)


def add_update(actor: Actor, measure: Measure, *, percent: int | str, evidence: str = "", links: str = "") -> MeasureUpdate:
    """A dated progress report; the measure's percentage follows the latest one."""
    if not may_update(actor, measure):
        raise NotAllowed(_("You are not allowed to do this."))
    try:
        value = int(percent)
    except (TypeError, ValueError):
        raise InvalidInput(_("Progress is a whole number from 0 to 100."), field="percent") from None
    if not 0 <= value <= 100:
        raise InvalidInput(_("Progress is a whole number from 0 to 100."), field="percent")
    evidence = clean_text(evidence, field="evidence", label=_("the evidence"), required=False, max_length=4000)
    lines = [line.strip() for line in (links or "").splitlines() if line.strip()]
    if len(lines) > MAX_LINKS:
        raise InvalidInput(_("At most %(n)s links."), field="links", n=MAX_LINKS)
    for line in lines:
        if not line.startswith(("https://", "http://", "/")) or len(line) > 500 or any(c.isspace() for c in line):
            raise InvalidInput(_("“%(link)s” is not a web address."), field="links", link=line[:60])
    if not evidence and not lines:
        raise InvalidInput(_("Say what was done, or give a link to the evidence."), field="evidence")
    with transaction.atomic():
        locked = Measure.objects.select_for_update().get(pk=measure.pk)
        update = MeasureUpdate.objects.create(measure=locked, at=timezone.now(), percent=value, evidence=evidence,
                                              links="\n".join(lines), author_id=actor.user_id)
        locked.percent = value
        locked.save(update_fields=["percent", "updated_at"])
    measure.percent = value
    return update


def set_milestone_done(actor: Actor, milestone: Milestone, done: bool) -> Milestone:
    if not may_update(actor, milestone.measure):
        raise NotAllowed(_("You are not allowed to do this."))
    milestone.done_at = timezone.now() if done else None
    milestone.save(update_fields=["done_at"])
    return milestone
