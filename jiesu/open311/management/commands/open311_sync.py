"""``jiesu open311_sync [--every N]``: send the assignments whose (re)try is due to the units'
Open311 systems, and poll those systems for the units' progress and replies."""

import json
import logging
import time

from django.core.management.base import BaseCommand

from jiesu.open311.outbound import poll_all, retry_due

log = logging.getLogger("jiesu.open311")


class Command(BaseCommand):
    help = "Retry due Open311 sends to units' systems and poll them for updates (once, or every N seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="repeat every N seconds (0: once)")

    def handle(self, *args, every: int, **options):
        while True:
            try:
                result = {"sent": retry_due(), **poll_all()}
            except Exception:
                if every <= 0:
                    raise
                # A long-running loop outlives one bad round (say, the database restarting).
                log.exception("Open311 sync round failed")
            else:
                self.stdout.write(json.dumps(result))
            if every <= 0:
                return
            time.sleep(every)
