"""The demo city's legal services: the seed's figures come out of the real service functions."""

from __future__ import annotations

import datetime as dt

import pytest

from jiesu.demo.build import load_demo
from jiesu.services import stats
from jiesu.services.models import Booking, Filing, Hotline, ServicePoint

pytestmark = pytest.mark.django_db
ANCHOR = dt.date(2026, 3, 2)


def test_demo_has_points_a_will_week_at_plus_200_percent_weekends_and_a_filing_batch():
    load_demo(orders=60, seed=7, anchor=ANCHOR)
    assert set(ServicePoint.objects.values_list("kind", flat=True)) == {
        "notary", "court_filing", "procuratorate", "liaison_room", "legal_aid", "police_post"}
    report = stats.report(first=ANCHOR - dt.timedelta(days=60), last=ANCHOR)
    [week] = report.specials
    assert (week.special.booked, week.special.served, week.normal.booked) == (57, 31, 19)
    assert week.growth == 2.0
    weekend = {p: (sat.served, sun.served) for p, sat, sun in report.weekend}
    assert weekend["北京市方圆公证处服务大厅"] == (11, 3)
    assert Booking.objects.filter(status="no_show").count() == 57 - 31 + 19 - 15
    assert Filing.objects.count() == 42 and Filing.objects.filter(status="registered").count() == 39
    assert Hotline.objects.get(code="12309").units.count() >= 3
