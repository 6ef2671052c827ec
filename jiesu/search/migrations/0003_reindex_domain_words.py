"""Index the orders' words again (jiesu.search.tokens): documents now also hold every word of
the domain dictionary in the text however the sentence was cut, so that 施工噪音 finds 夜间施工噪音
and 物业管理 finds 小区物业管理权. Queries are cut as before, so a row written by the old rule
still finds what it found; it only lacks those words. (楼道灯 finding 楼道灯坏了 is the query's
prefix rule and needs no re-index.)

Up to ``LIMIT`` orders the rows are rewritten here (the demo city, a new site: seconds). A larger
database is left to ``jiesu reindex_search`` (batched, can run while the site serves: an order
written meanwhile is indexed by the new rule anyway), because at millions of orders the rewrite
takes tens of minutes (cutting ~0.1–0.2 ms an order, plus the index's writes), too long for a
deployment's ``migrate``: the migration then only says so.
"""

from django.db import migrations

LIMIT = 200_000
BATCH = 2000


def reindex(apps, schema_editor):
    from jiesu.search import tokens

    WorkOrder = apps.get_model("orders", "WorkOrder")
    OrderText = apps.get_model("search", "OrderText")
    db = schema_editor.connection.alias
    if OrderText.objects.using(db).count() > LIMIT:
        print(
            "\n  search: documents gained words (jiesu.search.tokens); run `jiesu reindex_search` to "
            "index the existing orders again (until then they are found as before)."
        )
        return
    last = 0
    while rows := list(
        WorkOrder.objects.using(db).filter(pk__gt=last).order_by("pk").values_list("pk", "title", "content", "address")[:BATCH]
    ):
        OrderText.objects.using(db).filter(order_id__in=[r[0] for r in rows]).delete()
        OrderText.objects.using(db).bulk_create(
            [OrderText(order_id=pk, words=tokens.document(t, c, a)) for pk, t, c, a in rows]
        )
        last = rows[-1][0]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE search_ordertext")  # the plans read the words' statistics


class Migration(migrations.Migration):
    dependencies = [("search", "0002_stored_tsvector")]

    operations = [migrations.RunPython(reindex, migrations.RunPython.noop)]
