"""受理回执: an order acknowledged at once and made, with many others, a moment later.

Why: an order made one at a time costs about twenty statements through the ORM, each paying
Django's and the driver's per-statement price; on 2 cores that caps intake near 50–80 orders a
second (docs/benchmarks.md). A client that can wait for its order number (an app, a web form, a
partner's system, a surge of calls) sends ``Prefer: respond-async`` (RFC 7240): the request is
validated exactly as ``create_order`` validates it, stored as one ``IntakeReceipt`` row, and
acknowledged (202) when that row is committed, so an acknowledged request survives a crash. The
task worker's batch intake (``make_received_orders``, run by ``jiesu worker``) then makes the
orders of up to ``BATCH`` receipts in one transaction: the same rows as ``create_order`` —
number, requesters, "created" event, search words, triage with auto-dispatch and deadlines, the
suggestion, the idempotency key, the notification task — by the same rules (the builders in
``intake``, ``dispatch`` and ``jiesu.dispatch.services``), one INSERT per table.

What is never lost: a receipt is pending until the transaction that made its order commits (the
order and the receipt's link are one commit). A batch that fails is made again one receipt at a
time, each through ``intake.make_order``; a receipt that still cannot be made is kept as
``failed`` with the error, reported by ``jiesu check``, and can be retried from the admin.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts.policy import Action, Actor
from jiesu.catalogue.models import Urgency
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.ops.inserts import insert_all
from jiesu.ops.plans import generic_plans_for_this_transaction
from jiesu.orders import events as order_events
from jiesu.orders.actions.base import after_commit, require
from jiesu.orders.actions.intake import (
    RequesterInput,
    _validated,
    created_data,
    make_order,
    new_order,
    new_requesters,
    next_numbers,
    owner_of,
    queue_triage,
)
from jiesu.orders.errors import DomainError, NotAllowed
from jiesu.orders.events import EventCode, announce_recorded, send_post_save, together
from jiesu.orders.models import (
    Assignment,
    Event,
    IdempotencyKey,
    IntakeReceipt,
    ReceiptState,
    Requester,
    WorkOrder,
)
from jiesu.orders.states import State

if TYPE_CHECKING:
    from jiesu.dispatch.services import Triaged

log = logging.getLogger("jiesu.orders")

# Receipts made per transaction. Larger batches cost less per order but hold the day's number
# row longer (every synchronous intake of the day waits for it); 200 orders take ~0.5 s.
BATCH = 200
# How long the receipts that arrive after a partial batch gather before the next one: at 60
# orders/s a batch then holds ~15 instead of 2–3, and an order waits at most this long more.
GATHER_SECONDS = 0.25
monotonic = time.monotonic  # the drain's clock (tests set it)


def receive_order(
    *,
    actor: Actor,
    request_type: str,
    channel: str,
    content: str,
    requesters: list[RequesterInput],
    urgency: str = Urgency.NORMAL,
    title: str = "",
    address: str = "",
    category_code: str | None = None,
    area_code: str | None = None,
    latitude=None,
    longitude=None,
    confidential: bool = False,
    draft: bool = False,
    idempotency_key: str | None = None,
) -> IntakeReceipt:
    """Acknowledge an order to be made in the next batch (Art. 10): checked as ``create_order``
    checks it, so that a bad request is refused now and nothing is stored. With an idempotency
    key, a retry answers the first receipt (``replayed``), or the order a synchronous request
    with that key already made (an unsaved receipt in state ``made``)."""
    require(actor, Action.CREATE)
    given: dict[str, Any] = {
        "request_type": request_type, "channel": channel, "content": content, "urgency": urgency, "title": title,
        "address": address, "category_code": category_code, "area_code": area_code,
        "latitude": None if latitude in (None, "") else str(latitude),
        "longitude": None if longitude in (None, "") else str(longitude),
    }
    _validated(proactive=False, requesters=requesters, **given)
    payload = {**given, "confidential": bool(confidential), "draft": bool(draft),
               "requesters": [[r.phone, r.name, bool(r.wants_confidential), r.email] for r in requesters]}
    owner, key = owner_of(actor), (idempotency_key or "").strip()[:128]
    if key and (earlier := _earlier(owner, key)) is not None:
        return earlier
    try:
        # One statement, committed on its own (autocommit): no BEGIN and COMMIT round trips.
        # Inside a caller's transaction a savepoint keeps a key conflict from breaking it.
        with transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext():
            return _insert(owner=owner, key=key, actor_id=actor.user_id, payload=payload, received_at=clock.now())
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer its receipt.
        if key and (earlier := _earlier(owner, key)) is not None:
            return earlier
        raise


def _insert(**values: Any) -> IntakeReceipt:
    """One pending receipt, inserted by one statement (``INSERT … RETURNING id``, through
    ``insert_all``). Why not ``objects.create``: this is the acknowledgement's only write, and the
    ORM's compiling of the statement anew for every request, its signals and its model machinery
    were a tenth of the request's CPU (py-spy of the web workers, docs/benchmarks.md, session 8)."""
    receipt = IntakeReceipt(state=ReceiptState.PENDING, **values)
    insert_all([receipt])
    return receipt


