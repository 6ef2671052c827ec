"""/api/v1/orders: record, list, read, and one endpoint per lifecycle action.

Every view parses, calls one service function (``jiesu.orders.actions``) or selector, and
serialises. Permission, locking, state guards and domain validation live in the services;
errors are turned into JSON by ``jiesu.api.errors``.

The action endpoints are ``POST /orders/{number}/{action}`` where ``action`` is the name of
the policy action (``jiesu.accounts.policy.Action``): the centre's ruling on an extension is
``decide_extension``. Each answers the order's detail (for ``merge``: of the merged duplicate,
whose ``merged_into`` names the survivor).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Header, Query, Router, Schema, Status
from pydantic import Field

from jiesu.accounts.policy import IDENTITY_ROLES, Actor
from jiesu.api import present
from jiesu.api.auth import actor_of
from jiesu.api.errors import UnknownAction
from jiesu.api.schemas import (
    AcceptIn,
    AnswerIn,
    CallbackIn,
    ContactIn,
    DecideExtensionIn,
    DeclineIn,
    DispatchIn,
    EmptyIn,
    ErrorOut,
    ExtendIn,
    MergeIn,
    NoteIn,
    OptionalReasonIn,
    OrderCreateIn,
    OrderDetail,
    OrderPage,
    ReasonIn,
    ReceiptOut,
    ReferIn,
    ReplyIn,
    ReturnIn,
)
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.orders import actions, concurrency, selectors
from jiesu.orders.actions import receipts
from jiesu.orders.actions.intake import normalise_phone
from jiesu.orders.errors import InvalidInput, NotFound
from jiesu.orders.models import OrderState, Requester, WorkOrder

router = Router(tags=["orders"])

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
# Up to this many matching orders past ``offset``, ``count`` is exact; past it, counting every
# visible order is most of the call's time (825 ms for the newest 50 of 1M on PostgreSQL,
# docs/benchmarks.md), so the count stops there unless the client asks for the exact one
# (``exact_count=true``). Counting costs a read per match (scattered ones for a text search:
# 150 ms for 10,000 at 1M orders), so the bound is five pages of the largest size.
COUNT_CAP = 1_000
NUMBER_RE = re.compile(r"\d{8,20}")

ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422)}
DETAIL = {200: OrderDetail, **ERRORS}


# ---------------------------------------------------------------- helpers


def _detail(request: HttpRequest, number: str) -> dict[str, Any]:
    actor = actor_of(request)
    return present.order_detail(selectors.order_detail(actor, number), actor)


def _visible_number(request: HttpRequest, number: str) -> tuple[Actor, str]:
    """The caller and the order number, or 404 if the caller cannot see that order, so that
    numbers of other units' orders cannot be probed through the action endpoints."""
    actor = actor_of(request)
    if not NUMBER_RE.fullmatch(number) or not selectors.visible(actor).filter(number=number).exists():
        raise NotFound(_("No order %(number)s."), number=number[:20])
    # ``If-Match: <ETag of GET /orders/{number}>``: refused with 409 "changed" if the order
    # changed since (checked under the row lock; jiesu.orders.concurrency).
    concurrency.expect(number, request.headers.get("If-Match"))
    return actor, number


def _day_start(day: dt.date, *, next_day: bool = False) -> dt.datetime:
    """Midnight in Beijing (the selector's upper bound is exclusive: the next day's midnight)."""
    return dt.datetime.combine(day + dt.timedelta(days=int(next_day)), dt.time.min, tzinfo=SHANGHAI)


def _phone_matches(actor: Actor, qs: QuerySet[WorkOrder], phone: str) -> QuerySet[WorkOrder]:
    """Searching by phone tells who called, so it reaches only orders whose requesters the
    caller may see unmasked: all of them for the centre's identity roles, the caller's own
    units' non-confidential orders for a handler, none for anyone else (DESIGN §9)."""
    qs = qs.filter(pk__in=Requester.objects.filter(phone=phone).values("order_id"))
    if actor.is_admin or actor._centre_grants(IDENTITY_ROLES):
        return qs
    secret = Requester.objects.filter(wants_confidential=True).values("order_id")
    mine = WorkOrder.objects.filter(assignments__unit_id__in=actor.unit_ids()).values("pk")
    return qs.filter(is_confidential=False, pk__in=mine).exclude(pk__in=secret)


# ---------------------------------------------------------------- record, list, read


