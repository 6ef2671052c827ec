"""Excel (.xlsx, openpyxl) and CSV of the scorecard tables, column for column as the page."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from jiesu.followup.present import COLUMNS, text, value
from jiesu.followup.rates import Card

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def header() -> list[str]:
    return [c.label for c in COLUMNS]


def xlsx(sheets: Iterable[tuple[str, list[Card]]], *, notes: list[str] | None = None) -> bytes:
    """One sheet per table. Rates are fractions formatted as percentages (0.0%), the score
    out of 100 with one decimal, counts as integers, no data as an empty cell."""
    # openpyxl (about 6 MB) on the first export, not in every web worker at start-up.
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for title, cards in sheets:
        ws = wb.create_sheet(title=title[:31])
        ws.append(header())
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for card in cards:
            row = []
            for col in COLUMNS:
                raw = value(card, col)
                row.append(("●" if raw else "") if col.kind == "flag" else raw)
            ws.append(row)
        for i, col in enumerate(COLUMNS, start=1):
            letter = get_column_letter(i)
            fmt = {"rate": "0.0%", "score": "0.0"}.get(col.kind)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = fmt
            ws.column_dimensions[letter].width = 28 if col.id == "name" else 12
        ws.freeze_panes = "D2"
    if notes:
        ws = wb.create_sheet(title="notes")
        for line in notes:
            ws.append([line])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_text(cards: list[Card]) -> str:
    """UTF-8 with a BOM (Excel opens it as UTF-8); values as the page shows them, except that
    no data is an empty field."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header())
    for card in cards:
        row = []
        for col in COLUMNS:
            raw = value(card, col)
            row.append("" if raw is None else text(raw, col.kind))
        writer.writerow(row)
    return out.getvalue()
