"""Per-client rate limits for public endpoints, kept in a cache that every server process shares.

Apply it to any public view (a portal form, a callback link, an Open311 POST, a public booking)::

    from jiesu.security.ratelimit import rate_limit

    @rate_limit("portal_submit")            # POST only (the default); rate from settings
    def submit(request): ...

    @rate_limit("open311_post", methods=None, rate="30/1m")   # every method; rate given here

The rate of a scope comes from ``settings.JIESU["RATE_LIMITS"][scope]`` ("N/Tm"), else from
``rate=``. Over the limit the client gets 429 with ``Retry-After`` and a message in its
language: JSON ``{"code": "rate_limited", "message": …}`` under /api/ and /open311/ or when it
asks for JSON, else a page. The client is ``REMOTE_ADDR``, or with ``JIESU_PROXY_COUNT=N``
proxies in front, the address N hops from the right of ``X-Forwarded-For``.

The decorated view is marked (``view.rate_limit_scope``) so that the policy test can check that
every public write is limited.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Callable, Iterable
from typing import Any, cast

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from jiesu.orders.errors import DomainError
from jiesu.security.rates import Rate, parse_rate

CACHE = "ratelimit"


def client_ip(request: HttpRequest) -> str:
    proxies = int(os.environ.get("JIESU_PROXY_COUNT", "0") or 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies][:64]
    return str(request.META.get("REMOTE_ADDR", ""))[:64] or "unknown"


def rate_for(scope: str, default: str | None = None) -> Rate:
    configured = cast(dict[str, Any], settings.JIESU).get("RATE_LIMITS", {}).get(scope)
    text = configured or default
    if not text:
        raise KeyError(f"no rate configured for scope {scope!r} (settings.JIESU['RATE_LIMITS'])")
    return parse_rate(text)


def hit(scope: str, ident: str, rate: Rate, *, now: float | None = None) -> tuple[bool, int]:
    """Count one request of ``ident`` in ``scope``: (allowed, seconds until the window ends)."""
    index, left = rate.window(time.time() if now is None else now)
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]  # no raw addresses in cache file names
    key = f"rl:{scope}:{index}:{digest}"
    cache = caches[CACHE]
    cache.add(key, 0, timeout=left + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: a fresh window
        cache.set(key, 1, timeout=left + 1)
        count = 1
    return count <= rate.limit, left


def too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    message = _("Too many requests from your address. Please wait %(seconds)s seconds and try again.") % {
        "seconds": retry_after}
    wants_json = request.path.startswith(("/api/", "/open311/")) or (
        request.accepts("application/json") and not request.accepts("text/html"))
    response: HttpResponse
    if wants_json:
        response = JsonResponse({"code": "rate_limited", "message": message}, status=429)
    else:
        response = render(request, "security/too_many.html", {"message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limit(scope: str, *, rate: str | None = None, methods: Iterable[str] | None = ("POST",)) -> Callable:
    """Limit a view per client address (see the module's docstring)."""
    limited = None if methods is None else frozenset(m.upper() for m in methods)

    def deco(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if limited is None or request.method in limited:
                allowed, left = hit(scope, client_ip(request), rate_for(scope, rate))
                if not allowed:
                    return too_many(request, left)
            return view(request, *args, **kwargs)

        wrapped.rate_limit_scope = scope  # type: ignore[attr-defined]
        return wrapped

    return deco


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429


def limit_anonymous(request: HttpRequest, scope: str = "public_api") -> None:
    """For API operations open to callers without a token (public bookings): count the anonymous
    caller's request and raise 429 over the limit; a caller with a token is not limited here."""
    if getattr(getattr(request, "auth", None), "user_id", None) is not None:
        return
    allowed, left = hit(scope, client_ip(request), rate_for(scope))
    if not allowed:
        raise RateLimited(_("Too many requests from your address. Please wait %(seconds)s seconds and try again."),
                          seconds=left)
