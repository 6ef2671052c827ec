"""每月一题: which orders belong to a topic, its volume before and after, and its progress.

An order belongs to a topic when it was linked by hand, or when it matches the topic's rules:
inside the topic's category and area (each optional, "and everything under it") and, when the
topic has keywords, containing at least one of them. A topic with no rule at all matches
nothing by itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiesu.accounts.models import Role
from jiesu.accounts.policy import Actor
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.insight.models import Topic, TopicItem, TopicItemKind, TopicLink
from jiesu.orders import selectors
from jiesu.orders.errors import InvalidInput, NotAllowed, NotFound
from jiesu.orders.models import WorkOrder
from jiesu.orders.states import State

# Who works on insight (dashboards, hotspots, topics, measures, proactive items).
INSIGHT_ROLES = frozenset({Role.ANALYST, Role.SUPERVISOR})
WINDOW_MONTHS = 3


def may_manage(actor: Actor) -> bool:
    return actor.has_role(*INSIGHT_ROLES)


def require_manage(actor: Actor) -> None:
    if not may_manage(actor):
        raise NotAllowed(_("You are not allowed to do this."))


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _tree(field: str, path: str) -> Q:
    return Q(**{f"{field}__path": path}) | Q(**{f"{field}__path__startswith": path + "/"})


def rule_filter(topic: Topic) -> Q | None:
    """The topic's matching rule as a filter on WorkOrder, or None when it has no rule."""
    cond = Q()
    has_rule = False
    if topic.category is not None:
        cond &= _tree("category", topic.category.path)
        has_rule = True
    if topic.area is not None:
        cond &= _tree("area", topic.area.path)
        has_rule = True
    words = topic.keyword_list
    if words:
        any_word = Q()
        for w in words:
            any_word |= Q(content__contains=w) | Q(title__contains=w)
        cond &= any_word
        has_rule = True
    return cond if has_rule else None


def topic_orders(actor: Actor, topic: Topic) -> QuerySet:
    """Matched and linked orders the user may see (drafts excluded)."""
    cond = Q(pk__in=TopicLink.objects.filter(topic=topic).values("order_id"))
    rule = rule_filter(topic)
    if rule is not None:
        cond |= rule
    return selectors.visible(actor).filter(cond).exclude(state=State.DRAFT)


@dataclass(frozen=True)
class MonthCount:
    month: dt.date
    n: int
    after: bool  # the topic's month or later


@dataclass(frozen=True)
class BeforeAfter:
    months: list[MonthCount]
    before_mean: float
    after_mean: float

    @property
    def change(self) -> float | None:
        if not self.before_mean:
            return None
        return round(100 * (self.after_mean - self.before_mean) / self.before_mean, 1)


def before_after(actor: Actor, topic: Topic, months: int = WINDOW_MONTHS, today: dt.date | None = None) -> BeforeAfter:
    """Monthly volumes of the topic's orders, ``months`` before its month and as many from its
    month on (up to this month). One query."""
    today = today or timezone.now().astimezone(SHANGHAI).date()
    first = add_months(topic.month, -months)
    last = min(add_months(topic.month, months), add_months(today.replace(day=1), 1))
    start = dt.datetime.combine(first, dt.time(0), tzinfo=SHANGHAI)
    end = dt.datetime.combine(last, dt.time(0), tzinfo=SHANGHAI)
    rows = dict(
        topic_orders(actor, topic).filter(received_at__gte=start, received_at__lt=end)
        .annotate(m=TruncMonth("received_at", tzinfo=SHANGHAI)).values_list("m").annotate(n=Count("id")).order_by()
    )
    counts = {(k.date() if isinstance(k, dt.datetime) else k): n for k, n in rows.items()}
    out = []
    m = first
    while m < last:
        out.append(MonthCount(m, counts.get(m, 0), m >= topic.month))
        m = add_months(m, 1)
    before = [c.n for c in out if not c.after]
    after = [c.n for c in out if c.after]
    return BeforeAfter(out, round(sum(before) / len(before), 1) if before else 0.0,
                       round(sum(after) / len(after), 1) if after else 0.0)


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    by_kind: dict[str, tuple[int, int]]

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def progress(items: list[TopicItem]) -> Progress:
    by_kind = {}
    for kind in TopicItemKind.values:
        of_kind = [i for i in items if i.kind == kind]
        by_kind[kind] = (sum(i.done for i in of_kind), len(of_kind))
    return Progress(sum(i.done for i in items), len(items), by_kind)


def topic_list() -> QuerySet:
    return Topic.objects.select_related("lead_unit").annotate(
        n_items=Count("items", distinct=True), n_done=Count("items", filter=Q(items__done=True), distinct=True),
    ).order_by("-month", "id")


def topic_detail(topic_id: int) -> Topic:
    topic = (
        Topic.objects.select_related("lead_unit", "category", "area", "created_by")
        .prefetch_related("items__owner_unit").filter(pk=topic_id).first()
    )
    if topic is None:
        raise NotFound(_("No such topic."))
    return topic


def set_item_done(actor: Actor, item: TopicItem, done: bool) -> TopicItem:
    require_manage(actor)
    item.done = done
    item.done_at = timezone.now() if done else None
    item.save(update_fields=["done", "done_at"])
    return item


def link_order(actor: Actor, topic: Topic, number: str) -> WorkOrder:
    require_manage(actor)
    order = selectors.visible(actor).filter(number=(number or "").strip()).first()
    if order is None:
        raise InvalidInput(_("No order %(number)s."), field="number", number=(number or "")[:20])
    try:
        with transaction.atomic():
            TopicLink.objects.create(topic=topic, order=order, added_by_id=actor.user_id)
    except IntegrityError:
        pass  # linked already: nothing to do
    return order


def unlink_order(actor: Actor, topic: Topic, number: str) -> None:
    require_manage(actor)
    TopicLink.objects.filter(topic=topic, order__number=number).delete()
