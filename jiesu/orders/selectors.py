"""Reads. Each selector owns its query shape (joins and prefetches), so that lists cost a fixed
number of queries whatever their length."""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.db.models import BooleanField, Exists, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts import policy
from jiesu.accounts.policy import Actor
from jiesu.ops.plans import Constant
from jiesu.orders.errors import NotFound
from jiesu.orders.models import (
    OPEN_ASSIGNMENT_STATES,
    Assignment,
    Event,
    Extension,
    ExtensionState,
    IntakeReceipt,
    Reply,
    Requester,
    WorkOrder,
)
from jiesu.orders.states import IN_HANDLING, State
from jiesu.search import selectors as search

LIST_RELATED = ("area", "category", "category__parent")


def _assignments() -> Prefetch:
    return Prefetch("assignments", queryset=Assignment.objects.select_related("unit").order_by("-role", "id"))


def _with_assignments(qs: QuerySet) -> QuerySet:
    return qs.select_related(*LIST_RELATED).prefetch_related(_assignments())


def visible(actor: Actor) -> QuerySet:
    return policy.visible_orders(actor, WorkOrder.objects.all())


@dataclass(frozen=True)
class OrderFilter:
    state: str | None = None
    unit: str | None = None
    area: str | None = None
    request_type: str | None = None
    channel: str | None = None
    received_from: dt.datetime | None = None
    received_to: dt.datetime | None = None
    phone: str | None = None
    q: str | None = None
    # With words: only the orders with a larger id, a window of the newest (``order_page``).
    newer_than: int | None = None
    # With words: only the newest this many of their matches, for a page that ends there. Only
    # where nothing but the words filters the orders (``order_page``; ``search.narrow``).
    newest: int | None = None


_STATES = frozenset(s.value for s in State)


def _state_is(state: str) -> Q:
    """``state = <state>``, a known state written into the statement (``Constant``): PostgreSQL
    then plans the list for that state. On orders partitioned by month a generic plan does not
    know how rare the state is in each month, and walked the months' indexes far: ``GET
    /api/v1/orders?state=`` p95 521-557 ms against 55-57 planned for its state (1M orders,
    docs/benchmarks.md, session 9). Anything but a known state is bound as usual."""
    return Q(state=Constant(state) if state in _STATES else state)


def order_list(actor: Actor, filters: OrderFilter | None = None) -> QuerySet:
    f = filters or OrderFilter()
    qs = visible(actor)
    if f.state:
        qs = qs.filter(_state_is(f.state))
    if f.unit:
        qs = qs.filter(pk__in=Assignment.objects.filter(unit__code=f.unit).values("order_id"))
    if f.area:
        qs = qs.filter(Q(area__code=f.area) | Q(area__path__contains=f"/{f.area}/") | Q(area__path__endswith=f"/{f.area}"))
    if f.request_type:
        qs = qs.filter(request_type=f.request_type)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.received_from:
        qs = qs.filter(received_at__gte=f.received_from)
    if f.received_to:
        qs = qs.filter(received_at__lt=f.received_to)
    if f.phone:
        qs = qs.filter(pk__in=Requester.objects.filter(phone=f.phone).values("order_id"))
    if f.q:
        # By number, or by words through the full-text index (jiesu.search), newest first.
        return _with_assignments(search.narrow(qs, f.q, newer_than=f.newer_than, newest=f.newest)).order_by("-id")
    return _with_assignments(qs).order_by("-received_at", "-id")


# The columns of a list row: the desk's order search (``desk_tags.order_rows``) and the API's
# order summaries (``api.present.order_summary``), with the assignments' units. A page of 100
# orders with every column, the area and the category's parent was about 600 model instances and
# 1,100 datetimes decoded per request, most of them unread (docs/benchmarks.md).
ROW_FIELDS = (
    "number", "state", "request_type", "channel", "urgency", "title", "content", "address", "is_confidential",
    "received_at", "due_at", "closed_at", "area", "area__code", "area__name", "category", "category__code",
    "category__name", "category__name_en",
)
ROW_ASSIGNMENT_FIELDS = ("order", "unit", "unit__code", "unit__name", "role", "state", "due_at")


