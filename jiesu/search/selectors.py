"""Order search by number and by words (DESIGN §9), within what the actor may see."""

from __future__ import annotations

import math
import time
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from jiesu.accounts import policy
from jiesu.accounts.policy import Actor
from jiesu.orders.models import WorkOrder
from jiesu.search import tokens

# A query is "common" when the statistics say it matches at least sqrt(WALK × orders) orders:
# its newest page is then found by walking the newest rows (about page / share rows, read in
# order), not by reading every match (share × orders rows, each in its own block). The two cost
# the same at a share of sqrt(page / (k × orders)), k the price of a scattered read against a
# sequential one (~10 here): matches ≥ sqrt(page / k × orders), page / k ≈ 10. At 1M orders
# that is 3,200 matches (0.3 %), at 10M 10,000 (0.1 %); never below COMMON.
WALK = 10
COMMON = 1000


def matching_ids(words: list[str], *, walk: bool = False) -> RawSQL:
    """A subquery of the ids of the orders that contain every word.

    PostgreSQL: ``doc`` is the words' tsvector, stored (search migration 0002). By default the
    subquery ends in ``OFFSET 0``, which keeps it whole: the GIN index finds every match in one
    bitmap scan. Without it (``walk``) PostgreSQL flattens it into a join and walks the newest
    rows backwards, testing each stored ``doc`` until the page is full: a few ms for a common
    word at 1M orders, but seconds for a rare one, hence ``COMMON`` (``narrow``)."""
    if connection.vendor == "sqlite":
        return RawSQL("SELECT rowid FROM search_fts WHERE search_fts MATCH %s", [tokens.fts5_match(words)])
    sql = "SELECT order_id FROM search_ordertext WHERE doc @@ %s::tsquery"
    return RawSQL(sql if walk else sql + " OFFSET 0", [tokens.tsquery(words)])  # noqa: S611  constant SQL


# The column's statistics, read at most every STATS_TTL seconds per process (ANALYZE refreshes
# them; a stale copy only picks the slower of two correct plans).
STATS_TTL = 600.0
_stats: dict[str, Any] = {"at": None, "freqs": {}, "rows": 0.0}


def _matches_estimate(words: list[str]) -> float:
    """About how many orders contain every word, from PostgreSQL's statistics of ``doc`` (its
    most common elements and their frequencies; ``ANALYZE`` keeps them): 0 for a query with any
    word outside that list, i.e. a rare one. No index or table is read, unlike a count."""
    now = time.monotonic()
    if _stats["at"] is None or now - _stats["at"] > STATS_TTL:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples FROM pg_class c "
                "LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = c.relname "
                "AND s.attname = 'doc' WHERE c.oid = 'search_ordertext'::regclass"
            )
            elems, freqs, rows = cursor.fetchone() or (None, None, 0.0)
        _stats.update(at=now, freqs=dict(zip(elems or [], freqs or [], strict=False)), rows=max(rows or 0.0, 0.0))
    return min(_stats["freqs"].get(w, 0.0) for w in words) * _stats["rows"]


def _is_common(words: list[str]) -> bool:
    matches = _matches_estimate(words)
    return matches >= COMMON and matches >= math.sqrt(WALK * _stats["rows"])


def narrow(qs: QuerySet[WorkOrder], query: str) -> QuerySet[WorkOrder]:
    """``qs`` cut down to the orders a query finds: the order with that number when the query is
    one, else the orders containing every word of it. A query with no words finds nothing.

    On PostgreSQL, a common word searched over every order (no other filter, a city-wide
    actor) walks the newest rows; anything narrower reads the matches from the GIN index,
    since a walk would have to pass every order the other filters reject."""
    q = (query or "").strip()
    if tokens.is_number(q):
        return qs.filter(number=q)
    words = tokens.query_words(q)
    if not words:
        return qs.none()
    walk = connection.vendor == "postgresql" and not qs.query.has_filters() and _is_common(words)
    return qs.filter(pk__in=matching_ids(words, walk=walk))


def search_orders(actor: Actor, query: str) -> QuerySet[WorkOrder]:
    """The orders ``actor`` may see that ``query`` finds, newest first (order ids grow with
    time, and both indexes can walk ids backwards: a common word's newest page is cheap)."""
    qs = policy.visible_orders(actor, WorkOrder.objects.all())
    return narrow(qs, query).order_by("-id")
