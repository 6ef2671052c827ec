"""Hotspots from the database: the orders of a window as ``hotspots.Doc``, clustered by street
(or district where the street is unknown), and the spikes of districts and streets against
their own previous weeks. Three queries for the clusters (the window's texts, the member orders,
the area names) and two for the spikes, whatever the number of orders. Read from the read
replica when one is configured (``jiesu.ops.replica``)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections import Counter
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, F, Max, OuterRef, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts import policy
from jiesu.accounts.policy import Actor
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.insight import hotspots
from jiesu.ops import replica
from jiesu.orders.models import Requester, WorkOrder
from jiesu.orders.states import State
from jiesu.org.models import Area

DEFAULT_DAYS = 30
WINDOW = dt.timedelta(days=7)
THRESHOLD = 0.3
HISTORY_WEEKS = 8
CACHE_SECONDS = 3600  # exact without it (the key changes with the orders); it only bounds memory


def tokenizer() -> hotspots.Tokenizer:
    """The triage segmenter (rjieba with the domain dictionary) where it exists, else rjieba."""
    try:
        from jiesu.triage import text  # another part of Jiesu; optional here
    except ImportError:
        return hotspots.default_tokenize
    for name in ("tokenize", "tokens", "segment", "cut"):
        fn = getattr(text, name, None)
        if callable(fn):
            def words(s: str, fn=fn) -> list[str]:
                return list(fn(s))

            return words
    return hotspots.default_tokenize


@functools.lru_cache(maxsize=50_000)
def _features(text: str) -> hotspots.Features:
    """An order's text hardly ever changes: segment it once per process."""
    return hotspots.features(text, tokenizer())


def street_key(path: str | None) -> str:
    """The street/township code of an area path, else the deepest code there is ("" unknown)."""
    parts = (path or "").split("/")
    if len(parts) >= 3:
        return parts[2]
    return parts[-1] if path else ""


@dataclass(frozen=True)
class HotspotRow:
    cluster: hotspots.Cluster
    key: str  # the earliest member's number: the hotspot's address while it lasts
    area_label: str  # the area's name, "" when unknown
    district_name: str
    orders: dict[str, WorkOrder]  # number → order, for the member list

    @property
    def area_name(self) -> str:
        # Translated when shown, not when found: the rows are cached for every language.
        return self.area_label or str(_("Area unknown"))


def window(actor: Actor, days: int, end: dt.datetime | None = None):
    end = end or clock.now()
    start = end - dt.timedelta(days=days)
    primary = Requester.objects.filter(order=OuterRef("pk"), is_primary=True).order_by("id").values("phone")[:1]
    return (
        policy.visible_orders(actor, WorkOrder.objects.all())
        .filter(received_at__gte=start, received_at__lt=end)
        .exclude(state=State.DRAFT)
        .annotate(who=Subquery(primary))
        .order_by("received_at", "id")
    )


def _scope(actor: Actor) -> str:
    """What decides the orders ``actor`` sees (not who they are): analysts of one area share."""
    grants = sorted((g.role, g.unit_id or 0, g.area_path or "") for g in actor.grants)
    who = actor.user_id if actor.has_role("outreach") else None  # outreach desks see their own orders
    return f"{actor.is_admin}|{who}|{grants}"


@replica.reading()
def find(actor: Actor, *, days: int = DEFAULT_DAYS, threshold: float = THRESHOLD, min_size: int = 3,
         end: dt.datetime | None = None) -> list[HotspotRow]:
    """The clusters of the window, from Django's cache while the window's orders are unchanged:
    the key holds the actor's scope, the parameters and a fingerprint of the window (count, sum
    and largest id, latest change), so that a new, edited or expired order recomputes them."""
    qs = window(actor, days, end).order_by()
    # The ids' sum modulo a prime: a sum of 14-digit ids (jiesu.orders.numbering) would overflow
    # SQLite's 64-bit SUM beyond ~460,000 orders.
    stamp = qs.aggregate(n=Count("id"), ids=Sum(F("id") % 1_000_003), last=Max("id"), changed=Max("updated_at"))
    raw = f"{_scope(actor)}|{days}|{threshold}|{min_size}|{sorted(stamp.items())}"
    key = "jiesu.hotspots:" + hashlib.sha256(raw.encode()).hexdigest()
    rows = cache.get(key)
    if rows is None:
        rows = _find(actor, days=days, threshold=threshold, min_size=min_size, end=end)
        cache.set(key, rows, CACHE_SECONDS)
    return rows


