"""``jiesu backup FILE``: an online, consistent copy of the database (see jiesu.ops.backup)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from jiesu.ops import backup as ops


class Command(BaseCommand):
    help = "Back up the database to FILE while the server keeps running (SQLite backup API / pg_dump)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            path = ops.backup(file)
        except ops.BackupError as err:
            raise CommandError(str(err)) from err
        self.stdout.write(f"backup written: {path} ({path.stat().st_size} bytes)")
