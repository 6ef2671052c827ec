from django.db import migrations


def seed(apps, schema_editor):
    from jiesu.integrations.defaults import seed_templates

    seed_templates(apps.get_model("integrations", "NotificationTemplate"))


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