def _find(actor: Actor, *, days: int, threshold: float, min_size: int, end: dt.datetime | None) -> list[HotspotRow]:
    """Three queries: the window's texts (plain tuples), the member orders, the area names."""
    rows = window(actor, days, end).values_list("number", "title", "content", "received_at", "area__path", "who")
    docs = [
        hotspots.Doc(key=number, area=street_key(path), at=at, text=f"{title} {content}", who=who or "")
        for number, title, content, at, path, who in rows
    ]
    clusters = hotspots.cluster(docs, window=WINDOW, threshold=threshold, min_size=min_size, featurize=_features)
    numbers = [d.key for c in clusters for d in c.members]
    by_number = {o.number: o for o in WorkOrder.objects.filter(number__in=numbers or [""])
                 .select_related("area", "category")}
    codes = {c.area for c in clusters} | {_district(by_number[c.members[0].key]) for c in clusters}
    # Always one query (also when nothing was found), so that the page's query count is fixed.
    names = dict(Area.objects.filter(code__in=codes or {""}).values_list("code", "name"))
    return [
        HotspotRow(
            cluster=c, key=c.members[0].key, area_label=names.get(c.area, ""),
            district_name=names.get(_district(by_number[c.members[0].key]), ""),
            orders={d.key: by_number[d.key] for d in c.members},
        )
        for c in clusters
    ]


def _district(order: WorkOrder) -> str:
    parts = (order.area.path if order.area else "").split("/")
    return parts[1] if len(parts) > 1 else ""


@dataclass(frozen=True)
class SpikeRow:
    spike: hotspots.Spike
    name: str
    level: str  # "district" | "street"


@replica.reading()
def spikes(actor: Actor, *, today: dt.date | None = None, k: float = 2.0, min_count: int = 5) -> tuple[dt.date, list[SpikeRow]]:
    """The last 7 days (to ``today`` inclusive) against the 8 seven-day blocks before, per
    district and per street."""
    today = today or clock.now().astimezone(SHANGHAI).date()
    first = today - dt.timedelta(days=7 * (HISTORY_WEEKS + 1) - 1)
    start = dt.datetime.combine(first, dt.time(0), tzinfo=SHANGHAI)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tzinfo=SHANGHAI)
    rows = (
        policy.visible_orders(actor, WorkOrder.objects.all())
        .filter(received_at__gte=start, received_at__lt=end).exclude(state=State.DRAFT)
        .annotate(day=TruncDate("received_at", tzinfo=SHANGHAI))
        .values_list("area__path", "day").annotate(n=Count("id")).order_by()
    )
    current = today - dt.timedelta(days=6)
    counts: Counter[tuple[str, dt.date]] = Counter()
    for path, day, n in rows:
        # Seven-day blocks ending at ``today``: the block of a day is the first day of its block.
        block = current if day >= current else current - dt.timedelta(days=7 * (((current - day).days + 6) // 7))
        parts = (path or "").split("/")
        if len(parts) > 1:
            counts[(f"d:{parts[1]}", block)] += n
        if len(parts) > 2:
            counts[(f"s:{parts[2]}", block)] += n
    found = hotspots.spikes(counts, week=current, history=HISTORY_WEEKS, k=k, min_count=min_count)
    codes = {s.key[2:] for s in found}
    names = dict(Area.objects.filter(code__in=codes or {""}).values_list("code", "name"))
    return current, [
        SpikeRow(s, names.get(s.key[2:], s.key[2:]), "district" if s.key.startswith("d:") else "street")
        for s in found
    ]
