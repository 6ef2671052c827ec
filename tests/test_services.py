"""Behaviour of the lifecycle services beyond the state table."""

from __future__ import annotations

import datetime as dt

import pytest

from jiesu import clock
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.deadlines.models import CalendarDay, CalendarYear, DayKind, DeadlineLimit
from jiesu.orders import actions
from jiesu.orders.errors import IllegalTransition, InvalidInput, NotAllowed
from jiesu.orders.models import (
    Assignment,
    AssignmentState,
    Event,
    ExtensionState,
    Requester,
    Satisfaction,
    WorkOrder,
)
from jiesu.orders.states import State
from tests.conftest import at
from tests.lifecycle import bring_to, snapshot

pytestmark = pytest.mark.django_db


def test_order_numbers_are_per_day_sequences(city, new_order):
    with clock.frozen(at("2026-03-01 23:59")):
        a, b = new_order(), new_order()
    with clock.frozen(at("2026-03-02 00:01")):
        c = new_order()
    assert [a.number, b.number, c.number] == ["20260301000001", "20260301000002", "20260302000001"]


def test_number_day_is_the_beijing_day(city, new_order):
    # 2026-03-01 17:00 UTC is 2026-03-02 01:00 in Beijing.
    with clock.frozen(dt.datetime(2026, 3, 1, 17, 0, tzinfo=dt.UTC)):
        assert new_order().number.startswith("20260302")


def test_idempotency_key_returns_the_first_order(city, new_order):
    first = new_order(idempotency_key="abc-1")
    again = new_order(idempotency_key="abc-1", content="重复提交的内容。")
    assert again.pk == first.pk
    assert WorkOrder.objects.count() == 1 and Requester.objects.count() == 1


def test_reports_are_confidential(city, new_order):
    assert new_order(request_type="report").is_confidential
    assert not new_order(request_type="complaint").is_confidential


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("content", {"content": ""}),
        ("content", {"content": "   "}),
        ("content", {"content": "长" * 20_000}),
        ("phone", {"requesters": [actions.RequesterInput(phone="12345abc")]}),
        ("phone", {"requesters": []}),
        ("category", {"category_code": "nope"}),
        ("area", {"area_code": "999"}),
        ("request_type", {"request_type": "<script>"}),
        ("channel", {"channel": "fax"}),
        ("urgency", {"urgency": "panic"}),
        ("latitude", {"latitude": "91", "longitude": "116"}),
        ("latitude", {"latitude": "abc", "longitude": "116"}),
        ("latitude", {"latitude": "39.9"}),
        ("content", {"content": "a\x00b"}),
    ],
)
def test_bad_intake_is_refused_and_writes_nothing(city, new_order, field, kwargs):
    with pytest.raises(InvalidInput) as info:
        new_order(**kwargs)
    assert info.value.field == field
    assert str(info.value)  # a message a person can read
    assert WorkOrder.objects.count() == 0 and Event.objects.count() == 0 and Requester.objects.count() == 0


def test_script_and_sql_text_is_stored_as_text(city, new_order):
    evil = "<script>alert(1)</script>'; DROP TABLE orders_workorder; --"
    order = new_order(content=evil, address=evil, title=evil[:100],
                      requesters=[actions.RequesterInput(phone="13812345678", name=evil[:60])])
    order.refresh_from_db()
    assert order.content == evil and order.address == evil
    assert WorkOrder.objects.count() == 1


def test_unit_deadlines_and_windows_follow_the_limit_table(city, new_order):
    DeadlineLimit.objects.create(category=city.lamp, amount=24, unit="hours", contact_hours=4,
                                 return_window_hours=1)
    with clock.frozen(at("2026-10-01 10:00")):
        order = new_order()
        actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    a = Assignment.objects.get(order=order)
    assert a.due_at == at("2026-10-02 10:00")
    assert a.contact_due_at == at("2026-10-01 14:00")
    assert a.return_due_at == at("2026-10-01 11:00")


def test_emergency_is_two_hours_even_on_a_holiday(city, new_order):
    with clock.frozen(at("2026-10-01 22:30")):
        order = new_order(urgency="emergency")
        actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    order.refresh_from_db()
    assert order.due_at == at("2026-10-02 00:30")


