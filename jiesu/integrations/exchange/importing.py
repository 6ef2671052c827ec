"""One import: read the file, map its columns, write each row in its own savepoint, report.

A file-level problem (not a spreadsheet, a missing column, too big) imports nothing. A bad row
is reported with its row number and imports nothing of itself; the good rows are imported, and
importing the same file again changes nothing (each kind's natural key, see ``kinds``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from jiesu.accounts.policy import Actor
from jiesu.integrations.exchange import sheets
from jiesu.integrations.exchange.kinds import CREATED, KINDS, UPDATED, Kind, RowError
from jiesu.orders.errors import DomainError, InvalidInput, NotAllowed


@dataclass(frozen=True)
class RowProblem:
    row: int
    message: str


@dataclass
class Report:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return _("%(rows)s rows: %(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
                 "%(bad)s refused.") % {"rows": self.rows, "created": self.created, "updated": self.updated,
                                        "unchanged": self.unchanged, "bad": len(self.problems)}


def kind_of(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise InvalidInput(_("Unknown kind “%(kind)s”; choose one of: %(kinds)s."), field="kind",
                           kind=str(name)[:30], kinds=", ".join(KINDS))
    return kind


def file_messages() -> dict[str, str]:
    return {
        "format": _("Only .xlsx and .csv files can be imported."),
        "not_xlsx": _("This is not an Excel (.xlsx) file. Save it from Excel as “Excel Workbook (.xlsx)”, or as CSV."),
        "empty": _("The file is empty."),
        "too_many": _("Too many rows: at most %(max)s.") % {"max": sheets.MAX_ROWS},
        "encoding": _("The file is neither UTF-8 nor GB18030 text."),
        "csv": _("Line %(line)s is not readable CSV: %(error)s"),
    }


def columns_of(kind: Kind, header: list[str]) -> dict[str, int]:
    """Column name → index, accepting the code, the Chinese alias or the (translated) label."""
    index: dict[str, int] = {}
    for col in kind.columns:
        names = {col.name, col.alias.lower(), str(col.label).lower()} - {""}
        for i, h in enumerate(header):
            if h in names and col.name not in index:
                index[col.name] = i
    missing = [c for c in kind.columns if c.required and c.name not in index]
    if missing:
        raise InvalidInput(_("Missing column(s): %(columns)s. The template has: %(expected)s."), field="file",
                           columns=", ".join(c.name for c in missing),
                           expected=", ".join(c.name for c in kind.columns))
    return index


def _tree_order(rows: list[tuple[int, dict[str, str]]]) -> list[tuple[int, dict[str, str]]]:
    """Parents before children when both are in the file, whatever the file's order."""
    by_code: dict[str, tuple[int, dict[str, str]]] = {}
    for n, r in rows:  # the first row of a code is the one imported; a later one is the duplicate
        by_code.setdefault(r.get("code", "").strip(), (n, r))
    done: set[str] = set()
    ordered: list[tuple[int, dict[str, str]]] = []

    def visit(code: str, trail: set[str]) -> None:
        if code in done or code in trail or code not in by_code:
            return
        parent = by_code[code][1].get("parent_code", "").strip()
        visit(parent, trail | {code})
        done.add(code)
        ordered.append(by_code[code])

    for code in by_code:
        visit(code, set())
    seen = {id(r) for _n, r in ordered}
    return ordered + [(n, r) for n, r in rows if id(r) not in seen]  # duplicates and loops, reported by apply


def run(*, kind: str, data: bytes, filename: str, actor: Actor,
        progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None) -> Report:
    """Import ``data`` (the file's bytes). Raises ``DomainError`` for a file-level problem
    (nothing imported); returns the per-row report otherwise."""
    spec = kind_of(kind)
    if not spec.may_import(actor):
        raise NotAllowed(_("You are not allowed to import %(kind)s.") % {"kind": spec.label})
    try:
        sheet = sheets.read(data, filename, file_messages())
    except sheets.SheetError as err:
        raise InvalidInput(str(err), field="file") from None
    index = columns_of(spec, sheet.header)
    rows = [(n, {name: (cells[i] if i < len(cells) else "") for name, i in index.items()}) for n, cells in sheet.rows]
    if any(c.name == "parent_code" for c in spec.columns):
        rows = _tree_order(rows)
    report = Report(kind=spec.name, rows=len(rows))
    seen_keys: dict[str, int] = {}
    key_column = spec.columns[0].name
    for number, values in (progress or (lambda it: it))(rows):
        key = (values.get(key_column) or "").strip()
        if key and key in seen_keys and spec.name not in ("users", "rules"):
            report.problems.append(RowProblem(number, _("“%(key)s” is already on row %(row)s.")
                                              % {"key": key, "row": seen_keys[key]}))
            continue
        seen_keys.setdefault(key, number)
        try:
            with transaction.atomic():
                outcome = spec.apply(values, actor)
        except (RowError, DomainError) as err:
            report.problems.append(RowProblem(number, str(err)))
            continue
        except ValidationError as err:
            report.problems.append(RowProblem(number, " ".join(err.messages)))
            continue
        except IntegrityError:
            report.problems.append(RowProblem(number, _("The row conflicts with existing data.")))
            continue
        if outcome == CREATED:
            report.created += 1
        elif outcome == UPDATED:
            report.updated += 1
        else:
            report.unchanged += 1
    report.problems.sort(key=lambda p: p.row)
    return report


def load_shipped(*, kind: str, data: bytes, filename: str) -> Report:
    """A file that ships with Jiesu (the demo's category tree): every row must import, so a
    refused row is a bug in the file and stops the loader."""
    report = run(kind=kind, data=data, filename=filename, actor=Actor.system())
    if report.problems:
        raise ValueError(f"{filename}: " + "; ".join(f"row {p.row}: {p.message}" for p in report.problems[:5]))
    return report


def template(kind: str, fmt: str) -> bytes:
    """The empty template of a kind, with a help sheet (xlsx) naming each column."""
    spec = kind_of(kind)
    help_rows = [[_("column"), _("meaning"), _("required"), _("notes")]] + [
        [c.name, f"{c.alias} · {c.label}" if c.alias else str(c.label), _("yes") if c.required else "",
         str(c.help)] for c in spec.columns]
    return sheets.write([c.name for c in spec.columns], [], fmt, title=spec.name, help_rows=help_rows)
