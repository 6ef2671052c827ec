"""Reads of the legal services. Each function costs a fixed number of queries, whatever the
number of points, rules or bookings (tests/test_services_queries.py)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from jiesu import clock
from jiesu.accounts.policy import Actor
from jiesu.deadlines import services as deadlines
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.orders.models import WorkOrder
from jiesu.org.models import Unit, UnitKind
from jiesu.services import opening
from jiesu.services.models import (
    HOLDING,
    Booking,
    EntryOutcome,
    Hotline,
    HotlineOrder,
    Matter,
    OpeningRule,
    OutreachEvent,
    ServicePoint,
)
from jiesu.services.policy import _reaches, may_file

BOOKING_DAYS = 60  # how far ahead the public may book


def today() -> dt.date:
    return clock.now().astimezone(SHANGHAI).date()


def points(*, kind: str | None = None, unit: str | None = None, area: str | None = None,
           matter: Matter | None = None) -> QuerySet[ServicePoint]:
    """Active points with their unit, area, windows and rules (windows and matters of each
    rule prefetched): four queries in all."""
    qs = ServicePoint.objects.filter(is_active=True).select_related("unit", "area")
    if kind:
        qs = qs.filter(kind=kind)
    if unit:
        qs = qs.filter(Q(unit__code=unit) | Q(unit__path__contains=f"/{unit}/") | Q(unit__path__startswith=f"{unit}/"))
    if area:
        qs = qs.filter(Q(area__code=area) | Q(area__path__contains=f"/{area}/") | Q(area__path__startswith=f"{area}/"))
    if matter is not None:
        qs = qs.filter(kind=matter.kind)
    return qs.prefetch_related(
        "windows",
        Prefetch("rules", queryset=OpeningRule.objects.prefetch_related("windows", "matters")),
    )


def to_rule(row: OpeningRule) -> opening.Rule:
    """A stored rule as the pure module's rule (uses the prefetched windows and matters)."""
    return opening.Rule(
        id=row.pk,
        opens=row.opens,
        closes=row.closes,
        windows=tuple(sorted(w.pk for w in row.windows.all() if w.is_active)),
        per_window=row.per_window,
        weekdays=frozenset(int(d) for d in (row.weekdays or [])),
        dates=frozenset(dt.date.fromisoformat(d) for d in (row.dates or [])),
        start=row.start,
        end=row.end,
        matter_ids=frozenset(m.pk for m in row.matters.all()),
        holidays_closed=row.holidays_closed,
        special=row.special,
    )


def rules_of(point_id: int) -> list[opening.Rule]:
    rows = OpeningRule.objects.filter(point_id=point_id).prefetch_related("windows", "matters")
    return [to_rule(r) for r in rows]


def held(point_id: int, day: dt.date, *, exclude: int | None = None) -> list[opening.Held]:
    """The places live bookings hold at the point on a day."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
    qs = Booking.objects.filter(point_id=point_id, status__in=HOLDING, start__gte=start,
                                start__lt=start + dt.timedelta(days=1))
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return [opening.Held(r, w, s, e) for r, w, s, e in qs.values_list("rule_id", "window_id", "start", "end")]


def matters(kind: str | None = None) -> QuerySet[Matter]:
    qs = Matter.objects.filter(is_active=True)
    return qs.filter(kind=kind) if kind else qs


@dataclass
class DaySlots:
    day: dt.date
    slots: list[opening.Slot]


def free_slots(point: ServicePoint, matter: Matter, day: dt.date) -> list[opening.Slot]:
    """The day's slots of a matter at a point, pools merged, past slots left out."""
    rules = [to_rule(r) for r in point.rules.all()]
    return _free(rules, matter, day, deadlines.load_calendar(), held(point.pk, day), clock.now())


def _free(rules: list[opening.Rule], matter: Matter, day: dt.date, calendar, taken: list[opening.Held],
          now: dt.datetime) -> list[opening.Slot]:
    out = opening.slots(rules, day, calendar, matter_id=matter.pk, minutes=matter.slot_minutes, held=taken)
    return [s for s in opening.merged(out) if s.start > now]


def open_days(point: ServicePoint, matter: Matter, *, days: int = BOOKING_DAYS) -> list[dt.date]:
    rules = [to_rule(r) for r in point.rules.all()]
    first = today()
    return opening.open_days(rules, first, first + dt.timedelta(days=days), deadlines.load_calendar(), matter.pk)


def booking_for(*, code: str, phone: str) -> Booking | None:
    from jiesu.orders.actions.intake import normalise_phone
    from jiesu.orders.errors import InvalidInput

    try:
        digits = normalise_phone(phone)
    except InvalidInput:
        return None
    return (Booking.objects.select_related("point", "matter", "window")
            .filter(code=code.strip().upper()[:12], phone=digits).first())


# ---------------------------------------------------------------- the staff's lists


