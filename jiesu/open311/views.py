"""The Open311 GeoReport v2 server at ``/open311/v2/``: thin views that parse the query or the
form, call a selector or a service, and render XML or JSON by the file suffix.

Every failure answers the spec's error list with status 404 (no such resource), 403 (missing
or wrong api_key) or 400 (everything else), in the format the URL asked for, in the
language of ``Accept-Language`` (Chinese by default).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from jiesu import clock
from jiesu.accounts.policy import Actor
from jiesu.open311 import formats, present, selectors, services, w3c
from jiesu.open311.attributes import from_form
from jiesu.open311.errors import Open311Error, bad_request, forbidden, not_found
from jiesu.security.ratelimit import rate_limit

log = logging.getLogger("jiesu.open311")

MAX_ROWS = 1000  # the spec's default volume: the smaller of 90 days and 1,000 requests
WINDOW = dt.timedelta(days=90)
MAX_IDS = 1000
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def respond(fmt: str, root: str, body: Any, status: int = 200) -> HttpResponse:
    content, content_type = formats.render(fmt, root, body)
    return HttpResponse(content, content_type=content_type, status=status)


def error_response(fmt: str, err: Open311Error) -> HttpResponse:
    return respond(fmt, "errors", formats.error_body(err.errors()), status=err.status)


def endpoint(*methods: str) -> Callable:
    """Method check, Open311 errors in the requested format, and no traceback ever."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def inner(request: HttpRequest, fmt: str = "xml", **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise bad_request(_("Method %(method)s is not supported here; use %(allowed)s.")
                                      % {"method": request.method, "allowed": " or ".join(methods)})
                _check_jurisdiction(request)
                return view(request, fmt, **kwargs)
            except Open311Error as err:
                return error_response(fmt, err)
            except Exception:
                log.exception("Open311 %s %s failed", request.method, request.path)
                return error_response(fmt, bad_request(_("The request could not be served; please try again later.")))

        return inner

    return wrap


def _param(request: HttpRequest, name: str) -> str:
    """A parameter sent empty is treated exactly as if it were absent (the spec)."""
    source = request.POST if request.method == "POST" else request.GET
    return (source.get(name) or "").strip()


def _check_jurisdiction(request: HttpRequest) -> None:
    # One jurisdiction per Jiesu: jurisdiction_id is optional, but a wrong one is not found.
    given = (request.POST.get("jurisdiction_id") if request.method == "POST" and _is_form(request)
             else request.GET.get("jurisdiction_id")) or ""
    given = given.strip()
    ours = present.conf()["JURISDICTION_ID"]
    if given and given != ours:
        raise not_found(_("Unknown jurisdiction_id “%(id)s”.") % {"id": given[:100]})


def _is_form(request: HttpRequest) -> bool:
    return (request.content_type or "").lower() in _FORM_TYPES


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": "xml"})).rsplit("/", 1)[0]


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    return respond(fmt, "discovery", present.discovery(base_url(request)))


@endpoint("GET")
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    return respond(fmt, "services", [present.service(s) for s in selectors.service_list()])


@endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    info = selectors.find_service(code)
    if info is None:
        raise not_found(_("Unknown service_code “%(code)s”.") % {"code": code[:64]})
    return respond(fmt, "service_definition", present.definition(info))


def _datetimes(request: HttpRequest, *names: str) -> list[dt.datetime | None]:
    """The named W3C datetime parameters (None when absent); every malformed one is reported
    in one 400 answer."""
    found: list[dt.datetime | None] = []
    problems = []
    for name in names:
        text = _param(request, name)
        found.append(None)
        if text:
            try:
                found[-1] = w3c.parse(text)
            except w3c.BadDatetime:
                problems.append(_("%(name)s must be a W3C datetime with a time zone, e.g. 2026-01-01T00:00:00Z "
                                  "or 2026-01-01T08:00:00+08:00.") % {"name": name})
    if problems:
        raise bad_request(*problems)
    return found


