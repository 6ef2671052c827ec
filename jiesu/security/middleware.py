"""Headers that Django's SecurityMiddleware does not set."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
