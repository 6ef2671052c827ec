"""``jiesu import_categories PATH``: load the 诉求分类 tree from a CSV file (all or nothing)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from jiesu.catalogue.services import CategoryImportError, import_categories_csv


class Command(BaseCommand):
    help = "Create or update categories from a CSV file (code,name,name_en,parent_code,keywords)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="CSV file, UTF-8 with or without BOM")

    def handle(self, *args, path: str, **options) -> None:
        try:
            result = import_categories_csv(file=path)
        except FileNotFoundError:
            raise CommandError(f"No such file: {path}") from None
        except CategoryImportError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(exc.problems)} problem(s) in {path}; nothing was imported.") from None
        self.stdout.write(
            f"{result.total} categories: {len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged."
        )
