"""预约: book, cancel, reschedule, check in, record the outcome; the no-show sweep and reminders.

Capacity is never exceeded: a booking locks its service point's row (``SELECT … FOR UPDATE``;
SQLite's ``BEGIN IMMEDIATE`` serialises writers anyway), then counts the places still held in
the slot's pool (jiesu.services.opening) before it takes one. Two people booking the last place
at once queue on that lock; the second one finds it full.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts.policy import Actor
from jiesu.deadlines import services as deadlines
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.orders.actions.base import after_commit, clean_text
from jiesu.orders.actions.intake import normalise_phone
from jiesu.services import opening, selectors
from jiesu.services.errors import InvalidInput, NotAllowed, NotFound, SlotFull, WrongState
from jiesu.services.models import (
    HOLDING,
    OUTCOMES,
    Booking,
    BookingChannel,
    BookingEvent,
    BookingStatus,
    Matter,
    ServicePoint,
)
from jiesu.services.policy import may_book_for_others, may_serve

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read out over the phone
CODE_LENGTH = 8
NO_SHOW_GRACE = dt.timedelta(minutes=30)  # after the slot ends, before the booking counts as missed
REMIND_AHEAD = dt.timedelta(hours=24)


def _event(booking: Booking, code: str, actor: Actor, *, source: str = "", data: dict | None = None) -> None:
    BookingEvent.objects.create(booking=booking, code=code, actor_id=actor.user_id, at=clock.now(),
                                from_status=source, to_status=booking.status, data=data or {})


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
        if not Booking.objects.filter(code=code).exists():
            return code


def _aware(start: dt.datetime) -> dt.datetime:
    if start.tzinfo is None:
        return start.replace(tzinfo=SHANGHAI)  # a time typed without a zone is Beijing time
    return start


def _place(point: ServicePoint, matter: Matter, start: dt.datetime, *, exclude: int | None = None):
    """The pool and window for the slot starting at ``start``, or the reason there is none.
    Must run with the point's row locked."""
    now = clock.now()
    if start <= now:
        raise InvalidInput(_("This time has already passed. Please choose a later slot."), field="start")
    local = start.astimezone(SHANGHAI)
    if local.date() > selectors.today() + dt.timedelta(days=selectors.BOOKING_DAYS):
        raise InvalidInput(_("Bookings open at most %(days)s days ahead."), field="start",
                           days=selectors.BOOKING_DAYS)
    rules = selectors.rules_of(point.pk)
    calendar = deadlines.load_calendar()
    if not opening.open_rules(rules, local.date(), calendar, matter.pk):
        raise InvalidInput(_("%(point)s is closed on %(day)s for this matter. Please choose another day."),
                           field="start", point=point.label, day=local.date().isoformat())
    candidates = opening.slot_rules(rules, calendar, matter_id=matter.pk, minutes=matter.slot_minutes, start=local)
    if not candidates:
        raise InvalidInput(_("There is no slot starting at %(time)s. Please choose one of the listed slots."),
                           field="start", time=local.strftime("%H:%M"))
    held = selectors.held(point.pk, local.date(), exclude=exclude)
    for rule, end in candidates:
        window = opening.free_window(rule, held, local, end)
        if window is not None:
            return rule, window, end
    raise SlotFull(_("The slot at %(time)s on %(day)s is fully booked. Please choose another slot."),
                   time=local.strftime("%H:%M"), day=local.date().isoformat())


def _lock_point(point_id: int) -> ServicePoint:
    point = ServicePoint.objects.select_for_update(of=("self",)).filter(pk=point_id, is_active=True).first()
    if point is None:
        raise InvalidInput(_("Unknown service point."), field="point")
    return point


def _matter(matter_id: int, point: ServicePoint) -> Matter:
    matter = Matter.objects.filter(pk=matter_id, is_active=True).first()
    if matter is None or matter.kind != point.kind:
        raise InvalidInput(_("This service point does not handle that matter."), field="matter")
    return matter


