"""The outbox was follow-up's own way out for messages; every message now is an integrations
``Notification`` (one queue, templates, retries). The old rows are kept there, once each: a
sent or failed row as it was, a row still *queued* for an outside gateway as *failed* with a
note (nothing in Jiesu ever sent it, and a weeks-old callback link must not go out now)."""

from django.db import migrations

STATUS = {"sent": "sent", "failed": "failed", "queued": "failed"}


def copy(apps, schema_editor):
    Outbox = apps.get_model("followup", "Outbox")
    Notification = apps.get_model("integrations", "Notification")
    rows = []
    for o in Outbox.objects.order_by("pk").iterator(chunk_size=2000):
        error = o.error or ("queued in the old follow-up outbox; not sent by Jiesu" if o.status == "queued" else "")
        rows.append(Notification(
            key=f"outbox{o.pk}", kind=o.kind, channel=o.channel, to=o.to, subject=o.subject, body=o.body,
            order_id=o.order_id, status=STATUS.get(o.status, "failed"), attempts=1 if o.status == "sent" else 0,
            last_error=error, created_at=o.created_at, sent_at=o.created_at if o.status == "sent" else None))
        if len(rows) >= 2000:
            Notification.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    Notification.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("followup", "0001_initial"),
        ("integrations", "0003_kinds_and_link_templates"),
    ]

    operations = [
        migrations.RunPython(copy, migrations.RunPython.noop),
        migrations.DeleteModel(name="Outbox"),
    ]
