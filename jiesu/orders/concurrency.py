"""Optimistic concurrency: "changed by someone else".

The row lock (``lock_order``) already makes two writers take turns, and the state guard refuses
a move that no longer applies. What it cannot see is a *stale* decision: a dispatcher who read
the order, then someone else changed it (a note, a new requester, a re-dispatch), and the first
one's form, filled in from the old page, is posted. So the desk's forms carry the version of
the order they were made from (hidden field ``version``) and API clients may send it as
``If-Match`` (the ``ETag`` of ``GET /api/v1/orders/{number}``); ``lock_order`` compares it
*under the row lock*, so the check and the write are one step, and refuses with
:class:`~jiesu.orders.errors.ChangedMeanwhile` (409) when it differs.

The version is the order's ``updated_at`` as "seconds.microseconds" since the epoch; every
event recorded on an order moves it (``jiesu.orders.events.record``), so any change counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse
from django.utils import dateformat
from django.utils.translation import gettext_lazy as _

from jiesu.orders.errors import ChangedMeanwhile

# number → the version the caller last saw; per request (ExpectationMiddleware) or per block.
_expected: ContextVar[dict[str, str] | None] = ContextVar("jiesu_expected_versions", default=None)


def version_of(order) -> str:
    """The same text as ``{{ order.updated_at|date:"U.u" }}`` in a template."""
    return dateformat.format(order.updated_at, "U.u") if order.updated_at else ""


def etag(order) -> str:
    return f'"{version_of(order)}"'


def _clean(version: str | None) -> str:
    return (version or "").strip().removeprefix("W/").strip('"')[:40]


def expect(number: str, version: str | None) -> None:
    """Remember for this request that ``number`` must still be at ``version`` when it is locked."""
    wanted = _clean(version)
    if not wanted or wanted == "*":
        return
    current = _expected.get()
    if current is None:
        current = {}
        _expected.set(current)
    current[number] = wanted


@contextmanager
def expecting(number: str, version: str | None) -> Iterator[None]:
    token = _expected.set({})
    try:
        expect(number, version)
        yield
    finally:
        _expected.reset(token)


def check(order) -> None:
    """Called by ``lock_order`` with the freshly locked row: refuse a stale expectation once."""
    current = _expected.get()
    if not current or order.number not in current:
        return
    wanted = current.pop(order.number)  # one check per expectation: the service may lock again
    if wanted != version_of(order):
        raise ChangedMeanwhile(
            _("Order %(number)s was changed by someone else while you were working on it. It is shown "
              "again as it is now: check it, then try again."),
            number=order.number,
        )


class ExpectationMiddleware:
    """Starts every request with no expectations, so that none leaks into the next request that
    the same thread serves."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _expected.set(None)
        try:
            return self.get_response(request)
        finally:
            _expected.reset(token)
