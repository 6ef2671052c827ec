"""承办: the unit's inbox. Assignments by deadline, colour-coded; accept, return with reasons,
ask for more time, record contact, reply (the lead with what the co-units did)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from jiesu.accounts.policy import Action
from jiesu.desk.forms import EmptyForm, ExtensionForm, NoteForm, ReasonForm, ReplyForm
from jiesu.desk.selectors import requester_rows, time_left
from jiesu.desk.views.actionkit import (
    ActionSpec,
    Ctx,
    Failed,
    forms_for,
    register,
    screen,
    selected,
)
from jiesu.desk.views.common import actor_of, page, staff_required
from jiesu.orders import actions, selectors
from jiesu.orders.models import Assignment, AssignmentRole, AssignmentState, ExtensionState

# A unit with thousands of open assignments sees the 100 due soonest: a longer page costs
# rendering time on every visit and shows nothing a handler can act on first (docs/benchmarks.md).
INBOX_LIMIT = 100
PANE_ACTIONS = ("accept", "return", "extend", "contact", "reply", "note")


def _state(c: Ctx, *states: str) -> bool:
    return c.assignment is not None and c.assignment.state in states


def _may_return(c: Ctx) -> bool:
    a = c.assignment
    if a is None or not c.can(Action.RETURN, unit=True):
        return False
    return a.state == AssignmentState.DISPATCHED or (a.state == AssignmentState.ACCEPTED and c.now <= a.return_due_at)


def _may_extend(c: Ctx) -> bool:
    a = c.assignment
    return (
        a is not None and a.state == AssignmentState.ACCEPTED and c.can(Action.EXTEND, unit=True)
        and not any(e.state == ExtensionState.PENDING for e in a.extensions.all())
    )


register(ActionSpec(
    name="accept",
    form=EmptyForm,
    run=lambda actor, number, d: actions.accept_assignment(actor=actor, number=number),
    done=lambda number, _r: _("Order %(number)s accepted.") % {"number": number},
    available=lambda c: _state(c, AssignmentState.DISPATCHED) and c.can(Action.ACCEPT, unit=True),
    stay=True,
))
register(ActionSpec(
    name="return",
    form=ReasonForm,
    run=lambda actor, number, d: actions.return_assignment(actor=actor, number=number, reason=d["reason"]),
    done=lambda number, _r: _("Order %(number)s returned to the centre.") % {"number": number},
    available=_may_return,
))
register(ActionSpec(
    name="extend",
    form=ExtensionForm,
    run=lambda actor, number, d: actions.request_extension(
        actor=actor, number=number, working_days=d["working_days"], reason=d["reason"]),
    done=lambda number, _r: _("Extension for order %(number)s requested.") % {"number": number},
    available=_may_extend,
    stay=True,
))
register(ActionSpec(
    name="contact",
    form=NoteForm,
    run=lambda actor, number, d: actions.record_contact(actor=actor, number=number, note=d["note"]),
    done=lambda number, _r: _("Contact with the requester of %(number)s recorded.") % {"number": number},
    available=lambda c: _state(c, AssignmentState.ACCEPTED) and c.can(Action.CONTACT, unit=True),
    stay=True,
))
register(ActionSpec(
    name="reply",
    form=ReplyForm,
    run=lambda actor, number, d: actions.reply_to_order(
        actor=actor, number=number, body=d["body"], outcome=d["outcome"], co_unit_summary=d["co_unit_summary"]),
    done=lambda number, _r: _("Reply to order %(number)s sent.") % {"number": number},
    available=lambda c: _state(c, AssignmentState.ACCEPTED) and c.can(Action.REPLY, unit=True),
))


def reply_context(ctx: Ctx) -> dict[str, Any]:
    """For the lead's reply: the co-units and what they replied so far."""
    a = ctx.assignment
    co = [x for x in ctx.order.assignments.all()
          if x.role == AssignmentRole.CO and x.state != AssignmentState.CANCELLED]
    needs_summary = a is not None and a.role == AssignmentRole.LEAD and bool(co)
    co_replies = [r for r in ctx.order.replies.all() if r.assignment.role == AssignmentRole.CO]
    return {"co_assignments": co if needs_summary else [], "co_replies": co_replies if needs_summary else [],
            "needs_summary": needs_summary}


@screen("inbox")
def render_inbox(
    request: HttpRequest, *, number: str | None = None, failed: Failed | None = None, tab: str = "",
    status: int = 200,
) -> HttpResponse:
    actor = actor_of(request)
    items = list(selectors.unit_inbox_rows(actor)[: INBOX_LIMIT + 1])
    more = len(items) > INBOX_LIMIT
    rows = [{"a": a, "order": a.order, "left": time_left(a.due_at)} for a in items[:INBOX_LIMIT]]
    context: dict[str, Any] = {"rows": rows, "more": more, "selected": None, "next": "inbox",
                               "accept_form": EmptyForm()}
    number = number or (rows[0]["order"].number if rows else None)
    if number:
        ctx = selected(actor, number, load=selectors.inbox_pane_order)
        order = ctx.order
        context.update({
            "selected": order,
            "assignment": ctx.assignment,
            "assignment_left": time_left(ctx.assignment.due_at) if ctx.assignment else None,
            "contact_left": _contact_left(ctx.assignment),
            "forms": forms_for(ctx, failed, names=PANE_ACTIONS),
            "requesters": requester_rows(actor, order, where="inbox"),
            **reply_context(ctx),
        })
    return page(request, "desk/inbox.html", context, screen="inbox", status=status)


def _contact_left(assignment: Assignment | None) -> Any:
    """How long until the first contact with the requester is due, or how long it is overdue,
    while the unit still holds the order and has not recorded one (a missed contact deadline
    counts in the scorecards' response rate)."""
    if (assignment is None or assignment.contacted_at or assignment.contact_due_at is None
            or assignment.state not in (AssignmentState.DISPATCHED, AssignmentState.ACCEPTED)):
        return None
    return time_left(assignment.contact_due_at, soon_hours=4)


@require_GET
@staff_required("inbox")
def inbox(request: HttpRequest) -> HttpResponse:
    return render_inbox(request, number=request.GET.get("n", "")[:20] or None)

