"""``jiesu deliver``: deadline reminders to handlers, then every notification and webhook
delivery whose next try is due (their deferred task was lost, or the task backend cannot
defer). Idempotent. ``--every SECONDS`` repeats until stopped (``jiesu serve`` runs it so)."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from jiesu.integrations import notifications, webhooks


class Command(BaseCommand):
    help = "Send deadline reminders and the due retries of notifications and webhooks (once, or --every N)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="repeat every N seconds until stopped")

    def handle(self, *args, every: int, **options):
        stop = threading.Event()
        if every > 0:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_a: stop.set())
        while True:
            if every > 0:
                close_old_connections()
            try:
                reminders = notifications.remind_deadlines()
                sent = notifications.send_due()
                delivered = webhooks.send_due()
            except Exception as err:  # noqa: BLE001 - a looping sender logs and tries again
                if every <= 0:
                    raise
                self.stderr.write(f"deliver failed: {err}")
            else:
                if every <= 0 or reminders or sent or delivered:
                    self.stdout.write(f"reminders: {reminders}, notifications tried: {sent}, "
                                      f"webhooks tried: {delivered}")
            if every <= 0 or stop.wait(every):
                return
