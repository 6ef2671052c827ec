"""``jiesu deliver``: deadline reminders to handlers, then every notification and webhook
delivery whose next try is due (their deferred task was lost, or the task backend cannot
defer). Idempotent. ``--every SECONDS`` repeats until stopped (``jiesu serve`` runs it so)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from jiesu.integrations import notifications, webhooks
from jiesu.ops.periodic import repeat


class Command(BaseCommand):
    help = "Send deadline reminders and the due retries of notifications and webhooks (once, or --every N)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="repeat every N seconds until stopped")

    def handle(self, *args, every: int, **options):
        def once() -> None:
            reminders = notifications.remind_deadlines()
            sent = notifications.send_due()
            delivered = webhooks.send_due()
            if every <= 0 or reminders or sent or delivered:
                self.stdout.write(f"reminders: {reminders}, notifications tried: {sent}, webhooks tried: {delivered}")

        repeat(every=every, name="deliver", run=once)
