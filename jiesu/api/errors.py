"""Every failure answers JSON ``{"code": …, "message": …}`` in the request's language
(``Accept-Language``, activated per request by ``LocaleMiddleware``), with ``field`` when one
input is at fault and ``errors`` with the details of a schema validation. Never a traceback.

| status | code | when |
|---|---|---|
| 400 | ``malformed_json`` | the body is not JSON |
| 401 | ``unauthenticated`` | no or an unknown token, and no session |
| 403 | ``forbidden`` | the caller's role does not allow it |
| 403 | ``csrf_failed`` | a session write without the CSRF token |
| 404 | ``not_found`` | no such order (or not one the caller may see), no such endpoint |
| 404 | ``unknown_action`` | ``POST /orders/{number}/<no such action>`` |
| 405 | ``method_not_allowed`` | |
| 409 | ``illegal_transition`` | the order's state does not allow it |
| 413 | ``too_large`` | the body exceeds the upload limit |
| 422 | ``invalid`` | wrong or missing fields, or values the domain refuses |
| 500 | ``server_error`` | a bug: logged, no details given |
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from jiesu.api.auth import CsrfFailed, Unauthenticated
from jiesu.orders.errors import DomainError, InvalidInput, NotFound

log = logging.getLogger("jiesu.api")


class UnknownAction(NotFound):
    code = "unknown_action"


def error_body(code: str, message: Any, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def _respond(
    api: NinjaAPI, request: HttpRequest, status: int, code: str, message: Any, **extra: Any
) -> HttpResponse:
    return api.create_response(request, error_body(code, message, **extra), status=status)


def _field_path(loc: list[Any] | tuple[Any, ...]) -> str:
    """("body", "payload", "requesters", 0, "phone") → "requesters.0.phone"."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
        if len(parts) > 1 and parts[0] in ("payload", "filters"):
            parts = parts[1:]
    return ".".join(parts)


def _validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Only loc, type and msg: "input" would echo the whole (maybe huge) value back, and "ctx"
    # may hold exception objects that are not JSON.
    return [
        {"field": _field_path(e.get("loc", ())), "type": str(e.get("type", "")), "msg": str(e.get("msg", ""))}
        for e in errors
    ]


def install(api: NinjaAPI) -> None:
    """Replace ninja's default handlers (which answer ``{"detail": …}`` or re-raise)."""

    def on_domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
        field = (exc.field or None) if isinstance(exc, InvalidInput) else None
        return _respond(api, request, exc.status, exc.code, str(exc), field=field)

    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        details = _validation_details(exc.errors)
        fields = list(dict.fromkeys(d["field"] for d in details if d["field"]))
        if fields:
            message = gettext("Some fields are missing or have the wrong type: %(fields)s.") % {
                "fields": ", ".join(fields)
            }
        else:
            message = gettext("The request body must be a JSON object with the documented fields.")
        first = fields[0] if fields else None
        return _respond(api, request, 422, "invalid", message, field=first, errors=details)

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # ninja wraps a body it cannot parse as HttpError(400) raised from the parser's error.
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            return _respond(api, request, 400, "malformed_json", _("The request body is not valid JSON."))
        if exc.status_code == 401:
            return _unauthenticated(request, Unauthenticated())
        if exc.status_code == 403:
            return _respond(api, request, 403, "forbidden", _("You are not allowed to do this."))
        return _respond(api, request, exc.status_code, "error", _("The request could not be served."))

    def _unauthenticated(request: HttpRequest, exc: Unauthenticated) -> HttpResponse:
        response = _respond(api, request, 401, "unauthenticated", exc.message)
        response["WWW-Authenticate"] = 'Bearer realm="jiesu"'
        return response

    def on_csrf(request: HttpRequest, exc: CsrfFailed) -> HttpResponse:
        return _respond(api, request, 403, "csrf_failed",
                        _("The CSRF token is missing or wrong; reload the page and try again."))

    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _respond(api, request, 404, "not_found", _("Not found."))

    def on_permission(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return _respond(api, request, 403, "forbidden", _("You are not allowed to do this."))

    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        if isinstance(exc, RequestDataTooBig):
            return _respond(api, request, 413, "too_large", _("The request body is too large."))
        return _respond(api, request, 400, "bad_request", _("The request could not be understood."))

    def on_anything(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("API error on %s %s", request.method, request.path)
        return _respond(api, request, 500, "server_error",
                        _("Something went wrong on our side; the error has been logged."))

    handlers: dict[type[Exception], Callable[[HttpRequest, Any], HttpResponse]] = {
        DomainError: on_domain,
        ValidationError: on_validation,
        HttpError: on_http_error,
        Unauthenticated: _unauthenticated,
        CsrfFailed: on_csrf,
        Http404: on_404,
        PermissionDenied: on_permission,
        SuspiciousOperation: on_suspicious,
        Exception: on_anything,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)


def json_method_not_allowed(api: NinjaAPI, view: Callable[..., Any]) -> Callable[..., Any]:
    """ninja answers a wrong method with a plain-text 405; answer JSON like everything else."""

    @functools.wraps(view)  # keeps csrf_exempt
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            body = _respond(api, request, 405, "method_not_allowed", _("This method is not allowed here."))
            body["Allow"] = response["Allow"]
            return body
        return response

    return wrapped