def _narrowed(actor: Actor, filters: OrderFilter, narrowed: bool) -> bool:
    """Whether anything but the words rejects orders of ``order_list(actor, filters)``: the
    caller's own filter (``narrowed``), the other filters, or the actor's visibility."""
    return narrowed or bool(order_list(actor, replace(filters, q=None)).query.has_filters())


def order_page(
    actor: Actor, filters: OrderFilter, *, start: int, stop: int,
    then: Callable[[QuerySet], QuerySet] | None = None, narrowed: bool = False,
) -> list[WorkOrder]:
    """``order_list(actor, filters)[start:stop]`` (``then`` applied to the list first: more
    filters) with the columns of ``ROW_FIELDS``, read through the windows of the newest ids when
    ``filters.q`` has words (``jiesu.search.selectors.windows``): the same orders, in the same
    order. ``narrowed``: ``then`` rejects orders."""
    narrowed = _narrowed(actor, filters, narrowed)
    then = then or (lambda qs: qs)
    assignments = Assignment.objects.select_related("unit").only(*ROW_ASSIGNMENT_FIELDS).order_by("-role", "id")

    # Nothing but the words filters the orders: the page is the words' newest ``stop`` matches.
    newest = None if narrowed else stop

    def fetch(newer_than: int | None) -> list[WorkOrder]:
        qs = then(order_list(actor, replace(filters, newer_than=newer_than, newest=newest)))
        qs = qs.select_related(None).select_related("area", "category").prefetch_related(None).prefetch_related(
            Prefetch("assignments", queryset=assignments)).only(*ROW_FIELDS)
        return list(qs[start:stop])

    return search.newest(filters.q, fetch, lambda rows: len(rows) == stop - start, need=stop, narrowed=narrowed)


def order_count(
    actor: Actor, filters: OrderFilter, *, up_to: int | None,
    then: Callable[[QuerySet], QuerySet] | None = None, narrowed: bool = False,
) -> int:
    """How many orders ``order_list(actor, filters)`` holds (``then`` applied first, as in
    ``order_page``), counting at most ``up_to`` + 1 of them (``up_to`` None: all). Words that
    are the only filter of a city-wide actor's list are counted in the search index alone
    (``search.count_matches``)."""
    if filters.q and not _narrowed(actor, filters, narrowed):
        counted = search.count_matches(filters.q, up_to=up_to)
        if counted is not None:
            return counted
    qs = order_list(actor, filters)
    qs = (then(qs) if then else qs).order_by().select_related(None).prefetch_related(None)
    return qs.count() if up_to is None else qs[: up_to + 1].count()


def receipt(actor: Actor, receipt_id: int) -> IntakeReceipt:
    """An intake receipt its sender (or an administrator) may see; NotFound otherwise, so that
    receipt ids cannot be probed."""
    found = IntakeReceipt.objects.filter(pk=receipt_id).first() if 0 < receipt_id < 2**63 else None
    if found is None or not (actor.is_admin or (actor.user_id is not None and found.actor_id == actor.user_id)):
        raise NotFound(_("No receipt %(id)s."), id=receipt_id)
    return found


def order_detail(actor: Actor, number: str) -> WorkOrder:
    qs = visible(actor).select_related(*LIST_RELATED, "created_by", "merged_into").prefetch_related(
        Prefetch("assignments", queryset=Assignment.objects.select_related("unit", "accepted_by").prefetch_related(
            Prefetch("extensions", queryset=Extension.objects.order_by("requested_at")))),
        "requesters",
        # One query for the replies with their authors and units (as three prefetch levels it
        # was three more round trips on every replied order's page).
        Prefetch("replies", queryset=Reply.objects.select_related("author", "assignment__unit")),
        "callbacks",
        Prefetch("events", queryset=Event.objects.select_related("actor").order_by("at", "id")),
    )
    order = qs.filter(number=number).first()
    if order is None:
        raise NotFound(_("No order %(number)s."), number=number)
    return order


def pane_order(actor: Actor, number: str) -> WorkOrder:
    """The order in the dispatcher's pane: what its head, its requesters and its actions read
    (assignments with their units, requesters), without the history ``order_detail`` loads for
    the order page (events, replies, callbacks, extensions): four queries fewer on every page of
    the queue."""
    qs = visible(actor).select_related(*LIST_RELATED).prefetch_related(
        Prefetch("assignments", queryset=Assignment.objects.select_related("unit")), "requesters",
    )
    order = qs.filter(number=number).first()
    if order is None:
        raise NotFound(_("No order %(number)s."), number=number)
    return order