def _earlier(owner: str, key: str) -> IntakeReceipt | None:
    receipt = IntakeReceipt.objects.filter(owner=owner, key=key).select_related("order").first()
    if receipt is None:
        made = IdempotencyKey.objects.filter(owner=owner, key=key).select_related("order").first()
        if made is None:
            return None
        receipt = IntakeReceipt(owner=owner, key=key, state=ReceiptState.MADE, order=made.order)
    receipt.replayed = True
    return receipt


def make_received_orders(*, limit: int = BATCH) -> int:
    """Make the orders of up to ``limit`` pending receipts, oldest first, in one transaction.
    Returns how many receipts it took (0: none pending). Concurrent callers take disjoint
    receipts on PostgreSQL (``SKIP LOCKED``); SQLite runs one writer at a time anyway."""
    if not transaction.get_connection().in_atomic_block and not IntakeReceipt.objects.filter(
            state=ReceiptState.PENDING).exists():
        # A look first, outside any transaction: on SQLite the transaction below takes the
        # database's write lock (BEGIN IMMEDIATE), which an idle worker looking ten times a
        # second must not take from the desks.
        return 0
    early = _prepared_early(limit) if _locks_the_database() else None
    if early is not None and not early[0]:
        return 0  # made by another worker since the look above
    with together(), transaction.atomic():
        # Its foreign-key checks at COMMIT, ~12 an order, reuse their plans (jiesu.ops.plans):
        # PostgreSQL's CPU per order made 0.95-1.10 -> 0.65 ms (bench/intake_batch.py, session 8).
        generic_plans_for_this_transaction()
        if early is None:
            receipts = list(IntakeReceipt.objects.select_for_update(skip_locked=True)
                            .filter(state=ReceiptState.PENDING).order_by("id")[:limit])
            prepared, now = None, clock.now()
        else:
            receipts, prepared, now = early
            receipts, prepared = _still_pending(receipts, prepared)
        if not receipts:
            return 0
        try:
            with transaction.atomic():
                recorded = _write_batch(prepared or _prepare_batch(receipts, now), now)
        except Exception:
            log.exception("batch intake: a batch of %s receipts failed; making them one by one", len(receipts))
            for receipt in receipts:
                receipt.state, receipt.order, receipt.made_at = ReceiptState.PENDING, None, None
            _make_each(receipts, now)
        else:
            # Last: the batch's notification task, in this transaction (as intake's).
            announce_recorded(recorded)
    return len(receipts)


def _locks_the_database() -> bool:
    """SQLite, outside a caller's transaction: its write transaction locks the whole database,
    so what can be done before it (reading and checking the receipts, building the orders,
    triage) is (``_prepared_early``), and only the numbering and the writes hold the lock, which
    the acknowledgements wait for. PostgreSQL locks rows: all of it runs in the transaction."""
    return connection.vendor == "sqlite" and not transaction.get_connection().in_atomic_block


def _prepared_early(limit: int) -> tuple[list[IntakeReceipt], _Batch | None, dt.datetime]:
    """The oldest pending receipts and their batch built outside the transaction (None when
    building failed: it is tried again under the lock, where a failure is handled)."""
    receipts = list(IntakeReceipt.objects.filter(state=ReceiptState.PENDING).order_by("id")[:limit])
    now = clock.now()
    try:
        return receipts, _prepare_batch(receipts, now), now
    except Exception:
        log.exception("batch intake: building a batch before the write lock failed; building it under the lock")
        return receipts, None, now


def _still_pending(receipts: list[IntakeReceipt],
                   prepared: _Batch | None) -> tuple[list[IntakeReceipt], _Batch | None]:
    """Under the lock: the receipts read before it that are still pending (another worker may
    have made some meanwhile; what was built for them is then built again, for those left)."""
    pending = set(IntakeReceipt.objects.filter(pk__in=[r.pk for r in receipts], state=ReceiptState.PENDING)
                  .values_list("pk", flat=True))
    if len(pending) == len(receipts):
        return receipts, prepared
    return [r for r in receipts if r.pk in pending], None


