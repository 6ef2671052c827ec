"""Order search by number and by words (DESIGN §9), within what the actor may see."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from jiesu.accounts import policy
from jiesu.accounts.policy import Actor
from jiesu.orders.models import WorkOrder
from jiesu.search import tokens

# A word in at least this many orders is "common": its newest page is found by walking the
# index newest first (a few thousand rows at most for any list the desk shows), not by reading
# every match (O(matches): 40k rows for 路灯 at 10M orders). Below it, reading every match is cheap.
COMMON = 2000


def matching_ids(words: list[str], *, walk: bool = False) -> RawSQL:
    """A subquery of the ids of the orders that contain every word.

    PostgreSQL: ``doc`` is the words' tsvector, stored (search migration 0002). By default the
    subquery ends in ``OFFSET 0``, which keeps it whole: the GIN index finds every match in one
    bitmap scan. Without it (``walk``) PostgreSQL flattens it into a join and walks the newest
    rows backwards, testing each stored ``doc`` until the page is full: 2 ms instead of 50 for
    a common word at 1M orders, but seconds for a rare one, hence ``COMMON`` (``narrow``)."""
    if connection.vendor == "sqlite":
        return RawSQL("SELECT rowid FROM search_fts WHERE search_fts MATCH %s", [tokens.fts5_match(words)])
    sql = "SELECT order_id FROM search_ordertext WHERE doc @@ %s::tsquery"
    return RawSQL(sql if walk else sql + " OFFSET 0", [tokens.tsquery(words)])  # noqa: S611  constant SQL


def _is_common(words: list[str]) -> bool:
    """Whether at least ``COMMON`` orders contain every word (PostgreSQL): a count from the GIN
    index, which reads no rows of the table once they are all-visible."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM search_ordertext WHERE doc @@ %s::tsquery LIMIT %s) m",
            [tokens.tsquery(words), COMMON],
        )
        return cursor.fetchone()[0] >= COMMON


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
