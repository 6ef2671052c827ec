"""回访 beyond the reply: the overdue sweep, callbacks on overdue orders, the requester's signed
link (send and answer). Every change follows the order services' pattern: validate, lock the
order, check permission and state, change, append an event."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts.policy import Action, Actor
from jiesu.catalogue.models import Channel
from jiesu.followup import links
from jiesu.followup.conf import knob, max_attempts
from jiesu.followup.models import Overdue
from jiesu.integrations.models import Notification, NotificationKind
from jiesu.integrations.notifications import send_message
from jiesu.orders.actions.base import MAX_REASON, clean_text, lock_order, require
from jiesu.orders.actions.followup import (
    NO_CONTACT,
    has_contact,
    is_verified,
    open_callback,
    record_callback,
    resolution_of,
    verification,
)
from jiesu.orders.errors import IllegalTransition, InvalidInput
from jiesu.orders.events import EventCode, record
from jiesu.orders.models import (
    Assignment,
    AssignmentRole,
    AssignmentState,
    Callback,
    CallbackVia,
    Event,
    Resolution,
    Satisfaction,
    WorkOrder,
    mask_email,
    mask_phone,
)
from jiesu.orders.states import IN_HANDLING, State

log = logging.getLogger(__name__)

SWEEP_BATCH = 500
# A reply whose callback task has not run after this long is queued by the sweep instead.
LOST_TASK_GRACE = dt.timedelta(minutes=10)
HANDLING = (AssignmentState.DISPATCHED, AssignmentState.ACCEPTED)


# ---------------------------------------------------------------------------------------------
# The sweep


@dataclass(frozen=True)
class SweepResult:
    overdue: int = 0
    callbacks_queued: int = 0

    def __str__(self) -> str:
        return f"overdue flagged: {self.overdue}, callbacks queued: {self.callbacks_queued}"


def sweep(*, now: dt.datetime | None = None, batch: int = SWEEP_BATCH) -> SweepResult:
    """Flag lead assignments past their deadline without a reply (one ``overdue`` event per
    assignment, however often it runs), and queue callbacks whose task was lost."""
    now = now or clock.now()
    flagged = 0
    while True:
        due = list(
            Assignment.objects.filter(role=AssignmentRole.LEAD, state__in=HANDLING, due_at__lt=now,
                                      order__state__in=list(IN_HANDLING))
            .exclude(pk__in=Overdue.objects.values("assignment_id"))
            .order_by("due_at", "pk").values_list("pk", "order_id")[:batch]
        )
        for assignment_id, order_id in due:
            flagged += _flag_overdue(assignment_id, order_id, now)
        if len(due) < batch:
            break
    queued = 0
    stuck = (
        WorkOrder.objects.filter(state=State.REPLIED, assignments__role=AssignmentRole.LEAD,
                                 assignments__state=AssignmentState.REPLIED,
                                 assignments__replied_at__lt=now - LOST_TASK_GRACE)
        .order_by("pk").values_list("number", flat=True).distinct()
    )
    for number in list(stuck):
        try:
            with clock.frozen(now):
                queue_callback(actor=Actor.system(), number=number)
            queued += 1
        except IllegalTransition:
            pass
    return SweepResult(overdue=flagged, callbacks_queued=queued)


def _flag_overdue(assignment_id: int, order_id: int, now: dt.datetime) -> int:
    with transaction.atomic():
        order = lock_order(order_id)
        a = Assignment.objects.select_related("unit").filter(pk=assignment_id).first()
        if (a is None or a.state not in HANDLING or a.due_at >= now or order.state not in IN_HANDLING
                or Overdue.objects.filter(assignment_id=assignment_id).exists()):
            return 0
        Overdue.objects.create(assignment=a, order=order, due_at=a.due_at, detected_at=now)
        record(order=order, code=EventCode.OVERDUE, actor_id=None, at=now, assignment=a,
               data={"unit": a.unit.code, "due_at": a.due_at.isoformat(), "extended": a.extended})
        if order.channel != Channel.PROACTIVE and not has_contact(order):
            # Nobody to ask how things stand: the flag's callback is unreachable at once.
            transaction.on_commit(lambda: _no_contact_overdue(order.number, now))
        elif auto_link_enabled():  # the requester hears of it and can answer, as after a reply
            transaction.on_commit(lambda: auto_send_link(order_id, now=now))
    return 1


def _no_contact_overdue(number: str, now: dt.datetime) -> None:
    try:
        with clock.frozen(now):
            record_overdue_callback(actor=Actor.system(), number=number, reached=False, via=CallbackVia.NONE)
    except Exception:  # noqa: BLE001 - the flag stays on the supervisor's list instead
        log.exception("recording the no-contact callback of overdue order %s failed", number)


# ---------------------------------------------------------------------------------------------
# Callbacks on overdue orders


def open_overdue(order: WorkOrder, now: dt.datetime | None = None) -> Overdue | None:
    """The order's overdue flag that still waits for a callback: on its live lead assignment,
    still past due, no callback done."""
    now = now or clock.now()
    return (
        Overdue.objects.filter(order=order, done_at__isnull=True, assignment__state__in=HANDLING,
                               assignment__role=AssignmentRole.LEAD, assignment__due_at__lte=now)
        .select_related("assignment").order_by("-pk").first()
    )


def _answers(reached: bool, contacted, resolution: str, solved, satisfaction: str) -> tuple:
    if not reached:
        return None, "", None, ""
    resolution = resolution_of(resolution, solved)
    if not resolution or satisfaction not in Satisfaction.values:
        raise InvalidInput(_("Record whether it was solved and how satisfied the requester is."),
                           field="satisfaction")
    return contacted, resolution, resolution == Resolution.SOLVED, satisfaction


def record_overdue_callback(
    *, actor: Actor, number: str, reached: bool, contacted: bool | None = None, resolution: str = "",
    solved: bool | None = None, satisfaction: str = "", note: str = "", via: str = CallbackVia.PHONE,
) -> WorkOrder:
    """A callback on an order the unit has not replied to by its deadline. The order stays
    with the unit (no new state): the answers are recorded and count in the scorecard; a
    requester who says it is not solved or is unsatisfied has their words passed on as an
    urging (督办). Not reached: after the configured tries the order leaves the list."""
    note = clean_text(note, field="note", label=_("the note"), required=False, max_length=MAX_REASON)
    if via not in CallbackVia.values:
        raise InvalidInput(_("Unknown callback channel."), field="via")
    with transaction.atomic():
        order = lock_order(number)
        require(actor, Action.CALLBACK, order)
        now = clock.now()
        flag = open_overdue(order, now) if order.state in IN_HANDLING else None
        if flag is None:
            raise IllegalTransition(_("Order %(number)s is not waiting for a callback."), number=order.number)
        if is_verified(order):  # a proactive item: the centre checks how things stand
            reached, via, contacted, satisfaction, solved, resolution = verification(reached, resolution, solved)
        elif via == CallbackVia.VERIFY:
            raise InvalidInput(_("Only a proactive item is verified by the centre."), field="via")
        else:
            contacted, resolution, solved, satisfaction = _answers(reached, contacted, resolution, solved,
                                                                   satisfaction)
        no_contact = not reached and not is_verified(order) and not has_contact(order)
        if no_contact:
            via = CallbackVia.NONE
        elif via == CallbackVia.NONE:
            raise InvalidInput(_("The requester left a contact: record how they were tried."), field="via")
        attempt = flag.callback_attempts + 1
        callback = Callback.objects.create(
            order=order, attempt=attempt, via=via, reached=reached, contacted=contacted, solved=solved,
            resolution=resolution, satisfaction=satisfaction, note=note, recorded_by_id=actor.user_id,
            created_at=now,
        )
        flag.callback_attempts = attempt
        data = {"callback": callback.pk, "attempt": attempt, "reached": reached, "contacted": contacted,
                "solved": solved, "resolution": resolution, "satisfaction": satisfaction, "via": via,
                "overdue": True}
        if reached:
            order.solved, order.resolution, order.satisfaction = solved, resolution, satisfaction
            order.save(update_fields=["solved", "resolution", "satisfaction", "updated_at"])
            flag.done_at = now
        elif attempt >= max_attempts() or no_contact:
            flag.done_at = now
            data["unreachable"] = True
            if no_contact:
                data["reason_code"] = NO_CONTACT
        flag.save(update_fields=["callback_attempts", "done_at"])
        record(order=order, code=EventCode.CALLBACK, actor_id=actor.user_id, at=now, reason=note,
               assignment=flag.assignment, data=data)
        if reached and (resolution != Resolution.SOLVED or satisfaction == Satisfaction.UNSATISFIED):
            why = (_("The centre's verification found the problem not solved.") if via == CallbackVia.VERIFY
                   else _("The requester says the problem is not solved."))
            record(order=order, code=EventCode.URGED, actor_id=actor.user_id, at=now, assignment=flag.assignment,
                   reason=note or str(why),
                   data={"overdue": True, "callback": callback.pk})
    order.overdue_callback = True  # type: ignore[attr-defined]  # for the screen's message
    return order


def record_any_callback(*, actor: Actor, number: str, **answers) -> WorkOrder:
    """The supervisor's phone script: a replied order's callback, or an overdue order's."""
    state = WorkOrder.objects.filter(number=number).values_list("state", flat=True).first()
    if state in IN_HANDLING:
        return record_overdue_callback(actor=actor, number=number, **answers)
    return record_callback(actor=actor, number=number, **answers)