def book(
    *,
    actor: Actor,
    point_id: int,
    matter_id: int,
    start: dt.datetime,
    name: str,
    phone: str,
    channel: str = BookingChannel.WEB,
    note: str = "",
    idempotency_key: str | None = None,
) -> Booking:
    """Book a slot. The public books for themselves (``channel="web"``); staff may book for a
    caller (``desk``) or on site (``outreach``). With an idempotency key a retry returns the
    first booking."""
    if channel not in BookingChannel.values:
        raise InvalidInput(_("Unknown booking channel."), field="channel")
    if channel in (BookingChannel.DESK, BookingChannel.OUTREACH) and not may_book_for_others(actor):
        raise NotAllowed(_("You are not allowed to do this."))
    name = clean_text(name, field="name", label=_("the name"), max_length=64)
    digits = normalise_phone(phone)
    note = clean_text(note, field="note", label=_("the note"), required=False, max_length=500)
    start = _aware(start)
    owner = f"user:{actor.user_id}" if actor.user_id else "public"
    key = f"{owner}:{idempotency_key.strip()[:128]}" if idempotency_key and idempotency_key.strip() else None
    if key and (existing := Booking.objects.filter(idempotency_key=key).first()):
        return existing
    try:
        with transaction.atomic():
            point = _lock_point(point_id)
            matter = _matter(matter_id, point)
            rule, window_id, end = _place(point, matter, start)
            local = start.astimezone(SHANGHAI)
            # Nothing booked twice: the same phone holds one place per matter and time.
            if Booking.objects.filter(point=point, matter=matter, phone=digits, status__in=HOLDING,
                                      start__lt=end, end__gt=local).exists():
                raise InvalidInput(_("This phone number already has a booking for this matter at this time."),
                                   field="phone")
            booking = Booking.objects.create(
                code=_new_code(), point=point, matter=matter, rule_id=rule.id, window_id=window_id,
                start=local, end=end, name=name, phone=digits, channel=channel, note=note,
                created_at=clock.now(), created_by_id=actor.user_id, idempotency_key=key,
            )
            _event(booking, "booked", actor, data={"channel": channel, "start": local.isoformat(),
                                                   "window": window_id, "rule": rule.id})
            booking_id = booking.pk
            after_commit(lambda: _queue_message(booking_id, "booking_confirmed"))
    except IntegrityError:
        if key and (existing := Booking.objects.filter(idempotency_key=key).first()):
            return existing
        raise
    return booking


def _lock_booking(code: str, *, at_the_window: bool = False) -> Booking:
    """The booking, locked. Not found: to the public one answer for a wrong code and a wrong
    phone (codes cannot be probed); at the window, where no phone is asked, the code alone."""
    code = (code or "").strip().upper()[:12]
    booking = (Booking.objects.select_for_update(of=("self",)).select_related("point__unit", "matter")
               .filter(code=code).first())
    if booking is None:
        if at_the_window:
            raise NotFound(_("No booking has the code %(code)s. Please check it."), code=code)
        raise NotFound(_("We found no booking with this code and phone number. Please check both."))
    return booking


def _owner_or_staff(actor: Actor, booking: Booking, phone: str | None) -> None:
    """The requester proves the booking with its phone; staff of the point or a call-taker
    do not need it. One answer for a wrong code and a wrong phone: codes cannot be probed."""
    if may_serve(actor, booking.point.unit) or may_book_for_others(actor):
        return
    try:
        digits = normalise_phone(phone or "")
    except InvalidInput:
        digits = ""
    if digits != booking.phone:
        raise NotFound(_("We found no booking with this code and phone number. Please check both."))


def cancel_booking(*, actor: Actor, code: str, phone: str | None = None, reason: str = "") -> Booking:
    reason = clean_text(reason, field="reason", label=_("the reason"), required=False, max_length=500)
    with transaction.atomic():
        booking = _lock_booking(code)
        _owner_or_staff(actor, booking, phone)
        if booking.status != BookingStatus.BOOKED:
            raise WrongState(_("This booking is “%(status)s”; it cannot be cancelled."),
                             status=booking.get_status_display())
        booking.status = BookingStatus.CANCELLED
        booking.save(update_fields=["status"])
        _event(booking, "cancelled", actor, source=BookingStatus.BOOKED, data={"reason": reason})
    return booking


def reschedule_booking(*, actor: Actor, code: str, start: dt.datetime, phone: str | None = None) -> Booking:
    """Move a booking to another slot of the same point and matter (its place is given back)."""
    start = _aware(start)
    with transaction.atomic():
        found = _lock_booking(code)
        _owner_or_staff(actor, found, phone)
        point = _lock_point(found.point_id)
        booking = found
        if booking.status != BookingStatus.BOOKED:
            raise WrongState(_("This booking is “%(status)s”; it cannot be moved."),
                             status=booking.get_status_display())
        rule, window_id, end = _place(point, found.matter, start, exclude=booking.pk)
        old = booking.start
        booking.start, booking.end = start.astimezone(SHANGHAI), end
        booking.rule_id, booking.window_id, booking.reminded_at = rule.id, window_id, None
        booking.save(update_fields=["start", "end", "rule", "window", "reminded_at"])
        _event(booking, "rescheduled", actor, source=booking.status,
               data={"from": old.isoformat(), "to": booking.start.isoformat(), "window": window_id})
        booking_id = booking.pk
        after_commit(lambda: _queue_message(booking_id, "booking_moved"))
    return booking