@router.post("/orders", response={201: OrderDetail, 200: OrderDetail, 202: ReceiptOut, **ERRORS},
             summary="Record an order")
def create_order(
    request: HttpRequest,
    response: HttpResponse,
    payload: OrderCreateIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
    prefer: str | None = Header(None, alias="Prefer"),
) -> Status[dict[str, Any]]:
    """Records a work order (Art. 10). With an ``Idempotency-Key`` header a retry answers 200
    with the order the first request made (201), and never makes a second one.

    With ``Prefer: respond-async`` (RFC 7240) the order is checked as always, acknowledged at
    once (202, a receipt, ``Location`` its status) and made in the next batch, usually within
    a second: the way for clients that can wait for the number, and for surges (a batch costs
    a fraction of an order made alone). ``GET /receipts/{id}`` then gives the order number.
    An acknowledged receipt survives a crash; a retry with the same key answers the same receipt."""
    actor = actor_of(request)
    kwargs: dict[str, Any] = dict(
        actor=actor,
        request_type=payload.request_type,
        channel=payload.channel,
        urgency=payload.urgency,
        title=payload.title,
        content=payload.content,
        address=payload.address,
        latitude=payload.latitude,
        longitude=payload.longitude,
        category_code=payload.category,
        area_code=payload.area,
        confidential=payload.confidential,
        requesters=[
            actions.RequesterInput(phone=r.phone, name=r.name, wants_confidential=r.confidential)
            for r in payload.requesters
        ],
        draft=payload.draft,
        idempotency_key=idempotency_key,
    )
    if prefers_async(prefer):
        receipt = receipts.receive_order(**kwargs)
        response["Preference-Applied"] = "respond-async"
        if getattr(receipt, "replayed", False) and receipt.order_id is not None and receipt.pk is None:
            return Status(200, _detail(request, receipt.order.number))  # a synchronous request made it
        response["Location"] = f"{request.path.rsplit('/orders', 1)[0]}/receipts/{receipt.pk}"
        return Status(202, present.receipt(receipt))
    order = actions.create_order(**kwargs)
    if order.replayed:
        return Status(200, _detail(request, order.number))
    return Status(201, present.order_detail(selectors.created_order_detail(actor, order), actor))


def prefers_async(prefer: str | None) -> bool:
    """Whether a ``Prefer`` header asks for ``respond-async`` (RFC 7240: comma-separated
    preferences, each possibly with a value)."""
    return any(p.split("=", 1)[0].strip().lower() == "respond-async" for p in (prefer or "").split(","))


@router.get("/receipts/{receipt_id}", response={200: ReceiptOut, **ERRORS}, summary="An intake receipt")
def get_receipt(request: HttpRequest, receipt_id: int) -> dict[str, Any]:
    """An order acknowledged with ``Prefer: respond-async``: ``pending`` until its batch made
    it, then ``made`` with the order's ``number``; ``failed`` (with ``error``) if it could not be
    made, which the centre's administrators are told of. Only its sender (or an administrator)
    sees it."""
    return present.receipt(selectors.receipt(actor_of(request), receipt_id))


class OrderQuery(Schema):
    state: str | None = None
    unit: str | None = Field(None, description="unit code: orders assigned to it")
    area: str | None = Field(None, description="area code: orders in it or below it")
    type: str | None = Field(None, description="request type")
    channel: str | None = None
    received_from: dt.date | None = Field(None, description="first day, inclusive (Asia/Shanghai)")
    received_to: dt.date | None = Field(None, description="last day, inclusive (Asia/Shanghai)")
    phone: str | None = Field(None, description="a requester's phone")
    q: str | None = Field(None, description="an order number, or words (Chinese full-text search); newest first")
    limit: int = Field(DEFAULT_LIMIT, ge=1, description=f"page size, at most {MAX_LIMIT}")
    offset: int = Field(0, ge=0)
    exact_count: bool = Field(False, description=(
        f"count every matching order, however many (slow for large lists); by default ``count`` "
        f"is exact up to {COUNT_CAP:,} past ``offset`` and ``count_is_estimate`` says when it stopped there"))