# ---------------------------------------------------------------------------------------------
# The requester's link


def link_url(base_url: str, order: WorkOrder, token: str) -> str:
    from django.urls import reverse

    path = reverse("callback_link", args=[order.number, token])
    return base_url.rstrip("/") + path


def send_callback_link(*, actor: Actor, number: str, channel: str, base_url: str, to: str = "") -> Notification:
    """Send the requester a signed link to answer the callback themselves: by SMS to the
    primary requester's phone, or by e-mail to the address they gave on the phone (or, left
    empty, the one they gave with the request)."""
    if channel not in LINK_CHANNELS:
        raise InvalidInput(_("Choose SMS or e-mail."), field="channel")
    to = (to or "").strip()
    if channel == "email" and to and ("@" not in to or len(to) > 254 or any(c.isspace() for c in to)):
        raise InvalidInput(_("Give the requester's e-mail address."), field="to")
    with transaction.atomic():
        order = lock_order(number)
        require(actor, Action.CALLBACK, order)
        flag = open_overdue(order) if order.state in IN_HANDLING else None
        if order.state != State.CALLBACK_DUE and flag is None:
            raise IllegalTransition(_("Order %(number)s is not waiting for a callback."), number=order.number)
        if order.channel == Channel.PROACTIVE:
            raise IllegalTransition(_("Order %(number)s is a proactive item: the centre verifies its result, "
                                      "there is no requester to ask."), number=order.number)
        if channel == "sms":
            to = _requester_phone(order)
            if not to:
                raise InvalidInput(_("The order has no phone number to send to."), field="channel")
        elif not to:
            to = _requester_email(order)
            if not to:
                raise InvalidInput(_("Give the requester's e-mail address."), field="to")
        return _send_link(order, channel=channel, to=to, base_url=base_url, actor_id=actor.user_id, overdue=flag)


