"""The WSGI handler of calls to the API that bring their own credentials (issue 8).

Django builds one middleware chain per handler from ``settings.MIDDLEWARE``. A call with an
``Authorization`` header is decided by its bearer token alone (``jiesu.api.auth``: a header that
is sent is the credential, a session cookie beside it is ignored), so the middleware that serves
a browser's session — the session, the user, CSRF, messages, htmx, the login lockout page,
static files — does nothing for it but cost time. This handler's chain is
``settings.API_CALL_MIDDLEWARE``: ``MIDDLEWARE`` in the same order, less what
``API_CALL_SKIPS_MIDDLEWARE`` names, each with why. ``jiesu.wsgi`` sends such calls here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

API_PREFIX = "/api/"


class ApiCallMiddleware:
    """A Django handler (``BaseHandler`` subclass) whose chain is ``API_CALL_MIDDLEWARE``; the
    tests' API client is built on it too (tests/api_helpers.py), so that the API's tests run
    through the chain that production runs."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django's loader reads settings.MIDDLEWARE. A handler is built once, when jiesu.wsgi is
        # imported, before the server starts any request thread, so the swap is seen by no
        # request.
        everything = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_CALL_MIDDLEWARE
        try:
            super().load_middleware(is_async)  # type: ignore[misc]
        finally:
            settings.MIDDLEWARE = everything


class ApiCallHandler(ApiCallMiddleware, WSGIHandler):
    pass


def is_api_call(environ: dict[str, Any]) -> bool:
    """A request to the API with an Authorization header (any scheme: the API answers a wrong
    one with 401, as the full chain would)."""
    return bool(environ.get("HTTP_AUTHORIZATION")) and environ.get("PATH_INFO", "").startswith(API_PREFIX)


def route_api_calls(pages: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """The WSGI application: API calls with credentials to ``ApiCallHandler``, the rest to
    ``pages`` (Django's handler with every middleware)."""
    api_calls = ApiCallHandler()

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        handler = api_calls if is_api_call(environ) else pages
        return handler(environ, start_response)

    return application
