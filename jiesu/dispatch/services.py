"""Triage in the order lifecycle: suggest, auto-dispatch, learn from corrections."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from jiesu import clock
from jiesu.accounts.policy import Actor, visible_orders
from jiesu.deadlines.services import load_config as load_deadline_config
from jiesu.dispatch import runtime
from jiesu.dispatch.models import CorrectionField, DispatchSettings, TriageCorrection, TriageSuggestion
from jiesu.ops.plans import among
from jiesu.orders import actions
from jiesu.orders.actions.dispatch import DispatchPlan, checked_units, plan_dispatch
from jiesu.orders.errors import DomainError
from jiesu.orders.models import OPEN_ORDER_STATES, WorkOrder
from jiesu.orders.states import State
from jiesu.org.models import Area
from jiesu.triage.duplicates import Candidate, DuplicateFinder
from jiesu.triage.engine import TriageInput, TriageResult

log = logging.getLogger("jiesu.dispatch")

# Which orders are duplicate candidates: not closed-and-done, not merged, recent.
OPEN_DAYS = 60
CLOSED_DAYS = 14
MAX_CANDIDATES = 400
OPEN_STATES = OPEN_ORDER_STATES
# The open-state condition written out literally, so that SQLite, which does not match a partial
# index against bound parameters, uses ``order_open_area_idx`` (its condition is the same text).
_OPEN_ORDER = Q(RawSQL(  # noqa: S611
    '"orders_workorder"."state" IN (' + ", ".join(f"'{s}'" for s in OPEN_ORDER_STATES) + ")", [],
    output_field=BooleanField()))
FINDER = DuplicateFinder()


def order_input(order: WorkOrder) -> TriageInput:
    text = f"{order.title}。{order.content}" if order.title else order.content
    return TriageInput(
        text=text,
        address=order.address,
        latitude=float(order.latitude) if order.latitude is not None else None,
        longitude=float(order.longitude) if order.longitude is not None else None,
        channel=order.channel,
        category_code=order.category.code if order.category_id else None,  # type: ignore[union-attr]
        area_code=order.area.code if order.area_id else None,  # type: ignore[union-attr]
    )


def should_auto_dispatch(result: TriageResult, config: runtime.DispatchConfig | DispatchSettings) -> bool:
    return bool(
        config.auto_dispatch
        and result.ok
        and not result.errors
        and result.routing
        and not result.referral  # Art. 11 referrals are a person's decision, always
        and result.confidence >= config.threshold
    )


def triage_order(order_id: int) -> TriageSuggestion | None:
    """Triage a received order, store the suggestion, and dispatch it as the system when the
    suggestion is confident enough. Returns the suggestion (None if the order is gone or no
    longer waiting for dispatch). The task's way (a retry, or intake with inline triage off)."""
    order = WorkOrder.objects.select_related("category", "area").filter(pk=order_id).first()
    if order is None or order.state != State.RECEIVED:
        return None
    return _triage(order, new=False)


def triage_new_order(order: WorkOrder) -> bool:
    """Intake's inline triage: triage (and auto-dispatch) the order that intake's transaction
    has just created, in that transaction, from the order in memory. True when done; False when
    anything went wrong: then nothing of it was written (a savepoint), ``order`` is as intake
    left it, and the caller queues the background task, which tries again. Never raises:
    triage never blocks intake."""
    kept = _snapshot(order)
    try:
        with transaction.atomic():
            _triage(order, new=True)
    except Exception:
        log.exception("inline triage of order %s failed; queued for the task worker", order.number)
        _restore(order, kept)
        return False
    return True


