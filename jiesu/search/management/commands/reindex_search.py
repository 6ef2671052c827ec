"""``jiesu reindex_search``: build the order search index again from the orders."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from jiesu.search.services import rebuild


class Command(BaseCommand):
    help = "Rebuild the order search index (after a dictionary change or a bulk load)."

    def handle(self, *args, **options) -> None:
        n = rebuild(progress=lambda done: self.stdout.write(f"{done:,} orders") if done % 100_000 == 0 else None)
        self.stdout.write(self.style.SUCCESS(f"indexed {n:,} orders"))
