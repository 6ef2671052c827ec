"""The requester's signed callback link (回访链接): answer the callback without logging in.

A token is ``django.core.signing`` over (order id, callback round, expiry, channel), with a salt
that names the order, so that:

- it cannot be forged (the signature is made with the site's secret key);
- it cannot be used for another order (another order's salt fails the signature, and the
  payload must name the order of the URL anyway);
- it cannot be reused after answering: it is good only while the order waits for a callback
  (``callback_due``) in the same round; an answer closes or reopens the order, and a reopen
  starts a new round (``reopen_count``), so an old link stays dead after the next reply too;
- it expires after ``JIESU["CALLBACK_LINK_DAYS"]`` days.

A link for an *overdue* order (the deadline passed without a reply) also names the sweep's
overdue flag: it is good only while that flag waits for its callback, and dies once the
requester (or the supervisor on the phone) has answered it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core import signing

from jiesu.followup.conf import knob
from jiesu.orders.models import CallbackVia, WorkOrder
from jiesu.orders.states import State

SALT = "jiesu.followup.callback-link"
VIA = {"s": CallbackVia.SMS, "w": CallbackVia.WEB}


def salt_for(order_id: int) -> str:
    return f"{SALT}:{order_id}"


class LinkError(Exception):
    """``code``: ``invalid`` (forged, damaged, another order's), ``expired`` or ``used``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Grant:
    order_id: int
    round: int
    expires_at: dt.datetime
    via: str  # sms (the link came by SMS) or web (by e-mail)
    overdue_id: int | None = None  # the overdue flag this link answers, for an order not replied to


def link_days() -> int:
    return int(knob("CALLBACK_LINK_DAYS", 7))


def make_token(order: WorkOrder, *, via: str, now: dt.datetime, overdue_id: int | None = None) -> tuple[str, dt.datetime]:
    expires = now + dt.timedelta(days=link_days())
    code = "s" if via == CallbackVia.SMS else "w"
    payload = [order.pk, order.reopen_count, int(expires.timestamp()), code]
    if overdue_id is not None:
        payload.append(overdue_id)
    return signing.dumps(payload, salt=salt_for(order.pk), compress=True), expires


def check(order: WorkOrder, token: str, *, now: dt.datetime) -> Grant:
    """The grant in ``token`` for ``order``, or ``LinkError``."""
    try:
        payload = signing.loads(token, salt=salt_for(order.pk))
    except signing.BadSignature:
        raise LinkError("invalid") from None
    if not (isinstance(payload, list) and len(payload) in (4, 5) and payload[0] == order.pk
            and isinstance(payload[1], int) and isinstance(payload[2], int) and payload[3] in VIA
            and (len(payload) == 4 or isinstance(payload[4], int))):
        raise LinkError("invalid")
    expires = dt.datetime.fromtimestamp(payload[2], tz=dt.UTC)
    overdue_id = payload[4] if len(payload) == 5 else None
    if payload[1] != order.reopen_count or not _waiting(order, overdue_id, now):
        raise LinkError("used")
    if now >= expires:
        raise LinkError("expired")
    return Grant(order_id=order.pk, round=payload[1], expires_at=expires, via=VIA[payload[3]], overdue_id=overdue_id)


def _waiting(order: WorkOrder, overdue_id: int | None, now: dt.datetime) -> bool:
    """Whether the order still waits for the callback the link was sent for."""
    if overdue_id is None:
        return order.state == State.CALLBACK_DUE
    from jiesu.followup.services import open_overdue
    from jiesu.orders.states import IN_HANDLING

    if order.state not in IN_HANDLING:
        return False

    flag = open_overdue(order, now)
    return flag is not None and flag.pk == overdue_id
