"""Notifications to requesters and handlers, triggered by the order history.

Requesters (SMS to every requester's phone, merged ones included; e-mail to a requester who
left only an address): *received* (with the number), *replied*, and the *callback link* (``jiesu.followup`` calls ``send_message``: SMS,
or e-mail to a requester who left only an address). Every message — these, the handlers' and
the legal services' booking messages — is a ``Notification`` row sent by the channel's
transport, queued and retried the same way: there is no other way out.
Handlers and unit leads (e-mail, to the users of the unit who have an address): *assigned*
(lead and co-handling units), *reopened* (the lead unit), *deadline soon* (``remind_deadlines``,
run by ``jiesu deliver``).

The text comes from ``NotificationTemplate`` (admin-editable, both languages, defaults seeded
by migration 0002), rendered with Django's template language (``{{ number }}``, ``{{ unit }}``,
``{{ due }}``). Messages go in the site language (``LANGUAGE_CODE``), falling back to the other
language when a template is missing.

Cost (issue 8): the events one transaction committed are one ``notify_events`` task, which
plans, creates and sends their messages itself — templates read in one query and compiled once
per text per process, the rows inserted in one statement already claimed for their first try,
the sent ones recorded in one UPDATE (``tests/test_integrations_notify_queries.py`` pins it).
Only a failed try becomes a task of its own (``deliver_notification``, with backoff).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Case, CharField, Value, When
from django.template import Context, Engine, Template
from django.utils.module_loading import import_string

from jiesu import clock
from jiesu.accounts.models import Membership, Role
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.integrations import conf, delivery
from jiesu.integrations.defaults import DEFAULT_TEMPLATES
from jiesu.integrations.models import (
    DeliveryStatus,
    Notification,
    NotificationKind,
    NotificationTemplate,
    NotifyChannel,
)
from jiesu.integrations.transports import DeliveryError, Transport
from jiesu.ops.inserts import insert_all
from jiesu.orders.events import EventCode
from jiesu.orders.models import Assignment, AssignmentRole, AssignmentState, Event, Requester
from jiesu.orders.states import IN_HANDLING, State

log = logging.getLogger(__name__)
K = NotificationKind
# The event codes that can cause a message (checked before any query, see receivers).
TRIGGERS = frozenset({EventCode.CREATED, EventCode.SUBMITTED, EventCode.REPLIED, EventCode.DISPATCHED,
                      EventCode.REOPENED})
HANDLER_ROLES = (Role.HANDLER, Role.UNIT_LEAD)
# What ``plan`` and ``_rows`` read of an event and its order: a fan-out of a batch intake's
# events read every column of 200–400 orders, four tenths of the task's time (py-spy, session 8).
# Read as plain rows: three model instances an event (event, order, category) were a third of
# what was left of the fan-out (py-spy, session 12).
PLANNED_FROM = ("id", "code", "at", "to_state", "order_id", "order__number", "order__title", "order__content",
                "order__address", "order__category__name")
STALE = dt.timedelta(days=1)
_ENGINE = Engine(autoescape=False)  # plain-text messages: nothing to escape


@dataclass(frozen=True, slots=True)
class Happened:
    """An event as ``plan`` reads it, with what it reads of the event's order (``PLANNED_FROM``)."""

    pk: int
    code: str
    at: dt.datetime
    to_state: str
    order_id: int
    number: str
    title: str
    content: str
    address: str
    category: str | None  # the category's name

    @classmethod
    def of(cls, event_ids: list[int]) -> list[Happened]:
        """The events of ``event_ids`` that may cause a message, in order, in one query."""
        rows = (Event.objects.filter(pk__in=event_ids, code__in=TRIGGERS).order_by("pk")
                .values_list(*PLANNED_FROM))
        return [cls(*row) for row in rows]


@dataclass(frozen=True)
class Planned:
    kind: str
    channel: str
    to: str
    context: dict[str, Any]


Texts = dict[tuple[str, str], dict[str, tuple[str, str]]]