def _triage(order: WorkOrder, *, new: bool) -> TriageSuggestion:
    """``new``: the order was created in this transaction (no suggestion yet, not to be read
    or locked again). Suggestion, dispatch and event are written by the same code either way."""
    result = runtime.engine().triage(order_input(order))
    config = runtime.dispatch_config()
    dispatched = False
    if should_auto_dispatch(result, config):
        dispatched = _auto_dispatch(order, result, new=new)
    fields = {"result": result.to_dict(), "model_version": result.model_version or "",
              "confidence": result.confidence, "auto_dispatched": dispatched}
    if new:
        return TriageSuggestion.objects.create(order=order, **fields)  # a new order has none: no upsert
    suggestion, _created = TriageSuggestion.objects.update_or_create(order=order, defaults=fields)
    return suggestion


def _auto_dispatch_args(order: WorkOrder, result: TriageResult) -> dict[str, Any]:
    """What the system dispatches to from a suggestion: units, and the category and area the
    order does not have yet, as rows kept with the engine (no query each); a code unknown there
    goes on as it is, and the dispatch's checks refuse it."""
    area_code = result.location.code if result.location.status == "found" and order.area_id is None else None
    category_code = result.category.code if order.category_id is None else None
    lead, *co = [runtime.unit(code) or code for code in [result.lead_unit or "", *result.co_units]]
    return {
        "lead_unit": lead,
        "co_units": co,
        "category_code": (runtime.category(category_code) or category_code) if category_code else None,
        "area_code": (runtime.area(area_code) or area_code) if area_code else None,
        "data": {"auto": True, "model_version": result.model_version or "keywords",
                 "category_source": result.category.source, "confidence": round(result.confidence, 4)},
    }


def _auto_dispatch(order: WorkOrder, result: TriageResult, *, new: bool) -> bool:
    """Dispatch as the system (the one auto-dispatch path); False when the dispatch is refused."""
    kept = _snapshot(order)
    try:
        actions.dispatch_order(actor=Actor.system(), number=order.number, new_order=order if new else None,
                               **_auto_dispatch_args(order, result))
    except DomainError as err:
        # Dispatched by a person meanwhile, a unit deactivated …: the dispatcher decides.
        log.info("triage: order %s not auto-dispatched: %s", order.number, err)
        _restore(order, kept)  # dispatch_order refuses before it writes, not before it sets a category
        return False
    return True


@dataclass
class Triaged:
    """What triage writes for one new order of a batch, built but not saved: the suggestion
    and, when the system dispatched it, the dispatch (its order already changed)."""

    suggestion: TriageSuggestion
    dispatch: DispatchPlan | None


def triage_new_orders(orders: list[WorkOrder], *, at: dt.datetime) -> list[Triaged | None]:
    """The batch intake's triage (``jiesu.orders.actions.receipts``): for each received order of
    the batch, what ``_triage`` would write for it, by the same rules (``should_auto_dispatch``,
    ``_auto_dispatch_args``, ``plan_dispatch``), for the caller to insert with the batch. None
    where triage failed: that order waits, the caller queues the background task for it, and
    the rest of the batch goes on (triage never blocks intake)."""
    try:
        engine = runtime.engine()
        config = runtime.dispatch_config()
        calendar, limit_rows = load_deadline_config()
    except Exception:
        # Nothing to triage with (a model or a setting that cannot be read): the batch is made
        # all the same, and each order waits for its background triage, as when one fails.
        log.exception("triage of a batch of %s new orders could not start; queued for the task worker",
                      len(orders))
        return [None] * len(orders)
    system = Actor.system()
    out: list[Triaged | None] = []
    for order in orders:
        try:
            result = engine.triage(order_input(order))
            plan = None
            if should_auto_dispatch(result, config):
                kept = _snapshot(order)
                args = _auto_dispatch_args(order, result)
                try:
                    lead, co = checked_units(args.pop("lead_unit"), args.pop("co_units"))
                    plan = plan_dispatch(order=order, actor=system, lead=lead, co=co, at=at, calendar=calendar,
                                         limit_rows=limit_rows, **args)
                except DomainError as err:
                    log.info("triage: order %s not auto-dispatched: %s", order.number, err)
                    _restore(order, kept)
            suggestion = TriageSuggestion(order=order, result=result.to_dict(), model_version=result.model_version or "",
                                          confidence=result.confidence, auto_dispatched=plan is not None)
            out.append(Triaged(suggestion=suggestion, dispatch=plan))
        except Exception:
            log.exception("triage of new order %s failed; queued for the task worker", order.number)
            out.append(None)
    return out


