import uuid

from django.db import migrations, models


def stamp(apps, schema_editor):
    apps.get_model("deadlines", "ConfigStamp").objects.create(pk=1, token=uuid.uuid4().hex)


class Migration(migrations.Migration):
    dependencies = [("deadlines", "0002_seed_calendar")]
    operations = [
        migrations.CreateModel(
            name="ConfigStamp",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("token", models.CharField(max_length=32)),
            ],
            options={
                "verbose_name": "deadline configuration stamp",
                "verbose_name_plural": "deadline configuration stamps",
            },
        ),
        migrations.RunPython(stamp, migrations.RunPython.noop),
    ]