def test_admin_entered_dates_move_deadlines(city, new_order):
    # 2027 is unknown to chinese-calendar 1.11: an administrator enters New Year's Day.
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), kind=DayKind.HOLIDAY, name="元旦")
    CalendarYear.objects.create(year=2027)
    with clock.frozen(at("2026-12-31 09:00")):
        order = new_order()
        actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    order.refresh_from_db()
    # Jan 1 (holiday) is skipped; Jan 4–8, 11, 12 are the 7 working days.
    assert order.due_at.astimezone(SHANGHAI).date() == dt.date(2027, 1, 12)


def test_return_window_closes_for_accepted_assignments(city, new_order):
    with clock.frozen(at("2026-11-02 09:00")):
        order = bring_to(city, new_order, State.ACCEPTED)
    before = snapshot(order)
    with clock.frozen(at("2026-11-02 12:00")), pytest.raises(IllegalTransition):
        actions.return_assignment(actor=city.actor("handler"), number=order.number, reason="不归我们管。")
    assert snapshot(order) == before
    with clock.frozen(at("2026-11-02 10:00")):
        actions.return_assignment(actor=city.actor("handler"), number=order.number, reason="不归我们管。")
    assert WorkOrder.objects.get(pk=order.pk).state == State.RETURNED


def test_returned_order_is_redispatched_to_another_unit(city, new_order):
    order = bring_to(city, new_order, State.RETURNED)
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="ZGC",
                           area_code="110108001", note="属中关村辖区。")
    states = dict(Assignment.objects.filter(order=order).values_list("unit__code", "state"))
    assert states == {"SLT": AssignmentState.RETURNED, "ZGC": AssignmentState.DISPATCHED}
    event = Event.objects.filter(order=order).last()
    assert event.data["redispatch"] is True and event.data["area"] == "110108001"


def test_extension_request_and_approval_move_the_deadline(city, new_order):
    with clock.frozen(at("2026-09-30 16:00")):
        order = bring_to(city, new_order, State.ACCEPTED)
        ext = actions.request_extension(actor=city.actor("handler"), number=order.number, working_days=3,
                                        reason="需要协调产权单位。")
        with pytest.raises(IllegalTransition):
            actions.request_extension(actor=city.actor("handler"), number=order.number, working_days=2,
                                      reason="再次申请。")
        with pytest.raises(NotAllowed):
            actions.decide_extension(actor=city.actor("handler"), number=order.number, approve=True)
        actions.decide_extension(actor=city.actor("dispatcher"), number=order.number, approve=True)
    ext.refresh_from_db()
    order.refresh_from_db()
    assert ext.state == ExtensionState.APPROVED
    # Old deadline Oct 15; three more working days: Oct 16, 19, 20.
    assert order.due_at == at("2026-10-20 23:59:59") == ext.new_due_at
    assert order.state == State.ACCEPTED
    assert Assignment.objects.get(order=order).extended


def test_rejected_extension_keeps_the_deadline(city, new_order):
    order = bring_to(city, new_order, State.ACCEPTED)
    due = order.due_at
    actions.request_extension(actor=city.actor("handler"), number=order.number, working_days=3, reason="原因。")
    ext = actions.decide_extension(actor=city.actor("supervisor"), number=order.number, approve=False, note="不同意")
    order.refresh_from_db()
    assert ext.state == ExtensionState.REJECTED and order.due_at == due


@pytest.mark.parametrize("days", [0, 31, -1])
def test_extension_length_is_bounded(city, new_order, days):
    order = bring_to(city, new_order, State.ACCEPTED)
    with pytest.raises(InvalidInput):
        actions.request_extension(actor=city.actor("handler"), number=order.number, working_days=days, reason="x")


def test_lead_reply_must_say_what_co_units_did(city, new_order):
    order = new_order()
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT",
                           co_units=["WATER"])
    actions.accept_assignment(actor=city.actor("handler"), number=order.number)
    with pytest.raises(InvalidInput) as info:
        actions.reply_to_order(actor=city.actor("handler"), number=order.number, body="已处理。", outcome="solved")
    assert info.value.field == "co_unit_summary"
    # A co-unit replies on its own assignment without moving the order.
    actions.accept_assignment(actor=city.actor("water_handler"), number=order.number)
    actions.reply_to_order(actor=city.actor("water_handler"), number=order.number, body="已抢修管线。",
                           outcome="solved")
    assert WorkOrder.objects.get(pk=order.pk).state == State.ACCEPTED
    actions.reply_to_order(actor=city.actor("handler"), number=order.number, body="已处理。", outcome="solved",
                           co_unit_summary="自来水集团抢修了管线。")
    assert WorkOrder.objects.get(pk=order.pk).state == State.REPLIED