@router.get("/orders", response={200: OrderPage, **ERRORS}, summary="List orders")
def list_orders(request: HttpRequest, filters: Query[OrderQuery]) -> dict[str, Any]:
    """The orders the caller may see, newest first, filtered and paginated (``limit`` is
    capped at 200).

    ``count`` is the number of matching orders, counted up to ``offset`` + 1,000: when more
    match, ``count`` is that bound and ``count_is_estimate`` is true (at least that many; keep
    paging while a page is full). ``exact_count=true`` counts them all, at the price of reading
    every match (seconds for a city's million orders)."""
    actor = actor_of(request)
    if filters.state and filters.state not in OrderState.values:
        raise InvalidInput(_("Unknown state “%(value)s”."), field="state", value=filters.state[:40])
    # Stored as digits (without +86): search the way it was stored, however it was typed.
    phone = normalise_phone(filters.phone) if filters.phone else ""
    wanted = selectors.OrderFilter(
        state=filters.state or None,
        unit=filters.unit or None,
        area=filters.area or None,
        request_type=filters.type or None,
        channel=filters.channel or None,
        received_from=_day_start(filters.received_from) if filters.received_from else None,
        received_to=_day_start(filters.received_to, next_day=True) if filters.received_to else None,
        q=(filters.q or "").strip()[:200] or None,
    )
    then = (lambda qs: _phone_matches(actor, qs, phone)) if phone else None
    limit = min(filters.limit, MAX_LIMIT)
    start, up_to = filters.offset, filters.offset + COUNT_CAP
    page = selectors.order_page(actor, wanted, start=start, stop=start + limit, then=then, narrowed=bool(phone))

    # The count needs no window: any up_to + 1 matches say "at least up_to", in whatever order.
    count = selectors.order_count(actor, wanted, up_to=None if filters.exact_count else up_to, then=then,
                                  narrowed=bool(phone))
    count, estimate = (up_to, True) if not filters.exact_count and count > up_to else (count, False)
    return {
        "count": count,
        "count_is_estimate": estimate,
        "limit": limit,
        "offset": filters.offset,
        "results": [present.order_summary(o) for o in page],
    }


@router.get("/orders/{number}", response=DETAIL, summary="Read an order")
def get_order(request: HttpRequest, number: str, response: HttpResponse) -> dict[str, Any]:
    """The whole order: requesters (masked unless the caller needs them; withheld from units on
    confidential reports), assignments with their deadlines, replies, callbacks and history.
    The ``ETag`` header is the order's version: send it back as ``If-Match`` with an action to
    have it refused (409, code ``changed``) if someone else changed the order meanwhile."""
    if not NUMBER_RE.fullmatch(number):
        raise NotFound(_("No order %(number)s."), number=number[:20])
    actor = actor_of(request)
    order = selectors.order_detail(actor, number)
    response["ETag"] = concurrency.etag(order)
    return present.order_detail(order, actor)


# ---------------------------------------------------------------- the centre


@router.post("/orders/{number}/submit", response=DETAIL, summary="Submit a draft")
def submit(request: HttpRequest, number: str, payload: EmptyIn | None = None) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.submit_order(actor=actor, number=number)
    return _detail(request, number)


@router.post("/orders/{number}/answer", response=DETAIL, summary="Answer a consultation on the spot")
def answer(request: HttpRequest, number: str, payload: AnswerIn) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.answer_order(actor=actor, number=number, answer=payload.answer)
    return _detail(request, number)


@router.post("/orders/{number}/dispatch", response=DETAIL, summary="Dispatch (or re-dispatch) to units")
def dispatch(request: HttpRequest, number: str, payload: DispatchIn) -> dict[str, Any]:
    from jiesu.dispatch.services import dispatch_and_learn  # records where the suggestion was overruled

    actor, number = _visible_number(request, number)
    dispatch_and_learn(
        actor=actor, number=number, lead_unit=payload.lead_unit, co_units=payload.co_units,
        category_code=payload.category, area_code=payload.area, note=payload.note,
    )
    return _detail(request, number)


@router.post("/orders/{number}/requeue", response=DETAIL, summary="Uphold a return: back to triage")
def requeue(request: HttpRequest, number: str, payload: ReasonIn) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.requeue_order(actor=actor, number=number, reason=payload.reason)
    return _detail(request, number)


@router.post("/orders/{number}/refer", response=DETAIL, summary="Refer to another channel (Art. 11)")
def refer(request: HttpRequest, number: str, payload: ReferIn) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.refer_order(actor=actor, number=number, outcome=payload.outcome, referred_to=payload.referred_to,
                        reason=payload.reason)
    return _detail(request, number)


