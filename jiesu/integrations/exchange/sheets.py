"""Reading and writing spreadsheets (.xlsx with openpyxl, .csv with the standard library),
without Django models: a sheet is a header and rows of text cells with their row numbers.

CSV is read as UTF-8 (with or without the byte-order mark Excel writes) or, failing that, as
GB18030 — what Chinese Excel saves as "CSV". A file named .xlsx that is not a zip archive is
refused with a clear message before openpyxl sees it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

MAX_ROWS = 100_000


class SheetError(Exception):
    """The file as a whole cannot be read; nothing was imported. ``message`` is translated."""


@dataclass(frozen=True)
class Sheet:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as the spreadsheet shows it, cells)


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps 110105 as 110105.0
    if isinstance(value, Decimal | float | int):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def fmt_of(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".xlsx"):
        return "xlsx"
    if lower.endswith(".csv"):
        return "csv"
    return ""


def read(data: bytes, name: str, messages: dict[str, str]) -> Sheet:
    """``messages``: the translated texts for the file-level errors (keys below)."""
    fmt = fmt_of(name)
    rows: Iterator[tuple[int, Any]]
    if fmt == "xlsx":
        rows = _xlsx_rows(data, messages)
    elif fmt == "csv":
        rows = _csv_rows(data, messages)
    else:
        raise SheetError(messages["format"])
    header: list[str] | None = None
    body: list[tuple[int, list[str]]] = []
    for number, cells in rows:
        texts = [cell_text(c) for c in cells]
        if not any(texts):
            continue  # blank lines, as spreadsheets leave them
        if header is None:
            header = [t.strip().lower() for t in texts]
            continue
        if len(body) >= MAX_ROWS:
            raise SheetError(messages["too_many"])
        body.append((number, texts))
    if header is None:
        raise SheetError(messages["empty"])
    return Sheet(header, body)


def _xlsx_rows(data: bytes, messages: dict[str, str]) -> Iterator[tuple[int, Any]]:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise SheetError(messages["not_xlsx"])
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise SheetError(messages["not_xlsx"]) from err
    sheet = book.worksheets[0]
    yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    book.close()


def _csv_rows(data: bytes, messages: dict[str, str]) -> Iterator[tuple[int, list[str]]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly anything
        raise SheetError(messages["encoding"])
    if "\x00" in text:
        raise SheetError(messages["format"])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as err:
        raise SheetError(messages["csv"] % {"line": reader.line_num, "error": err}) from err


def write(header: list[str], rows: Iterable[list], fmt: str, *, title: str = "data",
          help_rows: list[list[str]] | None = None) -> bytes:
    """One sheet (xlsx, with an optional second sheet of help) or a CSV with a byte-order mark
    so that Excel opens the Chinese text correctly."""
    if fmt == "csv":
        out = io.StringIO(newline="")
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else _safe(v) for v in row])
        return out.getvalue().encode("utf-8")
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    if help_rows:
        notes = book.create_sheet("说明 Help")
        for line in help_rows:
            notes.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _safe(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # never a formula from a citizen's text (CSV/formula injection)
    return value


def _xlsx_value(value: object) -> object:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones; callers pass local time
    return _safe(value)