def _snapshot(order: WorkOrder) -> tuple[dict[str, Any], dict[str, Any]]:
    return dict(order.__dict__), dict(order._state.fields_cache)


def _restore(order: WorkOrder, kept: tuple[dict[str, Any], dict[str, Any]]) -> None:
    values, cache = kept
    order.__dict__.clear()
    order.__dict__.update(values)
    order._state.fields_cache = cache


def triage_safely(order_id: int) -> str:
    """What the task runs: never raises, whatever goes wrong (the order then simply waits in
    the dispatcher's queue, as without triage)."""
    try:
        suggestion = triage_order(order_id)
    except Exception:
        log.exception("triage of order id %s failed; it waits for a dispatcher", order_id)
        return "failed"
    if suggestion is None:
        return "skipped"
    return "dispatched" if suggestion.auto_dispatched else "suggested"


# ----------------------------------------------------------------------------- corrections


def _on_one_line(a: str, b: str) -> bool:
    """Whether two area codes lie on one line of descent (a street and its community)."""
    paths = dict(Area.objects.filter(code__in=[a, b]).values_list("code", "path"))
    pa, pb = paths.get(a, a).split("/"), paths.get(b, b).split("/")
    return a in pb or b in pa


def record_corrections(order: WorkOrder, actor: Actor) -> list[TriageCorrection]:
    """After a person dispatched ``order``: every suggested value they did not take."""
    suggestion = TriageSuggestion.objects.filter(order=order).first()
    if suggestion is None or actor.user_id is None:
        return []
    lead = order.lead_assignment
    chosen = {
        CorrectionField.CATEGORY: order.category.code if order.category else "",
        CorrectionField.UNIT: lead.unit.code if lead else "",
        CorrectionField.AREA: order.area.code if order.area else "",
        CorrectionField.TYPE: order.request_type,
    }
    now = clock.now()
    out = []
    for field_, value in chosen.items():
        suggested = suggestion.suggested(field_)
        if not suggested or not value or suggested == value:
            continue
        if field_ == CorrectionField.AREA and _on_one_line(suggested, value):
            continue  # more or less precise, not a different place
        out.append(TriageCorrection(order=order, field=field_, suggested=suggested[:64], chosen=value[:64],
                                    by_id=actor.user_id, at=now, model_version=suggestion.model_version))
    TriageCorrection.objects.bulk_create(out)
    return out


def dispatch_and_learn(*, actor: Actor, number: str, **kwargs: Any) -> WorkOrder:
    """``dispatch_order``, then record where the dispatcher overruled the suggestion. Learning
    never costs the dispatch: a failure to record is logged."""
    order = actions.dispatch_order(actor=actor, number=number, **kwargs)
    try:
        with transaction.atomic():
            fresh = WorkOrder.objects.select_related("category", "area").prefetch_related(
                "assignments__unit").get(pk=order.pk)
            record_corrections(fresh, actor)
    except Exception:
        log.exception("could not record triage corrections for order %s", number)
    return order


# ----------------------------------------------------------------------------- live suggestions


