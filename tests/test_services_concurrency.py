"""Capacity under contention: N clients with real connections race for the last M places of a
slot; exactly M get one (PostgreSQL: the point's row lock; SQLite: BEGIN IMMEDIATE)."""

from __future__ import annotations

import pytest

from jiesu import clock
from jiesu.accounts.policy import Actor
from jiesu.services import actions
from jiesu.services.errors import SlotFull
from jiesu.services.models import Booking, BookingEvent
from tests.conftest import at, build_city
from tests.services_kit import build_services
from tests.test_concurrency import run_threads

pytestmark = pytest.mark.django_db(transaction=True)
PUBLIC = Actor(user_id=None, is_admin=False, username="anonymous")
N, M = 10, 3


def test_n_clients_for_the_last_m_places_make_exactly_m_bookings():
    svc = build_services(build_city())
    now, slot = at("2026-12-10 08:00"), at("2026-12-15 09:00")  # the will week: 2 + 3 windows
    point, will = svc.notary.pk, svc.will.pk

    def take(i: int) -> str:
        with clock.frozen(now):
            return actions.book(actor=PUBLIC, point_id=point, matter_id=will, start=slot, name=f"申请人{i}",
                                phone=f"139{i:08d}").code

    with clock.frozen(now):
        for i in range(5 - M):
            take(100 + i)
    results = run_threads(N, take)
    won = [r for r in results if isinstance(r, str)]
    lost = [r for r in results if not isinstance(r, str)]
    assert len(won) == M, results
    assert len(lost) == N - M and all(isinstance(r, SlotFull) for r in lost), lost
    assert Booking.objects.filter(start=slot, status="booked").count() == 5
    # every window holds exactly one person
    windows = [*svc.will_week.windows.values_list("pk", flat=True), *svc.weekdays.windows.values_list("pk", flat=True)]
    assert sorted(Booking.objects.filter(start=slot).values_list("window_id", flat=True)) == sorted(windows)
    assert BookingEvent.objects.filter(code="booked").count() == 5
