"""Role × action: each role sees and does what DESIGN §1 says, and nothing more."""

from __future__ import annotations

import pytest

from jiesu.accounts.policy import Action, Actor, can, can_see, can_see_requester, visible_orders
from jiesu.orders import actions
from jiesu.orders.models import WorkOrder
from jiesu.orders.states import State
from tests.lifecycle import bring_to

pytestmark = pytest.mark.django_db

# Who may take each centre action on an order in 朝阳区 (the fixture city's district).
EXPECTED = {
    Action.CREATE: {"admin", "calltaker", "dispatcher", "cy_dispatcher", "supervisor", "outreach"},
    Action.ANSWER: {"admin", "calltaker", "dispatcher", "cy_dispatcher"},
    Action.DISPATCH: {"admin", "dispatcher", "cy_dispatcher"},
    Action.REQUEUE: {"admin", "dispatcher", "cy_dispatcher"},
    Action.REFER: {"admin", "calltaker", "dispatcher", "cy_dispatcher"},
    Action.DECLINE: {"admin", "dispatcher", "cy_dispatcher"},
    Action.MERGE: {"admin", "dispatcher", "cy_dispatcher"},
    Action.CLOSE: {"admin", "calltaker", "dispatcher", "cy_dispatcher", "supervisor"},
    Action.DECIDE_EXTENSION: {"admin", "dispatcher", "cy_dispatcher", "supervisor"},
    Action.CALLBACK: {"admin", "supervisor", "calltaker"},
    Action.REOPEN: {"admin", "supervisor"},
    Action.URGE: {"admin", "supervisor"},
}
# Who may act on the 三里屯街道 office's assignment.
UNIT_EXPECTED = {
    Action.ACCEPT: {"admin", "handler", "lead"},
    Action.RETURN: {"admin", "handler", "lead"},
    Action.EXTEND: {"admin", "handler", "lead"},
    Action.CONTACT: {"admin", "handler", "lead"},
    Action.REPLY: {"admin", "handler", "lead"},
}


@pytest.mark.parametrize("action", list(EXPECTED))
def test_centre_actions(city, new_order, action):
    order = new_order()
    allowed = {name for name in city.users if can(city.actor(name), action, order)}
    assert allowed == EXPECTED[action]


@pytest.mark.parametrize("action", list(UNIT_EXPECTED))
def test_unit_actions(city, new_order, action):
    order = bring_to(city, new_order, State.DISPATCHED)
    assignment = order.assignments.get()
    allowed = {name for name in city.users if can(city.actor(name), action, order, assignment)}
    assert allowed == UNIT_EXPECTED[action]


def test_district_centre_reaches_only_its_district(city, new_order):
    haidian_order = new_order(area_code="110108001")
    cy = city.actor("cy_dispatcher")
    assert not can(cy, Action.DISPATCH, haidian_order)
    assert not can_see(cy, haidian_order)
    assert can(city.actor("dispatcher"), Action.DISPATCH, haidian_order)


def test_handlers_see_only_their_units_orders(city, new_order):
    slt = bring_to(city, new_order, State.DISPATCHED)
    zgc = new_order(area_code="110108001")
    actions.dispatch_order(actor=city.actor("dispatcher"), number=zgc.number, lead_unit="ZGC")
    undispatched = new_order()

    def seen(name):
        return set(visible_orders(city.actor(name), WorkOrder.objects.all()).values_list("number", flat=True))

    assert seen("handler") == {slt.number}
    assert seen("zgc_handler") == {zgc.number}
    assert seen("water_handler") == set()
    assert seen("nobody") == set() and seen("service") == set()
    everything = {slt.number, zgc.number, undispatched.number}
    for centre_role in ("calltaker", "dispatcher", "supervisor", "analyst", "admin"):
        assert seen(centre_role) == everything
    assert seen("cy_dispatcher") == {slt.number, undispatched.number}


