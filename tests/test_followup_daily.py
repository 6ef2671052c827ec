"""The scorecards' daily roll-ups (``jiesu.followup.daily``) stay exact: whatever is stored —
clean, dirty, missing, counted before a deadline passed or after the moment asked for — every
count equals the independent recount from the raw orders of ``test_followup_scorecards``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from jiesu import clock
from jiesu.followup import daily, periods, rates
from jiesu.followup.selectors import scorecard
from jiesu.insight import rollup
from jiesu.insight.models import DashboardDay
from jiesu.orders import actions
from tests.test_followup_scorecards import AS_OF, demo, recount  # noqa: F401  (demo: a fixture)

pytestmark = pytest.mark.django_db

LEVELS = ("unit", "district", "street")


def _counts(level: str, period: periods.Period, as_of: dt.datetime) -> dict[str, dict[str, int]]:
    with clock.frozen(as_of):
        card = scorecard(level, period)
    return {c.key: c.counts.as_dict() for c in card.cards if any(c.counts.as_dict().values())}


def _expected(level: str, period: periods.Period, as_of: dt.datetime) -> dict[str, dict[str, int]]:
    found = recount(level, period, as_of)
    out = {}
    for key, names in found.items():
        counts = {name: len(ids) for name, ids in names.items()}
        if any(counts.values()):
            out[key] = {name: counts.get(name, 0) for name in rates.COUNT_NAMES}
    return out


def _days(period: periods.Period) -> list[dt.date]:
    return daily.period_days(period.start, period.end)


def _valid(days: list[dt.date], as_of: dt.datetime) -> set[dt.date]:
    found, _sums = daily._stored(days, as_of, "area")
    return found


@pytest.mark.parametrize("period", ["2026-02", "2026-Q1", "2026-02-16"])
def test_stored_days_give_the_recount_at_any_later_moment(demo, period):  # noqa: F811
    p = periods.parse(period)
    days = _days(p)
    # Counted 20 days before the moment asked for: the deadlines that passed since must make
    # those days recounted, the others are read from the rows.
    early = AS_OF - dt.timedelta(days=20)
    assert daily.refresh(days, now=early) == len(days)
    assert not DashboardDay.objects.filter(day__in=days, scores_dirty=True).exists()
    used = _valid(days, AS_OF)
    if p.kind != "day":
        assert used and len(used) < len(days)  # both paths taken: not a vacuous comparison
    for level in LEVELS:
        assert _counts(level, p, AS_OF) == _expected(level, p, AS_OF), level
    # Counted at the very moment: every day is read from its row.
    daily.refresh(days, now=AS_OF)
    assert _valid(days, AS_OF) == set(days)
    for level in LEVELS:
        assert _counts(level, p, AS_OF) == _expected(level, p, AS_OF), level
    # A moment before the counting: nothing stored holds, all recounted.
    before = AS_OF - dt.timedelta(days=3)
    assert not _valid(days, before)
    for level in LEVELS:
        assert _counts(level, p, before) == _expected(level, p, before), level


def test_the_rows_store_what_a_recount_at_that_moment_gives(demo):  # noqa: F811
    """Stored counts against the raw recount, day by day, counted long ago (where the counts
    differ from today's because deadlines were still to come)."""
    p = periods.parse("2026-02")
    early = AS_OF - dt.timedelta(days=20)
    daily.refresh(_days(p), now=early)
    differs = 0
    for day in _days(p)[:10]:
        one = periods.Period("day", day)
        with clock.frozen(early):
            stored_now = _counts("street", one, early)
        assert stored_now == _expected("street", one, early)
        differs += stored_now != _expected("street", one, AS_OF)
    assert differs  # the early counts are not today's: the validity window matters


def test_a_month_read_from_clean_rows_costs_a_fixed_number_of_queries(demo, django_assert_max_num_queries):  # noqa: F811
    p = periods.parse("2026-02")
    daily.refresh(_days(p), now=AS_OF)
    with clock.frozen(AS_OF):
        for level in LEVELS:
            with django_assert_max_num_queries(2):  # the stored days, and the names
                assert scorecard(level, p).cards


def test_a_change_marks_only_the_scores_when_the_dashboard_does_not_move(city, new_order):
    t0 = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)
    with clock.frozen(t0):
        order = new_order()
        actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    day = rollup.day_of(t0)
    later = t0 + dt.timedelta(minutes=30)  # within the return window
    with clock.frozen(later):
        rollup.refresh([day])
        daily.refresh([day])
        row = DashboardDay.objects.get(day=day)
        assert not row.dirty and not row.scores_dirty
        before = _counts("unit", periods.Period("day", day), later)
        actions.accept_assignment(actor=city.actor("handler"), number=order.number)  # the state only
        row = DashboardDay.objects.get(day=day)
        assert not row.dirty and row.scores_dirty
        actions.return_assignment(actor=city.actor("handler"), number=order.number, reason="不属于本单位职责范围，请改派。")
        after = _counts("unit", periods.Period("day", day), later)
        assert after != before and after["SLT"]["returned"] == 1  # read from the orders: the day is dirty
        daily.refresh()
        assert not DashboardDay.objects.get(day=day).scores_dirty
        assert _counts("unit", periods.Period("day", day), later) == after


def test_a_deadline_passing_expires_the_day_and_the_sweep_recounts_it(city, new_order):
    t0 = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)
    with clock.frozen(t0):
        order = new_order()
        actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
        daily.refresh([rollup.day_of(t0)])
    row = DashboardDay.objects.get(day=rollup.day_of(t0))
    assignment = order.assignments.get()
    assert row.scores_until == min(assignment.contact_due_at, assignment.due_at)
    one = periods.Period("day", rollup.day_of(t0))
    past = row.scores_until + dt.timedelta(minutes=1)
    assert _counts("unit", one, past)["SLT"]["contact_due"] == 1  # recounted: the stored row said 0
    with clock.frozen(row.scores_until - dt.timedelta(minutes=1)):
        daily.refresh()  # still valid: left as it is
    assert DashboardDay.objects.get(day=rollup.day_of(t0)).scores_at == t0
    with clock.frozen(past + daily.RECHECK):
        call_command("sweep", stdout=open("/dev/null", "w"))  # noqa: SIM115
    again = DashboardDay.objects.get(day=rollup.day_of(t0))
    assert again.scores_at == past + daily.RECHECK and again.scores_until == assignment.due_at
    assert _valid([one.start], past + daily.RECHECK)
    assert _counts("unit", one, past + daily.RECHECK)["SLT"]["contact_due"] == 1
