"""``jiesu open311_sync [--every N]``: send the assignments whose (re)try is due to the units'
Open311 systems, and poll those systems for the units' progress and replies."""

import json

from django.core.management.base import BaseCommand

from jiesu.open311.outbound import poll_all, retry_due
from jiesu.ops.periodic import repeat


class Command(BaseCommand):
    help = "Retry due Open311 sends to units' systems and poll them for updates (once, or every N seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="repeat every N seconds (0: once)")

    def handle(self, *args, every: int, **options):
        def once() -> None:
            self.stdout.write(json.dumps({"sent": retry_due(), **poll_all()}))

        repeat(every=every, name="open311_sync", run=once)
