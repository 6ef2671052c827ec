"""One way to run every order action from any screen.

An action is a form (shape) plus a call to one service function (decision). The form posts
to ``/desk/orders/<number>/do/<action>/`` with a hidden ``next`` naming the screen it came
from. On success: a message and a redirect (POST/redirect/GET). On a domain error: the same
screen rendered again with the form as posted and the message next to it, status 422, and
nothing changed (the service raised before it wrote, or its transaction rolled back).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jiesu import clock
from jiesu.accounts.policy import Action, Actor, can
from jiesu.desk.forms import DeskForm
from jiesu.desk.selectors import my_assignment
from jiesu.desk.views.common import actor_of, may_use, staff_required
from jiesu.orders import concurrency, selectors
from jiesu.orders.errors import DomainError, NotFound
from jiesu.orders.models import Assignment, WorkOrder


@dataclass
class Ctx:
    actor: Actor
    order: WorkOrder
    assignment: Assignment | None
    now: dt.datetime = field(default_factory=clock.now)
    cache: dict[str, Any] = field(default_factory=dict)

    def can(self, action: Action, *, unit: bool = False) -> bool:
        if unit:
            return self.assignment is not None and can(self.actor, action, self.order, self.assignment)
        return can(self.actor, action, self.order)


def _no_initial(ctx: Ctx) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class ActionSpec:
    name: str
    form: type[DeskForm]
    run: Callable[[Actor, str, dict[str, Any]], Any]
    done: Callable[[str, Any], str]
    available: Callable[[Ctx], bool]
    initial: Callable[[Ctx], dict[str, Any]] = _no_initial
    stay: bool = False  # after success, keep the order selected on the screen


ACTIONS: dict[str, ActionSpec] = {}


def register(spec: ActionSpec) -> ActionSpec:
    ACTIONS[spec.name] = spec
    return spec


@dataclass
class Failed:
    """A posted action that the service refused: the screen shows its form as posted."""

    action: str
    number: str
    form: DeskForm
    extension: int | None = None


# Screens that can show a refused action again: name → (renderer, screen whose roles it needs).
Renderer = Callable[..., HttpResponse]
SCREENS: dict[str, Renderer] = {}


def screen(name: str) -> Callable[[Renderer], Renderer]:
    def deco(fn: Renderer) -> Renderer:
        SCREENS[name] = fn
        return fn

    return deco


def context_for(actor: Actor, order: WorkOrder) -> Ctx:
    return Ctx(actor=actor, order=order, assignment=my_assignment(actor, order))


def selected(actor: Actor, number: str, *, load: Callable[[Actor, str], WorkOrder] = selectors.order_detail) -> Ctx:
    """The order a screen's pane shows, with everything its actions need (``load``: the order
    page's full detail unless the screen needs less); 404 when the user may not see it (the same
    answer as for a number that does not exist)."""
    try:
        order = load(actor, number)
    except NotFound:
        raise Http404 from None
    return context_for(actor, order)


def selected_or_head(request: HttpRequest, actor: Actor, number: str, head: str | None, *,
                     load: Callable[[Actor, str], WorkOrder] = selectors.order_detail) -> Ctx | None:
    """``selected`` for a number typed into a list's "order no." box (or a link's ``?n=``): an
    order the user may not see, or none by that number, gives the list's head and a message
    instead of a "not found" page."""
    try:
        return selected(actor, number, load=load)
    except Http404:
        messages.error(request, _("There is no order %(number)s that you can open.") % {"number": number})
        return selected(actor, head, load=load) if head and head != number else None


def forms_for(ctx: Ctx, failed: Failed | None = None, names: tuple[str, ...] | None = None) -> dict[str, DeskForm]:
    """The action forms this user may use on this order now, in registry order; a refused
    action keeps its posted form (even when the order moved on meanwhile)."""
    out: dict[str, DeskForm] = {}
    for name, spec in ACTIONS.items():
        if names is not None and name not in names:
            continue
        if failed is not None and failed.action == name and failed.number == ctx.order.number \
                and failed.extension is None:
            out[name] = failed.form
        elif spec.available(ctx):
            out[name] = spec.form(initial=spec.initial(ctx))
    return out


def screen_url(name: str, number: str | None = None, tab: str = "") -> str:
    if name == "order" and number:
        return reverse("desk:order", args=[number])
    base = reverse(f"desk:{name}")
    query = {k: v for k, v in (("tab", tab), ("n", number or "")) if v}
    return f"{base}?{urlencode(query)}" if query else base


@require_http_methods(["GET", "POST"])
@staff_required()
def order_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404
    actor = actor_of(request)
    # An order the user cannot see does not exist for them (unit A never learns of unit B's).
    if not selectors.visible(actor).filter(number=number).exists():
        raise Http404
    if request.method == "GET":
        # An action's address reached by a reload, a bookmark or the history: its order's page,
        # where the action's form is, rather than a blank "method not allowed".
        return redirect("desk:order", number=number)
    next_screen = request.POST.get("next", "order")
    if next_screen not in SCREENS or (next_screen != "order" and not may_use(request, next_screen)):
        next_screen = "order"
    tab = request.POST.get("tab", "")[:16]
    form = spec.form(request.POST)
    if form.is_valid():
        try:
            # The version the form was made from: refused under the row lock if the order
            # changed meanwhile (jiesu.orders.concurrency).
            with concurrency.expecting(number, request.POST.get("version")):
                result = spec.run(actor, number, form.cleaned_data)
        except DomainError as err:
            form.add_domain_error(err)
        else:
            messages.success(request, spec.done(number, result))
            keep = spec.stay or next_screen == "order"
            return redirect(screen_url(next_screen, number if keep else None, tab))
    raw = request.POST.get("extension", "")
    extension = int(raw) if action == "decide_extension" and raw.isdigit() else None
    failed = Failed(action=action, number=number, form=form, extension=extension)
    return SCREENS[next_screen](request, number=number, failed=failed, tab=tab, status=422)
