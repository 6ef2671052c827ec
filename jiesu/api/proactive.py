"""/api/v1/proactive-items: 未诉先办 work items, which the centre opens itself with no
requester (a hotspot, a patrol, a monthly topic) and which are then dispatched like any order.

The policy is the order services': analysts, supervisors and admins open them (a district
centre's staff in their district only, ``Action.CREATE_PROACTIVE``); everyone lists the ones
they may see. The order's own endpoints (``/orders/{number}/…``) carry it on from there.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Header, Query, Router, Schema, Status
from pydantic import Field

from jiesu.api import present
from jiesu.api.auth import actor_of
from jiesu.api.orders import DEFAULT_LIMIT, ERRORS, MAX_LIMIT, _detail
from jiesu.api.schemas import OrderDetail, OrderPage, ProactiveCreateIn
from jiesu.catalogue.models import Channel
from jiesu.orders import actions, selectors
from jiesu.orders.errors import InvalidInput
from jiesu.orders.models import OrderState

router = Router(tags=["proactive"])


@router.post("/proactive-items", response={201: OrderDetail, 200: OrderDetail, **ERRORS},
             summary="Open a proactive work item (未诉先办)")
def create_item(
    request: HttpRequest,
    payload: ProactiveCreateIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Status[dict[str, Any]]:
    """Opens a work item with no requester on the ``proactive`` channel; it waits for dispatch.
    With an ``Idempotency-Key`` a retry answers 200 with the first item."""
    order = actions.create_order(
        actor=actor_of(request), proactive=True, requesters=[], channel=Channel.PROACTIVE,
        request_type=payload.request_type, urgency=payload.urgency, title=payload.title, content=payload.content,
        address=payload.address, latitude=payload.latitude, longitude=payload.longitude,
        category_code=payload.category, area_code=payload.area, idempotency_key=idempotency_key,
    )
    return Status(200 if order.replayed else 201, _detail(request, order.number))


class ItemQuery(Schema):
    state: str | None = None
    area: str | None = Field(None, description="area code: items in it or below it")
    limit: int = Field(DEFAULT_LIMIT, ge=1, description=f"page size, at most {MAX_LIMIT}")
    offset: int = Field(0, ge=0)


@router.get("/proactive-items", response={200: OrderPage, **ERRORS}, summary="List proactive work items")
def list_items(request: HttpRequest, filters: Query[ItemQuery]) -> dict[str, Any]:
    """The proactive items the caller may see, newest first (``limit`` at most 200)."""
    if filters.state and filters.state not in OrderState.values:
        raise InvalidInput(_("Unknown state “%(value)s”."), field="state", value=filters.state[:40])
    qs = selectors.order_list(actor_of(request), selectors.OrderFilter(
        channel=Channel.PROACTIVE, state=filters.state or None, area=filters.area or None))
    limit = min(filters.limit, MAX_LIMIT)
    return {"count": qs.count(), "limit": limit, "offset": filters.offset,
            "results": [present.order_summary(o) for o in qs[filters.offset : filters.offset + limit]]}
