"""``jiesu export DIR`` writes the full archive: one file per kind and table (areas, units,
categories, rules, users, orders — in the import templates' columns — plus assignments and
events). ``--zip`` writes one .zip instead; ``--format csv`` for CSV files."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from tqdm import tqdm

from jiesu.integrations.exchange import exporting


class Command(BaseCommand):
    help = "Write every table to DIR (one .xlsx or .csv per table), or to one .zip with --zip."

    def add_arguments(self, parser):
        parser.add_argument("target", help="a directory (or the .zip file with --zip)")
        parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
        parser.add_argument("--zip", action="store_true")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, target: str, format: str, zip: bool, no_progress: bool, **options):
        def progress(names):
            return tqdm(names, desc="export", unit=" tables", file=sys.stderr, disable=no_progress or None)

        for path in exporting.archive(Path(target), fmt=format, as_zip=zip, progress=progress):
            self.stdout.write(str(path))