def _requester_phone(order: WorkOrder) -> str:
    requester = order.requesters.exclude(phone="").order_by("-is_primary", "id").first()
    return requester.phone if requester is not None else ""


def _requester_email(order: WorkOrder) -> str:
    requester = order.requesters.exclude(email="").order_by("-is_primary", "id").first()
    return requester.email if requester is not None else ""


def _contact(order: WorkOrder) -> tuple[str, str] | None:
    """Where the automatic link goes: SMS to a phone if there is one, else e-mail."""
    phone = _requester_phone(order)
    if phone:
        return "sms", phone
    email = _requester_email(order)
    return ("email", email) if email else None


def _send_link(order: WorkOrder, *, channel: str, to: str, base_url: str, actor_id: int | None,
               auto: bool = False, overdue: Overdue | None = None) -> Notification:
    """Sign, record (``link_sent``) and send; the caller holds the order's lock. With
    ``overdue``, the link answers that overdue flag's callback (no reply was given in time).
    The message is the ``callback_link`` template (admin-editable, both languages) and goes
    through the integrations' queue: after the commit, retried, never blocking the order."""
    now = clock.now()
    token, expires = links.make_token(order, via=CallbackVia.SMS if channel == "sms" else CallbackVia.WEB, now=now,
                                      overdue_id=overdue.pk if overdue is not None else None)
    url = link_url(base_url, order, token)
    data = {"channel": channel, "to": mask_phone(to) if channel == "sms" else mask_email(to),
            "expires_at": expires.isoformat(), "round": order.reopen_count}
    if auto:
        data["auto"] = True
    if overdue is not None:
        data["overdue"] = overdue.pk
    event = record(order=order, code=EventCode.LINK_SENT, actor_id=actor_id, at=now, data=data)
    context = {"number": order.number, "url": url, "days": links.link_days(), "overdue": overdue is not None}
    row = send_message(kind=NotificationKind.CALLBACK_LINK, channel=channel, to=to, context=context,
                       order_id=order.pk, key=f"e{event.pk}:callback_link:{channel}")
    if row is None:
        # The admin switched the template off: say so rather than pretend it went out.
        raise InvalidInput(_("The callback link message is switched off in the notification templates."),
                           field="channel")
    return row