def _fields(payload: dict[str, Any]) -> dict[str, Any]:
    people = [RequesterInput(phone=p, name=n, wants_confidential=c, email=e) for p, n, c, e in payload["requesters"]]
    given = {k: v for k, v in payload.items() if k not in ("requesters", "confidential", "draft")}
    return _validated(proactive=False, requesters=people, **given)


@dataclass
class _Made:
    """One receipt's order as the batch builds it, before it has a number."""

    receipt: IntakeReceipt
    order: WorkOrder
    people: list[Requester]
    created: Event
    received: bool = False  # built in state "received": triaged now or, failing that, by the task
    triaged: Triaged | None = None  # None: not triaged (yet)


@dataclass
class _Batch:
    made: list[_Made]
    odd: list[IntakeReceipt]  # no longer valid (the catalogue changed): made one by one


def _prepare_batch(receipts: list[IntakeReceipt], now: dt.datetime) -> _Batch:
    """The orders of ``receipts`` built, with their requesters, "created" events and triage,
    without numbers and without a write: ``_write_batch`` numbers and inserts them. Receipts
    whose request no longer passes validation (the catalogue changed since) are set apart."""
    made: list[_Made] = []
    odd: list[IntakeReceipt] = []
    for receipt in receipts:
        try:
            fields = _fields(receipt.payload)
        except DomainError:
            odd.append(receipt)
            continue
        who = fields.pop("requesters")
        # Numbered (and so given its id) under the lock, by ``_write_batch``.
        order = new_order(number="", actor_id=receipt.actor_id, fields=fields,
                          confidential=receipt.payload["confidential"], draft=receipt.payload["draft"],
                          at=receipt.received_at)
        created = order_events.build(order=order, code=EventCode.CREATED, actor_id=receipt.actor_id,
                                     at=receipt.received_at, to_state=order.state,
                                     data=created_data(order, requesters=len(who)))
        made.append(_Made(receipt=receipt, order=order, people=new_requesters(order, who), created=created))
    received = [m for m in made if m.order.state == State.RECEIVED]
    for m, t in zip(received, _triage([m.order for m in received], now), strict=True):
        m.received, m.triaged = True, t  # an auto-dispatched order's state is "dispatched" now
    return _Batch(made=made, odd=odd)


def _write_batch(batch: _Batch, now: dt.datetime) -> list[Event]:
    """Number the batch's orders and insert them, one INSERT per table. Answers the events
    recorded, for ``announce_recorded``."""
    # A key a synchronous request has already used: that request's order is this receipt's.
    keys = {m.receipt.key for m in batch.made if m.receipt.key}
    used = {(k.owner, k.key): k.order_id for k in IdempotencyKey.objects.filter(key__in=keys)} if keys else {}
    made: list[_Made] = []
    for m in batch.made:
        receipt = m.receipt
        if (receipt.owner, receipt.key) in used:
            receipt.state, receipt.order_id, receipt.made_at = ReceiptState.MADE, used[receipt.owner, receipt.key], now
        else:
            made.append(m)
    by_day: dict[dt.date, list[_Made]] = defaultdict(list)
    for m in made:
        by_day[m.receipt.received_at.astimezone(SHANGHAI).date()].append(m)
    for _day, items in sorted(by_day.items()):
        # Numbered on the day it was received, as if it had been made then.
        for m, number in zip(items, next_numbers(items[0].receipt.received_at, len(items)), strict=True):
            m.order.number = number
            m.order.give_id()
            m.receipt.order, m.receipt.state, m.receipt.made_at = m.order, ReceiptState.MADE, now

    orders = [m.order for m in made]
    waiting = [m.order for m in made if m.received and m.triaged is None]
    plans = [(m.order, m.triaged.dispatch) for m in made if m.triaged is not None and m.triaged.dispatch]

    insert_all(orders)
    send_post_save(WorkOrder, orders)  # what a save tells its listeners (the dashboard's day marks)
    insert_all([p for m in made for p in m.people])
    assignments = [a for _o, plan in plans for a in plan.assignments]
    insert_all(assignments)
    send_post_save(Assignment, assignments)
    dispatched = [order_events.build(order=o, code=EventCode.DISPATCHED, actor_id=None, at=plan.at,
                                     from_state=plan.source, to_state=State.DISPATCHED,
                                     assignment=plan.assignments[0], data=plan.data) for o, plan in plans]
    recorded = order_events.record_all([*[m.created for m in made], *dispatched])
    from jiesu.search.services import index_new_orders

    index_new_orders(orders)  # findable exactly when it exists, as intake's
    insert_all([m.triaged.suggestion for m in made if m.triaged is not None])
    insert_all([IdempotencyKey(owner=m.receipt.owner, key=m.receipt.key, order=m.order) for m in made if m.receipt.key])
    _mark_made([m.receipt for m in batch.made if m.receipt.state == ReceiptState.MADE], now)
    for order in waiting:
        after_commit(partial(queue_triage, order.pk))
    if batch.odd:
        _make_each(batch.odd, now)
    return recorded