@router.post("/orders/{number}/decline", response=DETAIL, summary="Decline (Art. 11)")
def decline(request: HttpRequest, number: str, payload: DeclineIn) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.decline_order(actor=actor, number=number, outcome=payload.outcome, reason=payload.reason)
    return _detail(request, number)


@router.post("/orders/{number}/merge", response=DETAIL, summary="Merge this duplicate into another order")
def merge(request: HttpRequest, number: str, payload: MergeIn) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.merge_orders(actor=actor, number=number, into=payload.into, reason=payload.reason)
    return _detail(request, number)


@router.post("/orders/{number}/close", response=DETAIL, summary="Close an answered, referred or declined one")
def close(request: HttpRequest, number: str, payload: OptionalReasonIn | None = None) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.close_order(actor=actor, number=number, reason=payload.reason if payload else "")
    return _detail(request, number)


@router.post("/orders/{number}/decide_extension", response=DETAIL, summary="Rule on an extension request")
def decide_extension(request: HttpRequest, number: str, payload: DecideExtensionIn) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.decide_extension(actor=actor, number=number, approve=payload.approve, note=payload.note,
                             extension_id=payload.extension_id)
    return _detail(request, number)


@router.post("/orders/{number}/callback", response=DETAIL, summary="Record a callback attempt (回访)")
def callback(request: HttpRequest, number: str, payload: CallbackIn) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.record_callback(
        actor=actor, number=number, reached=payload.reached, contacted=payload.contacted,
        solved=payload.solved, resolution=payload.resolution, satisfaction=payload.satisfaction, note=payload.note,
        via=payload.via,
    )
    return _detail(request, number)


@router.post("/orders/{number}/reopen", response=DETAIL, summary="Reopen (重办)")
def reopen(request: HttpRequest, number: str, payload: ReasonIn) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.reopen_order(actor=actor, number=number, reason=payload.reason)
    return _detail(request, number)


@router.post("/orders/{number}/urge", response=DETAIL, summary="Urge (督办)")
def urge(request: HttpRequest, number: str, payload: ReasonIn) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.urge_order(actor=actor, number=number, reason=payload.reason)
    return _detail(request, number)


@router.post("/orders/{number}/note", response=DETAIL, summary="Add a note to the history")
def note(request: HttpRequest, number: str, payload: NoteIn) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.add_note(actor=actor, number=number, text=payload.text)
    return _detail(request, number)


# ---------------------------------------------------------------- the handling unit


@router.post("/orders/{number}/accept", response=DETAIL, summary="Accept the assignment (签收)")
def accept(request: HttpRequest, number: str, payload: AcceptIn | None = None) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.accept_assignment(actor=actor, number=number, unit=payload.unit if payload else None)
    return _detail(request, number)


@router.post("/orders/{number}/return", response=DETAIL, summary="Return the assignment (退单)")
def return_(request: HttpRequest, number: str, payload: ReturnIn) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.return_assignment(actor=actor, number=number, reason=payload.reason, unit=payload.unit)
    return _detail(request, number)


@router.post("/orders/{number}/extend", response=DETAIL, summary="Ask the centre for more time (延期)")
def extend(request: HttpRequest, number: str, payload: ExtendIn) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.request_extension(actor=actor, number=number, working_days=payload.working_days,
                              reason=payload.reason, unit=payload.unit)
    return _detail(request, number)


@router.post("/orders/{number}/contact", response=DETAIL, summary="Record contact with the requester")
def contact(request: HttpRequest, number: str, payload: ContactIn | None = None) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.record_contact(actor=actor, number=number, note=payload.note if payload else "",
                           unit=payload.unit if payload else None)
    return _detail(request, number)


@router.post("/orders/{number}/reply", response=DETAIL, summary="Reply (答复)")
def reply(request: HttpRequest, number: str, payload: ReplyIn) -> dict[str, Any]:
    actor, number = _visible_number(request, number)
    actions.reply_to_order(actor=actor, number=number, body=payload.body, outcome=payload.outcome,
                           co_unit_summary=payload.co_unit_summary, unit=payload.unit)
    return _detail(request, number)


# ---------------------------------------------------------------- anything else: JSON 404

ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.api_operation(ANY_METHOD, "/orders/{number}/{action}", include_in_schema=False)
def unknown_action(request: HttpRequest, number: str, action: str) -> None:
    raise UnknownAction(_("There is no action “%(action)s” on orders."), action=action[:40])

