"""``jiesu import_categories FILE``: the older name of ``jiesu import categories FILE`` (the one
category importer, in ``jiesu.integrations.exchange``: .xlsx or .csv, a per-row report, good
rows imported, idempotent re-import). Kept so that existing scripts keep working."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Alias of `jiesu import categories FILE` (code,name,name_en,parent_code,keywords[,active])."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="the .csv or .xlsx file")

    def handle(self, *args, path: str, **options) -> None:
        call_command("import", "categories", path, no_progress=True, stdout=self.stdout._out,
                     stderr=self.stderr._out)
