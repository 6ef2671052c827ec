"""``jiesu import KIND FILE`` (areas, units, categories, rules, users, orders; .xlsx or .csv)
with a progress bar and the per-row report; ``jiesu import KIND --template [OUT]`` writes the
template. Good rows are imported, bad rows are listed with their row numbers (exit status 1);
importing the same file again changes nothing."""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from tqdm import tqdm

from jiesu.accounts.policy import Actor
from jiesu.integrations.conf import knob
from jiesu.integrations.exchange import importing
from jiesu.integrations.exchange.kinds import KINDS
from jiesu.orders.errors import DomainError


class Command(BaseCommand):
    help = "Import areas, units, categories, routing rules, users or orders from .xlsx/.csv (or write a template)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(KINDS))
        parser.add_argument("file", nargs="?", help="the .xlsx or .csv file (with --template: where to write it)")
        parser.add_argument("--template", action="store_true", help="write the empty template instead")
        parser.add_argument("--lang", default=settings.LANGUAGE_CODE, help="language of the report (zh-hans, en)")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, kind: str, file: str | None, template: bool, lang: str, no_progress: bool, **options):
        translation.activate(lang)
        if template:
            target = Path(file or f"{kind}-template.xlsx")
            fmt = "csv" if target.suffix.lower() == ".csv" else "xlsx"
            target.write_bytes(importing.template(kind, fmt))
            self.stdout.write(str(target))
            return
        if not file:
            raise CommandError("give the file to import (or --template)")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        limit = int(knob("IMPORT_MAX_BYTES", 10 * 1024 * 1024)) * 10  # the command line may load bigger files
        if path.stat().st_size > limit:
            raise CommandError(f"{file} is bigger than {limit // 1048576} MB")

        def progress(rows):
            return tqdm(rows, desc=kind, unit=" rows", file=sys.stderr, disable=no_progress or None)

        try:
            report = importing.run(kind=kind, data=path.read_bytes(), filename=path.name, actor=Actor.system(),
                                   progress=progress)
        except DomainError as err:
            raise CommandError(str(err)) from None
        for problem in report.problems:
            self.stderr.write(f"{problem.row}: {problem.message}")
        self.stdout.write(report.summary())
        if report.problems:
            sys.exit(1)