LINK_CHANNELS = ("sms", "email")


def auto_link_enabled() -> bool:
    return bool(knob("CALLBACK_LINK_AUTO", True))


def auto_send_link(order_id: int, now: dt.datetime | None = None) -> Notification | None:
    """The signed link by SMS to the primary requester (by e-mail to a requester who left only
    an address), sent by itself when an order enters ``callback_due`` or the sweep finds it
    past its deadline without a reply (``JIESU["CALLBACK_LINK_AUTO"]``, on by default): once
    per callback round or overdue flag; not for a proactive item (no requester) nor an order
    without any contact (recorded as unreachable instead, see ``queue_callback``); only with
    ``JIESU["PUBLIC_BASE_URL"]`` (there is no request to take the address from). Never raises:
    a failure is logged and the supervisor still has the phone script and the *Send* buttons."""
    if not auto_link_enabled():
        return None
    try:
        if now is None:
            return _auto_send(order_id)
        with clock.frozen(now):  # the sweep's moment: the order is overdue as of then
            return _auto_send(order_id)
    except Exception:  # noqa: BLE001 - a lost SMS must not undo or break the callback
        log.exception("automatic callback link for order %s failed", order_id)
        return None


def _auto_send(order_id: int) -> Notification | None:
    base_url = str(knob("PUBLIC_BASE_URL") or "")
    with transaction.atomic():
        order = lock_order(order_id)
        flag = open_overdue(order) if order.state in IN_HANDLING else None
        if (order.state != State.CALLBACK_DUE and flag is None) or order.channel == Channel.PROACTIVE:
            return None
        sent = Event.objects.filter(order=order, code=EventCode.LINK_SENT, data__round=order.reopen_count,
                                    data__auto=True)
        if (sent.filter(data__overdue=flag.pk) if flag is not None else sent.exclude(data__has_key="overdue")).exists():
            return None  # once per callback round, once per overdue flag
        contact = _contact(order)
        if contact is None:
            return None  # no contact at all: queue_callback / the sweep record it as unreachable
        if not base_url:
            log.warning("automatic callback link for order %s not sent: set JIESU_PUBLIC_BASE_URL", order.number)
            return None
        channel, to = contact
        return _send_link(order, channel=channel, to=to, base_url=base_url, actor_id=None, auto=True, overdue=flag)


def queue_callback(*, actor: Actor, number: str) -> WorkOrder:
    """replied → callback_due (``open_callback``), then, after commit, the automatic link. A
    requester who left no phone and no e-mail cannot be asked: the callback is recorded as
    unreachable at once (``reason_code: no_contact``) and the order closes."""
    order = open_callback(actor=actor, number=number)
    if order.channel != Channel.PROACTIVE and not has_contact(order):
        return record_callback(actor=Actor.system(), number=order.number, reached=False, via=CallbackVia.NONE)
    if auto_link_enabled():
        order_id = order.pk
        transaction.on_commit(lambda: auto_send_link(order_id))
    return order


def answer_by_link(
    *, number: str, token: str, contacted: bool | None, resolution: str, satisfaction: str, comment: str = "",
) -> WorkOrder:
    """The requester answers through the link: checked again under the order's lock, then the
    same callback as the phone's, via ``sms`` or ``web``."""
    with transaction.atomic():
        order = lock_order(number)
        grant = links.check(order, token, now=clock.now())
        if grant.overdue_id is not None:
            return record_overdue_callback(
                actor=Actor.system(), number=order.number, reached=True, contacted=contacted, resolution=resolution,
                satisfaction=satisfaction, note=comment, via=grant.via,
            )
        return record_callback(
            actor=Actor.system(), number=order.number, reached=True, contacted=contacted, resolution=resolution,
            satisfaction=satisfaction, note=comment, via=grant.via,
        )
