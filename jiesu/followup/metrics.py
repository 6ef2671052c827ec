"""What each scorecard count counts, once, as conditions on assignment rows. The selectors
aggregate with them (``COUNT(…) FILTER``) and the drill-down lists the orders behind a count
with the very same conditions (``EXISTS``), so a number and its list cannot disagree.

The population: orders received in the period, neither drafts nor merged duplicates (a merged
order's requesters live on in the surviving order). ``as_of`` is the moment of counting: a
deadline that has not passed yet is not counted as met or missed.

- ``assignments``: every assignment (lead and co-handling) of the group's orders / unit;
- ``returned``: assignments the unit returned (退单);
- ``contact_due``: assignments kept (not returned, not withdrawn before contact) whose contact
  deadline has passed or that made contact; ``contacted_in_time``: those contacted by it;
- ``handling_due``: lead assignments kept (not returned, not withdrawn before a reply) that
  replied or whose handling deadline passed; ``overdue``: replied after the (extended) deadline,
  or not replied and past it; ``lead_rounds``: every kept lead assignment (a reopened order has
  one per round), ``extended``: those with an approved extension;
- ``handled``: orders with a current lead assignment (one per dispatched order), attributed to
  that unit; ``replied``: those replied at least once; ``reopened``: those reopened (重办);
- ``reached``: those whose requester answered a callback; ``solved``/``partly``/``unsolved`` and
  ``satisfied``/``basic``/``unsatisfied``: the answers of the latest reached callback.
- ``orders`` (volume): orders received in the period, per area; per unit, the orders that have
  an assignment of the unit.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from jiesu.orders.models import (
    Assignment,
    AssignmentRole,
    AssignmentState,
    Resolution,
    Satisfaction,
    WorkOrder,
)
from jiesu.orders.states import State

LIVE = (AssignmentState.DISPATCHED, AssignmentState.ACCEPTED, AssignmentState.REPLIED)
EXCLUDED_STATES = (State.DRAFT, State.MERGED)


def conditions(as_of: dt.datetime) -> dict[str, Q]:
    """Count name → condition on an ``Assignment`` row (``order__…`` reaches its order)."""
    kept = ~Q(state=AssignmentState.RETURNED)
    contact_due = kept & ~Q(state=AssignmentState.CANCELLED, contacted_at__isnull=True) & (
        Q(contacted_at__isnull=False) | Q(contact_due_at__lte=as_of))
    lead = Q(role=AssignmentRole.LEAD) & kept & ~Q(state=AssignmentState.CANCELLED, replied_at__isnull=True)
    handling_due = lead & (Q(replied_at__isnull=False) | Q(due_at__lte=as_of))
    current = Q(role=AssignmentRole.LEAD, state__in=LIVE)
    reached = current & ~Q(order__satisfaction="")
    return {
        "assignments": Q(),
        "returned": Q(state=AssignmentState.RETURNED),
        "contact_due": contact_due,
        "contacted_in_time": contact_due & Q(contacted_at__lte=F("contact_due_at")),
        "handling_due": handling_due,
        "overdue": handling_due & (Q(replied_at__isnull=True) | Q(replied_at__gt=F("due_at"))),
        "lead_rounds": lead,
        "extended": lead & Q(extended=True),
        "handled": current,
        "replied": current & (Q(replied_at__isnull=False) | Q(order__reopen_count__gt=0)),
        "reopened": current & Q(order__reopen_count__gt=0),
        "reached": reached,
        "solved": reached & Q(order__resolution=Resolution.SOLVED),
        "partly": reached & Q(order__resolution=Resolution.PARTLY),
        "unsolved": reached & Q(order__resolution=Resolution.UNSOLVED),
        "satisfied": reached & Q(order__satisfaction=Satisfaction.SATISFIED),
        "basic": reached & Q(order__satisfaction=Satisfaction.BASIC),
        "unsatisfied": reached & Q(order__satisfaction=Satisfaction.UNSATISFIED),
    }


METRICS = ("orders", *conditions(dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))


def population(start: dt.datetime, end: dt.datetime) -> QuerySet:
    """The orders a scorecard counts."""
    return WorkOrder.objects.filter(received_at__gte=start, received_at__lt=end).exclude(
        state__in=EXCLUDED_STATES)


def assignment_rows(start: dt.datetime, end: dt.datetime) -> QuerySet:
    """The population's assignments, without default ordering (it would break GROUP BY)."""
    return Assignment.objects.filter(order__received_at__gte=start, order__received_at__lt=end).exclude(
        order__state__in=EXCLUDED_STATES).order_by()


class RawCount(Count):
    """COUNT without Django's per-value converter: the databases return integers already, and
    a scorecard reads tens of thousands of them."""

    @property
    def convert_value(self):
        return self._convert_value_noop  # type: ignore[attr-defined]  # Django's own no-op converter


def aggregates(as_of: dt.datetime) -> dict[str, Count]:
    conds = conditions(as_of)
    return {name: (RawCount("pk", filter=cond) if cond else RawCount("pk")) for name, cond in conds.items()}


def drill(qs: QuerySet, metric: str, *, as_of: dt.datetime, start: dt.datetime, end: dt.datetime,
          unit_id: int | None = None) -> QuerySet:
    """The orders behind one count: ``qs`` (orders) narrowed to the population and the metric,
    and to the unit's assignments for a unit's card. An assignment count lists each order once
    (a reopened order may hold two lead rounds of the unit)."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    qs = qs.filter(received_at__gte=start, received_at__lt=end).exclude(state__in=EXCLUDED_STATES)
    if metric == "orders" and unit_id is None:
        return qs
    cond = Q() if metric == "orders" else conditions(as_of)[metric]
    rows = Assignment.objects.filter(cond, order=OuterRef("pk"))
    if unit_id is not None:
        rows = rows.filter(unit_id=unit_id)
    return qs.filter(Exists(rows))
