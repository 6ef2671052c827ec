"""Load the shipped cold-start rules (jiesu/triage/data/rules.csv) into the keyword-rule table,
so that administrators can edit, switch off or add to every one of them."""

from django.db import migrations


def load_defaults(apps, schema_editor):
    from jiesu.triage.rules import DATA, read_rules_csv

    KeywordRule = apps.get_model("dispatch", "KeywordRule")
    if KeywordRule.objects.exists():
        return
    KeywordRule.objects.bulk_create([
        KeywordRule(target=row["target"].strip(), label=row["label"].strip(), keywords=row["keywords"].strip(),
                    weight=float(row.get("weight") or 1), note="rules.csv")
        for row in read_rules_csv(DATA / "rules.csv")
    ])


def forget(apps, schema_editor):
    apps.get_model("dispatch", "KeywordRule").objects.filter(note="rules.csv").delete()


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0002_keyword_rules")]
    operations = [migrations.RunPython(load_defaults, forget)]