def inbox_pane_order(actor: Actor, number: str) -> WorkOrder:
    """The order in the unit inbox's pane: what its head, its actions and the lead's reply read
    (assignments with their units and extensions, requesters, replies with their units), without
    the history ``order_detail`` loads for the order page (events, callbacks): two queries fewer
    on every visit of the inbox."""
    qs = visible(actor).select_related(*LIST_RELATED).prefetch_related(
        Prefetch("assignments", queryset=Assignment.objects.select_related("unit").prefetch_related(
            Prefetch("extensions", queryset=Extension.objects.order_by("requested_at")))),
        "requesters",
        Prefetch("replies", queryset=Reply.objects.select_related("assignment__unit")),
    )
    order = qs.filter(number=number).first()
    if order is None:
        raise NotFound(_("No order %(number)s."), number=number)
    return order


def created_order_detail(actor: Actor, order: WorkOrder) -> WorkOrder:
    """The detail of an order this request has just recorded, for the answer to the create
    call. Nothing but its requesters, its "created" event and, when intake's triage dispatched
    it, its assignments and "dispatched" event can exist yet, and ``create_order`` handed those
    back (``order.written``) with the category and area it validated. So a caller who sees every order needs no query at all; anyone else, one, to
    check (as ``order_detail`` does) that they may see it. ``order_detail`` took eight."""
    if order.written is None:
        return order_detail(actor, order.number)
    requesters, events, assignments = order.written
    creator = actor.user if actor.user is not None and actor.user.pk == order.created_by_id else None
    if policy.sees_every_order(actor) and (creator is not None or order.created_by_id is None):
        fresh = order
        fresh.created_by = creator
    else:
        found = visible(actor).select_related(*LIST_RELATED, "created_by").filter(pk=order.pk).first()
        if found is None:
            raise NotFound(_("No order %(number)s."), number=order.number)
        fresh = found
    for event in events:
        if event.actor_id is not None and event.actor_id == fresh.created_by_id:
            event.actor = fresh.created_by
    for assignment in assignments:  # new: no extensions yet
        assignment._prefetched_objects_cache = {"extensions": []}  # type: ignore[attr-defined]
    # What order_detail's prefetches would have found (Django keeps them in this attribute).
    fresh._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "assignments": assignments, "requesters": requesters, "replies": [], "callbacks": [], "events": events,
    }
    return fresh


def caller_history(actor: Actor, phone: str, limit: int = 10) -> list[WorkOrder]:
    """A caller's earlier orders, newest first, for the call-taker's desk."""
    if not phone:
        return []
    ids = Requester.objects.filter(phone=phone).values("order_id")
    return list(visible(actor).filter(pk__in=ids).select_related("category").order_by("-received_at")[:limit])


# The queue's order: returned orders before received ones ("returned" > "received"), each oldest first.
_QUEUE_STATES = (State.RETURNED, State.RECEIVED)


def triage_queue(actor: Actor) -> QuerySet:
    """The dispatcher's queue: received and returned orders, returns first, then oldest."""
    return _with_assignments(visible(actor).filter(state__in=_QUEUE_STATES)).order_by("-state", "received_at", "id")


def triage_queue_head(
    actor: Actor, *, limit: int, shape: Callable[[QuerySet], QuerySet] | None = None,
) -> list[WorkOrder]:
    """The first ``limit`` orders of :func:`triage_queue`, in its order, with their assignments;
    ``shape`` narrows the columns and joins (the queue page reads only what a row shows).

    One query per state, each a walk along ``order_state_received_idx`` (state, received_at, id)
    that stops at ``limit``. Both states in one query cannot walk it: "state descending, then
    oldest first" runs against the index within a state, so PostgreSQL read and sorted every
    waiting order of every month's partition (80 ms p95 at 10M orders, docs/benchmarks.md). The
    state is written into each statement (``_state_is``): with it bound, PostgreSQL switched to a
    generic plan after five calls that read the month's orders by ``received_at`` instead, 2.3–2.5 s
    a page at 10M (session 11)."""
    base = visible(actor).select_related(*LIST_RELATED)
    if shape is not None:
        base = shape(base)
    head: list[WorkOrder] = []
    for state in _QUEUE_STATES:
        if len(head) < limit:
            head += base.filter(_state_is(state)).order_by("received_at", "id")[: limit - len(head)]
    prefetch_related_objects(head, _assignments())
    return head


