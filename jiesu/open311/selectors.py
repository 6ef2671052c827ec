"""Reads for the Open311 server: the services, one definition, the requests and their updates.
Each list is a fixed number of queries whatever its length (see tests/test_open311_queries.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import get_language

from jiesu.catalogue.models import Category
from jiesu.open311.models import ApiKey, Attribute, AttributeValue, Service, ServiceType, Submission, hash_key
from jiesu.orders.models import (
    Assignment,
    AssignmentRole,
    AssignmentState,
    Event,
    Reply,
    Requester,
    WorkOrder,
)


@dataclass
class ServiceInfo:
    code: str
    category_id: int
    category_code: str
    name: str
    description: str
    group: str
    keywords: str
    type: str
    request_type: str | None
    notice: str
    metadata: bool
    service_id: int | None = None
    attributes: list[Attribute] = field(default_factory=list)


def category_name(category: Category) -> str:
    if (get_language() or "").startswith("en") and category.name_en:
        return category.name_en
    return category.name


def _leaf_categories() -> QuerySet[Category]:
    live_child = Category.objects.filter(parent=OuterRef("pk"), is_active=True)
    return Category.objects.filter(is_active=True).exclude(Exists(live_child))


def _info(category: Category, service: Service | None, roots: dict[str, Category]) -> ServiceInfo:
    root = roots.get(category.path.split("/")[0])
    metadata = bool(service and getattr(service, "has_attributes", False))
    return ServiceInfo(
        code=service.service_code if service else category.code,
        category_id=category.pk,
        category_code=category.code,
        name=category_name(category),
        description=(service.description if service and service.description else category.full_name
                     if category.parent_id else category.name),
        group=(service.group if service and service.group else category_name(root) if root else ""),
        keywords=(service.keywords if service and service.keywords else ",".join(category.keywords.split())),
        type=service.type if service else ServiceType.REALTIME,
        request_type=service.request_type if service else None,
        notice=service.notice if service else "",
        metadata=metadata,
        service_id=service.pk if service else None,
    )


def _services_query() -> QuerySet[Category]:
    has_attributes = Attribute.objects.filter(service=OuterRef("pk"))
    return _leaf_categories().select_related("parent__parent").prefetch_related(
        Prefetch("open311_service", queryset=Service.objects.annotate(has_attributes=Exists(has_attributes)))
    )


def _roots() -> dict[str, Category]:
    return {c.code: c for c in Category.objects.filter(parent__isnull=True)}


def _service_of(category: Category) -> Service | None:
    try:
        return category.open311_service
    except Service.DoesNotExist:
        return None


def service_list() -> list[ServiceInfo]:
    """Every offered service: the active leaf categories not hidden by their Service row."""
    roots = _roots()
    found = []
    for category in _services_query().order_by("path"):
        service = _service_of(category)
        if service is not None and not service.is_active:
            continue
        found.append(_info(category, service, roots))
    return found


def find_service(code: str) -> ServiceInfo | None:
    """The offered service with this code (a Service row's own code, else the category code)."""
    code = (code or "").strip()
    if not code:
        return None
    query = _services_query()
    category = query.filter(open311_service__code=code).first()
    if category is None:
        category = query.filter(code=code).exclude(open311_service__code__gt="").first()
    if category is None:
        return None
    service = _service_of(category)
    if service is not None and not service.is_active:
        return None
    info = _info(category, service, _roots())
    if service is not None:
        values = Prefetch("values", queryset=AttributeValue.objects.order_by("order", "id"))
        info.attributes = list(service.attributes.prefetch_related(values).order_by("order", "id"))
        info.metadata = bool(info.attributes)
    return info


def codes_to_categories(codes: Iterable[str]) -> list[int]:
    """Category ids behind these service codes (unknown codes match nothing)."""
    wanted = {c.strip() for c in codes if c.strip()}
    if not wanted:
        return []
    q = Q(open311_service__code__in=wanted) | (Q(code__in=wanted) & ~Q(open311_service__code__gt=""))
    return list(Category.objects.filter(q).values_list("pk", flat=True))


def authenticate(raw: str) -> ApiKey | None:
    raw = (raw or "").strip()
    if not raw or len(raw) > 200:
        return None
    return ApiKey.objects.filter(key_hash=hash_key(raw), revoked_at__isnull=True).select_related("user").first()


def _public() -> QuerySet[WorkOrder]:
    """What Open311 publishes: every recorded order except confidential ones (举报 and orders
    whose requester asked for it: Art. 8) and drafts. Requester identity is never published."""
    hidden = Requester.objects.filter(order=OuterRef("pk"), wants_confidential=True)
    return WorkOrder.objects.exclude(state="draft").filter(is_confidential=False).exclude(Exists(hidden))


def public_orders() -> QuerySet[WorkOrder]:
    lead = Assignment.objects.filter(role=AssignmentRole.LEAD).exclude(state=AssignmentState.CANCELLED)
    return (
        _public()
        .select_related("category__open311_service", "open311")
        .prefetch_related(Prefetch("assignments", queryset=lead.select_related("unit"), to_attr="open311_leads"),
                          Prefetch("replies", queryset=Reply.objects.order_by("created_at", "id"),
                                   to_attr="open311_replies"))
    )


@dataclass
class RequestQuery:
    ids: list[str] | None = None
    category_ids: list[int] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: set[str] | None = None
    # Extensions (docs/open311.md): v2.1 changesets on the order's last update, and a bounding box.
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    bbox: tuple[Decimal, Decimal, Decimal, Decimal] | None = None  # min lng, min lat, max lng, max lat
    offset: int = 0
    limit: int = 1000


def requests(query: RequestQuery) -> list[WorkOrder]:
    from jiesu.open311.statuses import CLOSED_STATES

    qs = public_orders()
    if query.ids is not None:
        qs = qs.filter(number__in=query.ids)
    else:
        if query.category_ids is not None:
            qs = qs.filter(category_id__in=query.category_ids)
        if query.start is not None:
            qs = qs.filter(received_at__gte=query.start)
        if query.end is not None:
            qs = qs.filter(received_at__lte=query.end)
        if query.statuses == {"open"}:
            qs = qs.exclude(state__in=CLOSED_STATES)
        elif query.statuses == {"closed"}:
            qs = qs.filter(state__in=CLOSED_STATES)
        if query.updated_after is not None:
            qs = qs.filter(updated_at__gt=query.updated_after)
        if query.updated_before is not None:
            qs = qs.filter(updated_at__lt=query.updated_before)
        if query.bbox is not None:
            west, south, east, north = query.bbox
            qs = qs.filter(longitude__gte=west, longitude__lte=east, latitude__gte=south, latitude__lte=north)
    # A changeset is read oldest change first, so that a client can page on with the last
    # updated_datetime it saw as its next updated_after; every other list is newest first.
    changes = query.ids is None and (query.updated_after is not None or query.updated_before is not None)
    order = ("updated_at", "id") if changes else ("-received_at", "-id")
    return list(qs.order_by(*order)[query.offset:query.offset + query.limit])


def order_notes(orders: list[WorkOrder]) -> dict[int, list[Event]]:
    """The state changes of these orders, for ``extensions=true`` (one query)."""
    found: dict[int, list[Event]] = {o.pk: [] for o in orders}
    for event in Event.objects.filter(order__in=orders).exclude(to_state="").order_by("at", "id"):
        found[event.order_id].append(event)
    return found


def submission_by_token(token: str) -> Submission | None:
    token = (token or "").strip()
    if not token or len(token) > 40:
        return None
    return Submission.objects.filter(token=token).select_related("order").first()


def updates(*, start: dt.datetime, end: dt.datetime, limit: int = 1000) -> list[Event]:
    """State changes of public orders in [start, end], oldest first (servicerequestupdates)."""
    return list(
        Event.objects.filter(at__gte=start, at__lte=end, order__in=_public().values("pk"))
        .exclude(to_state="").select_related("order").order_by("at", "id")[:limit]
    )


def update_texts(events: list[Event]) -> dict[int, str]:
    """The public text of each update: the unit's reply, the on-the-spot answer, where it was
    referred, why it was declined. Internal reasons (a return, a note) are not published."""
    reply_ids = {e.data.get("reply") for e in events if e.code == "replied"}
    replies = dict(Reply.objects.filter(pk__in=[r for r in reply_ids if r]).values_list("pk", "body"))
    texts: dict[int, str] = {}
    for e in events:
        if e.code == "replied":
            texts[e.pk] = replies.get(e.data.get("reply"), "")
        elif e.code == "answered":
            texts[e.pk] = str(e.data.get("answer", ""))
        elif e.code == "referred":
            texts[e.pk] = str(e.data.get("referred_to", ""))
        elif e.code == "declined":
            texts[e.pk] = e.reason
    return texts
