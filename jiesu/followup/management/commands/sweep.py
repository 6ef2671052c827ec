"""``jiesu sweep``: flag orders past their handling deadline without a reply (one ``overdue``
event each, onto the supervisor's callback list) and queue callbacks whose task was lost; then
recompute the dashboard's dirty daily roll-ups (``jiesu.insight.rollup``). Idempotent. ``--every SECONDS`` repeats until stopped (``jiesu serve`` runs it so)."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from jiesu.followup.services import sweep
from jiesu.insight import rollup
from jiesu.services.actions import mark_no_shows, send_reminders


class Command(BaseCommand):
    help = "Flag overdue orders for callback and queue lost callbacks (once, or --every N seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="repeat every N seconds until stopped")

    def handle(self, *args, every: int, **options):
        stop = threading.Event()
        if every > 0:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_a: stop.set())
        while True:
            if every > 0:
                close_old_connections()  # a long-running loop: drop connections that went stale
            try:
                result = sweep()
                days = rollup.refresh()
                # Legal-service bookings (jiesu.services): missed ones, and tomorrow's reminders.
                missed, reminded = mark_no_shows(), send_reminders()
            except Exception as err:  # noqa: BLE001 - a looping sweep logs and tries again
                if every <= 0:
                    raise
                self.stderr.write(f"sweep failed: {err}")
            else:
                if every <= 0 or result.overdue or result.callbacks_queued or days:
                    self.stdout.write(f"{result}, dashboard days recomputed: {days}")
                if every <= 0 or missed or reminded:
                    self.stdout.write(f"bookings: {missed} no-show, {reminded} reminded")
            if every <= 0 or stop.wait(every):
                break
