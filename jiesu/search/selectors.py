"""Order search by number and by words (DESIGN §9), within what the actor may see."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from jiesu.accounts import policy
from jiesu.accounts.policy import Actor
from jiesu.orders.models import WorkOrder
from jiesu.search import tokens


def matching_ids(words: list[str]) -> RawSQL:
    """A subquery of the ids of the orders that contain every word."""
    if connection.vendor == "sqlite":
        return RawSQL("SELECT rowid FROM search_fts WHERE search_fts MATCH %s", [tokens.fts5_match(words)])
    # ``doc`` is the words' tsvector, stored (search migration 0002): the GIN index finds the rows
    # and the recheck reads the stored value instead of rebuilding it from the text. OFFSET 0
    # keeps the subquery whole: flattened into a join, PostgreSQL prefers walking the ids
    # backwards and testing each row until the page is full, which for a word in 0.4 % of the
    # orders is 33,000 rows instead of one GIN lookup (docs/benchmarks.md).
    return RawSQL("SELECT order_id FROM search_ordertext WHERE doc @@ %s::tsquery OFFSET 0", [tokens.tsquery(words)])


def narrow(qs: QuerySet[WorkOrder], query: str) -> QuerySet[WorkOrder]:
    """``qs`` cut down to the orders a query finds: the order with that number when the query is
    one, else the orders containing every word of it. A query with no words finds nothing."""
    q = (query or "").strip()
    if tokens.is_number(q):
        return qs.filter(number=q)
    words = tokens.query_words(q)
    if not words:
        return qs.none()
    return qs.filter(pk__in=matching_ids(words))


def search_orders(actor: Actor, query: str) -> QuerySet[WorkOrder]:
    """The orders ``actor`` may see that ``query`` finds, newest first (order ids grow with
    time, and both indexes can walk ids backwards: a common word's newest page is cheap)."""
    qs = policy.visible_orders(actor, WorkOrder.objects.all())
    return narrow(qs, query).order_by("-id")
