"""``jiesu scorecard --period 2026-03 --level street --json``: the ranking table, one JSON object
per line (one per unit or area: every rate, the counts behind it, the score and the rank), in
the order of the page. Without ``--json``, a plain-text table."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from jiesu.followup import periods
from jiesu.followup.present import json_row
from jiesu.followup.selectors import LEVELS, scorecard


class Command(BaseCommand):
    help = "Print the 三率 scorecard of a period: per unit, district or street/township."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="2026-03 (month), 2026-03-05, 2026-Q1 or 2026")
        parser.add_argument("--level", choices=LEVELS, default="unit")
        parser.add_argument("--json", action="store_true", help="JSON lines")
        parser.add_argument("--active", action="store_true", help="only rows with orders in the period")

    def handle(self, *args, period: str, level: str, json: bool, active: bool, **options):
        try:
            p = periods.parse(period)
        except periods.PeriodError as err:
            raise CommandError(str(err)) from None
        card = scorecard(level, p)
        cards = [c for c in card.cards if c.counts.orders or not active]
        if json:
            for c in cards:
                self.stdout.write(_dumps(json_row(c, level=level, period=p.key)))
            return
        self.stdout.write(f"{'rank':>4}  {'score':>6}  {'resp':>6}  {'resol':>6}  {'satis':>6}  {'orders':>6}  name")
        for c in cards:
            r = c.rates

            def pct(v):
                return "     —" if v is None else f"{v * 100:5.1f}%"

            score = "     —" if c.score is None else f"{c.score:6.1f}"
            rank = "" if c.rank is None else str(c.rank)
            flag = "  [治理类]" if c.flagged else ""
            self.stdout.write(f"{rank:>4}  {score}  {pct(r['response'])}  {pct(r['resolution'])}  "
                              f"{pct(r['satisfaction'])}  {c.counts.orders:6d}  {c.name} ({c.key}){flag}")


def _dumps(row) -> str:
    return json.dumps(row, ensure_ascii=False, sort_keys=False)
