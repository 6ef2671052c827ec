"""Writes to the catalogue. ``import_categories_csv`` loads the 诉求分类 tree from a CSV file
(DESIGN §2: a three-level tree, admin-editable, imported from a CSV).

The file has the columns ``code,name,name_en,parent_code,keywords`` (UTF-8, with or without a
byte-order mark, as Excel writes it). Rows create new categories or update the ones with the
same code; categories not in the file are left alone. The whole file is checked first and
written in one transaction, so a file with any error changes nothing.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from jiesu.catalogue.models import Category

MAX_LEVEL = 3
REQUIRED_COLUMNS = ("code", "name", "parent_code")
OPTIONAL_COLUMNS = ("name_en", "keywords")
MAX_CODE, MAX_NAME = 32, 100  # the model's field lengths
MAX_ROWS = 20_000  # a category tree is a few hundred rows; more means a wrong file


@dataclass(frozen=True)
class ImportProblem:
    line: int  # 1 is the header; 0 for the file as a whole
    message: str

    def __str__(self) -> str:
        return (
            _("Line %(line)s: %(message)s") % {"line": self.line, "message": self.message}
            if self.line
            else self.message
        )


class CategoryImportError(Exception):
    """The file was refused; ``problems`` names each bad line. Nothing was written."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


@dataclass(frozen=True)
class _Row:
    line: int
    code: str
    name: str
    name_en: str
    parent_code: str
    keywords: str


def _read_text(file: Any) -> str:
    """A path, bytes, or an open file (binary or text) → text; a BOM is dropped."""
    if isinstance(file, str | os.PathLike):
        with open(file, "rb") as fh:
            raw: bytes | str = fh.read()
    elif isinstance(file, bytes | bytearray):
        raw = bytes(file)
    else:
        raw = file.read()
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CategoryImportError(
            [
                ImportProblem(
                    0,
                    _("The file is not UTF-8 text (byte %(at)s). Save it as “CSV UTF-8”.")
                    % {"at": exc.start},
                )
            ]
        ) from None


