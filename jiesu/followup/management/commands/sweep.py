"""``jiesu sweep``: flag orders past their handling deadline without a reply (one ``overdue``
event each, onto the supervisor's callback list) and queue callbacks whose task was lost; then
recompute the dirty daily roll-ups of the dashboard (``jiesu.insight.rollup``) and of the
scorecards (``jiesu.followup.daily``). Idempotent. ``--every SECONDS`` repeats until stopped (``jiesu serve`` runs it so)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from jiesu.followup import daily
from jiesu.followup.services import sweep
from jiesu.insight import rollup
from jiesu.ops.periodic import repeat
from jiesu.services.actions import mark_no_shows, send_reminders


class Command(BaseCommand):
    help = "Flag overdue orders for callback and queue lost callbacks (once, or --every N seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="repeat every N seconds until stopped")

    def handle(self, *args, every: int, **options):
        def once() -> None:
            result = sweep()
            days = rollup.refresh()
            score_days = daily.refresh()
            # Legal-service bookings (jiesu.services): missed ones, and tomorrow's reminders.
            missed, reminded = mark_no_shows(), send_reminders()
            if every <= 0 or result.overdue or result.callbacks_queued or days or score_days:
                self.stdout.write(f"{result}, dashboard days recomputed: {days}, scorecard days: {score_days}")
            if every <= 0 or missed or reminded:
                self.stdout.write(f"bookings: {missed} no-show, {reminded} reminded")

        repeat(every=every, name="sweep", run=once)
