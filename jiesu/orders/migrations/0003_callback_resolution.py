"""回访 outcomes get a third value: solved / partly / unsolved (``resolution``). The boolean
``solved`` stays (True only for fully solved); existing rows are filled from it. Two covering
indexes let the 三率 scorecards read a period without touching the tables' rows."""

from django.db import migrations, models


def fill_resolution(apps, schema_editor):
    for name in ("WorkOrder", "Callback"):
        model = apps.get_model("orders", name)
        model.objects.filter(solved=True).update(resolution="solved")
        model.objects.filter(solved=False).update(resolution="unsolved")


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0002_assignment_lead_first"),
    ]

    operations = [
        migrations.AddField(
            model_name="callback",
            name="resolution",
            field=models.CharField(blank=True, choices=[("solved", "Solved"), ("partly", "Partly solved"), ("unsolved", "Not solved")], max_length=16, verbose_name="resolution"),
        ),
        migrations.AddField(
            model_name="workorder",
            name="resolution",
            field=models.CharField(blank=True, max_length=16, verbose_name="resolution"),
        ),
        migrations.RunPython(fill_resolution, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="workorder",
            index=models.Index(fields=["area", "received_at", "state", "reopen_count", "satisfaction", "resolution"], name="order_scorecard_idx"),
        ),
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(fields=["order", "role", "state", "unit", "contacted_at", "contact_due_at", "replied_at", "due_at", "extended"], name="assignment_scorecard_idx"),
        ),
    ]
