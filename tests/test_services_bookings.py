"""Bookings through the service functions: the happy path, reminders, check-in, outcomes,
no-shows, and bad input that changes nothing (a slot in the past, a closed day, a full slot,
a wrong code)."""

from __future__ import annotations

import pytest

from jiesu import clock
from jiesu.accounts.policy import Actor
from jiesu.integrations.models import Notification
from jiesu.services import actions, selectors
from jiesu.services.errors import InvalidInput, NotAllowed, NotFound, SlotFull, WrongState
from jiesu.services.models import Booking, BookingEvent, BookingStatus
from tests.conftest import at
from tests.services_kit import build_services

pytestmark = pytest.mark.django_db
PUBLIC = Actor(user_id=None, is_admin=False, username="anonymous")
MONDAY = "2026-12-07"


@pytest.fixture
def svc(city):
    return build_services(city)


def _book(svc, when: str, *, matter=None, phone="13812345678", **kw) -> Booking:
    return actions.book(actor=kw.pop("actor", PUBLIC), point_id=svc.notary.pk, matter_id=(matter or svc.authorisation).pk,
                        start=at(when), name="王五", phone=phone, **kw)


def _state() -> tuple:
    return (list(Booking.objects.values_list("pk", "status", "start")), BookingEvent.objects.count())


def test_booking_gives_a_code_a_window_an_event_and_a_text(svc, django_capture_on_commit_callbacks):
    with clock.frozen(at(f"{MONDAY} 08:00")), django_capture_on_commit_callbacks(execute=True):
        booking = _book(svc, f"{MONDAY} 10:00")
    assert len(booking.code) == 8 and booking.status == BookingStatus.BOOKED
    assert booking.end == at(f"{MONDAY} 10:30") and booking.window.name == "1号窗口"
    assert list(booking.events.values_list("code", flat=True)) == ["booked"]
    sms = Notification.objects.get(kind="booking_confirmed")
    assert sms.to == "13812345678" and booking.code in sms.body and "朝阳公证处服务大厅" in sms.body


def test_a_will_says_it_needs_the_applicant_in_person(svc, django_capture_on_commit_callbacks):
    with clock.frozen(at(f"{MONDAY} 08:00")), django_capture_on_commit_callbacks(execute=True):
        _book(svc, f"{MONDAY} 10:00", matter=svc.will)
    assert "本人" in Notification.objects.get(kind="booking_confirmed").body
    assert svc.will.in_person_required and "第二十六条" in svc.will.in_person_reason


@pytest.mark.parametrize(("when", "error", "field"), [
    (f"{MONDAY} 07:00", InvalidInput, "start"),        # in the past
    ("2026-12-13 10:00", InvalidInput, "start"),       # Sunday: closed
    (f"{MONDAY} 10:10", InvalidInput, "start"),        # not a slot
    ("2027-06-01 10:00", InvalidInput, "start"),       # beyond the booking horizon
])
def test_bad_times_are_refused_and_nothing_is_booked(svc, when, error, field):
    with clock.frozen(at(f"{MONDAY} 08:00")):
        before = _state()
        with pytest.raises(error) as exc:
            _book(svc, when)
    assert exc.value.field == field and str(exc.value)
    assert _state() == before


def test_a_full_slot_is_refused(svc):
    with clock.frozen(at(f"{MONDAY} 08:00")):
        _book(svc, f"{MONDAY} 10:00", phone="13800000001")
        _book(svc, f"{MONDAY} 10:00", phone="13800000002")
        before = _state()
        with pytest.raises(SlotFull) as exc:
            _book(svc, f"{MONDAY} 10:00", phone="13800000003")
    assert exc.value.status == 409 and "10:00" in str(exc.value)
    assert _state() == before


def test_the_will_week_adds_three_will_windows(svc):
    with clock.frozen(at("2026-12-10 08:00")):
        codes = [_book(svc, "2026-12-15 09:00", matter=svc.will, phone=f"1380000000{i}").code for i in range(5)]
        with pytest.raises(SlotFull):
            _book(svc, "2026-12-15 09:00", matter=svc.will, phone="13800000009")
        # the will week is for wills only: authorisations still have the two normal windows, once
        # the wills booked there have left them
        with pytest.raises(SlotFull):
            _book(svc, "2026-12-15 09:30", phone="13900000001")
        assert _book(svc, "2026-12-15 10:00", phone="13900000001").window.name == "1号窗口"
    windows = set(Booking.objects.filter(code__in=codes).values_list("window__name", flat=True))
    assert windows == {"1号窗口", "2号窗口", "遗嘱专窗1", "遗嘱专窗2", "遗嘱专窗3"}
    # Sunday of the will week: only the will windows are open
    with clock.frozen(at("2026-12-10 08:00")):
        assert _book(svc, "2026-12-20 09:00", matter=svc.will).window.name == "遗嘱专窗1"
        with pytest.raises(InvalidInput):
            _book(svc, "2026-12-20 09:00", phone="13900000002")


def test_the_same_phone_cannot_book_one_slot_twice_and_a_retry_books_once(svc):
    with clock.frozen(at(f"{MONDAY} 08:00")):
        first = _book(svc, f"{MONDAY} 10:00", idempotency_key="k1")
        assert _book(svc, f"{MONDAY} 10:00", idempotency_key="k1").pk == first.pk
        with pytest.raises(InvalidInput) as exc:
            _book(svc, f"{MONDAY} 10:00")
    assert exc.value.field == "phone"
    assert Booking.objects.count() == 1