def _parse(text: str) -> tuple[list[_Row], list[ImportProblem]]:
    problems: list[ImportProblem] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return [], [ImportProblem(0, _("The file is empty."))]
    except csv.Error as exc:
        return [], [ImportProblem(1, _("Not a readable CSV file: %(error)s") % {"error": exc})]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return [], [
            ImportProblem(
                1,
                _("Missing column(s): %(columns)s. Expected: %(expected)s.")
                % {
                    "columns": ", ".join(missing),
                    "expected": ",".join(("code", "name", "name_en", "parent_code", "keywords")),
                },
            )
        ]
    index = {name: header.index(name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in header}
    rows: list[_Row] = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue  # blank lines, as spreadsheets leave them at the end
            if len(rows) >= MAX_ROWS:
                problems.append(ImportProblem(line, _("Too many rows: at most %(max)s.") % {"max": MAX_ROWS}))
                break

            def cell(name: str, values: list[str] = values) -> str:
                i = index.get(name)
                return values[i].strip() if i is not None and i < len(values) else ""

            rows.append(
                _Row(
                    line,
                    cell("code"),
                    cell("name"),
                    cell("name_en"),
                    cell("parent_code"),
                    " ".join(cell("keywords").split()),
                )
            )
    except csv.Error as exc:
        problems.append(
            ImportProblem(reader.line_num, _("Not a readable CSV line: %(error)s") % {"error": exc})
        )
    return rows, problems


def _check_rows(rows: list[_Row]) -> list[ImportProblem]:
    problems: list[ImportProblem] = []
    first_line: dict[str, int] = {}
    for row in rows:
        if not row.code:
            problems.append(ImportProblem(row.line, _("The code is empty.")))
        elif len(row.code) > MAX_CODE or any(c.isspace() or c == "/" for c in row.code):
            problems.append(
                ImportProblem(
                    row.line,
                    _("The code “%(code)s” is invalid: at most %(max)s characters, no spaces or slashes.")
                    % {"code": row.code[:40], "max": MAX_CODE},
                )
            )
        elif row.code in first_line:
            problems.append(
                ImportProblem(
                    row.line,
                    _("The code “%(code)s” is already used on line %(first)s.")
                    % {"code": row.code, "first": first_line[row.code]},
                )
            )
        else:
            first_line[row.code] = row.line
        if not row.name:
            problems.append(ImportProblem(row.line, _("The name is empty.")))
        for value in (row.name, row.name_en):
            if len(value) > MAX_NAME:
                problems.append(
                    ImportProblem(
                        row.line,
                        _("The name “%(name)s…” is too long: at most %(max)s characters.")
                        % {"name": value[:20], "max": MAX_NAME},
                    )
                )
        if row.parent_code and row.parent_code == row.code:
            problems.append(
                ImportProblem(
                    row.line, _("The category “%(code)s” cannot be its own parent.") % {"code": row.code}
                )
            )
    return problems


def _check_tree(rows: list[_Row], existing: dict[str, str | None]) -> list[ImportProblem]:
    """Unknown parents, cycles and depth, on the tree as it will be after the import."""
    parents: dict[str, str | None] = dict(existing)
    line_of = {}
    for row in rows:
        parents[row.code] = row.parent_code or None
        line_of[row.code] = row.line
    problems = [
        ImportProblem(
            row.line,
            _("The parent “%(parent)s” is neither in the file nor in the catalogue.")
            % {"parent": row.parent_code},
        )
        for row in rows
        if row.parent_code and row.parent_code not in parents
    ]
    if problems:
        return problems
    level: dict[str, int] = {}

    def depth(code: str) -> int:
        chain: list[str] = []
        node: str | None = code
        while node is not None and node not in level:
            if node in chain:
                raise _Cycle(chain[chain.index(node) :])
            chain.append(node)
            node = parents[node]
        base = level[node] if node is not None else 0
        for i, c in enumerate(reversed(chain), start=1):
            level[c] = base + i
        return level[code]

    for code in parents:
        try:
            depth(code)
        except _Cycle as cycle:
            line = min(line_of.get(c, 0) for c in cycle.codes) or 0
            return [
                ImportProblem(
                    line, _("The parents form a loop: %(codes)s.") % {"codes": " → ".join(cycle.codes)}
                )
            ]
    for code, lvl in level.items():
        if lvl <= MAX_LEVEL:
            continue
        if code in line_of:
            problems.append(
                ImportProblem(
                    line_of[code],
                    _("“%(code)s” would be on level %(level)s; the catalogue has at most %(max)s levels.")
                    % {"code": code, "level": lvl, "max": MAX_LEVEL},
                )
            )
        else:
            problems.append(
                ImportProblem(
                    0,
                    _(
                        "The existing category “%(code)s” would move to level %(level)s; the "
                        "catalogue has at most %(max)s levels."
                    )
                    % {"code": code, "level": lvl, "max": MAX_LEVEL},
                )
            )
    return sorted(problems, key=lambda p: p.line)


class _Cycle(Exception):
    def __init__(self, codes: list[str]) -> None:
        self.codes = codes


def import_categories_csv(*, file: str | os.PathLike | bytes | IO[Any], actor: Any = None) -> ImportResult:
    """Create or update categories from a CSV file; all or nothing.

    ``actor`` (an ``accounts.policy.Actor``) must be an administrator when given; management
    commands and the demo loader pass none. Raises ``CategoryImportError`` with every problem
    found, each naming its line, and writes nothing in that case.
    """
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(_("Only an administrator may import the catalogue."))
    rows, problems = _parse(_read_text(file))
    problems += _check_rows(rows)
    if not problems and not rows:
        problems.append(ImportProblem(0, _("The file has no categories.")))
    if problems:
        raise CategoryImportError(problems)
    with transaction.atomic():
        current = {c.code: c for c in Category.objects.select_for_update(of=("self",)).select_related("parent")}
        existing = {code: (c.parent.code if c.parent else None) for code, c in current.items()}
        problems = _check_tree(rows, existing)
        if problems:
            raise CategoryImportError(problems)
        return _write(rows, current)


def _write(rows: list[_Row], current: dict[str, Category]) -> ImportResult:
    result = ImportResult()
    # New categories first, so that a child may come before its parent in the file.
    for row in rows:
        if row.code not in current:
            category = Category(code=row.code, name=row.name)
            category.save()
            current[row.code] = category
            result.created.append(row.code)
    dirty: list[Category] = []
    for row in rows:
        category = current[row.code]
        fields = {
            "name": row.name,
            "name_en": row.name_en,
            "keywords": row.keywords,
            "parent": current[row.parent_code] if row.parent_code else None,
        }
        created = row.code in result.created
        changed = created or any(getattr(category, k) != v for k, v in fields.items())
        if changed:
            for k, v in fields.items():
                setattr(category, k, v)
            dirty.append(category)
        if not created:
            (result.updated if changed else result.unchanged).append(row.code)
    Category.objects.bulk_update(dirty, ["name", "name_en", "keywords", "parent"], batch_size=500)
    _rebuild_paths()
    return result


def _rebuild_paths() -> None:
    """Recompute the materialised path and level of every category in one pass: a moved
    category takes its whole subtree with it, including children that are not in the file."""
    nodes = {c.pk: c for c in Category.objects.only("id", "code", "parent_id", "path", "level")}
    paths: dict[int, str] = {}

    def path_of(pk: int) -> str:
        chain = []
        node: int | None = pk
        while node is not None and node not in paths:
            chain.append(node)
            node = nodes[node].parent_id
        base = paths[node] if node is not None else ""
        for n in reversed(chain):
            base = f"{base}/{nodes[n].code}" if base else nodes[n].code
            paths[n] = base
        return paths[pk]

    stale = []
    for pk, node in nodes.items():
        path = path_of(pk)
        level = path.count("/") + 1
        if node.path != path or node.level != level:
            node.path, node.level = path, level
            stale.append(node)
    Category.objects.bulk_update(stale, ["path", "level"], batch_size=500)
    if stale:
        # Deadline limits match categories by path; bulk updates send no signals.
        from jiesu.deadlines.services import touch

        touch()
