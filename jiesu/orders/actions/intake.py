"""接诉: recording an order, and the ways it leaves the centre without a unit (Art. 10–11)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts.policy import Action, Actor
from jiesu.catalogue.models import Category, Channel, RequestType, Urgency
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.orders import numbering
from jiesu.orders.actions.base import (
    MAX_REASON,
    after_commit,
    clean_text,
    guard_move,
    lock_order,
    require,
    state_label,
)
from jiesu.orders.errors import IllegalTransition, InvalidInput
from jiesu.orders.events import EventCode, announce_recorded, record, together
from jiesu.orders.models import (
    AssignmentState,
    DaySequence,
    IdempotencyKey,
    OutcomeChoice,
    Requester,
    WorkOrder,
)
from jiesu.orders.states import TERMINAL, State
from jiesu.org.models import Area
from jiesu.search.services import index_order

# Mobile (1[3-9] + 9 digits), or a landline with optional area code and extension.
PHONE_RE = re.compile(r"^(?:\+?86[- ]?)?(?:1[3-9]\d{9}|(?:0\d{2,3}[- ]?)?[2-9]\d{6,7}(?:-\d{1,6})?)$", re.ASCII)
# Online intake is acknowledged (dispatched or answered) within 2 hours (DB11 draft, DESIGN §4).
TRIAGE_HOURS = 2


# Channels whose requester may leave no phone: an Open311 client sends one only if the person
# typed it (the spec makes every contact field optional). Everything else comes with a number.
NO_PHONE_CHANNELS = frozenset({Channel.OPEN311})


@dataclass(frozen=True)
class RequesterInput:
    phone: str = ""
    name: str = ""
    wants_confidential: bool = False
    email: str = ""


def normalise_phone(raw: str) -> str:
    """Validate a phone number and store it as digits only, without the +86 country code, so
    that the caller-history lookup and the public track page match however it was typed."""
    phone = re.sub(r"[\s()（）]", "", raw or "")
    if not PHONE_RE.match(phone):
        raise InvalidInput(_("“%(phone)s” is not a valid phone number."), field="phone", phone=(raw or "")[:30])
    digits = re.sub(r"\D", "", phone)
    if phone.startswith(("+86", "86")) and len(digits) > 11:
        digits = digits[2:]
    return digits


def normalise_email(raw: str) -> str:
    """A syntactically valid address, its domain in lower case (the name part is the
    mailbox owner's business); empty stays empty."""
    address = (raw or "").strip()
    if not address:
        return ""
    try:
        EmailValidator()(address)
    except ValidationError:
        raise InvalidInput(_("“%(email)s” is not a valid e-mail address."), field="email",
                           email=address[:60]) from None
    name, _at, domain = address.rpartition("@")
    return f"{name}@{domain.lower()}"


def _requester(r: RequesterInput, channel: str) -> tuple[str, str, bool, str]:
    if (r.phone or "").strip():
        phone = normalise_phone(r.phone)
    elif channel in NO_PHONE_CHANNELS:
        phone = ""
    else:
        raise InvalidInput(_("The requester's phone number is required."), field="phone")
    return (
        phone,
        clean_text(r.name, field="name", label=_("the name"), required=False, max_length=64),
        bool(r.wants_confidential),
        normalise_email(r.email),
    )


def _choice(value: str, choices, *, field: str, label) -> str:
    if value not in _values_of(choices):
        raise InvalidInput(_("Unknown %(label)s: “%(value)s”."), field=field, label=label, value=str(value)[:40])
    return value


@functools.cache
def _values_of(choices) -> frozenset[str]:
    """A choices enum's values, once: ``Choices.values`` builds its list again on every call,
    and every intake checks three (its request type, channel and urgency)."""
    return frozenset(choices.values)


def _coordinate(value, *, field: str, low: int, high: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Coordinates must be numbers."), field=field) from None
    if not number.is_finite() or not (low <= number <= high):
        raise InvalidInput(_("Coordinates are out of range."), field=field)
    return number.quantize(Decimal("0.000001"))


def next_number(at: dt.datetime) -> str:
    """YYYYMMDD + a 6-digit sequence of the day (Asia/Shanghai)."""
    return next_numbers(at, 1)[0]


def next_numbers(at: dt.datetime, count: int) -> list[str]:
    """``count`` consecutive numbers of ``at``'s day (Asia/Shanghai), taken in one statement."""
    day = at.astimezone(SHANGHAI).date()
    # One statement (SQLite ≥ 3.35 and PostgreSQL both have upsert … RETURNING) instead of
    # insert-if-missing, increment and read back: three round trips on every intake. The
    # conflicting row is locked until the transaction ends, so numbers never repeat.
    q = connection.ops.quote_name
    table = q(DaySequence._meta.db_table)
    sql = (f"INSERT INTO {table} ({q('day')}, {q('last')}) VALUES (%s, %s) "  # noqa: S608 (our own names)
           f"ON CONFLICT ({q('day')}) DO UPDATE SET {q('last')} = {table}.{q('last')} + %s RETURNING {q('last')}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datefield_value(day), count, count])
        last = cursor.fetchone()[0]
    if last >= numbering.DAY_FACTOR:
        raise InvalidInput(_("The day's order numbers are exhausted."))
    return [numbering.format_number(day, seq) for seq in range(last - count + 1, last + 1)]


def _validated(
    *,
    request_type: str,
    channel: str,
    urgency: str,
    content: str,
    requesters: list[RequesterInput],
    title: str,
    address: str,
    category_code: str | None,
    area_code: str | None,
    latitude,
    longitude,
    proactive: bool = False,
) -> dict:
    if proactive:
        if requesters:
            raise InvalidInput(_("A proactive work item has no requester."), field="requesters")
    elif not requesters:
        raise InvalidInput(_("At least one requester with a phone number is needed."), field="phone")
    elif channel == Channel.PROACTIVE:
        raise InvalidInput(_("The proactive channel is only for work items the centre opens itself."),
                           field="channel")
    if len(requesters) > 50:
        raise InvalidInput(_("Too many requesters on one order."), field="requesters")
    category = area = None
    if category_code:
        category = Category.objects.filter(code=category_code, is_active=True).first()
        if category is None:
            raise InvalidInput(_("Unknown category “%(code)s”."), field="category", code=category_code[:40])
    if area_code:
        area = Area.objects.filter(code=area_code).first()
        if area is None:
            raise InvalidInput(_("Unknown area “%(code)s”."), field="area", code=area_code[:40])
    lat = _coordinate(latitude, field="latitude", low=-90, high=90)
    lng = _coordinate(longitude, field="longitude", low=-180, high=180)
    if (lat is None) != (lng is None):
        raise InvalidInput(_("Give both latitude and longitude, or neither."), field="latitude")
    return {
        "request_type": _choice(request_type, RequestType, field="request_type", label=_("request type")),
        "channel": _choice(channel, Channel, field="channel", label=_("channel")),
        "urgency": _choice(urgency, Urgency, field="urgency", label=_("urgency")),
        "content": clean_text(content, field="content", label=_("the content")),
        "title": clean_text(title, field="title", label=_("the summary"), required=False, max_length=120),
        "address": clean_text(address, field="address", label=_("the address"), required=False, max_length=255),
        "category": category,
        "area": area,
        "latitude": lat,
        "longitude": lng,
        "requesters": [_requester(r, channel) for r in requesters],
    }


def create_order(
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
    idempotency_owner: str | None = None,
    proactive: bool = False,
) -> WorkOrder:
    """Record a work order (Art. 10). With an idempotency key, a retry returns the first order.

    ``proactive=True`` records a 未诉先办 work item: opened by an analyst or supervisor (or an
    admin) with no requester at all, on the ``proactive`` channel; it is dispatched like any
    other order. Its "created" event says so (``data["proactive"]``)."""
    if proactive:
        require(actor, Action.CREATE_PROACTIVE)
        channel = Channel.PROACTIVE
        draft = False
    else:
        # The public portal and Open311 act as the system actor; staff need the role.
        require(actor, Action.CREATE)
    fields = _validated(
        proactive=proactive,
        request_type=request_type,
        channel=channel,
        urgency=urgency,
        content=content,
        requesters=requesters,
        title=title,
        address=address,
        category_code=category_code,
        area_code=area_code,
        latitude=latitude,
        longitude=longitude,
    )
    return make_order(actor=actor, fields=fields, confidential=confidential, draft=draft, proactive=proactive,
                      owner=idempotency_owner or owner_of(actor), key=idempotency_key)


def owner_of(actor: Actor) -> str:
    """Whose idempotency keys these are: a user's own, or the public's."""
    return f"user:{actor.user_id}" if actor.user_id else "public"


def make_order(*, actor: Actor, fields: dict, confidential: bool, draft: bool, owner: str, key: str | None,
               proactive: bool = False, received_at: dt.datetime | None = None) -> WorkOrder:
    """The write of ``create_order``, its checks done (``fields`` from ``_validated``). The batch
    intake makes an order this way when its batch could not (``received_at``: when it was
    acknowledged)."""
    key = (key or "").strip()[:128]
    if key:
        existing = IdempotencyKey.objects.filter(owner=owner, key=key).select_related("order").first()
        if existing:
            existing.order.replayed = True
            return existing.order
    try:
        with together(), transaction.atomic():
            order = _insert(actor=actor, fields=fields, confidential=confidential, draft=draft, proactive=proactive,
                            received_at=received_at)
            if proactive:
                # A district centre's analyst opens items in their own district only.
                require(actor, Action.CREATE_PROACTIVE, order)
            if key:
                IdempotencyKey.objects.create(owner=owner, key=key, order=order)
            if order.state == State.RECEIVED and not triage_inline(order):
                order_id = order.pk
                after_commit(lambda: queue_triage(order_id))
            # Last: the notification task is queued in this transaction (jiesu.integrations),
            # with exactly the events it keeps (triage's are gone if its savepoint was undone).
            announce_recorded(order.written[1] if order.written else [])
    except IntegrityError:
        # A concurrent retry with the same key won the race: hand back its order.
        if key:
            existing = IdempotencyKey.objects.filter(owner=owner, key=key).select_related("order").first()
            if existing:
                existing.order.replayed = True
                return existing.order
        raise
    return order


def new_order(*, number: str, actor_id: int | None, fields: dict, confidential: bool, draft: bool,
              at: dt.datetime) -> WorkOrder:
    """The order row of validated ``fields`` (``_validated``, without the requesters), not yet
    saved: ``_insert`` saves one, the batch intake (``jiesu.orders.actions.receipts``) many."""
    order = WorkOrder(
        number=number,
        state=State.DRAFT if draft else State.RECEIVED,
        received_at=at,
        triage_due_at=at + dt.timedelta(hours=TRIAGE_HOURS),
        created_by_id=actor_id,
        is_confidential=confidential or fields["request_type"] == RequestType.REPORT,
        **fields,
    )
    order.give_id()
    return order


def new_requesters(order: WorkOrder, requesters: list[tuple[str, str, bool, str]]) -> list[Requester]:
    """The requester rows of a new order, the first one primary, not yet saved."""
    return [
        Requester(order=order, phone=phone, name=name, wants_confidential=conf, email=email, is_primary=i == 0)
        for i, (phone, name, conf, email) in enumerate(requesters)
    ]


def created_data(order: WorkOrder, *, requesters: int, proactive: bool = False) -> dict:
    """The "created" event's payload, whoever writes it."""
    return {"channel": order.channel, "request_type": order.request_type, "requesters": requesters,
            **({"proactive": True} if proactive else {})}


def _insert(*, actor: Actor, fields: dict, confidential: bool, draft: bool, proactive: bool = False,
            received_at: dt.datetime | None = None) -> WorkOrder:
    now = received_at or clock.now()
    requesters = fields.pop("requesters")
    order = new_order(number=next_number(now), actor_id=actor.user_id, fields=fields, confidential=confidential,
                      draft=draft, at=now)
    order.save(force_insert=True)
    people = Requester.objects.bulk_create(new_requesters(order, requesters))
    event = record(order=order, code=EventCode.CREATED, actor_id=actor.user_id, at=now, to_state=order.state,
                   data=created_data(order, requesters=len(requesters), proactive=proactive))
    # In the model's order (primary first), as a prefetch would give them.
    order.written = (sorted(people, key=lambda r: (not r.is_primary, r.pk)), [event], [])
    # In the same transaction: an order is findable exactly when it exists.
    index_order(order, new=True)
    return order


def submit_order(*, actor: Actor, number: str) -> WorkOrder:
    with transaction.atomic():
        order = lock_order(number)
        require(actor, Action.CREATE, order)
        guard_move(order, State.RECEIVED, _("submitted"), sources=frozenset({State.DRAFT}))
        now = clock.now()
        order.state, order.received_at = State.RECEIVED, now
        order.triage_due_at = now + dt.timedelta(hours=TRIAGE_HOURS)
        order.save(update_fields=["state", "received_at", "triage_due_at", "updated_at"])
        record(order=order, code=EventCode.SUBMITTED, actor_id=actor.user_id, at=now, from_state=State.DRAFT,
               to_state=State.RECEIVED)
        order_id = order.pk
        after_commit(lambda: queue_triage(order_id))
    return order


def answer_order(*, actor: Actor, number: str, answer: str) -> WorkOrder:
    """A consultation answered on the spot by the call-taker (about 59 % of Beijing's calls)."""
    text = clean_text(answer, field="answer", label=_("the answer"))
    with transaction.atomic():
        order = lock_order(number)
        require(actor, Action.ANSWER, order)
        guard_move(order, State.ANSWERED, _("answered"))
        now = clock.now()
        order.state, order.answer = State.ANSWERED, text
        order.save(update_fields=["state", "answer", "updated_at"])
        record(order=order, code=EventCode.ANSWERED, actor_id=actor.user_id, at=now, from_state=State.RECEIVED,
               to_state=State.ANSWERED, data={"answer": text})
    return order


def _outcome(outcome: str) -> str:
    if outcome not in OutcomeChoice.values:
        raise InvalidInput(_("Choose one of the outcomes of Art. 11."), field="outcome")
    return outcome


def refer_order(*, actor: Actor, number: str, outcome: str, referred_to: str, reason: str = "") -> WorkOrder:
    """转其他渠道 (Art. 11): emergencies to 110/119/120/122, disputes to courts and the like."""
    outcome = _outcome(outcome)
    target = clean_text(referred_to, field="referred_to", label=_("where it was referred"), max_length=100)
    reason = clean_text(reason, field="reason", label=_("the reason"), required=False, max_length=MAX_REASON)
    return _leave_centre(actor=actor, number=number, target=State.REFERRED, action=Action.REFER,
                         code=EventCode.REFERRED, outcome=outcome, referred_to=target, reason=reason)


def decline_order(*, actor: Actor, number: str, outcome: str, reason: str) -> WorkOrder:
    """不予受理 (Art. 11), always with a reason the requester is told."""
    outcome = _outcome(outcome)
    reason = clean_text(reason, field="reason", label=_("the reason"), max_length=MAX_REASON)
    return _leave_centre(actor=actor, number=number, target=State.DECLINED, action=Action.DECLINE,
                         code=EventCode.DECLINED, outcome=outcome, referred_to="", reason=reason)


def _leave_centre(*, actor, number, target, action, code, outcome, referred_to, reason) -> WorkOrder:
    with transaction.atomic():
        order = lock_order(number)
        require(actor, action, order)
        guard_move(order, target, OutcomeChoice(outcome).label)
        source = order.state
        order.state, order.outcome, order.referred_to = target, outcome, referred_to
        order.save(update_fields=["state", "outcome", "referred_to", "updated_at"])
        record(order=order, code=code, actor_id=actor.user_id, at=clock.now(), from_state=source, to_state=target,
               reason=reason, data={"outcome": outcome, "referred_to": referred_to})
    return order


def close_order(*, actor: Actor, number: str, reason: str = "") -> WorkOrder:
    """Close an answered, referred or declined order. Handled orders close through a callback."""
    reason = clean_text(reason, field="reason", label=_("the reason"), required=False, max_length=MAX_REASON)
    with transaction.atomic():
        order = lock_order(number)
        require(actor, Action.CLOSE, order)
        if order.state not in (State.ANSWERED, State.REFERRED, State.DECLINED):
            raise IllegalTransition(
                _("Order %(number)s is “%(state)s”; only answered, referred or declined orders close directly; "
                  "handled orders close through the callback."),
                number=order.number, state=state_label(order.state),
            )
        now = clock.now()
        source = order.state
        order.state, order.closed_at = State.CLOSED, now
        order.save(update_fields=["state", "closed_at", "updated_at"])
        record(order=order, code=EventCode.CLOSED, actor_id=actor.user_id, at=now, from_state=source,
               to_state=State.CLOSED, reason=reason)
    return order


def merge_orders(*, actor: Actor, number: str, into: str, reason: str = "") -> WorkOrder:
    """并单: the duplicate ends as ``merged``; every requester moves to the surviving order so
    that they all keep getting updates."""
    reason = clean_text(reason, field="reason", label=_("the reason"), required=False, max_length=MAX_REASON)
    if number == into:
        raise InvalidInput(_("An order cannot be merged into itself."), field="into")
    with transaction.atomic():
        # Lock in a fixed order so that two dispatchers merging crosswise cannot deadlock.
        first, second = sorted([number, into])
        locked = {first: lock_order(first), second: lock_order(second)}
        duplicate, survivor = locked[number], locked[into]
        require(actor, Action.MERGE, duplicate)
        require(actor, Action.MERGE, survivor)
        guard_move(duplicate, State.MERGED, _("merged"))
        if survivor.state in TERMINAL or survivor.state == State.DRAFT:
            raise IllegalTransition(
                _("Order %(number)s is “%(state)s”; nothing can be merged into it."),
                number=survivor.number, state=state_label(survivor.state),
            )
        now = clock.now()
        # A requester is the same person by phone, else by e-mail; anonymous ones all move.
        there = list(survivor.requesters.values_list("phone", "email"))
        phones, emails = {p for p, _e in there if p}, {e for _p, e in there if e}
        moved = [
            Requester(order=survivor, phone=r.phone, email=r.email, name=r.name,
                      wants_confidential=r.wants_confidential, is_primary=False, source_order=duplicate)
            for r in duplicate.requesters.all()
            if _is_new(r, phones, emails)
        ]
        Requester.objects.bulk_create(moved)
        duplicate.assignments.exclude(state=AssignmentState.CANCELLED).update(state=AssignmentState.CANCELLED)
        source = duplicate.state
        duplicate.state, duplicate.merged_into, duplicate.closed_at = State.MERGED, survivor, now
        duplicate.save(update_fields=["state", "merged_into", "closed_at", "updated_at"])
        if duplicate.is_confidential and not survivor.is_confidential:
            survivor.is_confidential = True
            survivor.save(update_fields=["is_confidential", "updated_at"])
        record(order=duplicate, code=EventCode.MERGED, actor_id=actor.user_id, at=now, from_state=source,
               to_state=State.MERGED, reason=reason, data={"into": survivor.number})
        record(order=survivor, code=EventCode.ABSORBED, actor_id=actor.user_id, at=now, reason=reason,
               data={"duplicate": duplicate.number, "requesters_added": len(moved)})
    return survivor


def _is_new(r: Requester, phones: set[str], emails: set[str]) -> bool:
    if r.phone:
        return r.phone not in phones
    return r.email not in emails if r.email else True


def triage_inline(order: WorkOrder) -> bool:
    """Smart dispatch triages (and may dispatch) the new order in intake's own transaction when
    ``JIESU["INLINE_TRIAGE"]`` is on (the default): the order is in memory, and a background
    task would cost a task row, a worker's claim, a re-read and a second transaction. False
    when off or when it failed (nothing of it written; the background task then tries)."""
    if not settings.JIESU.get("INLINE_TRIAGE", True):
        return False
    from jiesu.dispatch.services import triage_new_order

    return triage_new_order(order)


def queue_triage(order_id: int) -> None:
    """Smart dispatch (jiesu.dispatch) triages the new order in the background. Whatever goes
    wrong there, intake has already succeeded: the order then waits for a dispatcher."""
    try:
        from jiesu.dispatch.tasks import triage_new_order

        triage_new_order.enqueue(order_id)
    except Exception:
        import logging

        logging.getLogger("jiesu.dispatch").exception("could not queue triage of order id %s", order_id)
