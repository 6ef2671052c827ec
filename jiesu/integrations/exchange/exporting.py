"""Export: the desk lists as the user sees them (same filters, same permissions), and the full
archive of ``jiesu export`` (one file per kind and table, in the import templates' columns).

No requester's name or phone is in a list export: the desk lists do not show them either.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiesu.deadlines.calendar import SHANGHAI
from jiesu.integrations.exchange import sheets
from jiesu.integrations.exchange.kinds import KINDS
from jiesu.orders import selectors
from jiesu.orders.models import Assignment, Event, WorkOrder

EXPORT_LIMIT = 50_000
CONTENT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "csv": "text/csv; charset=utf-8"}


def local(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0) if value else None


def order_header() -> list[str]:
    return [_("number"), _("state"), _("request type"), _("channel"), _("urgency"), _("received at"), _("handling due"),
            _("category"), _("area"), _("lead unit"), _("co-handling units"), _("summary"), _("address"),
            _("content")]


def order_row(o: WorkOrder) -> list[Any]:
    live = [a for a in o.assignments.all() if a.state != "cancelled"]
    lead = next((a for a in live if a.role == "lead"), None)
    category = o.category
    return [o.number, o.get_state_display(), o.get_request_type_display(), o.get_channel_display(),
            o.get_urgency_display(), local(o.received_at), local(o.due_at),
            (f"{category.parent.name} / {category.name}" if category and category.parent else
             (category.name if category else "")),
            o.area.name if o.area else "", lead.unit.name if lead else "",
            " ".join(a.unit.name for a in live if a.role != "lead"), o.title, o.address, o.content]


def assignment_header() -> list[str]:
    return [_("number"), _("role"), _("assignment state"), _("unit"), _("due"), _("state"), _("category"), _("area"),
            _("summary"), _("address"), _("extension pending")]


def assignment_row(a: Assignment) -> list[Any]:
    o = a.order
    return [o.number, a.get_role_display(), a.get_state_display(), a.unit.name, local(a.due_at),
            o.get_state_display(), o.category.name if o.category else "", o.area.name if o.area else "", o.title,
            o.address, _("yes") if getattr(a, "extension_pending", False) else ""]


@dataclass(frozen=True)
class DeskList:
    screen: str  # the desk screen (and so the roles) this list belongs to
    title: Any
    rows: Callable[[HttpRequest], QuerySet]
    header: Callable[[], list[str]] = order_header
    row: Callable[[Any], list[Any]] = order_row


def _actor(request: HttpRequest):
    from jiesu.desk.views.common import actor_of

    return actor_of(request)


def _search(request: HttpRequest) -> QuerySet:
    from jiesu.desk.views.order import search

    return search(request)[1]


def _callbacks(request: HttpRequest) -> QuerySet:
    from jiesu.followup.selectors import callback_queue

    return callback_queue(_actor(request))


LISTS: dict[str, DeskList] = {
    "dispatch": DeskList("dispatch", gettext_lazy("Dispatch queue"), lambda r: selectors.triage_queue(_actor(r))),
    "inbox": DeskList("inbox", gettext_lazy("Unit inbox"), lambda r: selectors.unit_inbox(_actor(r)),
                      assignment_header, assignment_row),
    "overdue": DeskList("supervise", gettext_lazy("Overdue"), lambda r: selectors.overdue(_actor(r))),
    "risk": DeskList("supervise", gettext_lazy("At risk"), lambda r: selectors.at_risk(_actor(r))),
    "callback": DeskList("supervise", gettext_lazy("Callbacks"), _callbacks),
    "orders": DeskList("orders", gettext_lazy("Orders"), _search),
}


def desk_list(name: str, request: HttpRequest, fmt: str) -> bytes:
    spec = LISTS[name]
    rows = (spec.row(item) for item in spec.rows(request)[:EXPORT_LIMIT].iterator(chunk_size=1000))
    return sheets.write(spec.header(), rows, fmt, title=str(spec.title))


# --- the full archive -------------------------------------------------------------------------


def _assignments() -> Iterator[list[Any]]:
    qs = Assignment.objects.select_related("order", "unit").order_by("order_id", "id")
    for a in qs.iterator(chunk_size=2000):
        yield [a.order.number, a.unit.code, a.role, a.state, local(a.dispatched_at), local(a.due_at),
               local(a.accepted_at), local(a.contacted_at), local(a.replied_at), a.return_reason, int(a.extended)]


def _events() -> Iterator[list[Any]]:
    qs = Event.objects.select_related("order", "actor").order_by("order_id", "at", "id")
    for e in qs.iterator(chunk_size=5000):
        yield [e.order.number, e.code, local(e.at), e.actor.username if e.actor else "", e.from_state, e.to_state,
               e.reason, e.data]


TABLES: dict[str, tuple[list[str], Callable[[], Iterable[list[Any]]]]] = {
    **{name: ([c.name for c in kind.columns], kind.export) for name, kind in KINDS.items()},
    "assignments": (["number", "unit_code", "role", "state", "dispatched_at", "due_at", "accepted_at",
                     "contacted_at", "replied_at", "return_reason", "extended"], _assignments),
    "events": (["number", "code", "at", "actor", "from_state", "to_state", "reason", "data"], _events),
}


def archive(target: Path, *, fmt: str = "xlsx", as_zip: bool = False,
            progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None) -> list[Path]:
    """Write every table into ``target`` (a directory, or a .zip file with ``as_zip``)."""
    import json

    files: list[tuple[str, bytes]] = []
    for name in (progress or (lambda it: it))(list(TABLES)):
        header, rows = TABLES[name]
        cooked = ([json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for v in row]
                  for row in rows())
        files.append((f"{name}.{fmt}", sheets.write(header, cooked, fmt, title=name)))
    if as_zip:
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
            for filename, data in files:
                bundle.writestr(filename, data)
        return [target]
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, data in files:
        path = target / filename
        path.write_bytes(data)
        written.append(path)
    return written
