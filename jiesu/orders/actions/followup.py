"""回访 and supervision: callbacks, reopening, urging, notes (Art. 19–23)."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts.policy import Action, Actor
from jiesu.catalogue.models import Channel
from jiesu.orders.actions.base import MAX_REASON, clean_text, guard_move, lock_order, require
from jiesu.orders.errors import IllegalTransition, InvalidInput
from jiesu.orders.events import EventCode, record
from jiesu.orders.models import (
    AssignmentRole,
    AssignmentState,
    Callback,
    CallbackVia,
    Resolution,
    Satisfaction,
    WorkOrder,
)
from jiesu.orders.states import IN_HANDLING, State

# The reason code of a callback recorded as unreachable because there was no contact at all.
NO_CONTACT = "no_contact"


def open_callback(*, actor: Actor, number: str) -> WorkOrder:
    """replied → callback_due: the reply is in, the centre now asks the requester."""
    with transaction.atomic():
        order = lock_order(number)
        require(actor, Action.CALLBACK, order)
        guard_move(order, State.CALLBACK_DUE, _("queued for callback"))
        order.state = State.CALLBACK_DUE
        order.save(update_fields=["state", "updated_at"])
        record(order=order, code=EventCode.CALLBACK_OPENED, actor_id=actor.user_id, at=clock.now(),
               from_state=State.REPLIED, to_state=State.CALLBACK_DUE)
    return order


def _max_attempts() -> int:
    return int(cast(Any, settings.JIESU)["CALLBACK_MAX_ATTEMPTS"])


def record_callback(
    *,
    actor: Actor,
    number: str,
    reached: bool,
    contacted: bool | None = None,
    solved: bool | None = None,
    satisfaction: str = "",
    note: str = "",
    via: str = CallbackVia.PHONE,
    resolution: str = "",
) -> WorkOrder:
    """One callback attempt. Reached: the answers decide (``reopens``): the order closes, or it
    is reopened to the same unit with the requester's words as the reason. Not reached: after
    the configured number of tries the order closes as unreachable — at once when the requester
    left no phone and no e-mail (``via=none``, ``reason_code: no_contact``: there is nobody to
    try again).

    ``resolution`` (solved / partly / unsolved) wins over the older boolean ``solved``."""
    note = clean_text(note, field="note", label=_("the note"), required=False, max_length=MAX_REASON)
    if via not in CallbackVia.values:
        raise InvalidInput(_("Unknown callback channel."), field="via")
    with transaction.atomic():
        order = lock_order(number)
        require(actor, Action.CALLBACK, order)
        if order.state != State.CALLBACK_DUE:
            raise IllegalTransition(_("Order %(number)s is not waiting for a callback."), number=order.number)
        verify = is_verified(order)
        if verify:
            reached, via, contacted, satisfaction, solved, resolution = verification(reached, resolution, solved)
        elif via == CallbackVia.VERIFY:
            raise InvalidInput(_("Only a proactive item is verified by the centre."), field="via")
        elif reached:
            resolution = resolution_of(resolution, solved)
            if not resolution or satisfaction not in Satisfaction.values:
                raise InvalidInput(_("Record whether it was solved and how satisfied the requester is."),
                                   field="satisfaction")
            solved = resolution == Resolution.SOLVED
        else:
            contacted = solved = None
            satisfaction = resolution = ""
        no_contact = not reached and not verify and not has_contact(order)
        if no_contact:
            via = CallbackVia.NONE
        elif via == CallbackVia.NONE:
            raise InvalidInput(_("The requester left a contact: record how they were tried."), field="via")
        now = clock.now()
        attempt = order.callback_attempts + 1
        callback = Callback.objects.create(
            order=order, attempt=attempt, via=via, reached=reached, contacted=contacted, solved=solved,
            resolution=resolution, satisfaction=satisfaction, note=note, recorded_by_id=actor.user_id,
            created_at=now,
        )
        order.callback_attempts = attempt
        data = {"callback": callback.pk, "attempt": attempt, "reached": reached, "contacted": contacted,
                "solved": solved, "resolution": resolution, "satisfaction": satisfaction, "via": via}
        if reached:
            order.solved, order.resolution, order.satisfaction = solved, resolution, satisfaction
            reopen = resolution == Resolution.UNSOLVED if verify else reopens(resolution, satisfaction)
            target = State.REOPENED if reopen else State.CLOSED
        elif attempt >= _max_attempts() or no_contact:
            target = State.CLOSED
            data["unreachable"] = True
            if no_contact:
                data["reason_code"] = NO_CONTACT
        else:
            target = State.CALLBACK_DUE
        if target == State.CLOSED:
            order.state, order.closed_at = State.CLOSED, now
        elif target == State.REOPENED:
            _send_back(order, actor, now)
        order.save()
        record(order=order, code=EventCode.CALLBACK, actor_id=actor.user_id, at=now, from_state=State.CALLBACK_DUE,
               to_state=order.state, reason=note, data=data)
        if target == State.REOPENED:
            # 重办 with the requester's words: the unit reads why in the reopen event.
            record(order=order, code=EventCode.REOPENED, actor_id=actor.user_id, at=now,
                   from_state=State.CALLBACK_DUE, to_state=State.REOPENED,
                   reason=note or str(_("The centre's verification found the problem not solved.") if verify else
                                       _("The requester is not satisfied or the problem is not solved.")),
                   data={"reopen_count": order.reopen_count, "callback": callback.pk, "via": via})
    return order


def has_contact(order: WorkOrder) -> bool:
    """Whether any requester of the order left a phone or an e-mail to be called back on."""
    return order.requesters.exclude(phone="", email="").exists()


def is_verified(order: WorkOrder) -> bool:
    """A proactive item (未诉先办, no requester): nobody to call back, the centre verifies the
    result on site or with the unit (``via=verify``)."""
    return order.channel == Channel.PROACTIVE


def verification(reached: bool, resolution: str, solved: bool | None) -> tuple:
    """The answers of a verification: only the result (solved / partly / not solved), never
    "not reached", no contact or satisfaction question (there is no requester). Returns
    (reached, via, contacted, satisfaction, solved, resolution)."""
    resolution = resolution_of(resolution, solved)
    if not reached or not resolution:
        raise InvalidInput(_("Record the verified result: solved, partly solved or not solved."),
                           field="resolution")
    return True, CallbackVia.VERIFY, None, "", resolution == Resolution.SOLVED, resolution


def resolution_of(resolution: str, solved: bool | None) -> str:
    """The three-valued answer, from ``resolution`` or else the boolean ``solved``."""
    if resolution:
        if resolution not in Resolution.values:
            raise InvalidInput(_("Choose solved, partly solved or not solved."), field="resolution")
        return resolution
    if solved is None:
        return ""
    return Resolution.SOLVED if solved else Resolution.UNSOLVED


def reopens(resolution: str, satisfaction: str) -> bool:
    """Does a reached callback send the order back (重办)? ``JIESU["CALLBACK_REOPEN_RULE"]``:

    - ``"either"`` (default; issue 4: "unsolved or unsatisfied reopens"): when it is not solved
      (partly solved is not "unsolved") or the requester is unsatisfied;
    - ``"neither"`` (the work-order core's first rule): only when it is neither solved (partly
      is not solved) nor satisfied (satisfied or basically satisfied)."""
    unsatisfied = satisfaction == Satisfaction.UNSATISFIED
    if cast(Any, settings.JIESU).get("CALLBACK_REOPEN_RULE", "either") == "either":
        return resolution == Resolution.UNSOLVED or unsatisfied
    return resolution != Resolution.SOLVED and unsatisfied


def _send_back(order: WorkOrder, actor: Actor, now) -> None:
    """重办: the lead unit gets the order again with a fresh deadline, to accept anew."""
    from jiesu.orders.actions.dispatch import build_assignment

    # The unit that replied last, not one that returned the order earlier.
    lead = (
        order.assignments.filter(role=AssignmentRole.LEAD)
        .exclude(state__in=[AssignmentState.CANCELLED, AssignmentState.RETURNED])
        .order_by("-id")
        .first()
    )
    if lead is None:
        raise IllegalTransition(_("Order %(number)s has no lead unit to reopen it to."), number=order.number)
    lead.state = AssignmentState.CANCELLED
    lead.save(update_fields=["state"])
    fresh = build_assignment(order=order, unit=lead.unit, role=AssignmentRole.LEAD, actor_id=actor.user_id, at=now)
    fresh.save(force_insert=True)
    order.state, order.due_at, order.closed_at = State.REOPENED, fresh.due_at, None
    order.reopen_count += 1
    # A new handling round gets a new callback round with the full number of tries.
    order.callback_attempts = 0


def reopen_order(*, actor: Actor, number: str, reason: str) -> WorkOrder:
    """A supervisor sends an unsatisfied order back (from callback, or from closed: recorded)."""
    reason = clean_text(reason, field="reason", label=_("the reason"), max_length=MAX_REASON)
    with transaction.atomic():
        order = lock_order(number)
        require(actor, Action.REOPEN, order)
        guard_move(order, State.REOPENED, _("reopened"))
        source = order.state
        now = clock.now()
        _send_back(order, actor, now)
        order.save()
        record(order=order, code=EventCode.REOPENED, actor_id=actor.user_id, at=now, from_state=source,
               to_state=State.REOPENED, reason=reason, data={"reopen_count": order.reopen_count})
    return order


def urge_order(*, actor: Actor, number: str, reason: str) -> WorkOrder:
    """督办: an event, not a state (DESIGN §3); it shows in the timeline and the scorecards."""
    reason = clean_text(reason, field="reason", label=_("the reason"), max_length=MAX_REASON)
    with transaction.atomic():
        order = lock_order(number)
        require(actor, Action.URGE, order)
        if order.state not in IN_HANDLING and order.state != State.RETURNED:
            raise IllegalTransition(_("Only an order in handling can be urged."))
        now = clock.now()
        record(order=order, code=EventCode.URGED, actor_id=actor.user_id, at=now, reason=reason,
               data={"overdue": bool(order.due_at and now > order.due_at)})
    return order


def add_note(*, actor: Actor, number: str, text: str) -> WorkOrder:
    text = clean_text(text, field="text", label=_("the note"), max_length=MAX_REASON)
    with transaction.atomic():
        order = lock_order(number)
        assignment = order.assignments.filter(unit_id__in=actor.unit_ids()).first()
        require(actor, Action.NOTE, order, assignment)
        record(order=order, code=EventCode.NOTE, actor_id=actor.user_id, at=clock.now(), reason=text)
    return order


def rate_order(
    *, number: str, phone: str, satisfaction: str, resolution: str = "", solved: bool | None = None,
    contacted: bool | None = None, comment: str = "",
) -> WorkOrder:
    """The requester rates the reply on the portal: a web callback with the same questions and
    consequences as the signed link's (``resolution`` solved / partly / unsolved; the older
    boolean ``solved`` still works)."""
    from jiesu.orders.selectors import order_for_requester

    order = order_for_requester(number=number, phone=phone)
    return record_callback(
        actor=Actor.system(), number=order.number, reached=True, contacted=contacted, solved=solved,
        resolution=resolution, satisfaction=satisfaction, note=comment, via=CallbackVia.WEB,
    )