def test_contact_is_recorded_once_with_timeliness(city, new_order):
    with clock.frozen(at("2026-11-02 09:00")):
        order = bring_to(city, new_order, State.ACCEPTED)
    with clock.frozen(at("2026-11-02 10:00")):
        actions.record_contact(actor=city.actor("handler"), number=order.number, note="电话联系。")
    with clock.frozen(at("2026-11-05 10:00")):
        actions.record_contact(actor=city.actor("handler"), number=order.number)
    a = Assignment.objects.get(order=order)
    assert a.contacted_at == at("2026-11-02 10:00")
    first, second = Event.objects.filter(order=order, code="contacted")
    assert first.data == {"first": True, "in_time": True}
    assert second.data == {"first": False, "in_time": False}


def test_unreachable_requester_closes_after_the_set_number_of_tries(city, new_order, settings):
    settings.JIESU = {**settings.JIESU, "CALLBACK_MAX_ATTEMPTS": 3}
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    for _ in range(2):
        actions.record_callback(actor=city.actor("supervisor"), number=order.number, reached=False)
        assert WorkOrder.objects.get(pk=order.pk).state == State.CALLBACK_DUE
    actions.record_callback(actor=city.actor("supervisor"), number=order.number, reached=False)
    order.refresh_from_db()
    assert order.state == State.CLOSED and order.callback_attempts == 3
    assert Event.objects.filter(order=order).last().data["unreachable"] is True


def test_callback_needs_answers_when_reached(city, new_order):
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    with pytest.raises(InvalidInput):
        actions.record_callback(actor=city.actor("supervisor"), number=order.number, reached=True)


@pytest.mark.parametrize(
    ("solved", "satisfaction", "state"),
    [
        # Issue 4: unsolved or unsatisfied reopens (JIESU_CALLBACK_REOPEN_RULE=either, the default;
        # the "neither" rule is tested in tests/test_followup_callbacks.py).
        (True, Satisfaction.SATISFIED, State.CLOSED),
        (True, Satisfaction.UNSATISFIED, State.REOPENED),
        (False, Satisfaction.BASIC, State.REOPENED),
        (False, Satisfaction.UNSATISFIED, State.REOPENED),
    ],
)
def test_callback_outcomes(city, new_order, solved, satisfaction, state):
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    actions.record_callback(actor=city.actor("supervisor"), number=order.number, reached=True, solved=solved,
                            satisfaction=satisfaction)
    assert WorkOrder.objects.get(pk=order.pk).state == state


def test_reopen_gives_the_lead_unit_a_fresh_assignment(city, new_order):
    with clock.frozen(at("2026-11-02 09:00")):
        order = bring_to(city, new_order, State.CLOSED)
    with clock.frozen(at("2026-11-20 09:00")):
        actions.reopen_order(actor=city.actor("supervisor"), number=order.number, reason="问题复发。")
        actions.accept_assignment(actor=city.actor("handler"), number=order.number)
    order.refresh_from_db()
    assert order.state == State.ACCEPTED and order.reopen_count == 1 and order.closed_at is None
    assert order.due_at == at("2026-12-01 23:59:59")


def test_an_answered_order_cannot_be_reopened_to_a_unit(city, new_order):
    order = new_order()
    actions.answer_order(actor=city.actor("calltaker"), number=order.number, answer="已解答。")
    actions.close_order(actor=city.actor("calltaker"), number=order.number)
    with pytest.raises(IllegalTransition):
        actions.reopen_order(actor=city.actor("supervisor"), number=order.number, reason="再看看")
    assert WorkOrder.objects.get(pk=order.pk).state == State.CLOSED


