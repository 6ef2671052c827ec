"""Order search by number and by words (DESIGN §9), within what the actor may see."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from jiesu.accounts import policy
from jiesu.accounts.policy import Actor
from jiesu.orders import numbering
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
# A word in at least this share of the orders is searched over every order by the walk alone
# (``windows``): its newest page is then about page / share rows away, a few hundred blocks.
# Below it the walk passes ever more rows (a word in 0.4 % of the orders: 33,000 rows, 2,800
# blocks, for 101 matches) and a window of the newest ids reads less (docs/benchmarks.md).
WALK_SHARE = 0.02
# A window holds, by the statistics, SPARE times the matches a page needs; one that falls short
# (the words together are rarer than the rarest of them, other filters reject some) is widened
# GROW times, up to every order.
SPARE = 2
GROW = 4
# What a capped count of several common words costs each way, per row, at 10M orders on this
# machine (``EXPLAIN ANALYZE``, docs/benchmarks.md, session 13): walking the newest orders passes
# ~0.53 µs a row; the GIN bitmap of the words costs ~0.15 µs a match of the rarest of them, and
# ~3 µs for each row of the count read from the table. Only their ratios matter.
WALK_ROW_US = 0.53
BITMAP_ENTRY_US = 0.15
HEAP_ROW_US = 3.0


def matching_ids(words: list[str], *, walk: bool = False, newer_than: int | None = None,
                 newest: int | None = None, every_match: bool = False) -> RawSQL:
    """A subquery of the ids of the orders that contain every word.

    PostgreSQL: ``doc`` is the words' tsvector, stored (search migration 0002). By default the
    subquery ends in ``OFFSET 0``, which keeps it whole: the GIN index finds every match in one
    bitmap scan. Without it (``walk``) PostgreSQL flattens it into a join and walks the newest
    rows backwards, testing each stored ``doc`` until the page is full: a few ms for a common
    word at 1M orders, but seconds for a rare one, hence ``COMMON`` (``narrow``).

    ``newer_than``: only orders with a larger id (a window of the newest, ``windows``); on
    PostgreSQL a ``BitmapAnd`` of the words' GIN index and the id's primary key reads only the
    matches inside it.

    ``newest``: only the ``newest`` largest ids. The caller's page is then ``newest`` probes
    into the orders instead of a merge that read every order of the window (or a hash of every
    match) to keep the few that match; exact only where nothing else filters the orders
    (``narrow``). With ``every_match`` (PostgreSQL) they are kept from every match the bitmap
    finds, where PostgreSQL would walk the ids backwards: words that seldom meet."""
    after: list[Any] = [] if newer_than is None else [newer_than]
    first: list[Any] = [] if newest is None else [newest]
    if connection.vendor == "sqlite":
        sql = "SELECT rowid FROM search_fts WHERE search_fts MATCH %s"
        sql += " AND rowid > %s" if after else ""
        sql += " ORDER BY rowid DESC LIMIT %s" if first else ""
        return RawSQL(sql, [tokens.fts5_match(words), *after, *first])  # noqa: S611  constant SQL
    sql = "SELECT order_id FROM search_ordertext WHERE doc @@ %s::tsquery"
    sql += " AND order_id > %s" if after else ""
    if first and every_match:
        sql = f"SELECT order_id FROM ({sql} OFFSET 0) AS every_match ORDER BY order_id DESC LIMIT %s"  # noqa: S608  constant SQL
    elif first:
        sql += " ORDER BY order_id DESC LIMIT %s"  # a LIMIT keeps the subquery whole, as OFFSET 0 does
    elif not walk:
        sql += " OFFSET 0"
    return RawSQL(sql, [tokens.tsquery(words), *after, *first])  # noqa: S611  constant SQL


# The column's statistics, read at most every STATS_TTL seconds per process (ANALYZE refreshes
# them; a stale copy only picks the slower of two correct plans).
STATS_TTL = 600.0
_stats: dict[str, Any] = {"at": None, "freqs": {}, "rows": 0.0, "newest": 0, "oldest": 0}


def _read_stats() -> None:
    now = time.monotonic()
    if _stats["at"] is None or now - _stats["at"] > STATS_TTL:
        with connection.cursor() as cursor:
            # The newest and oldest ids come with them: a window's lower end (ids carry their
            # day, jiesu.orders.numbering). An old copy only makes the window wider by the
            # orders since (ids grow), never wrong (``windows``).
            cursor.execute(
                "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples, "
                "(SELECT max(order_id) FROM search_ordertext), (SELECT min(order_id) FROM search_ordertext) "
                "FROM pg_class c "
                "LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = c.relname "
                "AND s.attname = 'doc' WHERE c.oid = 'search_ordertext'::regclass"
            )
            elems, freqs, rows, newest, oldest = cursor.fetchone() or (None, None, 0.0, None, None)
        _stats.update(at=now, freqs=dict(zip(elems or [], freqs or [], strict=False)), rows=max(rows or 0.0, 0.0),
                      newest=newest or 0, oldest=oldest or 0)


def _matches_estimate(words: list[str]) -> float:
    """About how many orders contain every word, from PostgreSQL's statistics of ``doc`` (its
    most common elements and their frequencies; ``ANALYZE`` keeps them): 0 for a query with any
    word outside that list, i.e. a rare one. No index or table is read, unlike a count."""
    _read_stats()
    return min(_stats["freqs"].get(w, 0.0) for w in words) * _stats["rows"]


def _share(words: list[str]) -> float:
    """About which share of the orders contain every word (``_matches_estimate``); 0 when the
    statistics know none of them, or no orders."""
    matches = _matches_estimate(words) if words else 0.0
    rows = _stats["rows"]
    return matches / rows if rows else 0.0


def _joint_estimate(words: list[str]) -> float:
    """About how many orders contain every word, taking the words as independent: the product
    of their shares times the orders (0 when the statistics do not know one of them)."""
    _read_stats()
    return math.prod(_stats["freqs"].get(w, 0.0) for w in dict.fromkeys(words)) * _stats["rows"]


def _bitmap_is_cheaper(words: list[str], need: int) -> bool:
    """Whether counting ``need`` orders that hold every word of a query of several words, each
    in at least WALK_SHARE of the orders, costs less from the words' GIN bitmap than by walking
    the newest orders until ``need`` of them hold every word.

    The walk passes about ``need`` / (the words' joint share) rows; the bitmap reads about as
    many entries as the rarest word has matches (GIN skips through the others' lists). The
    statistics only know each word's share, so the joint one is taken as their product (words
    of one text go together more often than that: 小区 and 停车 are in 0.73 % of the orders, the
    product says 0.40 %, so the guess errs towards the bitmap; at 10M orders it takes 25–40 ms
    there against 75–80 for the walk, which passes ~140 rows for each match it counts).
    小区 物业 (1.5 % together, 物业 in 6.5 %) is walked: 650,000 entries of 物业 cost more."""
    joint, rows = _joint_estimate(words), _stats["rows"]
    if len(set(words)) < 2 or joint <= 0:
        return False
    walk = min(need * rows / joint, rows) * WALK_ROW_US
    bitmap = _matches_estimate(words) * BITMAP_ENTRY_US + need * HEAP_ROW_US
    return bitmap < walk


def _is_common(words: list[str]) -> bool:
    """Whether the words' newest matches are found sooner by walking the newest orders than by
    reading every match. Several words are only as common as they are together: two words each
    in 2.6 % of 10M orders that never meet (停车 漏水 in the generated city) were walked through
    every order, 4.7–5.6 s a page; by their product (0.07 %) they are read from the bitmap."""
    matches = _matches_estimate(words)
    if len(set(words)) > 1:
        matches = min(matches, _joint_estimate(words))
    return matches >= COMMON and matches >= math.sqrt(WALK * _stats["rows"])


def narrow(qs: QuerySet[WorkOrder], query: str, *, newer_than: int | None = None,
           newest: int | None = None) -> QuerySet[WorkOrder]:
    """``qs`` cut down to the orders a query finds: the order with that number when the query is
    one, else the orders containing every word of it. A query with no words finds nothing.
    ``newer_than``: and among those, only the orders with a larger id (``windows``).
    ``newest``: and only the newest that many of the words' matches, for a page that ends there:
    the caller says so only when ``qs`` rejects no order (``order_page``), else a match that
    ``qs`` rejects would hide one further back.

    On PostgreSQL, a common word searched over every order (no other filter, a city-wide
    actor) walks the newest rows; anything narrower reads the matches from the GIN index,
    since a walk would have to pass every order the other filters reject."""
    q = (query or "").strip()
    if tokens.is_number(q):
        return qs.filter(number=q)
    words = tokens.query_words(q)
    if not words:
        return qs.none()
    if newer_than is not None:
        return qs.filter(pk__gt=newer_than, pk__in=matching_ids(words, newer_than=newer_than, newest=newest))
    if newest is not None:
        # Several words that are common one by one but not together (``_is_common``): PostgreSQL
        # would walk the ids backwards until ``newest`` orders hold them all, through every
        # order when they never meet.
        seldom = connection.vendor == "postgresql" and len(set(words)) > 1 and not _is_common(words)
        return qs.filter(pk__in=matching_ids(words, newest=newest, every_match=seldom))
    walk = connection.vendor == "postgresql" and not qs.query.has_filters() and _is_common(words)
    return qs.filter(pk__in=matching_ids(words, walk=walk))


def count_matches(query: str, *, up_to: int | None) -> int | None:
    """How many orders contain every word of ``query``, counting at most ``up_to`` + 1 of them
    (``up_to`` None: every one), in the search index alone; None when the caller should count
    through the orders instead: ``query`` is an order number, or (PostgreSQL) a word in at least
    WALK_SHARE of the orders, whose first ``up_to`` + 1 matches a walk of the newest orders finds
    sooner. The number of the actor's orders a query finds only where nothing else filters them
    (a city-wide actor, no other filter: ``order_count``). Every row of the index is an order's
    (a foreign key), so the count is that of ``id IN (matches)``.

    On PostgreSQL the matches come from the GIN index (a bitmap), whatever the planner would
    pick: for ``COUNT(*)`` over a ``LIMIT`` it scanned the table from its oldest rows (0.4–1.3 s
    for words in 2.5–6.5 % of 10M orders) or, asked for the newest ids, walked them (31 s for a
    word in 0.4 %). The bitmap takes 6–19 ms for the benchmark's words under WALK_SHARE, and
    those above it are counted through the orders as before, 12–31 ms (docs/benchmarks.md,
    session 11), unless several such words are much rarer together: then from the bitmap where
    the statistics say that costs less than the walk (``_bitmap_is_cheaper``)."""
    q = (query or "").strip()
    if tokens.is_number(q):
        return None
    words = tokens.query_words(q)
    if not words:
        return 0
    postgres = connection.vendor == "postgresql"
    if postgres and _share(words) >= WALK_SHARE and not (up_to is not None and _bitmap_is_cheaper(words, up_to + 1)):
        return None
    ids = matching_ids(words, walk=True)
    sql, params = ids.sql, list(ids.params)
    if up_to is not None:
        sql, params = f"{sql} LIMIT %s", [*params, up_to + 1]
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:  # for this statement only: SET LOCAL ends with the transaction
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS matches", params)  # noqa: S608  constant SQL
        return int(cursor.fetchone()[0])


def windows(query: str | None, *, need: int, narrowed: bool) -> Iterator[int | None]:
    """The lower ends of order id to search ``query`` above, in turn, for a list newest first
    that needs its first ``need`` orders; None (every order) comes last. A window that yields
    ``need`` orders holds the newest ``need`` of every order (ids grow with time), so the caller
    stops there (``newest``); one that yields fewer is no answer, the next is wider.

    Only words searched over every order the actor may see have windows (PostgreSQL, a city-wide
    actor, no other filter: not ``narrowed``). A word of the statistics (``_matches_estimate``)
    in under WALK_SHARE of the orders gets a window of the newest ids where SPARE × ``need`` of
    its matches are expected, then GROW times wider: its page is read from a few hundred index
    and table blocks, wherever its matches are, instead of walking tens of thousands of rows
    (or, when the statistics call it rare, reading every match). A word too rare for the
    statistics has few matches: they are all read at once. Filters whose share is unknown (a
    unit's orders, a state) would need windows as much wider as they reject: tried at 1M orders,
    as often slower as faster than reading every match, so they read every match as before."""
    q = (query or "").strip()
    if connection.vendor != "postgresql" or narrowed or not q or tokens.is_number(q):
        yield None
        return
    share = _share(tokens.query_words(q))
    rows = _stats["rows"]
    if share <= 0 or share >= WALK_SHARE:
        yield None
        return
    width = math.ceil(SPARE * need / share)
    # The width counts orders; ids are sparse between days, so numbering turns it into an id.
    while (floor := numbering.window_floor(newest=_stats["newest"], oldest=_stats["oldest"], rows=rows,
                                           width=width)) is not None:
        yield floor
        width *= GROW
    yield None


T = TypeVar("T")


def newest(query: str | None, fetch: Callable[[int | None], T], full: Callable[[T], bool], *,
           need: int, narrowed: bool) -> T:
    """``fetch(None)`` — a list newest first (order ids), ``query`` its words — read through the
    ``windows`` of the newest ids: the first answer ``full`` says holds the ``need`` orders
    asked for, else the answer over every order. The same answer as ``fetch(None)``."""
    for newer_than in windows(query, need=need, narrowed=narrowed):
        answer = fetch(newer_than)
        if newer_than is None or full(answer):
            return answer
    raise AssertionError("windows() ends with None")  # pragma: no cover


def search_orders(actor: Actor, query: str) -> QuerySet[WorkOrder]:
    """The orders ``actor`` may see that ``query`` finds, newest first (order ids grow with
    time, and both indexes can walk ids backwards: a common word's newest page is cheap)."""
    qs = policy.visible_orders(actor, WorkOrder.objects.all())
    return narrow(qs, query).order_by("-id")