def texts() -> Texts:
    """Every template's text by (kind, channel) and language, in one query: a fan-out reads them
    once for all its messages. An admin's edit is seen by the next read (the compiled form is
    cached by its text, see ``_compiled``); a switched-off message has an empty entry."""
    found: Texts = {}
    for kind, channel, language, subject, body, active in NotificationTemplate.objects.values_list(
            "kind", "channel", "language", "subject", "body", "is_active"):
        entry = found.setdefault((kind, channel), {})
        if active:
            entry[language] = (subject, body)
    return found


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    # Keyed by the text itself: an edited template is a new key, so nothing needs invalidating.
    return _ENGINE.from_string(source)


def render(kind: str, channel: str, context: dict[str, Any], language: str | None = None,
           *, templates: Texts | None = None) -> tuple[str, str] | None:
    """(subject, body) of one message, or None when the admin switched it off. ``templates``:
    the texts already read (``texts()``); otherwise this kind's are read now."""
    language = language or settings.LANGUAGE_CODE
    if templates is None:
        templates = {}
        for row in NotificationTemplate.objects.filter(kind=kind, channel=channel):
            templates.setdefault((kind, channel), {})
            if row.is_active:
                templates[(kind, channel)][row.language] = (row.subject, row.body)
    found = templates.get((kind, channel))
    if found is None:  # never seeded, or deleted: the shipped default
        found = {lang: (subj, body) for k, ch, lang, subj, body in DEFAULT_TEMPLATES if (k, ch) == (kind, channel)}
    chosen = found.get(language) or next(iter(found.values()), None)
    if chosen is None:
        return None  # the admin switched this message off
    ctx = Context(context, autoescape=False)
    return _compiled(chosen[0]).render(ctx).strip(), _compiled(chosen[1]).render(ctx).strip()


