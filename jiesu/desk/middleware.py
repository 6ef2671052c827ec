"""What the desk's htmx needs from every response."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class FailedFormKeepsTheAddressMiddleware:
    """A form sent by htmx (the desk's boosted forms) that comes back refused (422 with the form
    and its errors, 403, 409) leaves the address bar where it was.

    htmx puts a boosted form's action in the address bar with whatever it swaps in; for a
    refusal that is an address that only takes POST (``/desk/orders/<n>/do/return/``), so the
    reload a user tries next showed a blank "405". The page the form was sent from is always one
    the user can reload. A view that says where the address should go (``HX-Push-Url`` or
    ``HX-Replace-Url``) is left alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (request.method == "POST" and response.status_code >= 400 and request.headers.get("HX-Request")
                and "HX-Push-Url" not in response and "HX-Replace-Url" not in response):
            response["HX-Push-Url"] = "false"
        return response
