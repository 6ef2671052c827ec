"""Writes of the Open311 server: a new service request (through the one intake function, so
triage, deadlines and events all apply), a unit system's status update, and API keys."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from jiesu import clock
from jiesu.accounts.models import User
from jiesu.accounts.policy import Actor
from jiesu.catalogue.models import Channel, RequestType
from jiesu.open311 import attributes as attribute_rules
from jiesu.open311 import selectors, statuses
from jiesu.open311.errors import Open311Error, bad_request, forbidden, not_found
from jiesu.open311.models import ApiKey, Submission, hash_key
from jiesu.open311.selectors import ServiceInfo
from jiesu.orders import actions
from jiesu.orders.errors import DomainError, NotAllowed, NotFound
from jiesu.orders.models import AssignmentRole, AssignmentState, Event, WorkOrder

MAX_DESCRIPTION = 4000  # GeoReport v2: "may not exceed 4,000 characters"
# The spec's description is plain text: a tag is refused rather than stored and shown escaped.
_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!][^<>]*>")
_SHORT = 100


@dataclass(frozen=True)
class NewRequest:
    """The POST form of ``requests.{fmt}``, as strings (empty means absent)."""

    service_code: str = ""
    lat: str = ""
    long: str = ""
    address_string: str = ""
    address_id: str = ""
    description: str = ""
    media_url: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)


def issue_key(*, actor: Actor, name: str, username: str = "") -> tuple[ApiKey, str]:
    """A new Open311 API key; the raw key is returned once and only its hash is kept."""
    if not actor.is_admin:
        raise forbidden(_("Only an administrator may issue Open311 API keys."))
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise bad_request(_("Give the key a name of 1 to 100 characters."))
    user = None
    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise not_found(_("No active user “%(name)s”.") % {"name": username[:40]})
    raw = ApiKey.new_raw()
    key = ApiKey.objects.create(name=name, key_hash=hash_key(raw), prefix=raw[:8], user=user, created_at=clock.now())
    return key, raw


def _number(value: str, low: int, high: int) -> Decimal | None:
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() and low <= number <= high else None


def _attribute_problem(kind: str, code: str, detail: str) -> str:
    messages = {
        "required": _("attribute[%(code)s] is required by the service definition."),
        "unknown": _("attribute[%(code)s] is not in the service definition."),
        "not_a_number": _("attribute[%(code)s] must be a number."),
        "not_a_datetime": _("attribute[%(code)s] must be a W3C datetime with a time zone, e.g. 2026-01-01T08:00:00+08:00."),
        "not_in_list": _("attribute[%(code)s]: “%(value)s” is not one of its values."),
        "too_long": _("attribute[%(code)s] is too long."),
        "one_value": _("attribute[%(code)s] takes one value."),
    }
    return messages[kind] % {"code": code[:40], "value": detail}


def _problems(data: NewRequest, service: ServiceInfo) -> tuple[list[str], dict]:
    problems: list[str] = []
    lat, lng = data.lat.strip(), data.long.strip()
    if bool(lat) != bool(lng):
        problems.append(_("Send both lat and long, or neither."))
    elif lat and (_number(lat, -90, 90) is None or _number(lng, -180, 180) is None):
        problems.append(_("lat and long must be WGS84 decimal degrees (lat −90…90, long −180…180)."))
    if not (lat and lng) and not data.address_string.strip() and not data.address_id.strip():
        problems.append(_("A location is required: lat and long, address_string or address_id."))
    if len(data.address_string) > 255:
        problems.append(_("address_string is too long: at most 255 characters."))
    description = data.description.strip()
    if len(description) > MAX_DESCRIPTION:
        problems.append(_("description is too long: %(length)s characters, at most %(max)s.")
                        % {"length": len(description), "max": MAX_DESCRIPTION})
    elif _HTML.search(description):
        problems.append(_("description must be plain text without HTML."))
    if "\x00" in description:
        problems.append(_("description contains invalid characters."))
    if data.media_url:
        try:
            URLValidator(schemes=["http", "https"])(data.media_url)
        except ValidationError:
            problems.append(_("media_url must be an http or https URL."))
        if len(data.media_url) > 1000:
            problems.append(_("media_url is too long: at most 1000 characters."))
    if data.email:
        try:
            EmailValidator()(data.email)
        except ValidationError:
            problems.append(_("email is not a valid e-mail address."))
    for name in ("device_id", "account_id", "address_id", "first_name", "last_name"):
        if len(getattr(data, name)) > _SHORT:
            problems.append(_("%(field)s is too long: at most %(max)s characters.") % {"field": name, "max": _SHORT})
    rules = [
        attribute_rules.AttributeRule(code=a.code, datatype=a.datatype, required=a.required, variable=a.variable,
                                      keys=tuple(v.key for v in a.values.all()))
        for a in service.attributes
    ]
    clean, found = attribute_rules.check(rules, data.attributes)
    problems += [_attribute_problem(*p) for p in found]
    return problems, clean


def submit_request(*, actor: Actor, api_key: ApiKey, data: NewRequest) -> tuple[WorkOrder, Submission, ServiceInfo]:
    """POST requests: check the form against the service definition, then record the order
    through ``jiesu.orders.actions.create_order`` on the ``open311`` channel. Nothing is written
    unless every check passes; all problems are reported at once."""
    code = data.service_code.strip()
    if not code:
        raise bad_request(_("service_code is required."))
    service = selectors.find_service(code)
    if service is None:
        raise not_found(_("Unknown service_code “%(code)s”.") % {"code": code[:64]})
    problems, clean = _problems(data, service)
    if problems:
        raise bad_request(*problems)
    name = f"{data.last_name.strip()}{data.first_name.strip()}" if _is_cjk(data.last_name) else \
        " ".join(p for p in (data.first_name.strip(), data.last_name.strip()) if p)
    try:
        with transaction.atomic():
            order = actions.create_order(
                actor=actor,
                request_type=service.request_type or RequestType.COMPLAINT,
                channel=Channel.OPEN311,
                content=data.description.strip() or service.name,
                # Every contact field is optional (the spec): without a phone the callback link
                # goes by e-mail, and without either the callback is recorded as unreachable
                # (jiesu.followup.services, docs/followup.md).
                requesters=[actions.RequesterInput(phone=data.phone.strip(), email=data.email.strip(),
                                                   name=name[:64])],
                title=service.name[:120],
                address=data.address_string.strip(),
                category_code=service.category_code,
                latitude=data.lat.strip() or None,
                longitude=data.long.strip() or None,
            )
            submission = Submission.objects.create(
                order=order, service_code=service.code, api_key=api_key, token=secrets.token_hex(16),
                attributes=clean, address_id=data.address_id.strip(), media_url=data.media_url.strip(),
                email=data.email.strip(), device_id=data.device_id.strip(), account_id=data.account_id.strip(),
                created_at=clock.now(),
            )
    except DomainError as err:
        raise Open311Error(404 if isinstance(err, NotFound) else 400, str(err)) from None
    return order, submission, service


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def record_unit_progress(*, actor: Actor, number: str, status: str, description: str, unit_code: str = "") -> str:
    """A unit's own system reports on a request it holds: record it through the order actions
    on the unit's assignment, as ``actor`` (a person of the unit). Idempotent: a report that
    the assignment already reflects changes nothing. Returns what was done."""
    action = statuses.remote_action(status)
    text = (description or "").strip()[:2000]
    order = WorkOrder.objects.filter(number=number).first()
    if order is None:
        raise not_found(_("No service request %(id)s.") % {"id": number[:40]})
    live = order.assignments.exclude(state=AssignmentState.CANCELLED).select_related("unit")
    live = live.filter(unit__code=unit_code) if unit_code else live.filter(unit_id__in=actor.unit_ids())
    assignment = live.order_by("-dispatched_at", "-id").first()
    if assignment is None:
        raise not_found(_("Service request %(id)s is not assigned to this unit.") % {"id": number[:40]})
    unit = assignment.unit.code
    done = "none"
    try:
        if action in ("accept", "reply") and assignment.state == AssignmentState.DISPATCHED:
            actions.accept_assignment(actor=actor, number=number, unit=unit)
            done = "accepted"
        if action == "reply" and assignment.state != AssignmentState.REPLIED:
            is_lead = assignment.role == AssignmentRole.LEAD
            actions.reply_to_order(actor=actor, number=number, unit=unit, outcome="solved",
                                   body=text or _("Done, as reported by the unit's own system."),
                                   co_unit_summary=(text or "—") if is_lead else "")
            done = "replied"
        elif action == "return" and assignment.state in (AssignmentState.DISPATCHED, AssignmentState.ACCEPTED):
            actions.return_assignment(actor=actor, number=number, unit=unit,
                                      reason=text or _("Not this unit's responsibility, says its own system."))
            done = "returned"
        elif action == "note" and text:
            actions.add_note(actor=actor, number=number, text=text)
            done = "noted"
    except NotAllowed as err:
        raise forbidden(str(err)) from None
    except DomainError as err:
        raise Open311Error(404 if isinstance(err, NotFound) else 400, str(err)) from None
    return done


def post_update(*, api_key: ApiKey, service_request_id: str, status: str, description: str) -> Event | None:
    """POST servicerequestupdates (mySociety extension): only a key issued to a handler's
    account may post, and only on that person's unit's assignments. Returns the last event."""
    if api_key.user is None:
        raise forbidden(_("This api_key may not post updates: it is not issued to a unit's account."))
    if not service_request_id.strip():
        raise bad_request(_("service_request_id is required."))
    if not status.strip():
        raise bad_request(_("status is required."))
    if status.strip().upper() not in statuses.EXTENDED_STATUSES:
        raise bad_request(_("Unknown status “%(status)s”.") % {"status": status[:40]})
    if len(description) > MAX_DESCRIPTION:
        raise bad_request(_("description is too long: %(length)s characters, at most %(max)s.")
                          % {"length": len(description), "max": MAX_DESCRIPTION})
    record_unit_progress(actor=Actor.of(api_key.user), number=service_request_id.strip(), status=status,
                         description=description)
    return Event.objects.filter(order__number=service_request_id.strip()).order_by("-at", "-id").first()