def _local(value: dt.datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else ""


def _requester_contacts(order_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """(channel, address) per requester of each order, in one query: SMS to a phone; e-mail to
    a requester who left only an address (Open311); nothing to one who left neither. Each
    address once per order."""
    found: dict[int, list[tuple[str, str]]] = {}
    rows = (Requester.objects.filter(order_id__in=set(order_ids)).order_by("order_id", "-is_primary", "id")
            .values_list("order_id", "phone", "email"))
    for order_id, phone, email in rows:
        contacts = found.setdefault(order_id, [])
        contact = (NotifyChannel.SMS, phone) if phone else (NotifyChannel.EMAIL, email) if email else None
        if contact and contact not in contacts:
            contacts.append(contact)
    return found


def _unit_addresses(unit_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    rows = (Membership.objects.filter(unit_id__in=unit_ids, role__in=HANDLER_ROLES, user__is_active=True)
            .exclude(user__email="").values_list("unit_id", "user__email").order_by("unit_id", "user_id"))
    for unit_id, email in rows:
        if email not in found.setdefault(unit_id, []):
            found[unit_id].append(email)
    return found


@dataclass
class Recipients:
    """Who the events of one task may reach, read for all of them at once (two queries, not
    one per event): each order's requester contacts, and the handlers' addresses of each
    order's live assignments."""

    contacts: dict[int, list[tuple[str, str]]]
    assignments: dict[int, list[tuple[int, str, str, dt.datetime | None, dt.datetime, str]]]

    @classmethod
    def of(cls, events: list[Happened]) -> Recipients:
        to_requesters = [e.order_id for e in events if e.code in (EventCode.CREATED, EventCode.SUBMITTED,
                                                                  EventCode.REPLIED)]
        to_units = [e.order_id for e in events if e.code in (EventCode.DISPATCHED, EventCode.REOPENED)]
        return cls(contacts=_requester_contacts(to_requesters) if to_requesters else {},
                   assignments=_live_assignment_addresses(to_units) if to_units else {})


def plan(event: Happened, recipients: Recipients | None = None) -> list[Planned]:
    """Who gets which message for one event (pure of side effects; ``recipients`` read for a
    batch of events, else for this one)."""
    recipients = recipients or Recipients.of([event])
    base = {"number": event.number, "title": event.title or event.content[:40], "category": event.category or "",
            "address": event.address}
    code = event.code
    if code in (EventCode.CREATED, EventCode.SUBMITTED) and event.to_state == State.RECEIVED:
        if event.at < clock.now() - STALE:
            return []  # an imported order of last month: nobody wants that SMS now
        return [Planned(K.RECEIVED, channel, to, base) for channel, to in recipients.contacts.get(event.order_id, [])]
    if code == EventCode.REPLIED:
        return [Planned(K.REPLIED, channel, to, base) for channel, to in recipients.contacts.get(event.order_id, [])]
    if code in (EventCode.DISPATCHED, EventCode.REOPENED):
        kind = K.ASSIGNED if code == EventCode.DISPATCHED else K.REOPENED
        return [Planned(kind, NotifyChannel.EMAIL, email,
                        {**base, "unit": unit, "role": str(AssignmentRole(role).label), "due": _local(due)})
                for unit, role, due, email in _assignment_addresses(event, recipients)]
    return []


def _assignment_addresses(event: Happened, recipients: Recipients) -> list[tuple[str, str, dt.datetime | None, str]]:
    """(unit name, role, due, e-mail) for each live assignment the event is about — reopened:
    the lead unit's; dispatched: this dispatch's — and each address of its unit's handlers and
    leads (active users with an address, each once per assignment, by user), assignments lead
    first. An assignment whose unit has no such address has no message."""
    seen: set[tuple[int, str]] = set()
    found: list[tuple[str, str, dt.datetime | None, str]] = []
    for assignment_id, unit, role, due, dispatched_at, email in recipients.assignments.get(event.order_id, []):
        if event.code == EventCode.REOPENED and role != AssignmentRole.LEAD:
            continue
        if event.code == EventCode.DISPATCHED and dispatched_at != event.at:
            continue  # an earlier dispatch's assignment (a re-dispatch names only its own)
        if (assignment_id, email) not in seen:
            seen.add((assignment_id, email))
            found.append((unit, role, due, email))
    return found


def _live_assignment_addresses(order_ids: list[int]) -> dict[int, list[tuple[int, str, str, dt.datetime | None,
                                                                             dt.datetime, str]]]:
    """Per order: (assignment id, unit name, role, due, dispatched at, e-mail) of each live
    assignment and each handler or lead of its unit with an address, lead first, then by
    assignment and user. One query, from the memberships."""
    # All the assignment's conditions in one filter(): they are about the same assignment row.
    rows = (Membership.objects.filter(role__in=HANDLER_ROLES, user__is_active=True,
                                      unit__assignments__order_id__in=set(order_ids),
                                      unit__assignments__state__in=[AssignmentState.DISPATCHED,
                                                                    AssignmentState.ACCEPTED])
            .exclude(user__email="")
            .order_by("unit__assignments__order_id", "-unit__assignments__role", "unit__assignments__id", "user_id")
            .values_list("unit__assignments__order_id", "unit__assignments__id", "unit__name",
                         "unit__assignments__role", "unit__assignments__due_at", "unit__assignments__dispatched_at",
                         "user__email"))
    found: dict[int, list[tuple[int, str, str, dt.datetime | None, dt.datetime, str]]] = {}
    for order_id, *row in rows:
        found.setdefault(order_id, []).append(tuple(row))  # type: ignore[arg-type]
    return found


def _rows(key_prefix: str, order_id: int | None, planned: list[Planned], templates: Texts,
          now: dt.datetime) -> list[Notification]:
    rows = []
    for p in planned:
        text = render(p.kind, p.channel, p.context, templates=templates)
        if text is None:
            continue  # switched off in the admin
        rows.append(Notification(key=f"{key_prefix}:{p.kind}:{p.channel}:{p.to}"[:120], kind=p.kind,
                                 channel=p.channel, to=p.to, subject=text[0][:200], body=text[1], order_id=order_id,
                                 created_at=now, next_attempt_at=now))
    return rows


def _insert_claimed(rows: list[Notification], now: dt.datetime) -> list[Notification]:
    """Insert the rows (once per key) already claimed for a first try — attempt counted, lease
    taken, as ``delivery.claim`` would — and return those this call inserted: a row that
    existed (a re-run task) is left to its own task or the sweep. One statement, which answers
    the rows it inserted (``INSERT … ON CONFLICT DO NOTHING RETURNING``, PostgreSQL and SQLite
    ≥ 3.35), where ``bulk_create`` would have cost a transaction of its own and a read-back."""
    if not rows:
        return []
    lease = now + delivery.LEASE
    for row in rows:
        row.attempts, row.next_attempt_at = 1, lease
    inserted = dict(_insert_returning_keys(rows))
    mine = []
    for row in rows:
        if row.key in inserted:
            row.pk = inserted.pop(row.key)  # a key twice in ``rows``: the first one was inserted
            mine.append(row)
    return mine


def _insert_returning_keys(rows: list[Notification]) -> list[tuple[str, int]]:
    """(key, pk) of the rows one INSERT that skips existing keys wrote (``bulk_create`` cannot
    say which rows it skipped)."""
    if not connections[router.db_for_write(Notification)].features.can_return_rows_from_bulk_insert:
        # Not PostgreSQL, or SQLite before 3.35.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        return list(Notification.objects.filter(key__in=[r.key for r in rows], status=DeliveryStatus.PENDING,
                                                attempts=1, next_attempt_at=rows[0].next_attempt_at)
                    .values_list("key", "pk"))
    return [(key, pk) for key, pk in insert_all(rows, ignore_conflicts=True, returning=("key", "id"))]


def _send_claimed(rows: list[Notification], now: dt.datetime) -> None:
    """Send claimed rows (outside any transaction: a slow gateway holds no lock) and record the
    outcomes: the sent ones in one UPDATE; a failure schedules its retry (``deliver_notification``, backoff) and
    never stops the others."""
    transports: dict[str, Transport] = {}
    sent: dict[str, list[int]] = {}
    failed: list[tuple[Notification, str]] = []
    for row in rows:
        try:
            if row.channel not in transports:
                transports[row.channel] = transport_for(row.channel)
            ref = transports[row.channel].send(to=row.to, subject=row.subject, body=row.body)
        except Exception as err:  # noqa: BLE001 - whatever the gateway did, record it and retry later
            failed.append((row, str(err)[:2000]))
            continue
        sent.setdefault(str(ref or "")[:200], []).append(row.pk)
    _close(transports.values())
    if sent:  # one statement: a sent row is never tried again
        refs = list(sent.items())
        provider_ref: Any = Value(refs[0][0]) if len(refs) == 1 else Case(
            *[When(pk__in=ids, then=Value(value)) for value, ids in refs], output_field=CharField())
        Notification.objects.filter(pk__in=[pk for ids in sent.values() for pk in ids]).update(
            status=DeliveryStatus.SENT, next_attempt_at=None, sent_at=now, provider_ref=provider_ref, last_error="")
    if not failed:
        return
    retries = []
    backoff = conf.notify_backoff()
    with transaction.atomic():
        for row, error in failed:
            retry_at = delivery.outcome(row, ok=False, now=now, backoff=backoff, last_error=error)
            if retry_at is not None:
                retries.append((row.pk, retry_at))
    for pk, at in retries:
        _queue(pk, at)


def _close(transports: Iterable[Transport]) -> None:
    """End a transport's session (the e-mail transport's SMTP connection), if it keeps one."""
    for transport in transports:
        close = getattr(transport, "close", None)
        if close is not None:
            close()


def fan_out_events(event_ids: list[int]) -> int:
    """The messages the events cause (one transaction's events, in order), created once each
    and sent at once by this task: the templates read in one query, the rows inserted in one
    statement already claimed, the outcomes recorded in one. Returns how many were created."""
    events = Happened.of(event_ids)
    if not events:
        return 0
    now = clock.now()
    recipients = Recipients.of(events)
    planned = [(event, plan(event, recipients)) for event in events]
    if not any(p for _e, p in planned):
        return 0
    templates = texts()
    rows = [row for event, p in planned for row in _rows(f"e{event.pk}", event.order_id, p, templates, now)]
    mine = _insert_claimed(rows, now)
    _send_claimed(mine, now)
    return len(mine)


def fan_out(event_id: int) -> int:
    """``fan_out_events`` for one event."""
    return fan_out_events([event_id])


def _queue(pk: int, at: dt.datetime | None = None) -> None:
    from jiesu.integrations.tasks import deliver_notification

    delivery.schedule(deliver_notification, pk, at)


def transport_for(channel: str) -> Transport:
    path = conf.transports().get(channel)
    if not path:
        raise DeliveryError(f"no transport for {channel!r}")
    return import_string(path)()


def deliver(pk: int, *, now: dt.datetime | None = None) -> str:
    """One try at sending the message; a failure schedules the next try (backoff) or gives up."""
    now = now or clock.now()
    row = delivery.claim(Notification, pk, now)
    if row is None:
        return "skipped"
    try:
        transport = transport_for(row.channel)
        try:
            ref = transport.send(to=row.to, subject=row.subject, body=row.body)
        finally:
            _close([transport])
    except Exception as err:  # noqa: BLE001 - whatever the gateway did, record it and retry later
        with transaction.atomic():
            retry_at = delivery.outcome(row, ok=False, now=now, backoff=conf.notify_backoff(),
                                        last_error=str(err)[:2000])
        if retry_at is not None:
            _queue(pk, retry_at)
        return "retry" if retry_at else "failed"
    with transaction.atomic():
        delivery.outcome(row, ok=True, now=now, backoff=conf.notify_backoff(), sent_at=now,
                         provider_ref=str(ref or "")[:200], last_error="")
    return "sent"


def remind_deadlines(*, now: dt.datetime | None = None) -> int:
    """Handlers of assignments whose deadline falls within ``JIESU["DEADLINE_SOON_HOURS"]``
    (24 by default) hear about it once per deadline (an extension moves it: one more reminder)."""
    now = now or clock.now()
    soon = now + dt.timedelta(hours=conf.deadline_soon_hours())
    assignments = list(Assignment.objects.filter(
        state__in=[AssignmentState.DISPATCHED, AssignmentState.ACCEPTED], due_at__gte=now, due_at__lt=soon,
        order__state__in=list(IN_HANDLING)).select_related("unit", "order__category"))
    emails = _unit_addresses([a.unit_id for a in assignments])
    templates = texts() if assignments else {}
    queued = 0
    for a in assignments:
        order = a.order
        context = {"number": order.number, "title": order.title or order.content[:40], "unit": a.unit.name,
                   "due": _local(a.due_at), "category": order.category.name if order.category else "",
                   "address": order.address}
        planned = [Planned(K.DEADLINE_SOON, NotifyChannel.EMAIL, email, context)
                   for email in emails.get(a.unit_id, [])]
        mine = _insert_claimed(_rows(f"a{a.pk}@{int(a.due_at.timestamp())}", order.pk, planned, templates, now), now)
        _send_claimed(mine, now)
        queued += len(mine)
    return queued


def send_due(*, now: dt.datetime | None = None) -> int:
    """Send every pending message whose next try is due (lost tasks, or no deferred tasks)."""
    now = now or clock.now()
    ids = delivery.due(Notification, now)
    for pk in ids:
        deliver(pk, now=now)
    return len(ids)


def send_message(*, kind: str, channel: str, to: str, context: dict[str, Any] | None = None, body: str = "",
                 subject: str = "", order_id: int | None = None, key: str = "") -> Notification | None:
    """One message through the one notification path: a row, then (after the commit) a task
    that tries the channel's transport, retried with backoff (``deliver``). The text is the
    kind's template rendered with ``context``, or ``body``/``subject`` as given by a caller
    that writes its own text (the legal services' booking messages). Returns the row, or None
    when the admin switched the template off. ``key`` makes it idempotent (a second call
    with the same key returns the first row and sends nothing)."""
    if channel not in NotifyChannel.values:
        raise LookupError(f"unknown channel {channel!r}")
    if context is not None:
        text = render(kind, channel, context)
        if text is None:
            return None
        subject, body = text
    now = clock.now()
    row, created = Notification.objects.get_or_create(
        key=(key or f"{kind}:{uuid.uuid4().hex}")[:120],
        defaults={"kind": kind, "channel": channel, "to": to, "subject": subject[:200], "body": body,
                  "order_id": order_id, "created_at": now, "next_attempt_at": now})
    if created:
        pk = row.pk
        # robust: a task backend that is down leaves the row for ``jiesu deliver``.
        transaction.on_commit(lambda: _queue(pk), robust=True)
    return row
