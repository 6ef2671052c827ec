"""Headers that Django's SecurityMiddleware does not set."""

from __future__ import annotations

from collections.abc import Callable

from csp.middleware import CSPMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase

CSP_HEADER = "Content-Security-Policy"
# The policy of an answer that is data (the API's JSON): nothing in it may load, run or be framed.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
# No page of Jiesu uses the camera, microphone, location of the browser, payment or USB.
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        # Pages with personal data (anything a signed-in user sees, the API, a tracked request)
        # must not be kept by the browser or a shared proxy.
        user = getattr(request, "user", None)
        personal = (user is not None and user.is_authenticated) or request.path.startswith(
            ("/api/", "/track/", "/callback/"))
        if personal and not request.path.startswith("/static/"):
            response["Cache-Control"] = "private, no-store"
        return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, which builds the pages' policy for every response before it
    looks whether the response already has one. A response that set its own (the API's JSON,
    ``DATA_POLICY``) is left as it is without that work: a tenth of the API's middleware time
    (py-spy of the intake's web workers, docs/benchmarks.md, session 8)."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if CSP_HEADER in response:
            return response
        return super().process_response(request, response)
