import django.db.models.deletion
from django.db import migrations, models

# The database-specific index over search_ordertext (see jiesu/search/models.py).
SQLITE = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(words, content='search_ordertext', content_rowid='order_id')",
    """CREATE TRIGGER search_ordertext_ai AFTER INSERT ON search_ordertext BEGIN
         INSERT INTO search_fts(rowid, words) VALUES (new.order_id, new.words); END""",
    """CREATE TRIGGER search_ordertext_ad AFTER DELETE ON search_ordertext BEGIN
         INSERT INTO search_fts(search_fts, rowid, words) VALUES ('delete', old.order_id, old.words); END""",
    """CREATE TRIGGER search_ordertext_au AFTER UPDATE ON search_ordertext BEGIN
         INSERT INTO search_fts(search_fts, rowid, words) VALUES ('delete', old.order_id, old.words);
         INSERT INTO search_fts(rowid, words) VALUES (new.order_id, new.words); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_ordertext_au",
    "DROP TRIGGER IF EXISTS search_ordertext_ad",
    "DROP TRIGGER IF EXISTS search_ordertext_ai",
    "DROP TABLE IF EXISTS search_fts",
]
POSTGRES = [
    "CREATE INDEX search_ordertext_words_gin ON search_ordertext "
    "USING gin (array_to_tsvector(string_to_array(words, ' ')))",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS search_ordertext_words_gin"]


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("orders", "0005_callback_via_verify"),
    ]

    operations = [
        migrations.CreateModel(
            name="OrderText",
            fields=[
                ("order", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                               related_name="+", serialize=False, to="orders.workorder")),
                ("words", models.TextField(blank=True)),
            ],
        ),
        migrations.RunPython(_run({"sqlite": SQLITE, "postgresql": POSTGRES}),
                             _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP})),
    ]