# The condition of the partial index ``assignment_open_idx``, written out with its constants:
# SQLite uses a partial index only when the query repeats the index's WHERE term, and a term with
# bound parameters does not count. (The states are this module's constants, not input.)
_OPEN = RawSQL(  # noqa: S611
    '"orders_assignment"."state" IN (' + ", ".join(f"'{s}'" for s in OPEN_ASSIGNMENT_STATES) + ")",
    [],
    output_field=BooleanField(),
)


def unit_inbox(actor: Actor, *, include_done: bool = False) -> QuerySet:
    """My units' assignments, soonest deadline first."""
    unit_ids = sorted(int(pk) for pk in actor.unit_ids())
    if not unit_ids:
        return Assignment.objects.none()
    # The units written into the statement (``Constant``), not bound as parameters: PostgreSQL
    # then plans it for these units. A generic plan, which it may keep for a prepared statement
    # after five calls, cannot know how many assignments a unit has, and walked every open
    # assignment by deadline for the busiest bureau (75-84 ms instead of 18-20 at 1M orders,
    # docs/benchmarks.md, session 6).
    units = functools.reduce(operator.or_, (Q(unit_id=Constant(pk)) for pk in unit_ids))
    qs = Assignment.objects.filter(units).select_related("unit", "order", "order__category", "order__area")
    if not include_done:
        qs = qs.filter(_OPEN)
    pending = Extension.objects.filter(assignment=OuterRef("pk"), state=ExtensionState.PENDING)
    return qs.annotate(extension_pending=Exists(pending)).order_by("due_at")


# The columns a row of the inbox page shows (``desk_tags.inbox_items``). A unit's page is its
# 101 assignments due soonest, each with its order, unit and category: with every column that was
# a thousand datetimes and five hundred model instances decoded per visit, most of them unread.
INBOX_ROW_FIELDS = (
    "role", "state", "due_at", "order", "unit", "unit__name", "order__number", "order__channel", "order__urgency",
    "order__content", "order__category", "order__category__name", "order__category__name_en",
)


def unit_inbox_rows(actor: Actor) -> QuerySet:
    """``unit_inbox`` (the same assignments, in the same order) with only what the inbox page's
    rows show: the order's area and the other columns are not read."""
    return unit_inbox(actor).select_related(None).select_related("unit", "order__category").only(*INBOX_ROW_FIELDS)


def overdue(actor: Actor) -> QuerySet:
    return _with_assignments(visible(actor).filter(state__in=list(IN_HANDLING), due_at__lt=clock.now())).order_by(
        "due_at"
    )


def at_risk(actor: Actor, *, within_hours: int = 24) -> QuerySet:
    now = clock.now()
    return _with_assignments(
        visible(actor).filter(
            state__in=list(IN_HANDLING), due_at__gte=now, due_at__lt=now + dt.timedelta(hours=within_hours)
        )
    ).order_by("due_at")


def callback_queue(actor: Actor) -> QuerySet:
    return _with_assignments(visible(actor).filter(state=State.CALLBACK_DUE)).prefetch_related(
        "replies"
    ).order_by("updated_at")


def pending_extensions(actor: Actor) -> QuerySet:
    qs = Extension.objects.filter(state=ExtensionState.PENDING)
    orders = visible(actor)
    # Only a restricted actor needs the visibility subquery: for the city-wide centre it would be
    # "every order", which the database may well evaluate by reading every order.
    if orders.query.has_filters():
        qs = qs.filter(assignment__order__in=orders)
    return qs.select_related("assignment__unit", "assignment__order", "requested_by").order_by("requested_at")


def order_for_requester(*, number: str, phone: str) -> WorkOrder:
    """The public track page: the number and a phone on the order, or nothing at all (the same
    answer for a wrong number and a wrong phone, so that numbers cannot be probed)."""
    phone = "".join(ch for ch in (phone or "") if ch.isdigit())
    order = (
        WorkOrder.objects.filter(number=(number or "").strip(), requesters__phone=phone)
        .select_related("category", "merged_into")
        .first()
    )
    if order is None or not phone:
        raise NotFound(_("No order matches this number and phone."))
    return order