def test_cancel_and_reschedule_by_code_and_phone(svc):
    with clock.frozen(at(f"{MONDAY} 08:00")):
        booking = _book(svc, f"{MONDAY} 10:00")
        before = _state()
        for code, phone in ((booking.code, "13900000000"), ("WRONGCOD", "13812345678"), (booking.code, "x")):
            with pytest.raises(NotFound) as exc:
                actions.cancel_booking(actor=PUBLIC, code=code, phone=phone)
            assert "预约码" in str(exc.value)
        assert _state() == before
        moved = actions.reschedule_booking(actor=PUBLIC, code=booking.code.lower(), phone="138 1234 5678",
                                           start=at(f"{MONDAY} 14:00"))
        assert moved.start == at(f"{MONDAY} 14:00") and moved.end == at(f"{MONDAY} 14:30")
        with pytest.raises(InvalidInput):
            actions.reschedule_booking(actor=PUBLIC, code=booking.code, phone="13812345678",
                                       start=at("2026-12-13 10:00"))
        actions.cancel_booking(actor=PUBLIC, code=booking.code, phone="13812345678")
        with pytest.raises(WrongState):
            actions.cancel_booking(actor=PUBLIC, code=booking.code, phone="13812345678")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert list(booking.events.values_list("code", flat=True)) == ["booked", "rescheduled", "cancelled"]
    # the cancelled place is free again
    with clock.frozen(at(f"{MONDAY} 08:00")):
        slot = [s for s in selectors.free_slots(svc.notary, svc.authorisation, at(MONDAY + " 00:00").date())
                if s.start == at(f"{MONDAY} 14:00")][0]
    assert slot.free == 2


def test_a_call_taker_books_for_a_caller_and_staff_check_in_and_record_the_outcome(city, svc):
    with clock.frozen(at(f"{MONDAY} 08:00")):
        booking = _book(svc, f"{MONDAY} 10:00", actor=city.actor("calltaker"), channel="desk")
        assert booking.created_by == city.users["calltaker"]
        with pytest.raises(NotAllowed):
            _book(svc, f"{MONDAY} 11:00", channel="desk")  # the public cannot claim to be the desk
    with clock.frozen(at(f"{MONDAY} 09:55")):
        with pytest.raises(NotAllowed):
            actions.check_in(actor=city.actor("handler"), code=booking.code)
        with pytest.raises(WrongState):
            actions.record_outcome(actor=city.actor("notary_staff"), code=booking.code, outcome="served")
        window = svc.notary.windows.get(name="2号窗口")
        actions.check_in(actor=city.actor("notary_staff"), code=booking.code, window_id=window.pk)
        with pytest.raises(InvalidInput):
            actions.record_outcome(actor=city.actor("notary_staff"), code=booking.code, outcome="needs_documents")
        done = actions.record_outcome(actor=city.actor("notary_staff"), code=booking.code,
                                      outcome="needs_documents", note="缺少房产证原件")
    assert done.status == BookingStatus.NEEDS_DOCUMENTS and done.window == window


def test_check_in_only_on_the_day(city, svc):
    with clock.frozen(at(f"{MONDAY} 08:00")):
        booking = _book(svc, "2026-12-08 10:00")
        with pytest.raises(InvalidInput):
            actions.check_in(actor=city.actor("notary_staff"), code=booking.code)


def test_the_sweep_marks_no_shows_and_sends_reminders(city, svc, django_capture_on_commit_callbacks):
    with clock.frozen(at(f"{MONDAY} 08:00")):
        missed = _book(svc, f"{MONDAY} 09:00")
        came = _book(svc, f"{MONDAY} 09:00", phone="13900000000")
        tomorrow = _book(svc, "2026-12-08 09:00", phone="13700000000")
        later = _book(svc, "2026-12-10 09:00", phone="13600000000")
    with clock.frozen(at(f"{MONDAY} 09:10")):
        actions.check_in(actor=city.actor("notary_staff"), code=came.code)
    with clock.frozen(at(f"{MONDAY} 09:45")):
        assert actions.mark_no_shows() == 0  # within the grace period
    with clock.frozen(at(f"{MONDAY} 10:01")), django_capture_on_commit_callbacks(execute=True):
        assert actions.mark_no_shows() == 1
        assert actions.send_reminders() == 1
        assert actions.send_reminders() == 0  # once
    statuses = dict(Booking.objects.values_list("code", "status"))
    assert statuses[missed.code] == "no_show" and statuses[came.code] == "checked_in"
    assert statuses[later.code] == "booked"
    reminder = Notification.objects.get(kind="booking_reminder")
    assert reminder.to == "13700000000" and tomorrow.code in reminder.body


def test_free_slots_leave_out_the_past_and_count_taken_places(svc):
    with clock.frozen(at(f"{MONDAY} 12:10")):
        _book(svc, f"{MONDAY} 13:00")
        slots = selectors.free_slots(svc.notary, svc.authorisation, at(MONDAY + " 00:00").date())
    assert slots[0].start == at(f"{MONDAY} 12:30")
    assert [(s.places, s.free) for s in slots[:3]] == [(2, 2), (2, 1), (2, 2)]


def test_an_official_holiday_closes_the_office(svc):
    with clock.frozen(at("2026-09-28 08:00")), pytest.raises(InvalidInput) as exc:
        _book(svc, "2026-10-01 10:00")  # 国庆节, a Thursday
    assert "2026-10-01" in str(exc.value) and not Booking.objects.exists()
