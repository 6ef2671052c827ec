"""The order's history as people read it: events are data (code, actor, from/to, reason, data);
this turns them into labelled rows in the user's language. Unit, area and category codes in the
data are resolved with one query each, whatever the length of the history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from jiesu.catalogue.models import Category, Channel, RequestType
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.orders.events import LABELS, EventCode
from jiesu.orders.models import (
    AssignmentRole,
    CallbackVia,
    Event,
    OrderState,
    OutcomeChoice,
    ReplyOutcome,
    Resolution,
    Satisfaction,
)
from jiesu.org.models import Area, Unit


@dataclass
class Row:
    event: Event
    label: str
    actor: str
    from_label: str
    to_label: str
    reason: str
    details: list[tuple[str, Any]] = field(default_factory=list)
    link: str = ""  # another order's number (merge)


def _label(choices, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _when(value: Any) -> str:
    if not value:
        return ""
    try:
        return dt.datetime.fromisoformat(str(value)).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)


def _yes(value: Any) -> str:
    if value is None:
        return "—"
    return _("Yes") if value else _("No")


def _confidence(value: Any) -> str:
    try:
        return f"{float(value):.2f}"
    except (TypeError, ValueError):
        return "—"


def _names(events: list[Event]) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    units: set[str] = set()
    areas: set[str] = set()
    cats: set[str] = set()
    for e in events:
        d = e.data or {}
        for key in ("lead", "unit"):
            if isinstance(d.get(key), str):
                units.add(d[key])
        units.update(c for c in d.get("co") or [] if isinstance(c, str))
        if isinstance(d.get("area"), str):
            areas.add(d["area"])
        if isinstance(d.get("category"), str):
            cats.add(d["category"])
    unit_names = dict(Unit.objects.filter(code__in=units).values_list("code", "name")) if units else {}
    area_names = dict(Area.objects.filter(code__in=areas).values_list("code", "name")) if areas else {}
    cat_names = dict(Category.objects.filter(code__in=cats).values_list("code", "name")) if cats else {}
    return unit_names, area_names, cat_names


def timeline(events: list[Event]) -> list[Row]:
    units, areas, cats = _names(events)
    rows = []
    for e in events:
        d: dict[str, Any] = e.data or {}
        code = e.code
        details: list[tuple[str, Any]] = []
        link = ""
        unit = units.get(d.get("unit", ""), d.get("unit", ""))
        if code == EventCode.CREATED:
            details += [(_("Channel"), _label(Channel, d.get("channel"))),
                        (_("Type"), _label(RequestType, d.get("request_type"))),
                        (_("Requesters"), d.get("requesters", ""))]
            if d.get("proactive"):
                details.append((_("Proactive work item (未诉先办)"), _yes(True)))
        elif code == EventCode.ANSWERED:
            details.append((_("Answer"), d.get("answer", "")))
        elif code == EventCode.DISPATCHED:
            details.append((_("Lead unit"), units.get(d.get("lead", ""), d.get("lead", ""))))
            if d.get("co"):
                details.append((_("Co-handling units"), "、".join(units.get(c, c) for c in d["co"])))
            details.append((_("Due"), _when(d.get("due_at"))))
            if d.get("category"):
                details.append((_("Category"), cats.get(d["category"], d["category"])))
            if d.get("area"):
                details.append((_("Area"), areas.get(d["area"], d["area"])))
            if d.get("redispatch"):
                details.append((_("Re-dispatch after a return"), _yes(True)))
            if d.get("auto"):
                details.append((_("Auto-dispatched"), _("by the system (model %(version)s, confidence %(confidence)s)")
                                % {"version": d.get("model_version") or "—",
                                   "confidence": _confidence(d.get("confidence"))}))
        elif code in (EventCode.REFERRED, EventCode.DECLINED):
            details.append((_("Outcome (Art. 11)"), _label(OutcomeChoice, d.get("outcome"))))
            if d.get("referred_to"):
                details.append((_("Referred to"), d["referred_to"]))
        elif code == EventCode.MERGED:
            link = str(d.get("into", ""))
        elif code == EventCode.ABSORBED:
            link = str(d.get("duplicate", ""))
            details.append((_("Requesters added"), d.get("requesters_added", 0)))
        elif code in (EventCode.ACCEPTED, EventCode.RETURNED, EventCode.REPLIED):
            details.append((_("Unit"), unit))
            details.append((_("Role"), _label(AssignmentRole, d.get("role"))))
            if code == EventCode.REPLIED:
                details.append((_("Outcome"), _label(ReplyOutcome, d.get("outcome"))))
                if d.get("late"):
                    details.append((_("Late"), _yes(True)))
        elif code == EventCode.EXTENSION_REQUESTED:
            details += [(_("Unit"), unit), (_("Extra working days"), d.get("working_days", ""))]
        elif code == EventCode.EXTENSION_DECIDED:
            details.append((_("Approved"), _yes(d.get("approved"))))
            if d.get("approved"):
                details.append((_("New due"), f"{_when(d.get('old_due_at'))} → {_when(d.get('new_due_at'))}"))
        elif code == EventCode.CONTACTED:
            details += [(_("First contact"), _yes(d.get("first"))), (_("In time"), _yes(d.get("in_time")))]
        elif code == EventCode.CALLBACK:
            details += [(_("Attempt"), d.get("attempt", "")), (_("Via"), _label(CallbackVia, d.get("via"))),
                        (_("Reached"), _yes(d.get("reached")))]
            if d.get("reached"):
                details += [(_("Unit contacted the requester"), _yes(d.get("contacted"))),
                            (_("Solved"), _label(Resolution, d["resolution"]) if d.get("resolution")
                             else _yes(d.get("solved"))),
                            (_("Satisfaction"), _label(Satisfaction, d.get("satisfaction")))]
            if d.get("overdue"):
                details.append((_("Overdue, no reply yet"), _yes(True)))
            if d.get("unreachable"):
                details.append((_("Requester unreachable") if d.get("overdue") else _("Closed as unreachable"),
                                _yes(True)))
            if d.get("reason_code") == "no_contact":
                details.append((_("Why"), _("The requester left neither a phone nor an e-mail.")))
        elif code == EventCode.REOPENED:
            details.append((_("Times reopened"), d.get("reopen_count", "")))
        elif code == EventCode.URGED:
            details.append((_("Overdue"), _yes(d.get("overdue"))))
        elif code == EventCode.OVERDUE:
            details += [(_("Unit"), unit), (_("Due"), _when(d.get("due_at")))]
        elif code == EventCode.LINK_SENT:
            details += [(_("Via"), "SMS" if d.get("channel") == "sms" else _("E-mail")), (_("To"), d.get("to", "")),
                        (_("Valid until"), _when(d.get("expires_at")))]
        label = LABELS.get(code)  # type: ignore[call-overload]
        # A co-unit's step leaves the order's state as it was: no transition to show.
        moved = e.from_state != e.to_state
        rows.append(Row(
            event=e,
            label=str(label) if label else code,
            actor=(str(e.actor) if e.actor else _("System")),
            from_label=_label(OrderState, e.from_state) if e.from_state and moved else "",
            to_label=_label(OrderState, e.to_state) if e.to_state and moved else "",
            reason=e.reason,
            details=[(k, v) for k, v in details if v not in ("", None)],
            link=link,
        ))
    return rows
