"""Writes to the search index. Called inside the transaction that writes the order's text
(jiesu.orders.actions.intake), so that an order is findable exactly when it exists: no queue,
no lag, nothing to reconcile after a crash."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from jiesu.ops.inserts import insert_all
from jiesu.orders.models import WorkOrder
from jiesu.search import tokens
from jiesu.search.models import OrderText

BATCH = 2000


def index_order(order: WorkOrder, *, new: bool = False) -> None:
    """(Re)write the order's words. Part of the caller's write, not a side effect of it. A
    ``new`` order has no row yet: one INSERT instead of a lookup, savepoints and an upsert, on
    the intake's hot path."""
    words = tokens.document(order.title, order.content, order.address)
    if new:
        OrderText.objects.create(order_id=order.pk, words=words)
    else:
        OrderText.objects.update_or_create(order_id=order.pk, defaults={"words": words})


def index_new_orders(orders: Iterable[WorkOrder]) -> None:
    """``index_order(order, new=True)`` for many new orders in one INSERT (the batch intake)."""
    insert_all([OrderText(order_id=o.pk, words=tokens.document(o.title, o.content, o.address)) for o in orders])


def rebuild(*, orders: Iterable[WorkOrder] | None = None, progress=None) -> int:
    """Index every order again (after a change of the domain dictionary, or a bulk load that
    went around the services). Batched: memory stays flat however many orders there are."""
    done = 0
    last = 0
    while True:
        rows = list(
            WorkOrder.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "title", "content", "address")[:BATCH]
        )
        if not rows:
            break
        with transaction.atomic():
            OrderText.objects.filter(order_id__in=[r[0] for r in rows]).delete()
            OrderText.objects.bulk_create(
                [OrderText(order_id=pk, words=tokens.document(t, c, a)) for pk, t, c, a in rows]
            )
        done += len(rows)
        last = rows[-1][0]
        if progress:
            progress(done)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
        else:
            # Every row's words changed: the search's plans read the words' statistics
            # (jiesu.search.selectors), which autovacuum would refresh only some time later.
            cursor.execute("ANALYZE search_ordertext")
    return done
