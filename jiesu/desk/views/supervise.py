"""督办 and 回访: overdue and at-risk orders to urge; the callback queue (contacted? solved?
satisfied? or one more unanswered attempt); reopening an unsatisfied order."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from jiesu.accounts.policy import Action
from jiesu.desk.forms import CallbackForm, ReasonForm, yes_no
from jiesu.desk.selectors import requester_rows, time_left
from jiesu.desk.views.actionkit import (
    ActionSpec,
    Failed,
    forms_for,
    register,
    screen,
    selected,
    selected_or_head,
)
from jiesu.desk.views.common import actor_of, page, staff_required
from jiesu.followup.script import callback_script
from jiesu.orders import actions, selectors
from jiesu.orders.models import WorkOrder
from jiesu.orders.states import IN_HANDLING, State

LIST_LIMIT = 200
TABS = ("overdue", "risk", "callback")
PANE_ACTIONS = ("urge", "callback", "reopen", "note")


def _record_callback(actor, number: str, d: dict[str, Any]) -> WorkOrder:
    from jiesu.followup.services import record_any_callback  # replied or overdue (phone script)

    reached = d["reached"] == "yes"
    return record_any_callback(
        actor=actor, number=number, reached=reached, contacted=yes_no(d["contacted"]),
        resolution=d.get("resolution") or "", solved=yes_no(d["solved"]), satisfaction=d["satisfaction"] or "",
        note=d["note"], via=d["via"],
    )


def _waits_for_callback(c) -> bool:
    """Replied (callback due), or past the deadline without a reply and flagged by the sweep."""
    from jiesu.followup.selectors import waits_for_overdue_callback

    if c.order.state == State.CALLBACK_DUE:
        return True
    if c.order.state not in IN_HANDLING:
        return False
    if "overdue_callback" not in c.cache:
        c.cache["overdue_callback"] = waits_for_overdue_callback(c.order.pk)
    return c.cache["overdue_callback"]


def _callback_done(number: str, order: WorkOrder) -> str:
    if getattr(order, "overdue_callback", False):
        return _("Callback on overdue order %(number)s recorded; it stays with the unit.") % {"number": number}
    if order.state == State.CLOSED:
        return _("Callback recorded; order %(number)s is closed.") % {"number": number}
    if order.state == State.REOPENED:
        return _("Callback recorded; order %(number)s is reopened to the unit.") % {"number": number}
    return _("Requester of %(number)s not reached (attempt %(n)s of %(max)s).") % {
        "number": number, "n": order.callback_attempts, "max": settings.JIESU["CALLBACK_MAX_ATTEMPTS"]}


register(ActionSpec(
    name="urge",
    form=ReasonForm,
    run=lambda actor, number, d: actions.urge_order(actor=actor, number=number, reason=d["reason"]),
    done=lambda number, _r: _("Order %(number)s urged.") % {"number": number},
    available=lambda c: (c.order.state in IN_HANDLING or c.order.state == State.RETURNED) and c.can(Action.URGE),
    stay=True,
))
register(ActionSpec(
    name="callback",
    form=CallbackForm,
    run=_record_callback,
    done=_callback_done,
    available=lambda c: c.can(Action.CALLBACK) and _waits_for_callback(c),
))
register(ActionSpec(
    name="reopen",
    form=ReasonForm,
    run=lambda actor, number, d: actions.reopen_order(actor=actor, number=number, reason=d["reason"]),
    done=lambda number, _r: _("Order %(number)s reopened.") % {"number": number},
    available=lambda c: c.order.state in (State.CALLBACK_DUE, State.CLOSED) and c.can(Action.REOPEN)
    and c.order.lead_assignment is not None,
))


@screen("supervise")
def render_supervise(
    request: HttpRequest, *, number: str | None = None, failed: Failed | None = None, tab: str = "",
    status: int = 200,
) -> HttpResponse:
    actor = actor_of(request)
    tab = tab if tab in TABS else "overdue"
    from jiesu.followup.selectors import callback_queue

    lists = {"overdue": selectors.overdue(actor), "risk": selectors.at_risk(actor),
             "callback": callback_queue(actor)}
    counts = {name: qs.count() for name, qs in lists.items()}
    items = list(lists[tab][: LIST_LIMIT + 1])
    more = len(items) > LIST_LIMIT
    rows = []
    for o in items[:LIST_LIMIT]:
        replies = list(o.replies.all()) if tab == "callback" else []
        rows.append({"order": o, "lead": o.lead_assignment, "left": time_left(o.due_at),
                     "reply": replies[-1] if replies else None, "overdue": getattr(o, "overdue_open", False)})
    context: dict[str, Any] = {"rows": rows, "more": more, "limit": LIST_LIMIT, "tab": tab, "counts": counts,
                               "selected": None,
                               "next": "supervise", "max_attempts": settings.JIESU["CALLBACK_MAX_ATTEMPTS"]}
    head = rows[0]["order"].number if rows else None
    number = number or head
    ctx = None
    if number:
        ctx = selected(actor, number) if failed is not None else selected_or_head(request, actor, number, head)
    if ctx is not None:
        order = ctx.order
        forms = forms_for(ctx, failed, names=PANE_ACTIONS)
        context.update({
            "selected": order,
            "forms": forms,
            "left": time_left(order.due_at) if order.state in IN_HANDLING else None,
            # The callback needs the requester's phone; urging does not.
            "requesters": requester_rows(actor, order, where="callback", reveal="callback" in forms),
            "script": callback_script(order) if "callback" in forms else None,
        })
    return page(request, "desk/supervise.html", context, screen="supervise", status=status)


@require_GET
@staff_required("supervise")
def supervise(request: HttpRequest) -> HttpResponse:
    return render_supervise(request, number=request.GET.get("n", "")[:20] or None, tab=request.GET.get("tab", ""))
