"""``jiesu restore FILE``: replace the database's content with a backup (see jiesu.ops.backup)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from jiesu.ops import backup as ops


class Command(BaseCommand):
    help = "Restore the database from a backup FILE made by `jiesu backup` (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="do not ask before replacing the data")

    def handle(self, *args, file: Path, yes: bool, **options):
        if not yes and input(f"Replace ALL data with {file}? [y/N] ").strip().lower() not in ("y", "yes"):
            raise CommandError("not restored")
        try:
            ops.restore(file)
        except ops.BackupError as err:
            raise CommandError(str(err)) from err
        self.stdout.write(f"restored from {file}")