def check_in(*, actor: Actor, code: str, window_id: int | None = None) -> Booking:
    """At the window, on the day: the requester has come."""
    with transaction.atomic():
        booking = _lock_booking(code, at_the_window=True)
        if not may_serve(actor, booking.point.unit):
            raise NotAllowed(_("You are not allowed to do this."))
        if booking.status != BookingStatus.BOOKED:
            raise WrongState(_("This booking is “%(status)s”; it cannot be checked in."),
                             status=booking.get_status_display())
        if booking.start.astimezone(SHANGHAI).date() != selectors.today():
            raise InvalidInput(_("This booking is for %(day)s, not today."), field="code",
                               day=booking.start.astimezone(SHANGHAI).date().isoformat())
        if window_id is not None:
            if not booking.point.windows.filter(pk=window_id, is_active=True).exists():
                raise InvalidInput(_("Unknown window."), field="window")
            booking.window_id = window_id
        booking.status = BookingStatus.CHECKED_IN
        booking.save(update_fields=["status", "window"])
        _event(booking, "checked_in", actor, source=BookingStatus.BOOKED, data={"window": booking.window_id})
    return booking


def record_outcome(*, actor: Actor, code: str, outcome: str, note: str = "") -> Booking:
    """办理结果: served, needs more documents, or referred elsewhere."""
    if outcome not in OUTCOMES:
        raise InvalidInput(_("Choose served, needs more documents or referred."), field="outcome")
    note = clean_text(note, field="note", label=_("the note"), required=outcome != BookingStatus.SERVED,
                      max_length=500)
    with transaction.atomic():
        booking = _lock_booking(code, at_the_window=True)
        if not may_serve(actor, booking.point.unit):
            raise NotAllowed(_("You are not allowed to do this."))
        if booking.status != BookingStatus.CHECKED_IN:
            raise WrongState(_("This booking is “%(status)s”; check the requester in first."),
                             status=booking.get_status_display())
        booking.status = outcome
        booking.save(update_fields=["status"])
        _event(booking, "outcome", actor, source=BookingStatus.CHECKED_IN, data={"outcome": outcome, "note": note})
    return booking


def mark_no_shows(*, actor: Actor | None = None) -> int:
    """The sweep: a booking still waiting half an hour after its slot ended was missed."""
    actor = actor or Actor.system()
    cutoff = clock.now() - NO_SHOW_GRACE
    done = 0
    for pk in list(Booking.objects.filter(status=BookingStatus.BOOKED, end__lt=cutoff).values_list("pk", flat=True)):
        with transaction.atomic():
            booking = Booking.objects.select_for_update(of=("self",)).get(pk=pk)
            if booking.status != BookingStatus.BOOKED or booking.end >= cutoff:
                continue  # checked in or moved meanwhile
            booking.status = BookingStatus.NO_SHOW
            booking.save(update_fields=["status"])
            _event(booking, "no_show", actor, source=BookingStatus.BOOKED)
            done += 1
    return done


def send_reminders() -> int:
    """The sweep: remind everyone whose booking starts within a day (once per booking time)."""
    now = clock.now()
    due = Booking.objects.filter(status=BookingStatus.BOOKED, reminded_at__isnull=True, start__gt=now,
                                 start__lte=now + REMIND_AHEAD).values_list("pk", flat=True)
    sent = 0
    for pk in list(due):
        with transaction.atomic():
            booking = Booking.objects.select_for_update(of=("self",)).get(pk=pk)
            if booking.reminded_at is not None or booking.status != BookingStatus.BOOKED:
                continue
            booking.reminded_at = now
            booking.save(update_fields=["reminded_at"])
            _event(booking, "reminded", Actor.system(), source=booking.status)
            after_commit(functools.partial(_queue_message, pk, "booking_reminder"))
            sent += 1
    return sent


def _queue_message(booking_id: int, kind: str) -> None:
    from jiesu.services.tasks import notify_booking

    notify_booking.enqueue(booking_id, kind)
