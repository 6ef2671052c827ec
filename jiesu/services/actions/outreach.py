"""外出服务: plan an event; take in the entries typed at the desk (maybe offline, synced later).

An entry is a request (诉求) recorded as a work order on the ``outreach`` channel through
jiesu.orders.actions — answered on the spot, or left for dispatch like any other order — or a
booking at a service point. The browser gives every entry a UUID when it is typed; that id is
unique here, so syncing the same entries again (a lost response, a second tab) adds nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts.policy import Actor
from jiesu.catalogue.models import Channel, RequestType
from jiesu.orders import actions as order_actions
from jiesu.orders.actions.base import clean_text
from jiesu.org.models import Area, Unit
from jiesu.services.actions.bookings import book
from jiesu.services.errors import DomainError, InvalidInput, NotAllowed, NotFound
from jiesu.services.models import BookingChannel, EntryOutcome, OutreachEntry, OutreachEvent, OutreachKind
from jiesu.services.policy import may_run_outreach

MAX_BATCH = 500


def plan_event(
    *,
    actor: Actor,
    title: str,
    kind: str,
    place: str,
    date: dt.date,
    unit_code: str,
    team: str = "",
    area_code: str | None = None,
) -> OutreachEvent:
    title = clean_text(title, field="title", label=_("the title"), max_length=120)
    place = clean_text(place, field="place", label=_("the place"), max_length=200)
    team = clean_text(team, field="team", label=_("the team"), required=False, max_length=300)
    if kind not in OutreachKind.values:
        raise InvalidInput(_("Choose the kind of event."), field="kind")
    unit = Unit.objects.filter(code=unit_code, is_active=True).first()
    if unit is None:
        raise InvalidInput(_("Unknown unit “%(code)s”."), field="unit", code=str(unit_code)[:40])
    area = None
    if area_code:
        area = Area.objects.filter(code=area_code).first()
        if area is None:
            raise InvalidInput(_("Unknown area “%(code)s”."), field="area", code=area_code[:40])
    if not may_run_outreach(actor, unit):
        raise NotAllowed(_("You are not allowed to do this."))
    with transaction.atomic():
        return OutreachEvent.objects.create(title=title, kind=kind, place=place, date=date, team=team, unit=unit,
                                            area=area, created_by_id=actor.user_id, created_at=clock.now())


@dataclass(frozen=True)
class EntryInput:
    client_id: str
    name: str = ""
    phone: str = ""
    content: str = ""
    request_type: str = RequestType.HELP
    address: str = ""
    solved_on_spot: bool = False
    answer: str = ""
    noted_at: dt.datetime | None = None
    # A booking instead of a request ("booking", or a point given): the point, the matter and
    # the slot's start.
    kind: str = "request"
    point_id: int | None = None
    matter_id: int | None = None
    start: dt.datetime | None = None


@dataclass
class SyncResult:
    created: list[OutreachEntry] = field(default_factory=list)
    existing: list[OutreachEntry] = field(default_factory=list)
    failed: list[tuple[str, DomainError]] = field(default_factory=list)


def _client_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise InvalidInput(_("“%(id)s” is not a client id (a UUID)."), field="client_id", id=str(raw)[:40]) from None


def sync_entries(*, actor: Actor, event_id: int, entries: list[EntryInput]) -> SyncResult:
    """Store the entries not stored yet. Each entry is its own transaction: one the domain
    refuses (a full slot, a bad phone) is reported back and does not hold up the others."""
    event = OutreachEvent.objects.select_related("unit", "area").filter(pk=event_id).first()
    if event is None:
        raise NotFound(_("No outreach event %(id)s."), id=event_id)
    if not may_run_outreach(actor, event.unit):
        raise NotAllowed(_("You are not allowed to do this."))
    if len(entries) > MAX_BATCH:
        raise InvalidInput(_("At most %(n)s entries at a time."), field="entries", n=MAX_BATCH)
    result = SyncResult()
    ids = [_client_id(e.client_id) for e in entries]
    known = {row.client_id: row for row in OutreachEntry.objects.filter(client_id__in=ids)}
    for cid, entry in zip(ids, entries, strict=True):
        if cid in known:
            if known[cid].event_id != event.pk:
                result.failed.append((str(cid), InvalidInput(_("This client id belongs to another event."),
                                                             field="client_id")))
            else:
                result.existing.append(known[cid])
            continue
        try:
            row = _store(actor=actor, event=event, cid=cid, entry=entry)
        except IntegrityError:
            # The same entry synced from two tabs at once: the other one stored it.
            row = OutreachEntry.objects.get(client_id=cid)
            result.existing.append(row)
        except DomainError as err:
            result.failed.append((str(cid), err))
        else:
            known[cid] = row
            result.created.append(row)
    return result


def _store(*, actor: Actor, event: OutreachEvent, cid: uuid.UUID, entry: EntryInput) -> OutreachEntry:
    now = clock.now()
    noted = entry.noted_at if entry.noted_at and entry.noted_at <= now else now
    with transaction.atomic():
        if entry.kind == "booking" or entry.point_id is not None:
            if entry.point_id is None or entry.matter_id is None or entry.start is None:
                raise InvalidInput(_("A booking needs a matter and a slot."), field="start")
            booking = book(actor=actor, point_id=entry.point_id, matter_id=entry.matter_id, start=entry.start,
                           name=entry.name, phone=entry.phone, channel=BookingChannel.OUTREACH,
                           idempotency_key=f"outreach:{cid}")
            return OutreachEntry.objects.create(event=event, client_id=cid, outcome=EntryOutcome.BOOKED,
                                                booking=booking, noted_at=noted, synced_at=now,
                                                created_by_id=actor.user_id)
        answer = clean_text(entry.answer, field="answer", label=_("the answer"), required=entry.solved_on_spot)
        order = order_actions.create_order(
            actor=actor, request_type=entry.request_type, channel=Channel.OUTREACH, content=entry.content,
            requesters=[order_actions.RequesterInput(phone=entry.phone, name=entry.name)],
            address=entry.address or event.place, area_code=event.area.code if event.area else None,
            idempotency_key=f"outreach:{cid}", idempotency_owner="outreach",
        )
        if entry.solved_on_spot:
            order_actions.answer_order(actor=actor, number=order.number, answer=answer)
        return OutreachEntry.objects.create(
            event=event, client_id=cid, order=order, noted_at=noted, synced_at=now, created_by_id=actor.user_id,
            outcome=EntryOutcome.SOLVED_ON_SPOT if entry.solved_on_spot else EntryOutcome.DISPATCHED,
        )
