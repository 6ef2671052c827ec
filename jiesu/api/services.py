"""/api/v1 of the public legal services: service points and their free slots, bookings and the
booking's own actions, and the outreach desk's offline entries.

Reading points and slots, booking, and cancelling or moving a booking with its code and phone
need no account (the public portal does the same); a signed-in call-taker or outreach worker
books for someone else. Check-in and outcomes are for the point's staff. Errors are the API's
usual ``{"code": …, "message": …}`` (jiesu.api.errors).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Header, Query, Router, Schema, Status
from pydantic import Field

from jiesu.accounts.policy import Actor
from jiesu.api.auth import AUTH, actor_of
from jiesu.api.schemas import ErrorOut, In, Text
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.security.ratelimit import limit_anonymous
from jiesu.services import actions, selectors
from jiesu.services.errors import InvalidInput, NotFound
from jiesu.services.models import Booking, Matter, ServicePoint

router = Router(tags=["legal services"])
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}


def anonymous(request: HttpRequest) -> Actor:
    """No credentials: the public, who may read and book for themselves."""
    return Actor(user_id=None, is_admin=False, username="anonymous")


OPTIONAL_AUTH = [*AUTH, anonymous]


# ---------------------------------------------------------------- points and slots


class RuleOut(Schema):
    id: int
    label: str
    weekdays: list[int]
    dates: list[str]
    start: dt.date | None
    end: dt.date | None
    opens: str
    closes: str
    windows: list[str]
    per_window: int
    matters: list[str] = Field(description="matter codes; empty: every matter of the point")
    holidays_closed: bool
    special: bool


class MatterOut(Schema):
    id: int
    code: str
    name: str
    slot_minutes: int
    in_person_required: bool
    in_person_reason: str


class PointOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    unit: str
    area: str
    address: str
    phone: str
    staffed_by: str
    windows: list[str]
    matters: list[MatterOut]
    opening_rules: list[RuleOut]


class PointQuery(Schema):
    kind: str | None = Field(None, description="notary, court_filing, procuratorate, liaison_room, legal_aid, "
                                               "police_post")
    unit: str | None = Field(None, description="unit code (and the units below it)")
    area: str | None = Field(None, description="area code (and the areas below it)")


def _matter_out(m: Matter) -> dict[str, Any]:
    return {"id": m.pk, "code": m.code, "name": m.label, "slot_minutes": m.slot_minutes,
            "in_person_required": m.in_person_required, "in_person_reason": m.reason}


def _point_out(p: ServicePoint, matters: list[Matter]) -> dict[str, Any]:
    return {
        "id": p.pk, "code": p.code, "name": p.label, "kind": p.kind, "unit": p.unit.code, "area": p.area.code,
        "address": p.address, "phone": p.phone, "staffed_by": p.staffed_by,
        "windows": [w.name for w in p.windows.all() if w.is_active],
        "matters": [_matter_out(m) for m in matters if m.kind == p.kind],
        "opening_rules": [
            {"id": r.pk, "label": r.label, "weekdays": r.weekdays, "dates": r.dates, "start": r.start, "end": r.end,
             "opens": r.opens.strftime("%H:%M"), "closes": r.closes.strftime("%H:%M"),
             "windows": [w.name for w in r.windows.all()], "per_window": r.per_window,
             "matters": [m.code for m in r.matters.all()], "holidays_closed": r.holidays_closed,
             "special": r.special}
            for r in p.rules.all()
        ],
    }


@router.get("/service-points", response={200: list[PointOut], **ERRORS}, auth=OPTIONAL_AUTH,
            summary="Service points with their opening rules")
def list_points(request: HttpRequest, filters: Query[PointQuery]) -> list[dict[str, Any]]:
    matters = list(selectors.matters())
    return [_point_out(p, matters) for p in selectors.points(kind=filters.kind, unit=filters.unit, area=filters.area)]


class SlotOut(Schema):
    matter: str
    start: dt.datetime
    end: dt.datetime
    places: int
    free: int


class SlotsOut(Schema):
    point: int
    date: dt.date
    open: bool
    slots: list[SlotOut]


def _point(point_id: int) -> ServicePoint:
    point = selectors.points().filter(pk=point_id).first()
    if point is None:
        raise NotFound(_("Unknown service point."))
    return point


@router.get("/service-points/{point_id}/slots", response={200: SlotsOut, **ERRORS}, auth=OPTIONAL_AUTH,
            summary="The free slots of a day")
def slots(request: HttpRequest, point_id: int, date: dt.date, matter: str | None = None) -> dict[str, Any]:
    """Slots that have not started yet, per matter (``matter``: one matter's code)."""
    point = _point(point_id)
    wanted = list(selectors.matters(point.kind))
    if matter:
        wanted = [m for m in wanted if m.code == matter]
        if not wanted:
            raise InvalidInput(_("This service point does not handle that matter."), field="matter")
    out = []
    for m in wanted:
        out += [{"matter": m.code, "start": s.start, "end": s.end, "places": s.places, "free": s.free}
                for s in selectors.free_slots(point, m, date)]
    return {"point": point.pk, "date": date, "open": bool(out), "slots": out}


# ---------------------------------------------------------------- bookings


class BookingIn(In):
    point: int
    matter: str = Field(description="matter code")
    start: dt.datetime = Field(description="the slot's start; without a zone it is Beijing time")
    name: Text
    phone: Text
    note: Text = ""


class BookingOut(Schema):
    code: str
    status: str
    point: int
    point_name: str
    matter: str
    matter_name: str
    in_person_required: bool
    start: dt.datetime
    end: dt.datetime
    window: str
    channel: str


def _booking_out(b: Booking) -> dict[str, Any]:
    return {"code": b.code, "status": b.status, "point": b.point_id, "point_name": b.point.label,
            "matter": b.matter.code, "matter_name": b.matter.label, "in_person_required": b.matter.in_person_required,
            "start": b.start.astimezone(SHANGHAI), "end": b.end.astimezone(SHANGHAI), "window": b.window.name,
            "channel": b.channel}


def _reload(code: str) -> dict[str, Any]:
    return _booking_out(Booking.objects.select_related("point", "matter", "window").get(code=code))


@router.post("/bookings", response={201: BookingOut, 200: BookingOut, **ERRORS}, auth=OPTIONAL_AUTH,
             summary="Book a slot")
def create_booking(
    request: HttpRequest, payload: BookingIn, idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Status[dict[str, Any]]:
    """Anyone may book for themselves; a signed-in call-taker books on a caller's behalf. With an
    ``Idempotency-Key`` header a retry answers 200 with the first booking."""
    limit_anonymous(request)
    actor = actor_of(request)
    matter = selectors.matters().filter(code=payload.matter).first()
    if matter is None:
        raise InvalidInput(_("This service point does not handle that matter."), field="matter")
    key = (idempotency_key or "").strip()
    owner = f"user:{actor.user_id}" if actor.user_id else "public"
    existed = bool(key) and Booking.objects.filter(idempotency_key=f"{owner}:{key[:128]}").exists()
    booking = actions.book(
        actor=actor, point_id=payload.point, matter_id=matter.pk, start=payload.start, name=payload.name,
        phone=payload.phone, note=payload.note, idempotency_key=key or None,
        channel="desk" if actor.user_id and actor.has_role("call_taker", "dispatcher", "supervisor") else "api",
    )
    return Status(200 if existed else 201, _reload(booking.code))


class CancelIn(In):
    phone: Text = ""
    reason: Text = ""


class RescheduleIn(In):
    phone: Text = ""
    start: dt.datetime


class CheckInIn(In):
    window: int | None = None


class OutcomeIn(In):
    outcome: Text = Field(description="served, needs_documents or referred")
    note: Text = ""


@router.post("/bookings/{code}/cancel", response={200: BookingOut, **ERRORS}, auth=OPTIONAL_AUTH,
             summary="Cancel a booking (code + phone)")
def cancel(request: HttpRequest, code: str, payload: CancelIn) -> dict[str, Any]:
    limit_anonymous(request)
    b = actions.cancel_booking(actor=actor_of(request), code=code, phone=payload.phone, reason=payload.reason)
    return _reload(b.code)


@router.post("/bookings/{code}/reschedule", response={200: BookingOut, **ERRORS}, auth=OPTIONAL_AUTH,
             summary="Move a booking to another slot (code + phone)")
def reschedule(request: HttpRequest, code: str, payload: RescheduleIn) -> dict[str, Any]:
    limit_anonymous(request)
    b = actions.reschedule_booking(actor=actor_of(request), code=code, phone=payload.phone, start=payload.start)
    return _reload(b.code)


@router.post("/bookings/{code}/check-in", response={200: BookingOut, **ERRORS}, summary="Check in at the window")
def check_in(request: HttpRequest, code: str, payload: CheckInIn) -> dict[str, Any]:
    b = actions.check_in(actor=actor_of(request), code=code, window_id=payload.window)
    return _reload(b.code)


@router.post("/bookings/{code}/outcome", response={200: BookingOut, **ERRORS}, summary="Record the outcome")
def outcome(request: HttpRequest, code: str, payload: OutcomeIn) -> dict[str, Any]:
    b = actions.record_outcome(actor=actor_of(request), code=code, outcome=payload.outcome, note=payload.note)
    return _reload(b.code)


# ---------------------------------------------------------------- outreach entries


class EntryIn(In):
    client_id: Text = Field(description="a UUID made by the client when the entry was typed")
    kind: Literal["request", "booking"] = Field("request", description="a request (诉求) or a booking (预约)")
    name: Text = ""
    phone: Text = ""
    content: Text = ""
    request_type: Text = "help"
    address: Text = ""
    solved_on_spot: bool = False
    answer: Text = ""
    noted_at: dt.datetime | None = None
    point: int | None = Field(None, description="for a booking: the service point")
    matter: Text | None = Field(None, description="for a booking: the matter code")
    start: dt.datetime | None = Field(None, description="for a booking: the slot's start")


class EntriesIn(In):
    entries: list[EntryIn] = Field(..., max_length=500)


class EntryOut(Schema):
    client_id: str
    outcome: str
    order: str | None
    booking: str | None


class EntryFailed(Schema):
    client_id: str
    code: str
    message: str
    field: str | None


class EntriesOut(Schema):
    created: list[EntryOut]
    existing: list[EntryOut]
    failed: list[EntryFailed]


def _entry_out(e) -> dict[str, Any]:
    return {"client_id": str(e.client_id), "outcome": e.outcome, "order": e.order.number if e.order else None,
            "booking": e.booking.code if e.booking else None}


@router.post("/outreach-events/{event_id}/entries", response={200: EntriesOut, **ERRORS},
             summary="Sync entries typed at an outreach desk (idempotent by client id)")
def sync_entries(request: HttpRequest, event_id: int, payload: EntriesIn) -> dict[str, Any]:
    """Entries already stored (same ``client_id``) come back under ``existing`` and are not
    stored again; entries the domain refuses come back under ``failed`` with the reason, and
    do not hold up the others."""
    matter_ids = dict(Matter.objects.filter(code__in={e.matter for e in payload.entries if e.matter})
                      .values_list("code", "pk"))
    entries = [
        actions.EntryInput(
            client_id=e.client_id, name=e.name, phone=e.phone, content=e.content, request_type=e.request_type,
            address=e.address, solved_on_spot=e.solved_on_spot, answer=e.answer, noted_at=e.noted_at,
            kind=e.kind, point_id=e.point, matter_id=matter_ids.get(e.matter or "", 0) if e.point else None,
            start=e.start,
        )
        for e in payload.entries
    ]
    result = actions.sync_entries(actor=actor_of(request), event_id=event_id, entries=entries)
    from jiesu.services.models import OutreachEntry

    ids = [e.pk for e in result.created + result.existing]
    rows = {e.pk: e for e in OutreachEntry.objects.filter(pk__in=ids).select_related("order", "booking")}
    return {
        "created": [_entry_out(rows[e.pk]) for e in result.created],
        "existing": [_entry_out(rows[e.pk]) for e in result.existing],
        "failed": [{"client_id": cid, "code": err.code, "message": str(err),
                    "field": getattr(err, "field", None) or None} for cid, err in result.failed],
    }
