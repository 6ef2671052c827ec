"""The REST API at /api/v1/ (DESIGN §8), its OpenAPI document at /api/v1/openapi.json and its
Swagger UI at /api/v1/docs, served from local static files (``ninja`` is an installed app, so
ninja renders its local template rather than the CDN one; the validator badge, which would
call validator.swagger.io, is off). Nothing here reaches the internet."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Router
from ninja.openapi.docs import Swagger

from jiesu.api import errors
from jiesu.api.auth import AUTH
from jiesu.api.orders import router as orders_router
from jiesu.api.proactive import router as proactive_router
from jiesu.api.render import SafeJSONRenderer
from jiesu.api.services import router as services_router
from jiesu.api.triage import router as triage_router
from jiesu.orders.errors import NotFound
from jiesu.security.middleware import CSP_HEADER, DATA_POLICY


class JiesuAPI(NinjaAPI):
    def create_response(self, request: HttpRequest, data: Any, *, status: int | None = None,
                        temporal_response: HttpResponse | None = None) -> HttpResponse:
        """Every JSON answer carries the policy for data no page may run or frame (OWASP REST
        Security: ``default-src 'none'; frame-ancestors 'none'``), set here once, so that the
        CSP middleware does not build the pages' policy for it (jiesu.security.middleware)."""
        response = super().create_response(request, data, status=status, temporal_response=temporal_response)
        response[CSP_HEADER] = DATA_POLICY
        return response

    def _get_urls(self) -> list[Any]:
        patterns = super()._get_urls()
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = errors.json_method_not_allowed(self, pattern.callback)
        return patterns


api = JiesuAPI(
    title="Jiesu API",
    version="1",
    description=(
        "The work orders of a 12345 citizen hotline. Authenticate with `Authorization: Bearer <token>` "
        "(tokens: `jiesu token`, or the admin) or a desk session with its CSRF token. Errors are "
        '`{"code": …, "message": …}` in the language of `Accept-Language` (zh-Hans by default, en).'
    ),
    urls_namespace="api",
    auth=AUTH,
    renderer=SafeJSONRenderer(),
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
)
errors.install(api)
api.add_router("", orders_router)
api.add_router("", triage_router)
api.add_router("", proactive_router)
api.add_router("", services_router)

# Added last, so that it only catches what no route above matched: JSON, not Django's HTML 404.
fallback = Router(auth=None)


@fallback.get("", include_in_schema=False)
def index(request: HttpRequest) -> dict[str, str]:
    return {"name": "Jiesu API", "version": "1", "openapi": request.path + "openapi.json"}


@fallback.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", include_in_schema=False)
def unknown_endpoint(request: HttpRequest, rest: str) -> None:
    raise NotFound(_("There is no such API endpoint."))


api.add_router("", fallback)
