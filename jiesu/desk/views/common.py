"""What every desk screen shares: the actor of the request, the role gate, the page frame."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jiesu.accounts.policy import Actor
from jiesu.desk.selectors import SCREEN_ROLES, screens_for


def actor_of(request: HttpRequest) -> Actor:
    """The request's actor, loaded once (one query for the memberships)."""
    actor = getattr(request, "_jiesu_actor", None)
    if actor is None:
        actor = Actor.of(request.user)
        request._jiesu_actor = actor  # type: ignore[attr-defined]
    return actor


def may_use(request: HttpRequest, screen: str) -> bool:
    return actor_of(request).has_role(*SCREEN_ROLES[screen])


def staff_required(screen: str | None = None) -> Callable:
    """Login required (redirect to the login page); with ``screen``, one of its roles too (403)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("desk:login"))
            if screen is not None and not may_use(request, screen):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


NAV = [
    # screen, url name, label, accesskey (Alt+digit in Chromium)
    ("intake", "desk:intake", _("Intake"), "1"),
    ("dispatch", "desk:dispatch", _("Dispatch"), "2"),
    ("inbox", "desk:inbox", _("Unit inbox"), "3"),
    ("supervise", "desk:supervise", _("Supervision"), "4"),
    ("orders", "desk:orders", _("Orders"), "5"),
    ("services", "services:home", _("Legal services"), "6"),
    ("scorecards", "followup:scorecards", _("Scorecards"), "7"),
    ("insight", "insight:dashboard", _("Insight"), "8"),
    ("import", "integrations:import", _("Import"), "9"),
    ("webhooks", "integrations:webhooks", _("Webhooks"), "0"),
]


def page(
    request: HttpRequest, template: str, context: dict[str, Any], *, screen: str = "", status: int = 200
) -> HttpResponse:
    actor = actor_of(request)
    allowed = set(screens_for(actor))
    context = {
        **context,
        "actor": actor,
        "screen": screen,
        "nav": [(name, reverse(url), label, key) for name, url, label, key in NAV if name in allowed],
    }
    return render(request, template, context, status=status)
