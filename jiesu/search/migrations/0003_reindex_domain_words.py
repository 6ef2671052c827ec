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


def reindex(apps, schema_editor):
    # The service itself (jiesu.search.services.rebuild), not a copy of its loop: it reads only
    # an order's id, title, content and address and writes (order, words) rows, columns that this
    # migration's state already has; it also optimises the FTS5 index or ANALYZEs the tsvector.
    from jiesu.search import services

    OrderText = apps.get_model("search", "OrderText")
    if OrderText.objects.using(schema_editor.connection.alias).count() > LIMIT:
        print(
            "\n  search: documents gained words (jiesu.search.tokens); run `jiesu reindex_search` to "
            "index the existing orders again (until then they are found as before)."
        )
        return
    services.rebuild()


class Migration(migrations.Migration):
    dependencies = [("search", "0002_stored_tsvector")]

    operations = [migrations.RunPython(reindex, migrations.RunPython.noop)]
