"""Which limit applies to an order. Pure Python: no Django here.

Limits are configured per request type × urgency, with category overrides (DESIGN §4). The
most specific configured row wins. A row naming the urgency comes first, because an emergency
is 2 hours whatever it is about; then a deeper category beats a shallower one or none; then a
row naming the type beats a wildcard.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from jiesu.deadlines.calendar import Limit, LimitUnit


@dataclass(frozen=True)
class LimitRow:
    handling: Limit
    contact_hours: int
    return_window_hours: int
    request_type: str = ""  # "" = any
    urgency: str = ""  # "" = any
    category_path: str = ""  # "" = any category; else the category's materialised path


@dataclass(frozen=True)
class OrderTerms:
    handling: Limit
    contact_hours: int
    return_window_hours: int


# Beijing draft standard DB11 (2021) defaults, used when nothing is configured:
# emergencies 2 hours, general 7 (working) days; units contact the requester within 24 hours
# (1 hour in an emergency) and may return an assignment within 2 hours of dispatch.
DEFAULT_TERMS = OrderTerms(Limit(7, LimitUnit.WORKING_DAYS), contact_hours=24, return_window_hours=2)
EMERGENCY_TERMS = OrderTerms(Limit(2, LimitUnit.HOURS), contact_hours=1, return_window_hours=1)


def _matches_category(row_path: str, order_path: str) -> bool:
    return not row_path or order_path == row_path or order_path.startswith(row_path + "/")


def _specificity(row: LimitRow) -> tuple[int, int, int]:
    depth = row.category_path.count("/") + 1 if row.category_path else 0
    return bool(row.urgency), depth, bool(row.request_type)


def pick(rows: Iterable[LimitRow], *, request_type: str, urgency: str, category_path: str) -> OrderTerms:
    candidates: Sequence[LimitRow] = [
        r
        for r in rows
        if (not r.request_type or r.request_type == request_type)
        and (not r.urgency or r.urgency == urgency)
        and _matches_category(r.category_path, category_path)
    ]
    if not candidates:
        return EMERGENCY_TERMS if urgency == "emergency" else DEFAULT_TERMS
    best = max(candidates, key=_specificity)
    return OrderTerms(best.handling, best.contact_hours, best.return_window_hours)
