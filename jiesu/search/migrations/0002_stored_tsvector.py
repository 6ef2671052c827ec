"""PostgreSQL: the words' tsvector stored in a generated column, with the GIN index over it.

The first index was over an expression (``array_to_tsvector(string_to_array(words, ' '))``), so
every row the index found was read again and its tsvector rebuilt from the text to recheck it:
286 ms for a common word at 1M orders (docs/benchmarks.md). A stored column is computed once
per write and read as it is, and its statistics (the most common words) tell a common
query from a rare one. Adding it rewrites ``search_ordertext`` (narrow rows: order id and
words) once; the order table is not touched. SQLite keeps its FTS5 table: nothing changes there.
"""

from django.db import migrations

POSTGRES = [
    "ALTER TABLE search_ordertext ADD COLUMN doc tsvector "
    "GENERATED ALWAYS AS (array_to_tsvector(string_to_array(words, ' '))) STORED",
    "CREATE INDEX search_ordertext_doc_gin ON search_ordertext USING gin (doc)",
    # A longer list of the most common words (10,000 instead of 1,000) so that the search can
    # tell a word in 0.4 % of the orders from a rare one (jiesu.search.selectors.narrow).
    "ALTER TABLE search_ordertext ALTER COLUMN doc SET STATISTICS 1000",
    # Collect them now: adding a column is no modification to autovacuum, so without this the
    # column has no statistics until somebody runs ANALYZE, and every query counts as rare (at
    # 10M orders a common word then took 1–3 s instead of milliseconds; ANALYZE took 5 s).
    "ANALYZE search_ordertext",
    "DROP INDEX IF EXISTS search_ordertext_words_gin",
]
POSTGRES_UNDO = [
    "CREATE INDEX IF NOT EXISTS search_ordertext_words_gin ON search_ordertext "
    "USING gin (array_to_tsvector(string_to_array(words, ' ')))",
    "DROP INDEX IF EXISTS search_ordertext_doc_gin",
    "ALTER TABLE search_ordertext DROP COLUMN IF EXISTS doc",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(_run(POSTGRES), _run(POSTGRES_UNDO))]