def test_merge_keeps_every_requester_on_the_survivor(city, new_order):
    survivor = new_order()
    dup = new_order(requesters=[actions.RequesterInput(phone="13900001111", name="王五"),
                                actions.RequesterInput(phone="13812345678", name="张三")])
    actions.dispatch_order(actor=city.actor("dispatcher"), number=dup.number, lead_unit="SLT")
    actions.merge_orders(actor=city.actor("dispatcher"), number=dup.number, into=survivor.number, reason="同一路灯")
    dup.refresh_from_db()
    assert dup.state == State.MERGED and dup.merged_into_id == survivor.pk
    phones = sorted(survivor.requesters.values_list("phone", flat=True))
    assert phones == ["13812345678", "13900001111"]  # the shared caller is not doubled
    assert not dup.assignments.exclude(state=AssignmentState.CANCELLED).exists()
    assert survivor.events.filter(code="absorbed").get().data["duplicate"] == dup.number


def test_merge_refuses_self_and_closed_survivors(city, new_order):
    a = new_order()
    with pytest.raises(InvalidInput):
        actions.merge_orders(actor=city.actor("dispatcher"), number=a.number, into=a.number)
    closed = bring_to(city, new_order, State.CLOSED)
    with pytest.raises(IllegalTransition):
        actions.merge_orders(actor=city.actor("dispatcher"), number=a.number, into=closed.number)
    assert WorkOrder.objects.get(pk=a.pk).state == State.RECEIVED


@pytest.mark.parametrize("outcome", ["emergency", "legal_process", "duplicate", "secret", "no_duty", "unlawful"])
def test_the_six_outcomes_of_article_11(city, new_order, outcome):
    referred = new_order()
    actions.refer_order(actor=city.actor("calltaker"), number=referred.number, outcome=outcome, referred_to="其他渠道")
    declined = new_order()
    actions.decline_order(actor=city.actor("dispatcher"), number=declined.number, outcome=outcome, reason="理由")
    assert WorkOrder.objects.get(pk=referred.pk).outcome == outcome
    assert WorkOrder.objects.get(pk=declined.pk).outcome == outcome


def test_unknown_outcome_is_refused(city, new_order):
    order = new_order()
    with pytest.raises(InvalidInput):
        actions.decline_order(actor=city.actor("dispatcher"), number=order.number, outcome="bored", reason="x")


def test_urge_is_an_event_not_a_state(city, new_order):
    order = bring_to(city, new_order, State.DISPATCHED)
    actions.urge_order(actor=city.actor("supervisor"), number=order.number, reason="即将超期。")
    order.refresh_from_db()
    assert order.state == State.DISPATCHED
    assert order.events.last().code == "urged"


def test_events_are_append_only(city, new_order):
    event = new_order().events.get()
    event.reason = "rewritten"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_public_rating_is_a_web_callback(city, new_order):
    order = bring_to(city, new_order, State.CALLBACK_DUE)
    actions.rate_order(number=order.number, phone="13812345678", solved=True, satisfaction="satisfied")
    order.refresh_from_db()
    assert order.state == State.CLOSED and order.callbacks.get().via == "web"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("138 1234 5678", "13812345678"),
        ("+86 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("010-65123456", "01065123456"),
        ("(010)65123456", "01065123456"),
        ("65123456", "65123456"),
    ],
)
def test_phone_numbers_are_stored_as_digits(typed, stored):
    from jiesu.orders.actions.intake import normalise_phone

    assert normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["", "123", "1381234567", "23812345678", "abc", "138123456789999", "1381234567８"])
def test_invalid_phone_numbers(typed):
    from jiesu.orders.actions.intake import normalise_phone

    with pytest.raises(InvalidInput):
        normalise_phone(typed)


def test_reopen_goes_to_the_unit_that_replied_not_the_one_that_returned(city, new_order):
    order = new_order()
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="ZGC")
    actions.return_assignment(actor=city.actor("zgc_handler"), number=order.number, reason="不属本辖区。")
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    actions.accept_assignment(actor=city.actor("handler"), number=order.number)
    actions.reply_to_order(actor=city.actor("handler"), number=order.number, body="已处理。", outcome="solved")
    actions.open_callback(actor=city.actor("supervisor"), number=order.number)
    actions.record_callback(actor=city.actor("supervisor"), number=order.number, reached=True, solved=False,
                            satisfaction=Satisfaction.UNSATISFIED)
    live = Assignment.objects.filter(order=order, state=AssignmentState.DISPATCHED).get()
    assert live.unit.code == "SLT"