def _dates(request: HttpRequest, *, default_end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """start_date/end_date: W3C with a time zone, at most 90 days apart; the default window is
    the last 90 days (or the 90 days from a given start / up to a given end)."""
    start, end = _datetimes(request, "start_date", "end_date")
    if start is None and end is None:
        end = default_end
        start = end - WINDOW
    elif start is None:
        assert end is not None
        start = end - WINDOW
    elif end is None:
        end = start + WINDOW
    if end < start:
        raise bad_request(_("end_date is before start_date."))
    if end - start > WINDOW:
        raise bad_request(_("start_date and end_date may be at most 90 days apart."))
    return start, end


def _changes(request: HttpRequest) -> tuple[dt.datetime | None, dt.datetime | None]:
    """updated_after / updated_before (v2.1 changesets, an extension): W3C datetimes, compared
    with the order's last update; either may be given alone."""
    after, before = _datetimes(request, "updated_after", "updated_before")
    if after is not None and before is not None and before <= after:
        raise bad_request(_("updated_before must be later than updated_after."))
    return after, before


def _bbox(request: HttpRequest) -> tuple[Decimal, Decimal, Decimal, Decimal] | None:
    """bbox=minLng,minLat,maxLng,maxLat (an extension), WGS84 decimal degrees."""
    text = _param(request, "bbox")
    if not text:
        return None
    message = _("bbox must be minLng,minLat,maxLng,maxLat in WGS84 decimal degrees (longitude −180…180, "
                "latitude −90…90, the minimum not above the maximum), e.g. 116.3,39.8,116.5,40.0.")
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise bad_request(message)
    try:
        west, south, east, north = (Decimal(p) for p in parts)
    except InvalidOperation:
        raise bad_request(message) from None
    if not all(v.is_finite() for v in (west, south, east, north)) or not (
            -180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise bad_request(message)
    return west, south, east, north


def _positive(request: HttpRequest, name: str, default: int, high: int) -> int:
    text = _param(request, name)
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= high:
        raise bad_request(_("%(name)s must be a whole number from 1 to %(max)s.") % {"name": name, "max": high})
    return int(text)


def _extensions(request: HttpRequest) -> bool:
    return _param(request, "extensions").lower() in ("true", "1")


def _render_requests(request: HttpRequest, fmt: str, orders: list) -> HttpResponse:
    extensions = _extensions(request)
    notes = selectors.order_notes(orders) if extensions else {}
    body = [present.request(o, extensions=extensions, notes=notes.get(o.pk)) for o in orders]
    return respond(fmt, "service_requests", body)


@endpoint("GET", "POST")
@rate_limit("open311_post")
def requests_(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt)
    ids_text = _param(request, "service_request_id")
    if ids_text:
        # A list of ids overrides every other argument (the spec).
        ids = [i.strip() for i in ids_text.split(",") if i.strip()]
        if len(ids) > MAX_IDS:
            raise bad_request(_("At most %(max)s service_request_id values at once.") % {"max": MAX_IDS})
        query = selectors.RequestQuery(ids=ids)
        return _render_requests(request, fmt, selectors.requests(query))
    statuses_text = _param(request, "status")
    wanted = {s.strip().lower() for s in statuses_text.split(",") if s.strip()} if statuses_text else None
    if wanted and not wanted <= {"open", "closed"}:
        raise bad_request(_("status must be open, closed or both (comma-separated)."))
    updated_after, updated_before = _changes(request)
    bbox = _bbox(request)
    if updated_after or updated_before:
        # A changeset is bounded by its own dates: the 90-day window on the request date then
        # applies only when start_date or end_date is given.
        given = _param(request, "start_date") or _param(request, "end_date")
        start, end = _dates(request, default_end=clock.now()) if given else (None, None)
    else:
        start, end = _dates(request, default_end=clock.now())
    codes = _param(request, "service_code")
    categories = selectors.codes_to_categories(codes.split(",")) if codes else None
    # Pagination extension: page_size (≤ 1,000) and page; without them, the first 1,000.
    page_size = _positive(request, "page_size", MAX_ROWS, MAX_ROWS)
    page = _positive(request, "page", 1, 1_000_000)
    query = selectors.RequestQuery(category_ids=categories, start=start, end=end, statuses=wanted,
                                   updated_after=updated_after, updated_before=updated_before, bbox=bbox,
                                   offset=(page - 1) * page_size, limit=page_size)
    return _render_requests(request, fmt, selectors.requests(query))


def _form(request: HttpRequest) -> None:
    if not _is_form(request):
        raise bad_request(_("Send the request as form data (application/x-www-form-urlencoded; charset=utf-8)."))
    try:
        request.body.decode("utf-8")
    except RawPostDataException:
        pass  # multipart: already parsed into request.POST (reading jurisdiction_id), as UTF-8
    except (UnicodeDecodeError, ValueError):
        raise bad_request(_("The form data is not valid UTF-8.")) from None


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    _form(request)
    key = selectors.authenticate(_param(request, "api_key"))
    if key is None:
        raise forbidden(_("Missing or invalid api_key: a key is needed to create a request."))
    fields = {name: _param(request, name) for name in (
        "service_code", "lat", "long", "address_string", "address_id", "description", "media_url", "email",
        "device_id", "account_id", "first_name", "last_name", "phone")}
    data = services.NewRequest(**fields, attributes=from_form(request.POST.lists()))
    order, submission, info = services.submit_request(actor=Actor.system(), api_key=key, data=data)
    body = present.request_ack(order, service_type=info.type, token=submission.token, notice=info.notice)
    # 200 even though something was created: the spec shows none other, and clients check for it.
    return respond(fmt, "service_requests", [body])


@endpoint("GET")
def request_detail(request: HttpRequest, fmt: str, number: str) -> HttpResponse:
    orders = selectors.requests(selectors.RequestQuery(ids=[number]))
    if not orders:
        raise not_found(_("No service request %(id)s.") % {"id": number[:40]})
    return _render_requests(request, fmt, orders)


@endpoint("GET")
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    submission = selectors.submission_by_token(token)
    if submission is None:
        raise not_found(_("Unknown token “%(token)s”.") % {"token": token[:40]})
    body = [{"service_request_id": submission.order.number, "token": submission.token}]
    return respond(fmt, "service_requests", body)


@endpoint("GET", "POST")
@rate_limit("open311_post")
def request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        _form(request)
        key = selectors.authenticate(_param(request, "api_key"))
        if key is None:
            raise forbidden(_("Missing or invalid api_key: a key is needed to post an update."))
        event = services.post_update(
            api_key=key, service_request_id=_param(request, "service_request_id"),
            status=_param(request, "status"), description=_param(request, "description"),
        )
        body = [{"update_id": str(event.pk) if event else _param(request, "update_id")}]
        return respond(fmt, "service_request_updates", body)
    start, end = _dates(request, default_end=clock.now())
    extensions = _extensions(request)
    events = selectors.updates(start=start, end=end, limit=MAX_ROWS)
    texts = selectors.update_texts(events)
    body = [present.update(e, description=texts.get(e.pk, ""), extensions=extensions) for e in events]
    return respond(fmt, "service_request_updates", body)


@endpoint("GET", "POST")
def not_an_endpoint(request: HttpRequest, fmt: str, rest: str = "") -> HttpResponse:
    raise not_found(_("No such Open311 resource."))
