"""Specialised hotlines (e.g. the procuratorate's 12309): intake into the hotline's own queue
and dispatch to the hotline's own units. Everything else — accept, reply, callback — is the one
work-order lifecycle of jiesu.orders.actions; nothing here forks it."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu.accounts.policy import Actor
from jiesu.catalogue.models import Channel
from jiesu.orders import actions as order_actions
from jiesu.orders.models import WorkOrder
from jiesu.services.errors import InvalidInput, NotFound
from jiesu.services.models import Hotline, HotlineOrder


def _hotline(code: str) -> Hotline:
    hotline = Hotline.objects.filter(code=code).first()
    if hotline is None:
        raise NotFound(_("No hotline %(code)s."), code=str(code)[:16])
    return hotline


def record_hotline_order(
    *,
    actor: Actor,
    hotline_code: str,
    request_type: str,
    content: str,
    requesters: list[order_actions.RequesterInput],
    address: str = "",
    area_code: str | None = None,
    idempotency_key: str | None = None,
) -> WorkOrder:
    """Record a call to the hotline as a work order on the ``special_hotline`` channel."""
    hotline = _hotline(hotline_code)
    with transaction.atomic():
        order = order_actions.create_order(
            actor=actor, request_type=request_type, channel=Channel.SPECIAL_HOTLINE, content=content,
            requesters=requesters, address=address, area_code=area_code, idempotency_key=idempotency_key,
        )
        HotlineOrder.objects.get_or_create(order=order, defaults={"hotline": hotline})
    return order


def dispatch_hotline_order(*, actor: Actor, hotline_code: str, number: str, unit_code: str,
                           note: str = "") -> WorkOrder:
    """统一派单 to one of the hotline's units (the order's dispatch event says which hotline)."""
    hotline = _hotline(hotline_code)
    if not HotlineOrder.objects.filter(hotline=hotline, order__number=number).exists():
        raise NotFound(_("Order %(number)s is not in the %(hotline)s queue."), number=str(number)[:20],
                       hotline=hotline.code)
    if not hotline.units.filter(code=unit_code, is_active=True).exists():
        raise InvalidInput(_("The %(hotline)s hotline does not dispatch to “%(unit)s”."), field="unit",
                           hotline=hotline.code, unit=str(unit_code)[:40])
    return order_actions.dispatch_order(actor=actor, number=number, lead_unit=unit_code, note=note,
                                        data={"hotline": hotline.code})