def my_points(actor: Actor) -> list[ServicePoint]:
    rows = ServicePoint.objects.filter(is_active=True).select_related("unit", "area")
    from jiesu.accounts.models import Role

    roles = frozenset({Role.SERVICE_STAFF, Role.UNIT_LEAD})
    return [p for p in rows if _reaches(actor, p.unit, roles)]


def day_list(point_ids: list[int], day: dt.date) -> QuerySet[Booking]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
    return (Booking.objects.filter(point_id__in=point_ids, start__gte=start, start__lt=start + dt.timedelta(days=1))
            .select_related("point", "matter", "window").order_by("start", "id"))


def courts_for(actor: Actor) -> list[Unit]:
    """The courts whose circuit filings ``actor`` may take (none: the filing screen is not theirs)."""
    return [c for c in Unit.objects.filter(kind=UnitKind.COURT, is_active=True) if may_file(actor, c)]


def events_for(actor: Actor) -> QuerySet[OutreachEvent]:
    """All events for the centre and admins; the events of their own units for the others."""
    from jiesu.accounts.policy import CENTRE_ROLES

    qs = OutreachEvent.objects.select_related("unit", "area")
    if actor.is_admin or actor._centre_grants(CENTRE_ROLES):
        return qs
    cond = Q(pk__in=[])
    for g in actor.grants:
        cond |= Q(unit__path=g.unit_path) | Q(unit__path__startswith=g.unit_path + "/")
    return qs.filter(cond)


@dataclass
class OutreachStats:
    collected: int = 0
    on_spot: int = 0
    dispatched: int = 0
    solved_later: int = 0
    booked: int = 0
    # Sent for dispatch and still at the centre (not yet with a unit): with on_spot, booked and
    # dispatched it makes up what was collected, so that the event's figures add up.
    waiting: int = 0

    @property
    def solved(self) -> int:
        return self.on_spot + self.solved_later


def outreach_stats(event_ids: list[int]) -> dict[int, OutreachStats]:
    """Per event: collected, solved on the spot, dispatched, solved later (the 541/515 figures).
    One query: an entry's order tells whether it went to a unit and whether the callback found
    it solved."""
    out: dict[int, OutreachStats] = defaultdict(OutreachStats)
    from jiesu.orders.states import State

    handled = [State.DISPATCHED, State.ACCEPTED, State.RETURNED, State.REPLIED, State.CALLBACK_DUE,
               State.REOPENED, State.CLOSED]
    rows = (
        OutreachEvent.objects.filter(pk__in=event_ids).values("pk").annotate(
            collected=Count("entries"),
            on_spot=Count("entries", filter=Q(entries__outcome=EntryOutcome.SOLVED_ON_SPOT)),
            booked=Count("entries", filter=Q(entries__outcome=EntryOutcome.BOOKED)),
            sent=Count("entries", filter=Q(entries__outcome=EntryOutcome.DISPATCHED)),
            dispatched=Count("entries", filter=Q(entries__outcome=EntryOutcome.DISPATCHED,
                                                 entries__order__state__in=handled)),
            solved_later=Count("entries", filter=Q(entries__outcome=EntryOutcome.DISPATCHED,
                                                   entries__order__solved=True)),
        )
    )
    for r in rows:
        out[r["pk"]] = OutreachStats(r["collected"], r["on_spot"], r["dispatched"], r["solved_later"], r["booked"],
                                     waiting=r["sent"] - r["dispatched"])
    return out


# ---------------------------------------------------------------- specialised hotlines


def hotline_queue(hotline: Hotline, *, open_only: bool = False) -> QuerySet[WorkOrder]:
    qs = WorkOrder.objects.filter(pk__in=HotlineOrder.objects.filter(hotline=hotline).values("order_id"))
    if open_only:
        qs = qs.exclude(state__in=["closed", "merged", "answered", "referred", "declined"])
    return qs.select_related("area", "category").prefetch_related("assignments__unit").order_by("-received_at")


def offline_slots(day: dt.date, *, limit: int = 20) -> list[dict]:
    """The day's free slots of every active point and matter, for the outreach page to carry
    with it: offline it cannot ask /api/v1 for them. The server checks the slot again at sync.
    One query for the day's bookings per point, whatever the number of its matters."""
    out = []
    every = list(matters())
    calendar, now = deadlines.load_calendar(), clock.now()
    for point in points()[:limit]:
        kinds = [m for m in every if m.kind == point.kind]
        if not kinds:
            continue
        rules, taken = [to_rule(r) for r in point.rules.all()], held(point.pk, day)
        for matter in kinds:
            free = [{"start": s.start.astimezone(SHANGHAI).isoformat(), "time": s.start.astimezone(SHANGHAI)
                     .strftime("%H:%M"), "free": s.free} for s in _free(rules, matter, day, calendar, taken, now)
                    if s.free > 0]
            if free:
                out.append({"point": point.pk, "point_label": point.label, "matter": matter.code,
                            "matter_label": matter.label, "slots": free})
    return out
