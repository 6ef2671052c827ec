"""The statistics as an Excel workbook (openpyxl, like jiesu.followup.exports): one sheet per
table, headers in the user's language, growth as a percentage."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

from jiesu.services.stats import Report

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx(report: Report) -> bytes:
    # openpyxl (about 6 MB) on the first export, not in every web worker at start-up.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)

    def sheet(title: str, header: list[str], rows: list[list]) -> None:
        ws = wb.create_sheet(title=title[:31])
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
        ws.column_dimensions["A"].width = 28

    sheet(_("By week"), [_("Service point"), _("Week"), _("Monday"), _("Booked"), _("Served"), _("No-show")],
          [[w.point, w.week, w.monday, w.count.booked, w.count.served, w.count.no_show] for w in report.weeks])
    sheet(_("Weekends"), [_("Service point"), _("Saturdays booked"), _("Saturdays served"), _("Sundays booked"),
                          _("Sundays served")],
          [[p, sat.booked, sat.served, sun.booked, sun.served] for p, sat, sun in report.weekend])
    ws_rows = [[s.point, s.label, s.start, s.end, s.special.booked, s.special.served, s.normal.booked,
                s.normal.served, s.growth, s.served_growth] for s in report.specials]
    sheet(_("Special weeks"), [_("Service point"), _("Special week"), _("From"), _("Until"), _("Booked"),
                               _("Served"), _("Normal week booked"), _("Normal week served"),
                               _("Change in bookings"), _("Change in served")], ws_rows)
    for row in wb[_("Special weeks")[:31]].iter_rows(min_row=2, min_col=9, max_col=10):
        for cell in row:
            cell.number_format = "+0%;-0%;0%"
    sheet(_("Outreach"), [_("Date"), _("Event"), _("Place"), _("Collected"), _("Solved on the spot"),
                          _("Dispatched"), _("Solved later"), _("Solved in all"), _("Bookings")],
          [[e.date, e.title, e.place, s.collected, s.on_spot, s.dispatched, s.solved_later, s.solved, s.booked]
           for e, s in report.outreach])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