@dataclass(frozen=True)
class DuplicateRow:
    number: str
    score: float
    state: str
    state_label: str
    content: str
    received_at: dt.datetime
    place: str

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def duplicate_candidates(
    actor: Actor, text: str, *, area_code: str | None = None, area_path: str | None = None,
    exclude: str | None = None, limit: int = 5,
) -> list[DuplicateRow]:
    """Open or recent orders the actor can see, in the same district when it is known, that say
    much the same. Three small queries (the district's areas, its open orders, its recently
    closed orders), each over its own index (``_recent_candidates``)."""
    from jiesu.orders.models import OrderState

    if not text or not text.strip():
        return []
    now = clock.now()
    if area_path is None:
        area_path = runtime.area_path(area_code)
    rows = _recent_candidates(actor, area_path, now=now, exclude=exclude)
    info = {r.number: r for r in rows}
    candidates = [Candidate(number=r.number, text=f"{r.title} {r.content}", area=r.area_path, at=r.received_at)
                  for r in rows]
    matches = FINDER.find(text, candidates, area=area_path, at=now, limit=limit)
    labels = dict(OrderState.choices)
    return [
        DuplicateRow(number=m.number, score=m.score, state=info[m.number].state,
                     state_label=str(labels.get(info[m.number].state, info[m.number].state)),
                     content=info[m.number].content, received_at=info[m.number].received_at, place=m.place)
        for m in matches
    ]


@dataclass(frozen=True, slots=True)
class _Recent:
    number: str
    title: str
    content: str
    area_path: str
    received_at: dt.datetime
    state: str


_RECENT_FIELDS = ("number", "title", "content", "area__path", "received_at", "state")


def _recent_candidates(actor: Actor, area_path: str, *, now: dt.datetime, exclude: str | None) -> list[_Recent]:
    """The newest ``MAX_CANDIDATES`` of "open and received within OPEN_DAYS" ∪ "closed within
    CLOSED_DAYS", in the district of ``area_path`` (and orders with no area) when there is one.

    One ``OR`` of the two conditions cannot use an index: the database walked ``received_at``
    backwards through every order until 400 of the district turned up, seconds for a small
    district at 1M orders. So each half is its own query with its own index (the partial
    ``order_open_area_idx`` over open orders only, ``order_closed_area_idx`` by closure, or
    ``order_closed_idx`` city-wide), the district is a list of area ids, and Python merges both
    halves, newest received first. Up to the cap this is exactly the old set; past it, the
    closed half is the most recently *closed* orders rather than the most recently received."""
    district = "/".join(area_path.split("/")[:2]) if area_path.count("/") >= 1 else ""
    # The district as a list of area ids (tens to hundreds), read first: the planner then sees
    # "area_id IN (…) OR area_id IS NULL", which the area indexes answer (a bitmap per area), and
    # estimates it from the column's statistics. As a subquery it became a filter applied to
    # every open order of the city (docs/benchmarks.md). Written as ranges of consecutive ids
    # (``among``), which plan in a fraction of the time over monthly partitions.
    areas = list(Area.objects.filter(Q(path=district) | Q(path__startswith=district + "/"))
                 .values_list("id", flat=True)) if district else []

    def newest(cond: Q, order: str) -> list[tuple]:
        qs = visible_orders(actor, WorkOrder.objects.filter(cond))
        if district:
            qs = qs.filter(among("area_id", areas) | Q(area__isnull=True))
        if exclude:
            qs = qs.exclude(number=exclude)
        return list(qs.order_by(order).values_list(*_RECENT_FIELDS)[:MAX_CANDIDATES])

    open_rows = newest(_OPEN_ORDER & Q(received_at__gte=now - dt.timedelta(days=OPEN_DAYS)), "-received_at")
    closed_rows = newest(Q(closed_at__gte=now - dt.timedelta(days=CLOSED_DAYS)), "-closed_at")
    seen: dict[str, _Recent] = {}
    for number, title, content, path, received_at, state in open_rows + closed_rows:
        seen.setdefault(number, _Recent(number, title, content, path or "", received_at, state))
    return sorted(seen.values(), key=lambda r: r.received_at, reverse=True)[:MAX_CANDIDATES]


def suggest(text: str, address: str = "", *, latitude: float | None = None, longitude: float | None = None,
            category_code: str | None = None, area_code: str | None = None, channel: str = "") -> TriageResult:
    """A live suggestion (desk and API): the engine only, nothing stored."""
    return runtime.engine().triage(TriageInput(
        text=text, address=address, latitude=latitude, longitude=longitude, channel=channel,
        category_code=category_code, area_code=area_code,
    ))
