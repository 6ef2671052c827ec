"""Jiesu objects as Open311 structures (the one serializer; ``formats`` renders XML or JSON)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from jiesu.catalogue.models import Category
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.open311 import statuses, w3c
from jiesu.open311.models import Attribute, ServiceType
from jiesu.open311.selectors import ServiceInfo, category_name
from jiesu.orders.models import Event, OrderState, WorkOrder

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_DESCRIPTION = 4000


def when(value) -> str | None:
    return w3c.render(value, SHANGHAI)


def conf() -> dict[str, Any]:
    return {"JURISDICTION_ID": "", "CONTACT": "", "KEY_SERVICE": "", "CHANGESET": "2026-11-27T00:00:00+08:00",
            "TYPE": "production", **_settings()}


def _settings() -> dict[str, Any]:
    jiesu: dict[str, Any] = settings.JIESU
    return dict(jiesu.get("OPEN311", {}))


def discovery(base_url: str) -> dict[str, Any]:
    c = conf()
    return {
        "changeset": c["CHANGESET"],
        "contact": c["CONTACT"],
        "key_service": c["KEY_SERVICE"],
        "endpoints": [{
            "specification": SPEC,
            "url": base_url,
            "changeset": c["CHANGESET"],
            "type": c["TYPE"],
            "formats": ["text/xml", "application/json"],
        }],
    }


def service(info: ServiceInfo) -> dict[str, Any]:
    return {
        "service_code": info.code,
        "service_name": info.name,
        "description": info.description,
        "metadata": info.metadata,
        "type": info.type,
        "keywords": info.keywords,
        "group": info.group,
    }


def _attribute(a: Attribute) -> dict[str, Any]:
    body: dict[str, Any] = {
        "variable": a.variable,
        "code": a.code,
        "datatype": a.datatype,
        "required": a.required,
        "datatype_description": a.datatype_description or None,
        "order": a.order,
        "description": a.description,
    }
    if a.datatype in ("singlevaluelist", "multivaluelist"):
        body["values"] = [{"key": v.key, "name": v.name} for v in a.values.all()]
    return body


def definition(info: ServiceInfo) -> dict[str, Any]:
    return {"service_code": info.code, "attributes": [_attribute(a) for a in info.attributes]}


def _submission(order: WorkOrder):
    try:
        return order.open311
    except WorkOrder.open311.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
        return None


def _category_code(category) -> str | None:
    if category is None:
        return None
    try:
        return category.open311_service.service_code
    except Category.open311_service.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
        return category.code


def _status_notes(order: WorkOrder) -> str | None:
    """What the requester is told: the last reply, or the answer / referral / refusal."""
    replies = getattr(order, "open311_replies", None)
    if replies:
        return replies[-1].body
    if order.answer:
        return order.answer
    if order.referred_to:
        return order.referred_to
    return None


def request(order: WorkOrder, *, extensions: bool = False, notes: list[Event] | None = None) -> dict[str, Any]:
    sub = _submission(order)
    category = order.category
    code = sub.service_code if sub else _category_code(category)
    leads = getattr(order, "open311_leads", None)
    lead = leads[0] if leads else None
    closed = statuses.open_closed(order.state) == "closed"
    body: dict[str, Any] = {
        "service_request_id": order.number,
        "status": statuses.open_closed(order.state),
        "status_notes": _status_notes(order),
        "service_name": category_name(category) if category else None,
        "service_code": code,
        "description": order.content[:MAX_DESCRIPTION],  # Jiesu keeps up to 5,000; the spec allows 4,000
        "agency_responsible": lead.unit.name if lead else None,
        "service_notice": None,
        "requested_datetime": when(order.received_at),
        "updated_datetime": when(order.closed_at if closed and order.closed_at else order.updated_at),
        "expected_datetime": when(order.due_at),
        "address": order.address or None,
        "address_id": (sub.address_id or None) if sub else None,
        "zipcode": None,
        "lat": order.latitude,
        "long": order.longitude,
        "media_url": (sub.media_url or None) if sub else None,
    }
    if extensions:
        body["detailed_status"] = statuses.detailed(order.state)
        body["attributes"] = [{"code": k, "name": k, "label": k, "value": v if isinstance(v, str) else ",".join(v)}
                              for k, v in (sub.attributes.items() if sub else [])]
        body["extended_attributes"] = {"channel": order.channel, "number": order.number,
                                       "state": order.state}
        body["notes"] = [{"datetime": when(e.at), "description": str(OrderState(e.to_state).label), "type": e.code}
                         for e in (notes or [])]
    return body


def request_ack(order: WorkOrder, *, service_type: str, token: str, notice: str) -> dict[str, Any]:
    """The POST answer: the id (realtime) or the token (batch), never both."""
    body: dict[str, Any] = {}
    if service_type == ServiceType.BATCH:
        body["token"] = token
    else:
        body["service_request_id"] = order.number
    body["service_notice"] = notice or None
    body["account_id"] = None
    return body


def update(event: Event, *, description: str, extensions: bool) -> dict[str, Any]:
    state = event.to_state
    return {
        "update_id": str(event.pk),
        "service_request_id": event.order.number,
        "status": statuses.detailed(state) if extensions else statuses.open_closed(state),
        "updated_datetime": when(event.at),
        "description": description,
        "media_url": None,
    }
