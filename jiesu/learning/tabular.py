"""Reading labelled or unlabelled texts from CSV or Excel (.xlsx) files for the commands."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EXCEL = (".xlsx", ".xlsm")


class TableError(Exception):
    """A file the commands cannot read, with a message for the user."""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_rows(path: Path) -> Iterator[list[str]]:
    # utf-8-sig eats Excel's byte-order mark; GB18030 is what Chinese Excel saves "CSV" in.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            with open(path, encoding=encoding, newline="") as f:
                rows = list(csv.reader(f))
        except UnicodeDecodeError:
            continue
        except csv.Error as exc:
            raise TableError(f"{path}: not a readable CSV file ({exc})") from exc
        yield from rows
        return
    raise TableError(f"{path}: neither UTF-8 nor GB18030 text")


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise TableError(f"{path}: not a readable .xlsx file ({type(exc).__name__}: {exc})") from exc
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in row]
    finally:
        book.close()


def read_rows(path: Path | str) -> tuple[list[str], Iterator[list[str]]]:
    """(header, data rows) of the first sheet of a .xlsx file or of a CSV file."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"file not found: {path}")
    rows = _xlsx_rows(path) if path.suffix.lower() in EXCEL else _csv_rows(path)
    try:
        header = [h.strip() for h in next(rows)]
    except StopIteration:
        raise TableError(f"{path}: the file is empty") from None
    return header, rows


def columns(header: list[str], wanted: dict[str, str | list[str]], path: Path | str) -> dict[str, list[int]]:
    """Positions of the wanted columns (an option name → one column or several to join), or a
    TableError naming the missing one and the columns there are."""
    out: dict[str, list[int]] = {}
    for option, names in wanted.items():
        positions = []
        for name in [names] if isinstance(names, str) else names:
            if name not in header:
                raise TableError(f"{path}: no column {name!r} (for {option}); the columns are: "
                                 + ", ".join(repr(h) for h in header if h))
            positions.append(header.index(name))
        out[option] = positions
    return out


def value(row: list[str], positions: list[int]) -> str:
    return " ".join(row[i].strip() for i in positions if i < len(row) and row[i] and row[i].strip())
