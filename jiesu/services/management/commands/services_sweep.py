"""``jiesu services_sweep``: mark missed bookings (no-show) and send the day-ahead reminders.
Run it from cron, or enqueue ``jiesu.services.tasks.sweep_bookings``."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from jiesu.services.actions import mark_no_shows, send_reminders


class Command(BaseCommand):
    help = "Mark bookings whose slot has passed as missed; remind the requesters of tomorrow's bookings."

    def handle(self, *args, **options) -> None:
        missed = mark_no_shows()
        reminded = send_reminders()
        self.stdout.write(f"no-show: {missed}, reminded: {reminded}")