def test_co_unit_sees_the_order_it_helps_with(city, new_order):
    order = new_order()
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT", co_units=["WATER"])
    assert can_see(city.actor("water_handler"), order)
    # …but cannot act on the lead's assignment.
    lead = order.assignments.get(role="lead")
    assert not can(city.actor("water_handler"), Action.REPLY, order, lead)


def test_outreach_sees_what_they_recorded(city, new_order):
    mine = new_order(actor=city.actor("outreach"), channel="outreach")
    other = new_order()
    seen = set(visible_orders(city.actor("outreach"), WorkOrder.objects.all()))
    assert mine in seen and other not in seen


def test_requester_identity(city, new_order):
    order = bring_to(city, new_order, State.DISPATCHED)
    order = WorkOrder.objects.prefetch_related("requesters", "assignments").get(pk=order.pk)
    who = {name for name in city.users if can_see_requester(city.actor(name), order)}
    assert who == {"admin", "calltaker", "dispatcher", "cy_dispatcher", "supervisor", "handler", "lead"}


def test_confidential_report_never_shows_the_requester_to_the_unit(city, new_order):
    report = new_order(request_type="report", content="举报某单位违规收费。")
    actions.dispatch_order(actor=city.actor("dispatcher"), number=report.number, lead_unit="SLT")
    report = WorkOrder.objects.prefetch_related("requesters", "assignments").get(pk=report.pk)
    for unit_user in ("handler", "lead"):
        assert can_see(city.actor(unit_user), report)
        assert not can_see_requester(city.actor(unit_user), report)
    assert can_see_requester(city.actor("dispatcher"), report)


def test_requester_may_ask_for_confidentiality(city, new_order):
    order = new_order(requesters=[actions.RequesterInput(phone="13812345678", wants_confidential=True)])
    actions.dispatch_order(actor=city.actor("dispatcher"), number=order.number, lead_unit="SLT")
    order = WorkOrder.objects.prefetch_related("requesters", "assignments").get(pk=order.pk)
    assert not can_see_requester(city.actor("handler"), order)


def test_anonymous_and_system_actors(city, new_order):
    order = new_order()
    assert not can(Actor.of(None), Action.CREATE)
    assert not can_see(Actor.of(None), order)
    assert can(Actor.system(), Action.CREATE)


def test_a_token_gives_the_same_actor_as_its_user(city):
    """``Actor.of_token`` (one statement, every API request) answers what ``Actor.of`` does for
    the token's user, for every role of the city (several grants, district, unit, none), the
    superuser included; unknown and revoked tokens and inactive users have no actor."""
    from django.utils import timezone

    from jiesu.accounts.models import ApiToken, Membership, Role, User

    Membership.objects.create(user=city.users["handler"], unit=city.water, role=Role.UNIT_LEAD)
    users = [*city.users.values(), User.objects.create_user("no-roles"),
             User.objects.create_superuser("root-token", password="x")]  # noqa: S106
    for user in users:
        _token, raw = ApiToken.issue(user=user)
        by_token, by_user = Actor.of_token(raw), Actor.of(user)
        assert by_token is not None and by_token.user.pk == user.pk
        assert sorted(by_token.grants, key=repr) == sorted(by_user.grants, key=repr)
        assert (by_token.user_id, by_token.is_admin, by_token.username) == \
            (by_user.user_id, by_user.is_admin, by_user.username)
    assert any(len(Actor.of(u).grants) > 1 for u in users)  # the one-row-per-grant case is covered
    assert Actor.of_token("js_unknown") is None
    token, raw = ApiToken.issue(user=city.users["calltaker"])
    token.revoked_at = timezone.now()
    token.save()
    assert Actor.of_token(raw) is None
    _token, raw = ApiToken.issue(user=city.users["handler"])
    User.objects.filter(pk=city.users["handler"].pk).update(is_active=False)
    assert Actor.of_token(raw) is None
