"""Who is calling: a bearer token (``Authorization: Bearer js_…``, looked up by its SHA-256),
or a logged-in desk session with its CSRF token, so that the desk's htmx can use the API.

Both resolve to an :class:`~jiesu.accounts.policy.Actor`, stored as ``request.auth``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from jiesu.accounts.policy import Actor


class Unauthenticated(Exception):
    """No usable credentials (answered 401)."""

    def __init__(self, message: Any = None) -> None:
        self.message = message or _("Sign in, or send an API token as “Authorization: Bearer <token>”.")
        super().__init__(str(self.message))


class CsrfFailed(Exception):
    """A session-authenticated write without a valid CSRF token (answered 403)."""


class BearerToken(HttpBearer):
    """An API token. A token that is sent but unknown or revoked is refused outright, even if a
    session cookie is also present: a client that sends a token means that token."""

    def __call__(self, request: HttpRequest) -> Actor | None:
        header = request.headers.get(self.header, "")
        if not header:
            return None
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(_("The Authorization header must be “Bearer <token>”."))
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        actor = Actor.of_token(token, remembered=True) if len(token) <= 256 else None
        if actor is None:
            raise Unauthenticated(_("This API token is unknown or has been revoked."))
        return actor


class DeskSession(APIKeyCookie):
    """The desk's login session. Writes need the CSRF token (``X-CSRFToken`` header), as any
    form on the desk does."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Actor | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise CsrfFailed()
        return Actor.of(user)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:  # pragma: no cover
        return None  # __call__ does the work; required by the abstract base


def actor_of(request: HttpRequest) -> Actor:
    actor = getattr(request, "auth", None)
    if not isinstance(actor, Actor):  # only reachable if a route forgot its auth
        raise Unauthenticated()
    return actor


AUTH = [BearerToken(), DeskSession()]