def _mark_made(receipts: list[IntakeReceipt], now: dt.datetime) -> None:
    """Each receipt's order in one UPDATE joined to a VALUES list (PostgreSQL, SQLite ≥ 3.33):
    ``bulk_update`` writes a CASE per row and field, a third of a batch's CPU in the profile."""
    if not receipts:
        return
    q = connection.ops.quote_name
    table = q(IntakeReceipt._meta.db_table)
    rows = ", ".join(["(%s, %s)"] * len(receipts))
    sql = (f"UPDATE {table} SET {q('state')} = %s, {q('made_at')} = %s, {q('order_id')} = v.column2 "  # noqa: S608
           f"FROM (VALUES {rows}) AS v WHERE {table}.{q('id')} = v.column1")
    params: list[Any] = [ReceiptState.MADE.value, connection.ops.adapt_datetimefield_value(now)]
    for receipt in receipts:
        params += [receipt.pk, receipt.order_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _triage(orders: list[WorkOrder], now: dt.datetime) -> list[Any]:
    """Smart dispatch's batch triage (None for each order when inline triage is off: they are
    queued for the task worker, as intake's)."""
    if not orders or not settings.JIESU.get("INLINE_TRIAGE", True):
        return [None] * len(orders)
    from jiesu.dispatch.services import triage_new_orders

    return triage_new_orders(orders, at=now)


def _make_each(receipts: list[IntakeReceipt], now: dt.datetime) -> None:
    """One receipt at a time, each in a savepoint, through ``make_order``. A request the
    catalogue no longer accepts (a category or area removed since it was acknowledged) is made
    without them, for a dispatcher to classify; what still fails is kept as ``failed``."""
    for receipt in receipts:
        try:
            with transaction.atomic():
                order = _make_one(receipt)
            receipt.state, receipt.order, receipt.made_at, receipt.error = ReceiptState.MADE, order, now, ""
        except (OperationalError, InterfaceError):
            raise  # the database, not the receipt (a lost connection, a deadlock): all stay pending
        except Exception as err:
            log.exception("batch intake: receipt %s could not be made", receipt.pk)
            receipt.state, receipt.error = ReceiptState.FAILED, f"{type(err).__name__}: {err}"[:2000]
        receipt.save(update_fields=["state", "order", "made_at", "error"])


def _make_one(receipt: IntakeReceipt) -> WorkOrder:
    payload = receipt.payload
    try:
        fields = _fields(payload)
    except DomainError:
        fields = _fields({**payload, "category_code": None, "area_code": None})
    # The permission was checked when the request was acknowledged; a role lost since does not
    # undo an acknowledged order.
    actor = Actor(user_id=receipt.actor_id, is_admin=False)
    return make_order(actor=actor, fields=fields, confidential=payload["confidential"], draft=payload["draft"],
                      owner=receipt.owner, key=receipt.key, received_at=receipt.received_at)


def retry_failed(*, actor: Actor, ids: list[int]) -> int:
    """Put failed receipts back in the queue (the admin's action, after fixing the cause)."""
    if not actor.is_admin:
        raise NotAllowed(_("Only an administrator may put failed receipts back in the queue."))
    return IntakeReceipt.objects.filter(pk__in=ids, state=ReceiptState.FAILED).update(
        state=ReceiptState.PENDING, error="")


def drain(stop: threading.Event, *, idle: float, gather: float = GATHER_SECONDS) -> None:
    """Make received orders until ``stop`` is set (``jiesu worker`` runs this in a thread of
    its own): a full batch is followed by the next at once; after a partial one the next starts
    ``gather`` seconds after it began, so that the receipts arriving meanwhile share a batch's
    fixed cost (its transaction, a dozen statements, one notification task); with nothing
    pending it looks again every ``idle`` seconds. A failure is logged and tried again after a
    second; the receipts stay pending meanwhile.

    Why from the batch's start: a pause added after each batch capped the intake at what one
    pause and one batch hold. At 250 acknowledgements a second a batch of ~60 took ~0.2 s,
    then waited 0.25 s: ~130 orders a second made, the rest left for after the load
    (docs/benchmarks.md, session 8)."""
    while not stop.is_set():
        began = monotonic()
        try:
            made = make_received_orders()
        except Exception:
            log.exception("batch intake failed; trying again")
            made = 0
            stop.wait(max(idle, 1.0))
        finally:
            close_old_connections()
        if made < BATCH:
            stop.wait(max(0.0, gather - (monotonic() - began)) if made else idle)
